"""Cached access to aecore for the pages.

What is shared by all users (models, datasets, maps) is cached once per server with
``st.cache_resource`` and treated as read-only: models are in ``eval()`` mode with gradients
off, and the arrays are never written to. ``st.cache_data`` would copy these objects on every
call (it pickles them), which costs more than the 35 ms click budget at 10,000 points.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from aecore import checkpoints, latent
from aecore.atlas import Atlas, atlas_path, get_atlas, load_atlas
from aecore.checkpoints import CheckpointInfo
from aecore.data import Dataset, load_dataset
from aecore.models.base import Autoencoder

# One torch thread for inference in the server. With 2, each layer of a click's forward pass
# ends at an OpenMP barrier that waits for both threads; when a training worker keeps one core
# busy, the second thread waits for a time slice and clicks queue up behind it. Measured with
# bench/load_test.py (40 sessions clicking every 3 s, one training run, 2 cores): click p50
# 403 ms / p95 987 ms with 2 threads, 17 ms / 59 ms with 1.
INFERENCE_THREADS = 1


def _folder_signature() -> tuple:
    """(path, mtime, size) of every checkpoint file: changes whenever one is added or saved."""
    sig = []
    for folder in (checkpoints.SHIPPED_DIR, checkpoints.user_dir()):
        if folder.is_dir():
            for p in sorted(folder.glob("*.safetensors")):
                s = p.stat()
                sig.append((str(p), s.st_mtime_ns, s.st_size))
    return tuple(sig)


@st.cache_data(max_entries=8, show_spinner=False)
def _list_models(sig: tuple) -> tuple[list[CheckpointInfo], list[str]]:
    """Read every checkpoint header once per folder state ``sig`` (the cache key).

    A user's file whose header reads fine can still hold weights that do not fit its config
    or are NaN: such files are loaded once here and listed as problems, so no picker on any
    page can select a model that fails later (a few ms per file, once per folder change).
    """
    infos, problems = checkpoints.list_checkpoints(checkpoints.SHIPPED_DIR,
                                                   checkpoints.user_dir())
    usable = []
    for info in infos:
        try:
            if not info.shipped:
                checkpoints.load(info.path)
        except checkpoints.CheckpointError as exc:
            problems.append(str(exc))
        else:
            usable.append(info)
    return usable, problems


def list_models() -> tuple[list[CheckpointInfo], list[str]]:
    """All checkpoints (shipped first, then the user's) and messages for unreadable files.

    New files show up at once: the cache key is the folders' (path, mtime, size) list.
    """
    return _list_models(_folder_signature())


@st.cache_resource(max_entries=16, show_spinner="Loading model…")
def load_model(path: str, checkpoint_id: str) -> Autoencoder:
    """A checkpoint's model on the CPU, ``eval()``, gradients off: shared and read-only.

    ``checkpoint_id`` (which holds the file hash) is part of the cache key so a rewritten file
    is reloaded. Raises :class:`aecore.CheckpointError`.
    """
    torch.set_num_threads(INFERENCE_THREADS)
    model, info = checkpoints.load(path)
    if info.id != checkpoint_id:
        raise checkpoints.CheckpointError(f"{path} changed while it was being loaded; reload")
    for p in model.parameters():
        p.requires_grad_(False)
    return model


@st.cache_resource(max_entries=16, show_spinner="Loading data…")
def load_data(name: str, split: str, root: str | None = None) -> Dataset:
    """A dataset split, shared read-only. Raises :class:`aecore.DataError`."""
    return load_dataset(name, split, root)


def model_splits(info: CheckpointInfo) -> tuple[Dataset, Dataset]:
    """(train, test) data a checkpoint was trained and evaluated on."""
    return (load_data(info.dataset, info.meta.get("train_split", "train")),
            load_data(info.dataset, info.meta.get("test_split", "test")))


@st.cache_resource(max_entries=32, show_spinner=False)
def _atlas(path: str, checkpoint_id: str, method: str) -> Atlas:
    """Build-or-load the atlas (see :func:`atlas`)."""
    info = checkpoints.read_info(path)
    model = load_model(path, checkpoint_id)

    def codes():
        train, test = model_splits(info)
        return latent.encode(model, test.x), latent.encode(model, train.x)

    return get_atlas(info, method, codes)[0]


@st.cache_data(max_entries=64, show_spinner=False)
def _stored(path: str, mtime_ns: int, checkpoint_id: str) -> bool:
    """Whether the atlas file at ``path`` is current (read once per file version: reading a
    10,000-point atlas costs ~10-50 ms, too much to repeat on every click)."""
    return load_atlas(Path(path), checkpoint_id) is not None


def atlas(info: CheckpointInfo, method: str) -> Atlas:
    """The latent map of a model: read from disk when it was computed before (always for the
    shipped models); otherwise fitted once, with a spinner, and stored keyed by the file hash."""
    path = atlas_path(info, method)
    if path.exists() and _stored(str(path), path.stat().st_mtime_ns, info.id):
        return _atlas(str(info.path), info.id, method)
    with st.spinner(f"Fitting the {method.upper()} map once for this model (UMAP: up to a "
                    "minute the first time, while numba compiles)…"):
        return _atlas(str(info.path), info.id, method)


@st.cache_data(max_entries=32, show_spinner=False)
def recon_errors(path: str, checkpoint_id: str) -> np.ndarray:
    """Per-image reconstruction error on the model's test split, shape (N,), in the model's
    loss unit (nats per image for BCE)."""
    info = checkpoints.read_info(path)
    model = load_model(path, checkpoint_id)
    return latent.reconstruction_errors(model, model_splits(info)[1].x)


@torch.no_grad()
def decode_one(model: Autoencoder, z: np.ndarray) -> np.ndarray:
    """Decode a single code (latent_dim,) -> (C, H, W) float32 in [0, 1]."""
    return latent.decode(model, z[None])[0]


@torch.no_grad()
def reconstruct_one(model: Autoencoder, x: torch.Tensor) -> np.ndarray:
    """Deterministic reconstruction of one image (C, H, W) -> (C, H, W) in [0, 1]."""
    return model.reconstruct(x[None])[0].numpy()


def data_root_hint() -> str:
    """Where the app looks for torchvision-layout datasets (for messages)."""
    return os.environ.get("LATENTLAB_DATA_ROOT", "data/ (in the app folder)")
