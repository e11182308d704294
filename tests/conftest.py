"""Shared, seeded fixtures. Tests never write into checkpoints/ or .cache/: the user-model and
map-cache folders are redirected to a temporary folder for the whole session."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MNIST_ROOT = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _isolated_dirs(tmp_path_factory):
    """Point LATENTLAB_USER_DIR and LATENTLAB_CACHE_DIR at temporary folders."""
    base = tmp_path_factory.mktemp("latentlab")
    old = {k: os.environ.get(k) for k in ("LATENTLAB_USER_DIR", "LATENTLAB_CACHE_DIR")}
    os.environ["LATENTLAB_USER_DIR"] = str(base / "user")
    os.environ["LATENTLAB_CACHE_DIR"] = str(base / "cache")
    yield base
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def digits():
    """(train, test) digits splits: 1,437 and 360 images of shape (1, 8, 8)."""
    from aecore.data import load_dataset

    return load_dataset("digits", "train"), load_dataset("digits", "test")


@pytest.fixture(scope="session")
def mnist_root():
    """Folder holding MNIST/raw/t10k-*.gz (the official test set); skips if absent."""
    if not (MNIST_ROOT / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"the MNIST test set is not at {MNIST_ROOT}/MNIST/raw")
    return MNIST_ROOT


def _train(cfg, digits, epochs=8, seed=0):
    from aecore.device import seed_everything
    from aecore.models import build_model
    from aecore.train import Splits, TrainConfig, fit

    seed_everything(seed)
    model = build_model(cfg)
    hist = fit(model, Splits(*digits), TrainConfig(epochs=epochs, seed=seed))
    return model, hist


@pytest.fixture(scope="session")
def trained_ae(digits):
    """A small AE (latent 2) trained 8 epochs on digits, with its History."""
    from aecore.models import AEConfig

    return _train(AEConfig(latent_dim=2, hidden=(64,)), digits)


@pytest.fixture(scope="session")
def trained_vae(digits):
    """A small VAE (latent 2) trained 8 epochs on digits, with its History."""
    from aecore.models import VAEConfig

    return _train(VAEConfig(latent_dim=2, hidden=(64,)), digits)
