"""AE-vs-VAE page glue: two models side by side with linked selection and a scoreboard."""
from __future__ import annotations

import numpy as np
import streamlit as st

from aecore import latent
from aecore.checkpoints import CheckpointInfo
from aecore.project import methods_for

from . import cache, explain, figures, images, latentmap, links, present, shell, state, text

PICK = state.CMP_PICK  # test index selected in either map (linked selection)


def _on_pin(pick: dict) -> None:
    """A pin on an image in either map sets the shared pick."""
    if pick["kind"] == "point":
        st.session_state[PICK] = pick["index"]


def pickers(infos: list[CheckpointInfo], defaults: tuple[str, str]) -> list[CheckpointInfo]:
    """Two model selectboxes (left, right) defaulting to the named shipped models."""
    by_path = {str(i.path): i for i in infos}
    paths = list(by_path)
    out = []
    for col, default, key in zip(st.columns(2), defaults, (state.CMP_LEFT, state.CMP_RIGHT)):
        want = [p for p in paths if by_path[p].name == default] or paths
        idx = paths.index(want[0]) if key not in st.session_state else None
        with col:
            p = st.selectbox("Model", paths, index=idx or 0, key=key,
                             format_func=lambda q: shell.model_label(by_path[q]))
            out.append(by_path[p])
    return out


def _method(info: CheckpointInfo) -> str:
    """Map for a model on this page: its latent itself if 2-D, else PCA (cheap, invertible)."""
    return methods_for(info.model_config.latent_dim)[0]


@st.fragment
def side_by_side(left: CheckpointInfo, right: CheckpointInfo) -> None:
    """Both maps with linked selection, then both reconstructions of the picked image."""
    test = cache.model_splits(left)[1]
    st.session_state.setdefault(PICK, 0)
    links.fit_index(PICK, len(test))  # a lesson link's img= may not exist in this test set
    i = int(st.session_state[PICK])
    cols = st.columns(2)
    # with two 2-D latents the pointer is linked: both decoders show the same z side by side
    both_2d = left.model_config.latent_dim == right.model_config.latent_dim == 2
    for col, info, key in zip(cols, (left, right), ("cmp.map.left", "cmp.map.right")):
        model = cache.load_model(str(info.path), info.id)
        atlas = cache.atlas(info, _method(info))
        with col:
            explain.model_diagram(info, key=key + ".diagram", height=130)
            latentmap.show(key=key, info=info, model=model, atlas=atlas, test=test,
                           pick={"kind": "point", "index": i}, on_pin=_on_pin,
                           link="cmp" if both_2d else None, height=380,
                           presenter=present.on())
            x = test.x[i]
            rec = cache.reconstruct_one(model, x)
            err = float(cache.recon_errors(str(info.path), info.id)[i])
            c1, c2 = st.columns(2)
            w = present.px(120)
            c1.image(images.enlarge(x.numpy(), w), caption=f"image {i}", width=w)
            c2.image(images.enlarge(rec, w), caption=f"reconstruction · {err:.1f} nats",
                     width=w)
    if both_2d:
        st.caption(text.CMP_LINKED)
    links.sync_url("AE vs VAE")


def interpolations(left: CheckpointInfo, right: CheckpointInfo, steps: int = 12) -> None:
    """The same pair (picked image -> image B) decoded along a straight line by both models."""
    test = cache.model_splits(left)[1]
    a = min(max(int(st.session_state.get(PICK, 0)), 0), len(test) - 1)
    b = st.number_input("Interpolate the picked image towards test image", 0, len(test) - 1,
                        min(len(test) - 1, a + 1), key=state.CMP_B)
    for col, info in zip(st.columns(2), (left, right)):
        model = cache.load_model(str(info.path), info.id)
        za, zb = latent.encode(model, test.x[[a, int(b)]])
        frames = latent.decode(model, latent.interpolate(za, zb, steps))
        with col:
            present.chart(figures.frames_animation(frames, size=150),
                            key=f"cmp.anim.{info.id}", config={"displaylogo": False})
            st.image(images.tile(frames, ncol=steps, cell=32), width="stretch")


def prior_samples(left: CheckpointInfo, right: CheckpointInfo, n: int = 24) -> None:
    """Prior samples from both models, same seed."""
    for col, info in zip(st.columns(2), (left, right)):
        model = cache.load_model(str(info.path), info.id)
        _, x = latent.sample_prior(model, n, seed=0)
        src = "prior N(0, I)" if model.is_variational else "Gaussian fitted to training codes"
        col.image(images.tile(x, ncol=8, cell=40), caption=f"{info.name}: {n} samples, {src}",
                  width="stretch")


def scoreboard_table(left: CheckpointInfo, right: CheckpointInfo) -> None:
    """The scoreboard: one row per metric, with its plain explanation."""
    sl = cache.scores(str(left.path), left.id, _method(left))
    sr = cache.scores(str(right.path), right.id, _method(right))
    rows = []
    for key, m in text.METRICS.items():
        a, b = sl[key], sr[key]
        if m.better not in ("low", "high") or round(a, text.DIGITS) == round(b, text.DIGITS):
            win = ""  # a cost like KL has no winner; values equal as shown neither
        else:
            win = left.name if (a < b) == (m.better == "low") else right.name
        rows.append({"metric": m.label, left.name: round(a, text.DIGITS),
                     right.name: round(b, text.DIGITS), "better": win,
                     "what it means": m.meaning})
    present.table(rows, hide_index=True, width="stretch")
    st.markdown(holes_verdict(left.name, sl["hole_rate"], right.name, sr["hole_rate"]))
    with st.expander("How each metric is computed", icon=":material/function:"):
        for m in text.METRICS.values():
            st.markdown(f"**{m.label}**")
            st.latex(m.formula)


def _pct(rate: float) -> str:
    return f"{rate:.{text.DIGITS}f} ({rate:.0%})"


def holes_verdict(left: str, a: float, right: str, b: float) -> str:
    """The sentence about holes, from the two hole rates (equal at the table's rounding:
    no winner)."""
    if round(a, text.DIGITS) == round(b, text.DIGITS):
        return text.HOLES_VERDICT["same"].format(left=left, right=right, left_pct=_pct(a),
                                                 right_pct=_pct(b))
    (few, fr), (many, mr) = sorted(((left, a), (right, b)), key=lambda t: t[1])
    return text.HOLES_VERDICT["fewer"].format(few=few, many=many, few_pct=_pct(fr),
                                              many_pct=_pct(mr))


def _sweep_view(sweep: dict) -> tuple[float, float, float, float]:
    """Axis ranges that hold every map of the sweep (the widest one's click grid)."""
    ext = np.array([latentmap.extent(cache.atlas(i, "identity")) for i in sweep.values()])
    return float(ext[:, 0].min()), float(ext[:, 1].max()), float(ext[:, 2].min()), \
        float(ext[:, 3].max())


def beta_sweep(infos: list[CheckpointInfo], dataset: str) -> None:
    """The shipped beta sweep (2-D VAEs differing only in beta): a slider, the map, the
    scoreboard and prior samples of the chosen beta. Draws nothing without two or more."""
    sweep = {i.model_config.beta: i for i in infos if i.shipped and (
        i.name.startswith(f"{dataset}_bvae_b") or i.name == f"{dataset}_vae_z2")}
    if len(sweep) < 2:
        return
    st.subheader("What β does", anchor="beta")
    st.markdown(text.BETA_SWEEP)
    betas = sorted(sweep)
    if st.session_state.get(state.CMP_BETA) not in betas:  # e.g. a lesson link's β not shipped
        st.session_state.pop(state.CMP_BETA, None)
    default = state.CMP_BETA.default
    beta = st.select_slider("β", betas, value=default if default in sweep else betas[0],
                            key=state.CMP_BETA)
    info = sweep[beta]
    test = cache.model_splits(info)[1]
    c1, c2 = present.columns([3, 2])
    with c1:  # one scale for every beta, so a collapse to the origin shows as a dot
        latentmap.show(key="cmp.beta.map", info=info,
                       model=cache.load_model(str(info.path), info.id),
                       atlas=cache.atlas(info, "identity"), test=test, height=420,
                       presenter=present.on(), view=_sweep_view(sweep))
        st.caption(text.BETA_SCALE)
    s = cache.scores(str(info.path), info.id, "identity")
    present.table([{"metric": text.METRICS[k].label, "value": round(v, text.DIGITS)}
                   for k, v in s.items()], where=c2, hide_index=True, width="stretch")
    model = cache.load_model(str(info.path), info.id)
    c2.image(images.tile(latent.sample_prior(model, 24, seed=0)[1], ncol=8, cell=36),
             caption=text.BETA_PRIOR.format(beta=beta), width="stretch")
