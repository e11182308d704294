"""The in-browser latent map (Streamlit Components v2): decodes under the pointer, pins to Python.

Two components work together (the map's library code travels with the blobs):

- ``latentlab_blob`` carries one binary blob (:mod:`ui.blob`): a model's decoder weights
  (:func:`aecore.export.decoder_program`) or a map (points, labels, and what inverts the
  projection). Each blob is sent once per browser session (ids in ``SENT``); the browser keeps
  it in ``window.__latentlab`` and, should it ever lack one, asks again with a ``need`` trigger.
- ``latentlab_map`` draws the map on a canvas and runs the decoder on every pointer move, in
  the page. Its data is small JSON (blob ids, the pin, overlays), so a pin costs a few KB on
  the websocket, not the whole figure.

Why a canvas and not Plotly.js inside the component: the map needs its own pointer handling
(decode per move, tap-to-pin, keyboard cursor) and redraws 10,000 points in a few ms; Plotly's
3.6 MB bundle would be loaded a second time per page for features (selection, hover) that the
map replaces anyway.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import streamlit as st

from aecore.atlas import Atlas
from aecore.checkpoints import CheckpointInfo
from aecore.data import Dataset
from aecore.export import decoder_program
from aecore.models.base import Autoencoder

from . import blob, cache, figures, state, text

__all__ = ["show", "clean_pin", "extent", "decoder_blob_bytes", "map_blob_bytes",
           "inverse_kind"]

WEB = Path(__file__).parent / "web"
SENT = state.MAP_BLOBS_SENT  # ids of the blobs this browser session already holds
MAX_RESENDS = 3  # blob resends a browser session may ask for per minute

# the carrier brings the library with each blob: decoder, map, drawing pad, frame player and
# CSS (~58 kB of source), so the map element itself only holds ui/web/stub.js and small JSON
_LIB = "\n".join((WEB / f).read_text()
                 for f in ("decoder.js", "latentmap.js", "drawpad.js", "frames.js"))
_CSS = (WEB / "latentmap.css").read_text()
# the CSS is set first: the library mounts maps that waited for it as soon as it loads
_CARRIER = st.components.v2.component(
    "latentlab_blob",
    js=f"window.__latentlabCss = {json.dumps(_CSS)};\n{_LIB}\n{(WEB / 'blob.js').read_text()}")
_MAP = st.components.v2.component("latentlab_map", js=(WEB / "stub.js").read_text())


def inverse_kind(atlas: Atlas) -> str:
    """How the browser turns a map position into a code, from the projection's capabilities:
    ``"plane"`` (exact, affine), ``"snap"`` (no inverse) or ``"grid"`` (approximate)."""
    return "plane" if atlas.inverse_is_exact else "snap" if atlas.snaps else "grid"


def decoder_blob_bytes(model: Autoencoder, checkpoint_id: str) -> bytes:
    """The decoder of ``model`` as an LLB1 blob with id ``dec:<checkpoint_id>`` (float32
    weights: 0.2 MB for the digits MLPs, 0.95 MB for the MNIST ones)."""
    prog = decoder_program(model)
    return blob.pack({"id": f"dec:{checkpoint_id}", "kind": "decoder", "ops": prog.ops,
                      "latent_dim": prog.latent_dim, "output_shape": prog.output_shape},
                     {"weights": prog.weights})


def map_blob_bytes(atlas: Atlas, test: Dataset, map_id: str, shade: np.ndarray | None = None,
                   holes: bool = False) -> bytes:
    """A map as an LLB1 blob: points ``xy`` (N, 2), ``labels`` (N,), the shaded grid cells
    ``far`` (G * G,; ``shade``, by default the cells with no point nearby; ``holes``: they are
    holes of the latent space), and what the browser needs to invert the projection:
    nothing (identity), the PCA plane (3, latent_dim), the grid of codes (G * G, latent_dim,
    interpolated bilinearly) or the points' codes (N, latent_dim; t-SNE snaps to them)."""
    n = atlas.grid_n
    g = atlas.grid_xy
    kind = inverse_kind(atlas)
    labels = test.y.numpy().astype(np.int32)
    shade = atlas.far_nodes() if shade is None else shade
    arrays = {"xy": atlas.embedding.astype(np.float32), "labels": labels,
              "far": np.asarray(shade, np.uint8)}
    if kind == "plane":
        arrays["plane"] = np.asarray(atlas.plane, np.float32)  # origin, u, v
    elif kind == "grid":
        arrays["grid"] = atlas.grid_codes.astype(np.float32)
    elif kind == "snap":
        arrays["codes"] = atlas.codes.astype(np.float32)
    present = [bool((labels == k).any()) for k in range(len(test.classes))]
    header = {"id": map_id, "kind": "map", "classes": [str(c) for c in test.classes],
              "present": present, "axes": list(figures.AXIS_TITLES.get(atlas.method, ("1", "2"))),
              "inverse": kind, "latent_dim": int(atlas.codes.shape[1]),
              "note": text.POINTER_NOTES[atlas.method],
              "shade_label": text.SHADE_LABEL[holes], "shade_note": text.SHADE_NOTE[holes],
              "grid": {"n": n, "x0": float(g[0, 0]), "x1": float(g[n - 1, 0]),
                       "y0": float(g[-1, 1]), "y1": float(g[0, 1])}}
    return blob.pack(header, arrays)


@st.cache_resource(max_entries=32, show_spinner=False)
def _decoder_blob(checkpoint_id: str, _model: Autoencoder) -> bytes:
    return decoder_blob_bytes(_model, checkpoint_id)


@st.cache_resource(max_entries=32, show_spinner=False)
def _map_blob(map_id: str, _info: CheckpointInfo, _atlas: Atlas, _test: Dataset) -> bytes:
    shade, holes = cache.shading(map_id, _info, _atlas)
    return map_blob_bytes(_atlas, _test, map_id, shade, holes)


def clean_pin(raw, n_points: int, extent: tuple[float, float, float, float]) -> dict | None:
    """Validate a pin sent by the browser (anything a devtools user can forge).

    Parameters
    ----------
    raw : object
        The trigger value: ``{"kind": "point", "index": i}`` or ``{"kind": "grid", "x", "y"}``.
    n_points : int
        Points on the map (valid indices are 0 .. n_points - 1).
    extent : (x0, x1, y0, y1)
        The map's grid extent: a spot outside it is refused.

    Returns
    -------
    The pick as stored in session state, or ``None`` for anything malformed.
    """
    if not isinstance(raw, dict):
        return None
    kind = raw.get("kind")
    if kind == "point":
        i = raw.get("index")
        if isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n_points:
            return {"kind": "point", "index": i}
        return None
    if kind == "grid":
        x, y = raw.get("x"), raw.get("y")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                   for v in (x, y)):
            return None
        x0, x1, y0, y1 = extent
        if x0 <= x <= x1 and y0 <= y <= y1:
            return {"kind": "grid", "x": float(x), "y": float(y)}
    return None


def extent(atlas: Atlas) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) of the map's click grid."""
    g = atlas.grid_xy
    return float(g[:, 0].min()), float(g[:, 0].max()), float(g[:, 1].min()), float(g[:, 1].max())


def _send(blob_id: str, make) -> None:
    """Mount the carrier for a blob this session does not hold yet."""
    sent = st.session_state.setdefault(SENT, set())
    if blob_id in sent:
        return
    _CARRIER(data=make(), key=f"lmap.blob.{blob_id}", height=0)
    sent.add(blob_id)


def _on_need(key: str) -> None:
    """The browser lacks blobs it was sent (e.g. a reloaded tab): send them again, at most
    :data:`MAX_RESENDS` times a minute (each resend is up to ~1 MB, and anyone can send this
    message from devtools)."""
    val = st.session_state.get(key)
    need = val.get("need") if hasattr(val, "get") else getattr(val, "need", None)
    now = time.monotonic()
    recent = [t for t in st.session_state.get(state.MAP_RESENDS, ()) if now - t < 60]
    if isinstance(need, list) and len(recent) < MAX_RESENDS:
        st.session_state[state.MAP_RESENDS] = (*recent, now)
        st.session_state.setdefault(SENT, set()).clear()  # this map's blobs bring the lib too


def show(*, key: str, info: CheckpointInfo, model: Autoencoder, atlas: Atlas, test: Dataset,
         pick: dict | None = None, overlays: list[dict] | None = None,
         path: dict | None = None, flagged: list[int] | None = None, link: str | None = None,
         on_pin=None, height: int = 520, presenter: bool = False,
         side_title: str | None = None,
         view: tuple[float, float, float, float] | None = None,
         map_id: str | None = None, post: dict | None = None) -> None:
    """Draw an in-browser latent map.

    Parameters
    ----------
    key : str
        Widget key (one per map on a page).
    info, model, atlas, test
        The model (its listing entry and the loaded model), its map and the images the map
        shows.
    pick : dict, optional
        The pinned point (ring) or spot (cross), as :func:`clean_pin` returns it.
    overlays : list of dict, optional
        Extra marks: ``{"name", "xy": [[x, y], ...], "symbol", "color", "size", "text"}``,
        optionally ``"fill"`` (a colour inside the outline) and ``"line"`` (outline width, px).
    path : dict, optional
        ``{"xy": [[x, y], ...], "z": [[...], ...]}``: an interpolation path; the pointer near
        it decodes the code between its frames.
    flagged : list of int, optional
        Point indices ringed in red (anomalies).
    link : str, optional
        Maps with the same ``link`` and latent size decode the same z under one pointer; on a
        2-D latent map a red cursor also marks where that z lies.
    on_pin : callable, optional
        ``on_pin(pick)`` with a validated pick when the user clicks, taps or presses Enter;
        without it the map takes no pins.
    view : (x0, x1, y0, y1), optional
        The axis ranges to open (and reset) on, instead of the map's own extent: maps that
        are compared keep one scale this way.
    map_id : str, optional
        Id of the map's blob (default ``map:<checkpoint id>:<projection>``): a map of other
        images under the same model (a benchmark's) needs one of its own.
    post : dict, optional
        ``{"url": str, "body": dict}``: the map takes pins and sends each one as an HTTP POST
        of ``{**body, "pick": pick}`` to ``url`` (relative to the page) instead of to Python,
        and shows the reply's outcome under the map (the class API, :mod:`services.classapi`);
        with ``on_pin`` as well, a stored pin offers "Show this pin in detail", which calls
        ``on_pin`` with it (one script run, only when the student asks).
    """
    dec_id, map_id = f"dec:{info.id}", map_id or f"map:{info.id}:{atlas.method}"
    _send(dec_id, lambda: _decoder_blob(info.id, model))
    _send(map_id, lambda: _map_blob(map_id, info, atlas, test))
    ext = extent(atlas)

    def _on_pin() -> None:
        val = st.session_state.get(key)
        raw = val.get("pin") if hasattr(val, "get") else getattr(val, "pin", None)
        p = clean_pin(raw, len(test), ext)
        if p is not None and on_pin is not None:
            on_pin(p)

    data = {"key": key, "map": map_id, "decoder": dec_id, "pick": pick, "overlays": overlays or [],
            "path": path, "flagged": flagged, "link": link,
            "pins": on_pin is not None or post is not None, "post": post,
            "details": post is not None and on_pin is not None,
            "height": height, "presenter": presenter, "side_title": side_title,
            "view": list(view) if view is not None else None}
    _MAP(data=data, key=key, on_pin_change=_on_pin, on_need_change=lambda: _on_need(key),
         height="content")
