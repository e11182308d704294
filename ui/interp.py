"""Interpolation page glue: pick A and B on the map, decode the path, animate it."""
from __future__ import annotations

import numpy as np
import streamlit as st

from aecore import latent
from aecore.checkpoints import CheckpointInfo

from . import cache, figures, images, latentmap, links, present, shell, state, text

A, B = state.INTERP_A, state.INTERP_B  # test-image indices of the two ends
TARGET = state.INTERP_TARGET  # which end the next click on the map sets
CHART = "interp.chart"


def _on_pin(pick: dict) -> None:
    """Map pin on an image: set end A or B (whichever the radio says) to it."""
    if pick["kind"] == "point":
        key = A if st.session_state.get(TARGET, "A") == "A" else B
        st.session_state[key] = pick["index"]
        st.session_state[TARGET] = "B" if key == A else "A"  # next pin sets the other end


def path_frames(model, za: np.ndarray, zb: np.ndarray, steps: int, method: str):
    """Codes (steps, latent_dim) along the path and their decoded frames (steps, C, H, W)."""
    z = latent.interpolate(za, zb, steps, method)
    return z, latent.decode(model, z)


def _ends_controls(test) -> None:
    """Radio for the click target plus index / class pickers for A and B."""
    n = len(test)
    st.session_state.setdefault(A, 0)
    st.session_state.setdefault(B, min(1, n - 1))
    for key in (A, B):  # a lesson link may name an image this dataset does not have
        links.fit_index(key, n)
    st.radio("A click on an image on the map sets", ["A", "B"], key=TARGET, horizontal=True)
    ca, cb = st.columns(2)
    for col, key in ((ca, A), (cb, B)):
        with col:
            st.number_input(f"{key[-1].upper()}: test image index", 0, n - 1, key=key)
            st.selectbox(f"…or first image of class ({key[-1].upper()})",
                         ["—"] + list(test.classes), key=f"{key}.class",
                         on_change=_class_picked, args=(key, test))


def _class_picked(key: str, test) -> None:
    """Class picker callback (runs before the widgets, so it may set the index): end ``key``
    becomes the first test image of the chosen class; the picker goes back to "—"."""
    cls = st.session_state[f"{key}.class"]
    if cls != "—":
        st.session_state[key] = int(np.flatnonzero(test.y.numpy() ==
                                                   test.classes.index(cls))[0])
        st.session_state[f"{key}.class"] = "—"


@st.fragment
def interpolation_view(info: CheckpointInfo, method: str) -> None:
    """The map with the path (left) and the animation, filmstrip and download (right)."""
    model = cache.load_model(str(info.path), info.id)
    atlas = cache.atlas(info, method)
    test = cache.model_splits(info)[1]
    left, right = present.columns([1, 1], gap="medium")
    with left:
        _ends_controls(test)
        c1, c2 = st.columns(2)
        how = c1.radio("Interpolation", ["lerp", "slerp"], horizontal=True,
                       key=state.INTERP_METHOD,
                       help="lerp: straight line. slerp: along a great circle, keeping the "
                            "norm typical of a Gaussian prior.")
        k = state.INTERP_STEPS
        steps = c2.slider("Steps", k.lo, k.hi, k.default, key=k)
    a, b = int(st.session_state[A]), int(st.session_state[B])
    z, frames = path_frames(model, atlas.codes[a], atlas.codes[b], steps, how)
    path_xy, exact = atlas.project(z)
    with left:
        latentmap.show(key=CHART, info=info, model=model, atlas=atlas, test=test,
                       pick={"kind": "point", "index": a},
                       overlays=[{"name": "B", "xy": atlas.embedding[[b]].tolist(),
                                  "symbol": "square", "size": 8}],
                       path={"xy": np.round(path_xy, 5).tolist(), "z": np.round(z, 5).tolist()},
                       on_pin=_on_pin, height=460, presenter=present.on())
        st.caption(f"A = image {a} (ring), B = image {b} (square); the black line is the path "
                   f"of the {steps} codes: move the pointer along it to scrub through the "
                   f"frames. {text.PLACED_NOTE[exact]}")
    with right:
        st.markdown(f"**{info.name}**: {test.classes[int(test.y[a])]} → "
                    f"{test.classes[int(test.y[b])]}, {steps} steps ({how})")
        present.chart(figures.frames_animation(frames), key="interp.anim",
                        config={"displaylogo": False})
        st.image(images.tile(frames, ncol=min(steps, 12), cell=40), caption="filmstrip",
                 width="stretch")
        st.download_button("Download GIF", images.to_gif(frames), file_name="interpolation.gif",
                           mime="image/gif", icon=":material/download:")
    _second_model(info, test, a, b, steps, how)
    links.sync_url("Interpolate")


def _second_model(info, test, a, b, steps, how) -> None:
    """Optionally run the same pair through another model of the same dataset."""
    infos, _ = cache.list_models()
    others = [i for i in infos if i.dataset == info.dataset and i.id != info.id
              and i.model_config.input_shape == info.model_config.input_shape]
    if not others:
        return
    st.divider()
    labels = {str(i.path): i for i in others}
    pick = st.selectbox("Compare the same pair with another model", ["—"] + list(labels),
                        format_func=lambda p: p if p == "—" else shell.model_label(labels[p]),
                        key=state.INTERP_OTHER)
    if pick == "—":
        return
    cols = st.columns(2)
    for n, (col, inf) in enumerate(zip(cols, (info, labels[pick]))):
        m = cache.load_model(str(inf.path), inf.id)
        za, zb = latent.encode(m, test.x[[a, b]])  # each model encodes the pair itself
        _, frames = path_frames(m, za, zb, steps, how)
        with col:
            st.markdown(f"**{shell.model_label(inf)}**")
            present.chart(figures.frames_animation(frames, size=140),
                            key=f"interp.anim.side{n + 1}", config={"displaylogo": False})
            st.image(images.tile(frames, ncol=min(steps, 12), cell=32), width="stretch",
                     caption=f"filmstrip, {inf.name}")
    st.caption(text.INTERP_COMPARE)
