"""Training recordings (aecore.recording): what a Recorder records, that recording leaves
training unchanged, the file's round trip and bound, and the shipped recordings."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from aecore import checkpoints
from aecore.data import load_dataset
from aecore.device import seed_everything
from aecore.errors import CheckpointError
from aecore.models import AE, VAE, AEConfig, VAEConfig
from aecore.recording import (MAX_BYTES, Recorder, frame_epochs, load_recording,
                              recording_path, save_recording)
from aecore.train import Splits, TrainConfig, fit

CFG = TrainConfig(epochs=4, batch_size=128, lr=2e-3)


@pytest.fixture(scope="module")
def splits():
    return Splits(load_dataset("digits", "train"), load_dataset("digits", "test"))


def _run(splits, cls, config, recorder=None):
    seed_everything(0)
    model = cls(config)
    if recorder is not None:
        recorder.on_start(model)
    hist = fit(model, splits, CFG, callback=recorder.callback if recorder else None)
    return model, hist


def test_frame_schedule():
    assert frame_epochs(4) == [0, 1, 2, 3, 4]
    e = frame_epochs(300)
    assert len(e) == 101 and e[:3] == [0, 3, 6] and e[-1] == 300
    assert frame_epochs(250)[-1] == 250 and len(frame_epochs(250)) <= 101


def test_recording_leaves_training_unchanged_and_records_every_epoch(splits):
    cfg = VAEConfig(latent_dim=2, hidden=(32,))
    plain, _ = _run(splits, VAE, cfg)
    rec = Recorder(splits.test.x, splits.test.y.numpy(), CFG.epochs)
    model, hist = _run(splits, VAE, cfg, rec)
    for k, v in plain.state_dict().items():
        assert torch.equal(v, model.state_dict()[k]), k
    r = rec.finish(model, hist.best_epoch)
    assert list(r.epochs) == [0, 1, 2, 3, 4] and r.method == "identity"
    assert r.codes.shape == (5, 360, 2) and r.codes.dtype == np.float16
    assert np.array_equal(r.xy, r.codes)  # 2-D: the map is z itself
    assert np.isnan(r.test_total[0]) and np.allclose(r.test_total[1:],
                                                     [e.test_total for e in hist.epochs])
    with torch.no_grad():
        final = model.embed(splits.test.x).numpy()
    best = list(r.epochs).index(hist.best_epoch)  # the kept weights' frame
    assert np.abs(r.codes[best] - final).max() < 1e-2  # float16
    assert np.abs(r.codes[0] - r.codes[-1]).max() > 0.1  # the codes moved


def test_a_16d_recording_is_placed_by_one_pca_of_the_final_codes(splits):
    rec = Recorder(splits.test.x, splits.test.y.numpy(), CFG.epochs, max_points=100)
    model, hist = _run(splits, AE, AEConfig(latent_dim=16, hidden=(32,)), rec)
    r = rec.finish(model, hist.best_epoch)
    assert r.method == "pca" and r.codes.shape == (5, 100, 16) and len(set(r.index)) == 100
    u, v = r.plane[1], r.plane[2]
    assert abs(u @ v) < 1e-9 and abs(u @ u - 1) < 1e-9 and abs(v @ v - 1) < 1e-9
    with torch.no_grad():
        final = model.embed(splits.test.x[r.index]).numpy().astype(np.float64)
    centred = final - final.mean(0)
    want = centred @ np.vstack([u, v]).T
    # the first PC carries the most variance of the final codes, and every frame shares axes
    assert np.var(want[:, 0]) >= np.var(centred @ np.linalg.qr(np.random.default_rng(0)
                                                               .normal(size=(16, 1)))[0])
    got = (r.codes.astype(np.float64) - r.plane[0]) @ np.vstack([u, v]).T
    assert np.abs(got - r.xy.astype(np.float64)).max() < 0.05  # float16 rounding


def test_round_trip_bound_and_bad_files(splits, tmp_path):
    rec = Recorder(splits.test.x, splits.test.y.numpy(), CFG.epochs)
    model, hist = _run(splits, AE, AEConfig(latent_dim=2, hidden=(32,)), rec)
    r = rec.finish(model, hist.best_epoch)
    path = save_recording(r, recording_path(tmp_path / "m.safetensors"))
    assert path.name == "m.frames.npz" and path.stat().st_size <= MAX_BYTES
    back = load_recording(path)
    for f in ("epochs", "codes", "xy", "plane", "index", "labels"):
        assert np.array_equal(getattr(back, f), getattr(r, f)), f
    assert back.best_epoch == r.best_epoch and back.method == r.method
    big = Recorder(splits.test.x, splits.test.y.numpy(), CFG.epochs)
    big.frames = rec.frames * 400  # far over the bound
    big.index = rec.index
    with pytest.raises(CheckpointError, match="exceeds"):
        save_recording(big.finish(model, 1), tmp_path / "big.frames.npz")
    (tmp_path / "junk.frames.npz").write_bytes(b"not a zip")
    with pytest.raises(CheckpointError):
        load_recording(tmp_path / "junk.frames.npz")
    np.savez(tmp_path / "obj.frames.npz", codes=np.array([{"a": 1}], dtype=object))
    with pytest.raises(CheckpointError):  # object arrays would need pickle: refused
        load_recording(tmp_path / "obj.frames.npz")


def test_large_latents_keep_fewer_points_within_the_bound():
    x = torch.rand(3000, 1, 8, 8)
    rec = Recorder(x, np.zeros(3000, int), 300)
    seed_everything(0)
    rec.on_start(AE(AEConfig(latent_dim=64, hidden=(32,))))
    n = len(rec.index)
    assert n < 1000 and 101 * n * (64 + 2) * 2 < MAX_BYTES


@pytest.mark.parametrize("name", ["digits_ae_z2", "digits_vae_z2"])
def test_shipped_recordings_match_the_shipped_weights(name):
    path = checkpoints.SHIPPED_DIR / f"{name}.safetensors"
    r = load_recording(recording_path(path))
    assert recording_path(path).stat().st_size <= MAX_BYTES  # measured 0.3 MB
    model, info = checkpoints.load(path)
    assert r.best_epoch == info.meta["best_epoch"] and r.epochs[-1] == info.meta["epochs"]
    test = load_dataset("digits", "test")
    with torch.no_grad():
        final = model.embed(test.x[r.index]).numpy()
    best = list(r.epochs).index(r.best_epoch)  # the kept epoch always has a frame
    assert np.abs(r.codes[best].astype(np.float32) - final).max() < 2e-2  # float16
    spread = [np.abs(r.xy[i].astype(np.float32)).max() for i in (0, -1)]
    assert spread[1] > 3 * spread[0]  # the untrained encoder's blob grows into the map


def test_the_kept_epoch_always_has_a_frame(splits):
    # scheduled for 300 epochs (0, 3, 6, ...) but trained for 4: epochs 1, 2 and 4 are off
    # the schedule, yet the weights fit keeps (its best epoch) get a frame of their own
    rec = Recorder(splits.test.x, splits.test.y.numpy(), 300)
    model, hist = _run(splits, AE, AEConfig(latent_dim=2, hidden=(32,)), rec)
    r = rec.finish(model, hist.best_epoch)
    assert list(r.epochs) == sorted({0, 3, hist.best_epoch})
    with torch.no_grad():
        final = model.embed(splits.test.x).numpy()
    i = list(r.epochs).index(hist.best_epoch)
    assert np.abs(r.codes[i] - final).max() < 1e-2  # float16
    assert r.test_total[i] == pytest.approx(hist.epochs[hist.best_epoch - 1].test_total)
