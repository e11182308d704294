"""Training recordings: the test codes and their map positions, epoch by epoch.

A :class:`Recorder` hooks into :func:`aecore.train.fit` through its ``callback`` (and
:func:`aecore.recipes.train_and_save`'s ``on_start`` for epoch 0, the untrained model) and
encodes a fixed subsample of the test images after the epochs it records. When training ends,
:meth:`Recorder.finish` places every frame on one map: the identity for a 2-D latent, else a
PCA fitted once on the final model's codes, so positions are comparable across epochs. The
recording is saved beside the checkpoint as ``<name>.frames.npz`` (plain arrays, float16, read
with ``allow_pickle=False``; written atomically) and is bounded: at most :data:`MAX_POINTS`
images, :data:`MAX_FRAMES` frames and :data:`MAX_BYTES` bytes.

Encoding a frame uses ``model.embed`` (mu for a VAE) in eval mode and no random numbers, so a
recorded run trains exactly as an unrecorded one (the shipped recordings were checked against
the shipped weights).
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .errors import CheckpointError
from .files import atomic_write
from .models.base import Autoencoder

__all__ = ["MAX_POINTS", "MAX_FRAMES", "MAX_BYTES", "SUFFIX", "Recording", "Recorder",
           "frame_epochs", "recording_path", "save_recording", "load_recording"]

MAX_POINTS = 1000  # test images per frame (a random subsample beyond this)
MAX_FRAMES = 101  # epoch 0 plus at most 100 recorded epochs (every k-th epoch beyond)
MAX_BYTES = 1_500_000  # bound on the file: 101 frames x 1000 points x (16 + 2) x 2 bytes = 3.6 MB
#                        would not fit, so a 16-D recording keeps fewer points (see Recorder)
SUFFIX = ".frames.npz"
_VERSION = 1


@dataclass
class Recording:
    """Frames of a training run.

    Attributes
    ----------
    epochs : ndarray of shape (F,), int
        Epoch of each frame (0: before training; e: after epoch e).
    codes : ndarray of shape (F, n, D), float16
        The recorded test images' codes (``embed``: mu for a VAE).
    xy : ndarray of shape (F, n, 2), float16
        Their map positions: ``(z - origin) . u / |u|^2``, ``(z - origin) . v / |v|^2``.
    plane : ndarray of shape (3, D), float64
        origin, u, v of the map (the identity for D = 2; PCA of the final codes otherwise).
    index, labels : ndarray of shape (n,), int
        Test-image indices recorded and their labels.
    test_total : ndarray of shape (F,), float
        Test loss (nats per image for BCE) after each frame's epoch; NaN for epoch 0.
    best_epoch : int
        The epoch whose weights the checkpoint keeps (``keep_best``).
    method : str
        ``"identity"`` or ``"pca"``.
    """

    epochs: np.ndarray
    codes: np.ndarray
    xy: np.ndarray
    plane: np.ndarray
    index: np.ndarray
    labels: np.ndarray
    test_total: np.ndarray
    best_epoch: int
    method: str


def frame_epochs(epochs: int, max_frames: int = MAX_FRAMES) -> list[int]:
    """The epochs a run of ``epochs`` records: 0, then every k-th epoch with
    ``k = ceil(epochs / (max_frames - 1))``, and always the last one."""
    k = max(1, math.ceil(epochs / (max_frames - 1)))
    keep = list(range(0, epochs + 1, k))
    return keep if keep[-1] == epochs else keep + [epochs]


def _points_for(latent_dim: int, frames: int, max_points: int) -> int:
    """Most points whose codes and positions (float16) fit :data:`MAX_BYTES`."""
    per_point = frames * (latent_dim + 2) * 2
    return max(1, min(max_points, (MAX_BYTES - 20_000) // per_point))


class Recorder:
    """Records test codes during :func:`aecore.train.fit`.

    Use ``on_start`` as :func:`aecore.recipes.train_and_save`'s ``on_start`` (or call it with
    the model before ``fit``), ``callback`` as ``fit``'s callback (it returns None: it never
    stops training), and :meth:`finish` with the trained model.

    Parameters
    ----------
    x : Tensor of shape (N, C, H, W), float in [0, 1]
        Test images.
    y : array of shape (N,), int
        Their labels.
    epochs : int
        Epochs the run will train (fixes which epochs are recorded).
    max_points : int
        At most this many images (fewer if the latent is large: :data:`MAX_BYTES`).
    seed : int
        Seeds the subsample (NumPy's generator: training's torch streams are untouched).
    """

    def __init__(self, x: torch.Tensor, y, epochs: int, *, max_points: int = MAX_POINTS,
                 seed: int = 0):
        self.x, self.y = x, np.asarray(y)
        self.schedule = set(frame_epochs(epochs))
        self.max_points, self.seed = max_points, seed
        self.model: Autoencoder | None = None
        self.frames: list[tuple[int, np.ndarray, float]] = []
        self.losses: dict[int, float] = {}  # test loss of every epoch (for the kept one)

    def on_start(self, model: Autoencoder, splits=None) -> None:
        """Pick the subsample for this model's latent size and record epoch 0."""
        self.model = model
        n = _points_for(model.config.latent_dim, len(self.schedule) + 1, self.max_points)
        idx = np.arange(len(self.x))
        if len(idx) > n:
            idx = np.sort(np.random.default_rng(self.seed).choice(idx, n, replace=False))
        self.index = idx
        self.frames = [(0, self._codes(), math.nan)]

    def callback(self, log) -> None:
        """``fit``'s callback: record after the scheduled epochs (StepLogs are ignored)."""
        epoch = getattr(log, "epoch", None)
        if not hasattr(log, "test_total") or self.model is None:
            return
        self.losses[epoch] = float(log.test_total)
        if epoch in self.schedule:
            self.frames.append((epoch, self._codes(), float(log.test_total)))

    @torch.no_grad()
    def _codes(self) -> np.ndarray:
        m = self.model
        was = m.training
        m.eval()  # dropout off; embed is deterministic (mu for a VAE)
        dev = next(m.parameters()).device
        z = m.embed(self.x[self.index].to(dev)).cpu().numpy().astype(np.float32)
        m.train(was)
        return z

    def finish(self, model: Autoencoder, best_epoch: int) -> Recording:
        """Place every frame on one map (identity for D = 2, else PCA of the final model's
        codes) and return the :class:`Recording`.

        ``model`` holds the weights of ``best_epoch`` (``fit`` keeps the best epoch): when that
        epoch was not on the schedule its frame is added here, so the frame of the saved
        weights is always in the recording (at most :data:`MAX_FRAMES` + 1 frames).
        """
        self.model = model
        final = self._codes()  # (n, D): the weights the checkpoint keeps
        if best_epoch not in {e for e, _, _ in self.frames}:
            self.frames.append((best_epoch, final, self.losses.get(best_epoch, math.nan)))
            self.frames.sort(key=lambda f: f[0])
        final = final.astype(np.float64)
        d = final.shape[1]
        if d == 2:
            plane, method = np.vstack([np.zeros(2), np.eye(2)]), "identity"
        else:  # the top-2 principal directions of the final codes (SVD of the centred codes)
            origin = final.mean(0)
            _, _, vt = np.linalg.svd(final - origin, full_matrices=False)
            plane, method = np.vstack([origin, vt[0], vt[1]]), "pca"
        codes = np.stack([c for _, c, _ in self.frames]).astype(np.float64)  # (F, n, D)
        u, v = plane[1], plane[2]
        xy = np.stack([(codes - plane[0]) @ u / (u @ u), (codes - plane[0]) @ v / (v @ v)], -1)
        return Recording(epochs=np.array([e for e, _, _ in self.frames], np.int32),
                         codes=codes.astype(np.float16), xy=xy.astype(np.float16),
                         plane=plane, index=self.index.astype(np.int32),
                         labels=self.y[self.index].astype(np.int32),
                         test_total=np.array([t for _, _, t in self.frames], np.float32),
                         best_epoch=int(best_epoch), method=method)


def recording_path(checkpoint: str | Path) -> Path:
    """``<folder>/<name>.frames.npz`` beside ``<folder>/<name>.safetensors``."""
    p = Path(checkpoint)
    return p.with_name(p.name.removesuffix(".safetensors") + SUFFIX)


def save_recording(rec: Recording, path: str | Path) -> Path:
    """Write ``rec`` as an uncompressed ``.npz`` of plain arrays, atomically.

    Raises
    ------
    CheckpointError
        The file would exceed :data:`MAX_BYTES` (a recording is bounded).
    """
    buf = io.BytesIO()
    np.savez(buf, version=np.int32(_VERSION), epochs=rec.epochs, codes=rec.codes, xy=rec.xy,
             plane=rec.plane, index=rec.index, labels=rec.labels, test_total=rec.test_total,
             best_epoch=np.int32(rec.best_epoch), method=np.array(rec.method))
    data = buf.getvalue()
    if len(data) > MAX_BYTES:
        raise CheckpointError(f"{path}: a recording of {len(data):,} bytes exceeds the "
                              f"{MAX_BYTES:,}-byte bound")
    return atomic_write(path, data)


def load_recording(path: str | Path) -> Recording:
    """Read a recording (never unpickles).

    Raises
    ------
    CheckpointError
        A missing, oversized or malformed file (the message names it and the problem).
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise CheckpointError(f"{path}: larger than the {MAX_BYTES:,}-byte bound")
        with np.load(path, allow_pickle=False) as f:
            rec = Recording(epochs=f["epochs"], codes=f["codes"], xy=f["xy"],
                            plane=f["plane"], index=f["index"], labels=f["labels"],
                            test_total=f["test_total"], best_epoch=int(f["best_epoch"]),
                            method=str(f["method"]))
            version = int(f["version"])
    except CheckpointError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a readable recording ({exc})") from None
    n_f, n, d = rec.codes.shape if rec.codes.ndim == 3 else (0, 0, 0)
    if (version != _VERSION or rec.codes.ndim != 3 or rec.xy.shape != (n_f, n, 2)
            or rec.epochs.shape != (n_f,) or rec.labels.shape != (n,)
            or rec.plane.shape != (3, d) or not np.isfinite(rec.xy).all()):
        raise CheckpointError(f"{path}: the recording's arrays do not fit together")
    return rec
