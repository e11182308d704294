"""A model whose images are not on this machine (a fresh clone, offline): marked in the picker,
one download attempt per server, a clear message with what to do on every page."""
from pathlib import Path

import pytest
import torchvision.datasets as tvd
from streamlit.testing.v1 import AppTest

from aecore import data

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["1_Latent_map.py", "2_Interpolate.py", "3_Sample_prior.py", "5_AE_vs_VAE.py",
         "6_Anomalies.py", "8_AE_vs_PCA.py", "9_Classroom.py"]


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No MNIST files anywhere and no network; counts the download attempts."""
    from ui import cache

    attempts = []

    def no_network(*args, **kwargs):
        attempts.append(kwargs)
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no network")

    monkeypatch.setattr(data, "default_roots", lambda: [tmp_path / "data"])
    monkeypatch.setattr(tvd, "MNIST", no_network)
    cache._data_or_problem.clear()
    yield attempts
    cache._data_or_problem.clear()


def test_every_page_explains_missing_mnist_files_after_one_download_attempt(offline):
    for page in PAGES:
        at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=60)
        at.query_params.update({"dataset": "mnist", "model": "mnist_vae_z2"})
        at.run()
        assert not at.exception, (page, at.exception)
        msg = " ".join(e.value for e in at.error)
        assert "needs the **mnist** images" in msg, (page, msg)
        assert "t10k-images-idx3-ubyte.gz" in msg and "train-images" not in msg, msg
        assert "MNIST/raw" in msg and "LATENTLAB_DATA_ROOT" in msg, msg
        assert not at.get("bidi_component"), page  # no map, no class started: stopped there
        options = next(s for s in at.sidebar.selectbox if s.label == "Model").options
        assert all("needs MNIST files" in o for o in options), options
    # the shipped MNIST models use test[:8000] / test[8000:]: one attempt for the test split,
    # for every page and both slices together
    assert len(offline) == 1


def test_missing_files_names_the_files_of_the_split_and_where_they_go(tmp_path):
    assert data.missing_files("digits", "train") is None
    msg = data.missing_files("mnist", "test[:10]", root=tmp_path)
    assert "t10k-images-idx3-ubyte.gz" in msg and "train-" not in msg
    assert str(tmp_path / "MNIST" / "raw") in msg
