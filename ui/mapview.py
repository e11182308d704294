"""The latent map with its pin panel: one ``st.fragment`` so a pin reruns only this part.

The map itself runs in the browser (:mod:`ui.latentmap`): it decodes under the pointer with no
server round trip. A click, tap or Enter pins a point or a spot; the pin arrives as a small
trigger value, is validated, and becomes ``map.pick``; the panel beside the map then shows
the image and its reconstruction, or what the decoder makes at the spot
(bench/pointer_latency.py measures it in the browser; bench/click_latency.py the server side).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from aecore import metrics
from aecore.atlas import Atlas
from aecore.checkpoints import CheckpointInfo
from aecore.data import Dataset
from aecore.models.base import Autoencoder

from . import cache, images, latentmap, links, present, state, tabularview, text

CHART_KEY = "map.chart"


@dataclass(frozen=True)
class MapData:
    """Everything the map and its panel draw from (all shared and read-only).

    ``key`` names the (checkpoint, projection) pair; ``checkpoint_id`` is the model's id and
    ``info`` its listing entry (a benchmark's map of other images keeps the model's ``info``
    under an id of its own).
    ``errors`` holds each test image's reconstruction error, shape (N,), in ``unit``.
    """

    key: str
    checkpoint_id: str
    info: CheckpointInfo
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
    return MapData(key=f"{info.id}:{method}", checkpoint_id=info.id, info=info, method=method,
                   model=model,
                   atlas=cache.atlas(info, method), train=train, test=test,
                   errors=cache.recon_errors(str(info.path), info.id),
                   unit=text.UNITS[model.config.recon_loss])


def _store_pin(pick: dict) -> None:
    """A validated pin from the map (:func:`ui.latentmap.clean_pin`): it becomes the page's
    pick."""
    st.session_state[state.MAP_PICK] = pick


@st.fragment
def map_and_panel(info: CheckpointInfo, method: str) -> None:
    """Draw the map (left) and what the current pick shows (right); a tabular model's map
    shows no images (:func:`ui.tabularview.map_view`)."""
    if info.model_config.is_tabular:
        tabularview.map_view(info, method)
    else:
        render(load_map_data(info, method))
    links.sync_url("Latent map")  # a click reruns only this fragment: keep the link current


def render(md: MapData) -> None:
    """The body of :func:`map_and_panel` (undecorated, so the bench can time it)."""
    pick = st.session_state.get(state.MAP_PICK)
    if pick and pick.get("kind") == "point" and not 0 <= pick["index"] < len(md.test):
        st.warning(f"The link's image {pick['index']} is not on this map: it holds images 0 "
                   f"to {len(md.test) - 1}.", icon=":material/warning:")
        pick = None
    with map_beside_panel(md, pick=pick, on_pin=_store_pin):
        if not pick:
            st.info(text.MAP_START, icon=":material/touch_app:")
        else:
            panel(md, pick)


def map_beside_panel(md: MapData, *, pick: dict | None, on_pin, post: dict | None = None):
    """Draw the map (:func:`ui.latentmap.show` with ``pick``, ``on_pin`` and ``post``) and its
    caption, and return the container of the panel beside it: a column on a desktop, below the
    map on a projector (where the map takes the whole width) and on a phone."""
    left, right = ((st.container(), st.container()) if present.on() else
                   st.columns([3, 2], gap="medium"))
    with left:
        latentmap.show(key=CHART_KEY, info=md.info, map_id=f"map:{md.key}", model=md.model,
                       atlas=md.atlas, test=md.test, pick=pick, on_pin=on_pin, post=post,
                       presenter=present.on())
        st.caption(f"{len(md.test)} test images · {text.INVERSE_NOTES[md.method]} "
                   f"{text.FAR_NOTE[md.atlas.inverse_is_exact]}")
    return right


def panel(md: MapData, pick: dict) -> None:
    """What a pick shows: a data point's original, reconstruction and error, or an empty
    spot's decoded image and nearest training image (``pick`` as :func:`ui.latentmap.clean_pin`
    returns it, its index on this map)."""
    if pick["kind"] == "point":
        _point_panel(md, pick["index"])
    else:
        _grid_panel(md, (pick["x"], pick["y"]))


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
    """Decode the code at a pinned empty spot (the same code the browser decoded there) and
    show the nearest training image."""
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
    if not atlas.inverse_is_exact:
        # the code here is built from nearby images' codes, so it always sits near training
        # codes: a hole cannot show on this map, whatever the distance says
        if cache.shading(f"map:{md.key}", md.info, atlas)[0][node]:
            st.caption(text.FAR_CLICK)
        st.info(text.NO_HOLES_ON_PROJECTION.format(method=md.method.upper()),
                icon=":material/info:")
    else:  # one criterion for this message, the map's shading and the scoreboard
        score = float(cache.hole_score(md.info, z)[0])
        if score > metrics.HOLE_THRESHOLD:
            st.warning(text.HOLE_WARNING.format(score=score, threshold=metrics.HOLE_THRESHOLD),
                       icon=":material/warning:")
        else:
            st.success(text.NOT_A_HOLE.format(score=score, threshold=metrics.HOLE_THRESHOLD),
                       icon=":material/check_circle:")
    _code(z)


def _code(z) -> None:
    """Show a latent code compactly."""
    z = np.asarray(z, float)
    shown = ", ".join(f"{v:.2f}" for v in z[:16]) + (", …" if len(z) > 16 else "")
    st.markdown(f"latent code z ({len(z)}-D): `[{shown}]`")
