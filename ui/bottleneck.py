"""Bottleneck-size lesson glue (pages/10_Bottleneck.py): the sweep over z, the copy test and
the fixes of the overcomplete AE, all on shipped checkpoints (:data:`aecore.recipes.SHIPPED`).

The sentences are built from the same rows the figures draw (:func:`rows`), so the words and
the pictures cannot disagree (``tests/test_lesson_pages.py`` checks it)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from aecore.capacity import PROBES
from aecore.checkpoints import CheckpointInfo
from aecore.recipes import CAPACITY_SWEEP

from . import cache, images, lessonfigs, present, state, text

SWEEP = {z: f"digits_ae_cap_z{z}" for z in CAPACITY_SWEEP}
FIXES = {k: f"digits_ae_cap_z128_{k}" for k in state.CAP_FIXES}  # denoise, dropout, wd, sparse
N_SHOWN = 8  # test images in the reconstruction grid (the copy test shows 2 of each probe)


@dataclass(frozen=True)
class Row:
    """One model's numbers: reconstruction errors (nats per image, BCE) on its train and test
    splits; the copy test's summed squared errors per image on digits, uniform noise and
    letter strokes, and its noise-copy score; the probes' outputs (name -> (n, 1, 8, 8))."""

    name: str
    z: int
    train: float
    test: float
    digit_err: float
    noise_err: float
    letter_err: float
    score: float
    outputs: dict


def infos(names) -> list[CheckpointInfo] | None:
    """The listed checkpoints ``names`` in order, or None if any is missing."""
    found = [cache.model_named(n) for n in names]
    return None if any(i is None for i in found) else found


def rows(found: list[CheckpointInfo]) -> tuple[list[Row], dict]:
    """A :class:`Row` per checkpoint, and the probes (name -> (n, 1, 8, 8)) they were fed."""
    out, probes = [], {}
    for info in found:
        res, tr, te, probes = cache.copy_test(str(info.path), info.id, N_SHOWN)
        out.append(Row(info.name, info.model_config.latent_dim, tr, te, res.errors["digits"],
                       res.errors["uniform noise"], res.errors["letter stroke"], res.score,
                       res.outputs))
    return out, probes


def sweep_sentence(rs: list[Row]) -> str:
    """The sentence under the sweep's curve, from its rows."""
    best = min(rs, key=lambda r: r.test)
    return text.SWEEP_SAYS.format(first=rs[0].test, unit=text.UNITS["bce"], z0=rs[0].z,
                                  best=best.test, zbest=best.z, zlast=rs[-1].z, last=rs[-1].test,
                                  gap=rs[-1].test - rs[-1].train)


def copy_sentence(rs: list[Row]) -> str:
    """The copy test's verdict, from its rows (first: the smallest z, last: the largest)."""
    top = max(rs, key=lambda r: r.score)
    a, b = rs[0], rs[-1]
    return text.COPY_SAYS.format(s_first=a.score, z0=a.z, s_last=b.score, zlast=b.z,
                                 s_max=top.score, z_max=top.z, n_last=b.noise_err,
                                 ratio=b.noise_err / max(b.digit_err, 1e-12), d_last=b.digit_err,
                                 l_first=a.letter_err, l_last=b.letter_err,
                                 verdict=text.COPY_VERDICT[b.score > a.score + 0.05])


def fix_sentence(key: str, r: Row, plain: Row) -> str:
    """One fix's verdict against the plain z = 128 AE."""
    return text.FIX_SAYS.format(name=text.FIX_LABELS[key], score=r.score, plain=plain.score,
                                change=text.FIX_CHANGE[r.score < plain.score],
                                recon=r.test, plain_recon=plain.test)


def _grid(probes: dict, outs: list[dict], per_probe: int = 2) -> np.ndarray:
    """Inputs on top, one row per model below: ``per_probe`` images of each probe."""
    def pick(d):
        return np.concatenate([np.asarray(d[p])[:per_probe] for p in PROBES])
    rows_ = [pick(probes)] + [pick(o) for o in outs]
    return images.tile(np.concatenate(rows_), ncol=len(PROBES) * per_probe, cell=present.px(36))


def sweep_view() -> None:
    """The sweep: error against z, reconstructions at each z, then the copy test."""
    found = infos(SWEEP.values())
    if found is None:
        st.error(text.CAPACITY_MISSING.format(names=" ".join(SWEEP.values())),
                 icon=":material/error:")
        return
    rs, probes = rows(found)
    st.subheader(text.SWEEP_HEAD)
    c1, c2 = present.columns([3, 2])
    present.chart(lessonfigs.sweep_curve([r.z for r in rs], [r.train for r in rs],
                                         [r.test for r in rs], input_dim=64,
                                         unit=text.UNITS["bce"]), where=c1, key="cap.sweep")
    c1.markdown(sweep_sentence(rs))
    x = probes["digits"]
    grid = images.tile(np.concatenate([x] + [r.outputs["digits"] for r in rs]), ncol=len(x),
                       cell=present.px(30))
    c2.image(grid, caption=text.SWEEP_RECON.format(zs=", ".join(str(r.z) for r in rs)),
             width="content")
    st.subheader(text.COPY_HEAD)
    st.caption(text.COPY_INTRO.format(z0=rs[0].z, zlast=rs[-1].z))
    c1, c2 = present.columns([5, 6])
    c1.image(_grid(probes, [r.outputs for r in rs]), width="content")
    present.chart(lessonfigs.copy_curve([f"z={r.z}" for r in rs], [r.digit_err for r in rs],
                                        [r.noise_err for r in rs], [r.score for r in rs]),
                  where=c2, key="cap.copy")
    st.markdown(copy_sentence(rs))
    st.info(text.COPY_NOT_IDENTITY, icon=":material/lightbulb:")
    fixes_view(rs[-1], probes)


def fixes_view(plain: Row, probes: dict) -> None:
    """A switch per fix; the switched-on fixes' models beside the plain z = 128 AE."""
    st.subheader(text.FIX_HEAD)
    st.caption(text.FIX_INTRO)
    on = []
    for col, (k, key) in zip(st.columns(len(FIXES)), state.CAP_FIXES.items()):
        if col.toggle(text.FIX_TOGGLES[k], key.default, key=key, help=text.FIX_LABELS[k]):
            on.append(k)
    found = infos([FIXES[k] for k in on])
    if found is None:
        st.error(text.CAPACITY_MISSING.format(names=" ".join(FIXES.values())),
                 icon=":material/error:")
        return
    fixed, _ = rows(found)
    names = ["z = 128, no fix"] + [text.FIX_LABELS[k] for k in on]
    st.image(_grid(probes, [plain.outputs] + [r.outputs for r in fixed]), width="content",
             caption=text.FIX_ROWS.format(rows="; ".join(names)))
    for k, r in zip(on, fixed):
        st.markdown(fix_sentence(k, r, plain))


def mine_view(info: CheckpointInfo | None) -> None:
    """The copy test of the model selected in the sidebar (any model, any dataset)."""
    st.subheader(text.COPY_MINE_HEAD)
    if info is None:
        return
    problem = cache.data_problem(info)
    if problem:
        st.info(text.COPY_MINE_NO_DATA.format(name=info.name), icon=":material/cloud_off:")
        return
    (r,), probes = rows([info])
    st.markdown(mine_sentence(r, info.model_config.input_dim))
    st.image(_grid(probes, [r.outputs]), width="content",
             caption=text.COPY_MINE_ROWS.format(name=info.name))


def mine_sentence(r: Row, input_dim: int) -> str:
    """The sentence about the sidebar's model, from its row."""
    kind = "undercomplete" if r.z < input_dim else "overcomplete"
    return text.COPY_MINE.format(name=r.name, z=r.z, kind=kind, score=r.score,
                                 noise=r.noise_err, digits=r.digit_err)
