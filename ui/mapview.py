"""The latent map with its click panel: one ``st.fragment`` so a click reruns only this part.

Clicks arrive through ``on_select``; the callback copies the pick into our own session key
(``map.pick``) because any change to the figure resets Plotly's selection, and a second click
on the same point would otherwise deselect it.

Speed (bench/click_latency.py): the map without its pick marks is built once per (checkpoint,
projection) and kept as a plain dict; a click only appends the ring or cross and hands the dict
to ``st.plotly_chart``. Rebuilding the ``go.Figure`` of 10,000 points on every click would
cost ~25 ms of the 35 ms budget by itself.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from aecore.atlas import Atlas
from aecore.checkpoints import CheckpointInfo
from aecore.data import Dataset
from aecore.models.base import Autoencoder

from . import cache, figures, images, links, present, state, text

CHART_KEY = "map.chart"


@dataclass(frozen=True)
class MapData:
    """Everything the map and its panel draw from (all shared and read-only).

    ``key`` names the (checkpoint, projection) pair: it keys the cached base figure.
    ``errors`` holds each test image's reconstruction error, shape (N,), in ``unit``.
    """

    key: str
    method: str
    model: Autoencoder
    atlas: Atlas
    train: Dataset
    test: Dataset
    errors: np.ndarray
    unit: str


def load_map_data(info: CheckpointInfo, method: str) -> MapData:
    """Fetch the model, its map, its data and its errors from :mod:`ui.cache`."""
    model = cache.load_model(str(info.path), info.id)
    train, test = cache.model_splits(info)
    return MapData(key=f"{info.id}:{method}", method=method, model=model,
                   atlas=cache.atlas(info, method), train=train, test=test,
                   errors=cache.recon_errors(str(info.path), info.id),
                   unit=text.UNITS[model.config.recon_loss])


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


def _on_select(chart_key: str, pick_key: str) -> bool:
    """``on_select`` callback: store the pick; an empty selection keeps the last pick.
    Returns whether a new pick was stored."""
    ev = st.session_state.get(chart_key)
    pts = ev.selection.points if ev is not None else []
    pick = pick_from_event(pts)
    if pick is not None:
        st.session_state[pick_key] = pick
    return pick is not None


def on_map_select() -> None:
    """The latent map's ``on_select`` callback; counts clicks (the Classroom page sends each
    one, even a repeat of the same pick)."""
    if _on_select(CHART_KEY, state.MAP_PICK):
        st.session_state[state.MAP_PICK_SEQ] = st.session_state.get(state.MAP_PICK_SEQ, 0) + 1


@st.cache_resource(max_entries=16, show_spinner=False)
def _base_figure(key: str, _md: MapData) -> tuple[dict, np.ndarray]:
    """The map without pick marks as a plain figure dict, and the grid's "far" mask (G * G,).

    Cached per ``key`` and shared read-only: callers copy the top-level dict before adding.
    """
    far = _md.atlas.far_nodes()
    fig = figures.latent_map(_md.atlas.embedding, _md.test.y.numpy(), _md.test.classes,
                             method=_md.method, grid_xy=_md.atlas.grid_xy,
                             far_xy=_md.atlas.grid_xy[far])
    d = fig.to_dict()
    # Plotly's default template (~1,000 lines) is revalidated by st.plotly_chart on every
    # click (~15 ms); Streamlit's own theme styles the chart in the browser anyway
    d["layout"].pop("template", None)
    return d, far


def map_figure(md: MapData, selected: int | None, clicked: tuple[float, float] | None) -> dict:
    """The map with the pick's ring (image ``selected``) and/or cross (``clicked``).

    Returns
    -------
    dict
        A Plotly figure dict: the cached traces plus at most two one-point traces.
    """
    base, _ = _base_figure(md.key, md)
    sel = (selected, md.atlas.embedding[selected]) if selected is not None else None
    marks = [t.to_plotly_json() for t in figures.pick_markers(sel, clicked)]
    return {"data": [*base["data"], *marks], "layout": base["layout"]}


@st.fragment
def map_and_panel(info: CheckpointInfo, method: str) -> None:
    """Draw the map (left) and what the current pick shows (right)."""
    render(load_map_data(info, method))
    links.sync_url("Latent map")  # a click reruns only this fragment: keep the link current


def render(md: MapData) -> None:
    """The body of :func:`map_and_panel` (undecorated, so the bench can time it)."""
    pick = st.session_state.get(state.MAP_PICK)
    if pick and pick.get("kind") == "point" and not 0 <= pick["index"] < len(md.test):
        pick = None
    sel = pick["index"] if pick and pick["kind"] == "point" else None
    clicked = (pick["x"], pick["y"]) if pick and pick["kind"] == "grid" else None
    snapped = None
    if clicked is not None and md.atlas.snaps:
        snapped = md.atlas.nearest_point(*clicked)[0]  # t-SNE: ring the image it snaps to
    left, right = st.columns([3, 2], gap="medium")
    with left:
        present.chart(map_figure(md, sel if snapped is None else snapped, clicked),
                      key=CHART_KEY, on_select=on_map_select, selection_mode="points",
                      config={"displaylogo": False})
        st.caption(f"{len(md.test)} test images · {text.INVERSE_NOTES[md.method]} "
                   f"{text.FAR_NOTE}")
    with right:
        if sel is not None:
            _point_panel(md, sel)
        elif clicked is not None:
            _grid_panel(md, clicked)
        else:
            st.info("Click a dot to see that image and its reconstruction, or click empty "
                    "space to decode a location no image sits on.", icon=":material/touch_app:")


def _point_panel(md: MapData, i: int) -> None:
    """Original, reconstruction and |error| of test image ``i``."""
    x = md.test.x[i]
    x_hat = cache.reconstruct_one(md.model, x)
    st.markdown(f"#### Image {i} · label **{md.test.classes[int(md.test.y[i])]}**")
    c1, c2, c3 = st.columns(3)
    c1.image(images.enlarge(x.numpy()), caption="original x", width="stretch")
    c2.image(images.enlarge(x_hat), caption="reconstruction x̂", width="stretch")
    c3.image(images.error_map(x.numpy(), x_hat), caption="|x − x̂|", width="stretch")
    st.metric("Reconstruction error", f"{float(md.errors[i]):.2f} {md.unit}",
              help=f"{md.model.config.recon_loss.upper()} summed over the image's pixels.")
    _code(md.atlas.codes[i])


def _grid_panel(md: MapData, xy: tuple[float, float]) -> None:
    """Decode the code at a clicked empty location; show the nearest training image."""
    atlas = md.atlas
    z, node = atlas.code_at(*xy)
    x_dec = cache.decode_one(md.model, np.asarray(z, np.float32))
    j, dist = atlas.nearest_train(z)
    st.markdown(f"#### Decoded at ({xy[0]:.2f}, {xy[1]:.2f})")
    c1, c2 = st.columns(2)
    c1.image(images.enlarge(x_dec), caption="decoder(z)", width="stretch")
    c2.image(images.enlarge(md.train.x[j].numpy()), width="stretch",
             caption=f"nearest training image ({md.train.classes[int(md.train.y[j])]}), "
                     f"distance {dist:.2f}")
    snapped = atlas.nearest_point(*xy)[0] if atlas.snaps else None
    st.caption(text.CLICK_NOTES[md.method].format(i=snapped))
    if not (atlas.inverse_is_exact or atlas.snaps) and _base_figure(md.key, md)[1][node]:
        st.caption(text.FAR_CLICK)
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
