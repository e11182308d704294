"""Shared, seeded fixtures. Tests never write into checkpoints/, .cache/ or .state/: the
user-model, map-cache and class-state folders are redirected to a temporary folder for the whole
session."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e import browser, page, server  # noqa: E402, F401  (browser fixtures, once)

# the official MNIST test set lives beside the repo, in ../shared/data/MNIST/raw
MNIST_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TINY_EPOCHS = 8  # epochs of the session's tiny AE and VAE (a few seconds each on 2 CPU cores)


def pytest_configure(config):
    # also declared in pytest.ini; repeated so the marker is known when only conftest is used
    config.addinivalue_line("markers", "slow: longer runs (UMAP fits, MNIST training)")
    config.addinivalue_line("markers", "e2e: real-browser tests (Playwright + Debian chromium)")


@pytest.fixture(scope="session", autouse=True)
def _isolated_dirs(tmp_path_factory):
    """Point LATENTLAB_USER_DIR, _CACHE_DIR and _STATE_DIR at temporary folders."""
    base = tmp_path_factory.mktemp("latentlab")
    old = {k: os.environ.get(k) for k in ("LATENTLAB_USER_DIR", "LATENTLAB_CACHE_DIR",
                                          "LATENTLAB_STATE_DIR")}
    os.environ["LATENTLAB_USER_DIR"] = str(base / "user")
    os.environ["LATENTLAB_CACHE_DIR"] = str(base / "cache")
    os.environ["LATENTLAB_STATE_DIR"] = str(base / "state")
    yield base
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def digits_train():
    """The fixed digits training split: 1,437 images of shape (1, 8, 8) in [0, 1]."""
    from aecore.data import load_dataset

    return load_dataset("digits", "train")


@pytest.fixture(scope="session")
def digits_test():
    """The fixed digits test split: 360 images of shape (1, 8, 8) in [0, 1]."""
    from aecore.data import load_dataset

    return load_dataset("digits", "test")


@pytest.fixture(scope="session")
def digits(digits_train, digits_test):
    """(train, test) digits splits: 1,437 and 360 images of shape (1, 8, 8)."""
    return digits_train, digits_test


@pytest.fixture(scope="session")
def mnist_root():
    """Folder holding MNIST/raw/t10k-*.gz (the official test set); skips if absent."""
    raw = MNIST_ROOT / "MNIST" / "raw"
    if not all((raw / f).is_file() for f in ("t10k-images-idx3-ubyte.gz",
                                              "t10k-labels-idx1-ubyte.gz")):
        pytest.skip(f"the official MNIST test set (t10k-*-ubyte.gz) is not in {raw}; "
                    "put it there to run the MNIST tests")
    return MNIST_ROOT


def _train(cfg, digits, epochs=TINY_EPOCHS, seed=0):
    from aecore.device import seed_everything
    from aecore.models import build_model
    from aecore.train import Splits, TrainConfig, fit

    seed_everything(seed)  # the initial weights come from the global generator
    model = build_model(cfg)
    hist = fit(model, Splits(*digits), TrainConfig(epochs=epochs, seed=seed))
    return model, hist


@pytest.fixture(scope="session")
def trained_ae(digits):
    """A small AE (latent 2, hidden 64) trained 8 epochs on digits, with its History."""
    from aecore.models import AEConfig

    return _train(AEConfig(latent_dim=2, hidden=(64,)), digits)


@pytest.fixture(scope="session")
def trained_vae(digits):
    """A small VAE (latent 2, hidden 64) trained 8 epochs on digits, with its History."""
    from aecore.models import VAEConfig

    return _train(VAEConfig(latent_dim=2, hidden=(64,)), digits)


@pytest.fixture(scope="session")
def ae16_codes(digits):
    """Test and train codes of the shipped 16-D AE: (360, 16) and (1437, 16), and its info."""
    from aecore import checkpoints
    from aecore.latent import encode

    model, info = checkpoints.load(checkpoints.SHIPPED_DIR / "digits_ae_z16.safetensors")
    return encode(model, digits[1].x), encode(model, digits[0].x), info


@pytest.fixture(scope="session")
def ae16_tsne_atlas(ae16_codes):
    """t-SNE atlas of the shipped 16-D AE's test codes (one t-SNE fit, shared)."""
    from aecore.atlas import build_atlas

    codes, train, info = ae16_codes
    return build_atlas(codes, train, "tsne", info.id)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """The class database on both backends (issue 18), for the class-store tests: a SQLite
    file whose folder does not exist yet, or a scratch schema on the PostgreSQL test server
    (tests/pgtest.py: skipped without one, a failure under LATENTLAB_REQUIRE_POSTGRES=1)."""
    if request.param == "sqlite":
        yield tmp_path / "cls" / "classroom.sqlite3"
    else:
        from tests import pgtest

        with pgtest.scratch_url() as url:
            yield url
