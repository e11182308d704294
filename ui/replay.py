"""Watch it learn: a training recording (:mod:`aecore.recording`) played back on a latent map.

The frames travel once per browser session in a carrier blob (float32 positions, ~0.3 MB for a
digits recording); the epoch slider and Play run in the page (``ui/web/frames.js``), so no
frame costs a rerun. The map under the animation is built from the recording itself (its
identity or PCA plane, so the pointer decodes exactly where it points) and decodes with the
checkpoint's weights: the final ones, since intermediate weights are not recorded.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from aecore.checkpoints import CheckpointInfo
from aecore.models.base import Autoencoder
from aecore.recording import Recording, load_recording, recording_path

from . import blob, cache, figures, latentmap, text

__all__ = ["recording_for", "facts", "view_box", "frames_blob_bytes", "map_blob_bytes", "show"]

WEB = Path(__file__).parent / "web"
_PLAYER = st.components.v2.component("latentlab_frames", js=(WEB / "framestub.js").read_text())
KEY = "learn"
MAP_KEY = "learn.map"
MS_PER_FRAME = 120  # Play: ~8 frames a second, a 101-frame recording in 12 s


def recording_for(info: CheckpointInfo) -> Recording | None:
    """The recording beside the checkpoint, or None when it has none.

    Raises
    ------
    CheckpointError
        The file exists but is malformed or over its bound.
    """
    path = recording_path(info.path)
    return load_recording(path) if path.exists() else None


def facts(rec: Recording) -> dict:
    """The numbers the page states under the animation (:data:`ui.text.LEARN_FACTS`)."""
    e = rec.epochs
    return {"frames": len(e), "n": len(rec.labels), "last": int(e[-1]),
            "step": int(e[1] - e[0]) if len(e) > 1 else 1, "best": rec.best_epoch}


def view_box(rec: Recording, margin: float = 0.05) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) holding every frame's points, with a margin on each side."""
    xy = rec.xy.astype(np.float64).reshape(-1, 2)
    lo, hi = xy.min(0), xy.max(0)
    pad = np.maximum((hi - lo) * margin, 1e-3)
    x0, y0 = lo - pad
    x1, y1 = hi + pad
    return float(x0), float(x1), float(y0), float(y1)


def frames_blob_bytes(rec: Recording, blob_id: str, unit: str) -> bytes:
    """Every frame's positions, ``xy`` (F * n * 2,) float32, and ``labels`` (n,)."""
    loss = [None if not np.isfinite(v) else round(float(v), 4) for v in rec.test_total]
    header = {"id": blob_id, "kind": "frames", "epochs": [int(e) for e in rec.epochs],
              "test_total": loss, "best_epoch": rec.best_epoch, "n": int(len(rec.labels)),
              "unit": unit}
    return blob.pack(header, {"xy": rec.xy.astype(np.float32).ravel(),
                              "labels": rec.labels.astype(np.int32)})


def map_blob_bytes(rec: Recording, blob_id: str, classes: list[str]) -> bytes:
    """A map blob (the format of :func:`ui.latentmap.map_blob_bytes`) made from the recording:
    its final frame, its labels and its plane, so the pointer's code is exact."""
    x0, x1, y0, y1 = view_box(rec)
    present = [bool((rec.labels == k).any()) for k in range(len(classes))]
    header = {"id": blob_id, "kind": "map", "classes": classes, "present": present,
              "axes": list(figures.AXIS_TITLES.get(rec.method, ("1", "2"))), "inverse": "plane",
              "latent_dim": int(rec.plane.shape[1]), "note": text.POINTER_NOTES[rec.method],
              "shade_label": "", "shade_note": "",
              "grid": {"n": 2, "x0": x0, "x1": x1, "y0": y0, "y1": y1}}
    return blob.pack(header, {"xy": rec.xy[-1].astype(np.float32),
                              "labels": rec.labels.astype(np.int32),
                              "plane": rec.plane.astype(np.float32)})


def show(info: CheckpointInfo, model: Autoencoder, rec: Recording, *,
         presenter: bool = False) -> None:
    """Send the blobs this session lacks, then mount the player and its map."""
    classes = [str(c) for c in cache.model_splits(info)[1].classes]
    unit = text.UNITS[model.config.recon_loss]
    fid, mid = f"frames:{info.id}", f"recmap:{info.id}"
    latentmap._send(f"dec:{info.id}", lambda: latentmap._decoder_blob(info.id, model))
    latentmap._send(mid, lambda: map_blob_bytes(rec, mid, classes))
    latentmap._send(fid, lambda: frames_blob_bytes(rec, fid, unit))
    data = {"key": KEY, "map_key": MAP_KEY, "map": mid, "decoder": f"dec:{info.id}",
            "frames": fid, "start": 0, "ms_per_frame": MS_PER_FRAME, "height": 520,
            "presenter": presenter, "side_title": "decoder(z) under the pointer (final weights)"}
    _PLAYER(data=data, key=KEY, on_need_change=lambda: latentmap._on_need(KEY),
            height="content")
