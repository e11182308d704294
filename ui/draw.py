"""Draw your own: a drawing pad beside the in-browser latent map (Streamlit Components v2).

Where the encoding runs: in the browser. A finished stroke is normalised to the model's input,
encoded, drawn on the map (a point, or the posterior ellipse and reparameterised samples),
decoded and scored, all in the page (``ui/web/drawpad.js``), so no rerun happens per stroke.
The server alternative costs a rerun per stroke, whose floor on this machine is p50 167 ms /
p95 235 ms before any work (``shared/notes/components-v2.md``): over the 150 ms target on its
own. The digits MLP encoder is ~50,000 multiply-adds, a fraction of a millisecond in
JavaScript; the MNIST convolutional encoder ~1.8 million, a few milliseconds
(``bench/draw_latency.py`` measures stroke -> ellipse for both).

The element carries only ``ui/web/drawstub.js`` and small JSON: the sorted test errors (for
the histogram and the percentile), the model's facts, and blob ids; the encoder's weights
travel once per session in a carrier blob like the decoder's (:mod:`ui.latentmap`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from aecore import drawing
from aecore.atlas import Atlas
from aecore.checkpoints import CheckpointInfo
from aecore.data import Dataset
from aecore.errors import DataError
from aecore.export import encoder_program
from aecore.models.base import Autoencoder

from . import blob, cache, latentmap, text

__all__ = ["DrawData", "map_method", "load_draw_data", "encoder_blob_bytes", "pad_data", "show"]

WEB = Path(__file__).parent / "web"
_PAD = st.components.v2.component("latentlab_draw", js=(WEB / "drawstub.js").read_text())
KEY = "draw"
MAP_KEY = "draw.map"
N_SAMPLES = 5  # reparameterised samples shown per drawing (VAE)


@dataclass(frozen=True)
class DrawData:
    """What the pad and its map draw from (shared and read-only).

    ``errors`` holds the test images' reconstruction errors, sorted, shape (N,), in ``unit``;
    ``p95`` is their 95th percentile (the anomaly threshold the page states).
    """

    info: CheckpointInfo
    model: Autoencoder
    method: str
    atlas: Atlas
    test: Dataset
    errors: np.ndarray
    p95: float
    unit: str


def map_method(latent_dim: int) -> str:
    """The projection the pad's map uses: the identity for a 2-D latent, else PCA (a
    drawing's code must be placed exactly, and PCA is the linear one)."""
    return "identity" if latent_dim == 2 else "pca"


def load_draw_data(info: CheckpointInfo) -> DrawData:
    """Fetch the model, its map and its test errors from :mod:`ui.cache`.

    Raises
    ------
    DataError
        The model's encoder holds a layer the browser's interpreter does not know.
    """
    model = cache.load_model(str(info.path), info.id)
    try:
        encoder_program(model)
    except ValueError as exc:
        raise DataError(f"{exc}. Pick a shipped model (each one's encoder runs in the "
                        "browser).") from None
    method = map_method(model.config.latent_dim)
    errors = np.sort(cache.recon_errors(str(info.path), info.id).astype(float))
    return DrawData(info=info, model=model, method=method, atlas=cache.atlas(info, method),
                    test=cache.model_splits(info)[1], errors=errors,
                    p95=float(np.percentile(errors, 95)),
                    unit=text.UNITS[model.config.recon_loss])


def encoder_blob_bytes(model: Autoencoder, checkpoint_id: str) -> bytes:
    """The encoder of ``model`` as an LLB1 blob with id ``enc:<checkpoint_id>`` (float32
    weights, 0.2 MB for the digits MLPs, 0.9 MB for the MNIST conv VAE); ``ui/web/decoder.js``
    runs it like a decoder.

    Raises
    ------
    ValueError
        From :func:`aecore.export.encoder_program` (a layer it does not know).
    """
    prog = encoder_program(model)
    return blob.pack({"id": f"enc:{checkpoint_id}", "kind": "decoder", "ops": prog.ops,
                      "latent_dim": prog.latent_dim, "output_shape": prog.output_shape},
                     {"weights": prog.weights})


@st.cache_resource(max_entries=32, show_spinner=False)
def _encoder_blob(checkpoint_id: str, _model: Autoencoder) -> bytes:
    return encoder_blob_bytes(_model, checkpoint_id)


def pad_data(dd: DrawData, presenter: bool = False, send: dict | None = None) -> dict:
    """The pad element's data: JSON-ready, small (the errors are N floats). ``send``
    (``{"label", "status", "ok"}``, from :func:`ui.classdraw.send_action`) adds the button
    that sends the drawing's model-input pixels to the class map; None: no such button."""
    cfg = dd.model.config
    return {"key": KEY, "map_key": MAP_KEY, "map": f"map:{dd.info.id}:{dd.method}",
            "decoder": f"dec:{dd.info.id}", "encoder": f"enc:{dd.info.id}",
            "vae": hasattr(dd.model, "reparameterize"), "latent_dim": int(cfg.latent_dim),
            "shape": list(cfg.input_shape), "recon_loss": cfg.recon_loss,
            "errors": [round(float(e), 4) for e in dd.errors], "p95": dd.p95,
            "unit": dd.unit, "noise": getattr(cfg, "noise", None) is not None,
            "width": drawing.stroke_width(tuple(cfg.input_shape[1:])),
            "samples": N_SAMPLES, "height": 460, "presenter": presenter,
            "side_title": "decoder(z) under the pointer", "send": send}


def show(dd: DrawData, presenter: bool = False, send: dict | None = None,
         on_send=None) -> None:
    """Send the blobs this session lacks, then mount the pad and its map. ``send``: see
    :func:`pad_data`; ``on_send()`` runs when the pad's send button sets its trigger value
    ``send`` (``{"pixels": [H*W ints 0..255], "seq": n}``, read from
    ``st.session_state[KEY]``)."""
    info = dd.info
    latentmap._send(f"dec:{info.id}", lambda: latentmap._decoder_blob(info.id, dd.model))
    map_id = f"map:{info.id}:{dd.method}"
    latentmap._send(map_id, lambda: latentmap._map_blob(map_id, info, dd.atlas, dd.test))
    latentmap._send(f"enc:{info.id}", lambda: _encoder_blob(info.id, dd.model))
    _PAD(data=pad_data(dd, presenter, send), key=KEY,
         on_need_change=lambda: latentmap._on_need(KEY),
         on_send_change=on_send or (lambda: None), height="content")
