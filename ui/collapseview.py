"""Posterior-collapse lesson glue (pages/11_Posterior_collapse.py): KL per latent dimension
and active units of the shipped β = 4 VAEs and of the VAE selected in the sidebar.

The sentences are built from the same reports the bar charts draw, so they agree with them
(``tests/test_lesson_pages.py`` checks it)."""
from __future__ import annotations

import streamlit as st

from aecore.checkpoints import CheckpointInfo
from aecore.collapse import CollapseReport

from . import cache, lessonfigs, present, text

LESSON = {"ref": "digits_vae_z16", "plain": "digits_vae_z16_b4",
          "cyc": "digits_vae_z16_b4_cyclical", "fb": "digits_vae_z16_b4_freebits"}
TITLES = {"ref": "β = 1", "plain": "β = 4", "cyc": "β = 4 cyclical", "fb": "β = 4 free bits"}


def report(info: CheckpointInfo) -> tuple[CollapseReport, float]:
    """(collapse report on the test split, test reconstruction error in nats per image)."""
    return cache.collapse(str(info.path), info.id)


def lesson_sentence(reps: dict[str, CollapseReport]) -> str:
    """The verdict under the lesson's bars, from the reports they draw."""
    a = {k: r.active for k, r in reps.items()}
    return text.COLLAPSE_SAYS.format(
        ref=a["ref"], plain=a["plain"], cyc=a["cyc"], fb=a["fb"], dim=len(reps["plain"].kl),
        cyc_verdict=text.CYCLICAL_VERDICT[a["cyc"] > a["plain"]],
        fb_verdict=text.FREE_BITS_VERDICT[a["fb"] > a["plain"]])


def mine_sentence(info: CheckpointInfo, rep: CollapseReport, recon: float) -> str:
    """The sentence about the sidebar's model, from its report."""
    return text.COLLAPSE_MINE.format(name=info.name, active=rep.active, dim=len(rep.kl),
                                     kl=rep.total_kl, recon=recon,
                                     unit=text.UNITS[info.model_config.recon_loss])


def lesson_view() -> None:
    """The shipped β = 1 VAE and the three β = 4 VAEs side by side: KL bars, active units."""
    st.subheader(text.COLLAPSE_LESSON_HEAD)
    found = {k: cache.model_named(n) for k, n in LESSON.items()}
    if any(i is None for i in found.values()):
        st.error(text.COLLAPSE_MISSING.format(names=" ".join(LESSON.values())),
                 icon=":material/error:")
        return
    st.caption(text.COLLAPSE_LESSON)
    reps = {k: report(i)[0] for k, i in found.items()}
    present.chart(lessonfigs.kl_bars_grid(
        [r.kl for r in reps.values()], [r.is_active for r in reps.values()],
        [f"{TITLES[k]}: {r.active} active" for k, r in reps.items()]), key="pc.lesson")
    st.markdown(lesson_sentence(reps))
    present.table([{"model": found[k].name, "active units": r.active,
                    "total KL (nats)": round(r.total_kl, 2),
                    "test recon (nats)": round(report(found[k])[1], 2)}
                   for k, r in reps.items()], hide_index=True)


def mine_view(info: CheckpointInfo | None) -> None:
    """The sidebar's model: its KL bars and active units, or why it has none."""
    st.subheader(text.COLLAPSE_MINE_HEAD)
    if info is None:
        return
    from aecore.models import MODELS

    if not MODELS[info.model_config.name][1].is_variational:
        st.info(text.COLLAPSE_NOT_VAE.format(name=info.name), icon=":material/info:")
        return
    rep, recon = report(info)
    st.markdown(mine_sentence(info, rep, recon))
    present.chart(lessonfigs.kl_bars(rep.kl, rep.is_active), key="pc.mine")
