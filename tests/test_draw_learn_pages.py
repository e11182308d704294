"""AppTest of the Draw your own and Watch it learn pages: they render for the shipped models,
send what the browser needs, and their words state the numbers they draw from."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from aecore import checkpoints, latent
from aecore.data import load_dataset
from aecore.recording import Recording, frame_epochs, load_recording, save_recording
from tests import mapspec

ROOT = Path(__file__).resolve().parents[1]
DRAW = str(ROOT / "pages" / "17_Draw_your_own.py")
LEARN = str(ROOT / "pages" / "18_Watch_it_learn.py")


def _el(at, key):
    return json.loads(next(c for c in at.get("bidi_component") if c.key == key).proto.json)


def _run(page, model):
    at = AppTest.from_file(page, default_timeout=60)
    at.session_state["side.model"] = str(checkpoints.SHIPPED_DIR / f"{model}.safetensors")
    return at.run()


def test_draw_page_sends_the_encoder_and_states_the_threshold_it_draws():
    at = _run(DRAW, "digits_ae_z2")
    assert not at.exception
    data = _el(at, "draw")
    sent = mapspec.blobs(at)
    assert data["encoder"] in sent and data["decoder"] in sent and data["map"] in sent
    enc = sent[data["encoder"]][0]
    assert enc["latent_dim"] == 64 and enc["output_shape"] == [2, 1, 1]  # x -> z
    assert data["vae"] is False and data["shape"] == [1, 8, 8]
    model, _ = checkpoints.load(checkpoints.SHIPPED_DIR / "digits_ae_z2.safetensors")
    errors = latent.reconstruction_errors(model, load_dataset("digits", "test").x)
    assert np.allclose(data["errors"], np.sort(errors), atol=1e-3)
    p95 = float(np.percentile(errors, 95))  # measured 29.4 nats
    caption = " ".join(c.value for c in at.caption)
    assert f"the {len(errors)} test images" in caption and f"is at {p95:.1f} nats" in caption
    assert abs(data["p95"] - p95) < 1e-6


def test_draw_page_on_a_vae_and_a_denoising_ae():
    at = _run(DRAW, "digits_vae_z2")
    assert not at.exception and _el(at, "draw")["vae"] is True
    at = _run(DRAW, "digits_dae_z16")
    assert not at.exception
    data = _el(at, "draw")
    assert data["noise"] is True and data["map"].endswith(":pca")  # 16-D: the exact PCA map
    assert any("noise σ" in i.value for i in at.info)


def _recording(path, epochs=7, n=360):
    """A small recording of made-up frames (a real run is tests/test_recording.py's job)."""
    g = np.random.default_rng(0)
    e = np.array(frame_epochs(epochs, 4))
    xy = np.cumsum(g.normal(size=(len(e), n, 2)), 0).astype(np.float16)
    rec = Recording(epochs=e, codes=xy, xy=xy, plane=np.vstack([np.zeros(2), np.eye(2)]),
                    index=np.arange(n, dtype=np.int32),
                    labels=load_dataset("digits", "test").y.numpy()[:n].astype(np.int32),
                    test_total=np.r_[np.nan, np.linspace(40, 25, len(e) - 1)].astype(np.float32),
                    best_epoch=int(e[-1]), method="identity")
    save_recording(rec, path)
    return load_recording(path)


def test_learn_page_plays_a_recording_and_states_its_frames(tmp_path, monkeypatch):
    import ui.replay

    rec = _recording(tmp_path / "r.frames.npz")
    monkeypatch.setattr(ui.replay, "recording_path", lambda p: tmp_path / "r.frames.npz")
    at = _run(LEARN, "digits_vae_z2")
    assert not at.exception
    data = _el(at, "learn")
    sent = mapspec.blobs(at)
    head, arrays = sent[data["frames"]]
    assert head["epochs"] == [int(e) for e in rec.epochs]
    assert arrays["xy"].size == rec.xy.size and head["n"] == len(rec.labels)
    mhead, marrays = sent[data["map"]]
    assert mhead["inverse"] == "plane" and marrays["plane"].size == 3 * 2
    caption = " ".join(c.value for c in at.caption)
    assert (f"{len(rec.epochs)} frames of {len(rec.labels)} test images: epoch 0 (untrained) "
            f"to epoch {rec.epochs[-1]}") in caption
    assert f"saved weights of epoch {rec.best_epoch}" in caption
    assert f"every {rec.epochs[1] - rec.epochs[0]} epoch(s)" in caption


def test_learn_page_without_a_recording_says_how_to_get_one(tmp_path, monkeypatch):
    import ui.replay

    monkeypatch.setattr(ui.replay, "recording_path", lambda p: tmp_path / "none.frames.npz")
    at = _run(LEARN, "digits_ae_z16")
    assert not at.exception
    assert any("has no training recording" in i.value for i in at.info)
