"""The latent map with its click panel: one ``st.fragment`` so a click reruns only this part.

Clicks arrive through ``on_select``; the callback copies the pick into our own session key
(``map.pick``) because any change to the figure resets Plotly's selection, and a second click
on the same point would otherwise deselect it.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from aecore.checkpoints import CheckpointInfo

from . import cache, figures, images, state, text

CHART_KEY = "map.chart"


def pick_from_event(points: list[dict]) -> dict | None:
    """Turn Streamlit's selection points into our pick.

    Parameters
    ----------
    points : list of dict
        ``event.selection.points``: each has ``x``, ``y`` and ``customdata``.

    Returns
    -------
    ``{"kind": "point", "index": i}`` for a data point (preferred when several are selected),
    ``{"kind": "grid", "x": x, "y": y}`` for empty space, or ``None``.
    """
    grid = None
    for p in points or []:
        cd = p.get("customdata")
        cd = cd[0] if isinstance(cd, (list, tuple)) else cd
        if cd is not None and int(cd) >= 0:
            return {"kind": "point", "index": int(cd)}
        if grid is None and p.get("x") is not None:
            grid = {"kind": "grid", "x": float(p["x"]), "y": float(p["y"])}
    return grid


def _on_select(chart_key: str, pick_key: str) -> None:
    """``on_select`` callback: store the pick; an empty selection keeps the last pick."""
    ev = st.session_state.get(chart_key)
    pts = ev.selection.points if ev is not None else []
    pick = pick_from_event(pts)
    if pick is not None:
        st.session_state[pick_key] = pick


@st.fragment
def map_and_panel(info: CheckpointInfo, method: str) -> None:
    """Draw the map (left) and what the current pick shows (right)."""
    model = cache.load_model(str(info.path), info.id)
    atlas = cache.atlas(info, method)
    train, test = cache.model_splits(info)
    pick = st.session_state.get(state.MAP_PICK)
    if pick and pick.get("kind") == "point" and not 0 <= pick["index"] < len(test):
        pick = None
    sel = pick["index"] if pick and pick["kind"] == "point" else None
    clicked = (pick["x"], pick["y"]) if pick and pick["kind"] == "grid" else None
    fig = figures.latent_map(atlas.embedding, test.y.numpy(), test.classes, method=method,
                             grid_xy=atlas.grid_xy, selected=sel, clicked_xy=clicked)
    left, right = st.columns([3, 2], gap="medium")
    with left:
        st.plotly_chart(fig, key=CHART_KEY, on_select=lambda: _on_select(CHART_KEY,
                                                                          state.MAP_PICK),
                        selection_mode="points", config={"displaylogo": False})
        st.caption(f"{len(test)} test images · {text.INVERSE_NOTES[atlas.inverse]}")
    with right:
        if sel is not None:
            _point_panel(info, model, test, atlas, sel)
        elif clicked is not None:
            _grid_panel(info, model, train, atlas, clicked)
        else:
            st.info("Click a dot to see that image and its reconstruction, or click empty "
                    "space to decode a location no image sits on.", icon=":material/touch_app:")


def _point_panel(info, model, test, atlas, i: int) -> None:
    """Original, reconstruction and |error| of test image ``i``."""
    x = test.x[i]
    x_hat = cache.reconstruct_one(model, x)
    err = float(cache.recon_errors(str(info.path), info.id)[i])
    unit = text.UNITS[model.config.recon_loss]
    st.markdown(f"#### Image {i} · label **{test.classes[int(test.y[i])]}**")
    c1, c2, c3 = st.columns(3)
    c1.image(images.enlarge(x.numpy()), caption="original x", width="stretch")
    c2.image(images.enlarge(x_hat), caption="reconstruction x̂", width="stretch")
    c3.image(images.error_map(x.numpy(), x_hat), caption="|x − x̂|", width="stretch")
    st.metric("Reconstruction error", f"{err:.2f} {unit}",
              help=f"{model.config.recon_loss.upper()} summed over the image's pixels.")
    _code(atlas.codes[i])


def _grid_panel(info, model, train, atlas, xy) -> None:
    """Decode the code at a clicked empty location; show the nearest training image."""
    z, node = atlas.code_at(*xy)
    x_dec = cache.decode_one(model, np.asarray(z, np.float32))
    j, dist = atlas.nearest_train(z)
    st.markdown(f"#### Decoded at ({xy[0]:.2f}, {xy[1]:.2f})")
    c1, c2 = st.columns(2)
    c1.image(images.enlarge(x_dec), caption="decoder(z)", width="stretch")
    c2.image(images.enlarge(train.x[j].numpy()), width="stretch",
             caption=f"nearest training image ({train.classes[int(train.y[j])]}), "
                     f"distance {dist:.2f}")
    if dist > atlas.hole_threshold:
        st.warning(text.HOLE_WARNING, icon=":material/warning:")
    else:
        st.success("Close to training codes: the decoder has seen codes like this one.",
                   icon=":material/check_circle:")
    _code(z)


def _code(z) -> None:
    """Show a latent code compactly."""
    z = np.asarray(z, float)
    shown = ", ".join(f"{v:.2f}" for v in z[:16]) + (", …" if len(z) > 16 else "")
    st.markdown(f"latent code z ({len(z)}-D): `[{shown}]`")
