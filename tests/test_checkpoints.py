import hashlib
import json
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save
from safetensors.torch import save_file

from aecore import checkpoints
from aecore.errors import CheckpointError
from aecore.latent import decode, encode, reconstruction_errors
from aecore.models import MODELS, AEConfig, VAEConfig, build_model

SHIPPED = ["digits_ae_z2", "digits_vae_z2", "digits_ae_z16", "digits_vae_z16"]


def _model(cfg=None, seed=0):
    torch.manual_seed(seed)
    return build_model(cfg or VAEConfig(hidden=(32,))).eval()


def _refused(path, match, header_only=True):
    """load() (and read_info(), which reads only the header, where ``header_only``) raise
    CheckpointError naming the file, and leave it unchanged."""
    before = path.read_bytes()
    for fn in (checkpoints.load, checkpoints.read_info)[:1 + header_only]:
        with pytest.raises(CheckpointError, match=match) as err:
            fn(path)
        assert str(path) in str(err.value)
    assert path.read_bytes() == before  # refusing a file never changes it


def _small_config(name):
    kw = {"channels": (8, 16)} if name.startswith("conv") else {}
    return MODELS[name][0](input_shape=(1, 8, 8), latent_dim=3, hidden=(16,), **kw)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_round_trip_restores_identical_weights_and_outputs(name, tmp_path, digits_test):
    model = _model(_small_config(name))
    with torch.no_grad():  # a fitted code Gaussian must survive the trip too
        model.fit_code_gaussian(torch.randn(50, 3) * 2 + 1)
    meta = {"dataset": "digits", "epochs": 3, "metrics": {"test_total": 12.5}, "notes": "é ✓"}
    path = checkpoints.save(model, tmp_path / "m", meta=meta)
    assert path == tmp_path / "m.safetensors"
    loaded, info = checkpoints.load(path)
    a, b = model.state_dict(), loaded.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert type(loaded) is type(model) and not loaded.training
    x = digits_test.x[:10]
    with torch.no_grad():
        assert torch.equal(model.reconstruct(x), loaded.reconstruct(x))
        g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
        assert torch.equal(model.sample(4, g1)[1], loaded.sample(4, g2)[1])
    assert info.model_config == model.config
    for k, v in meta.items():
        assert info.meta[k] == v
    assert info.dataset == "digits" and info.name == "m" and not info.shipped
    assert info.meta["format"] == checkpoints.FORMAT
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert info.id.startswith("m-") and info.id[2:] == sha[:12]
    assert checkpoints.read_info(path).id == info.id


def test_atomic_save_leaves_no_temp_files_and_survives_a_failed_write(tmp_path, monkeypatch):
    path = checkpoints.save(_model(), tmp_path / "m")
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoints.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        checkpoints.save(_model(AEConfig(hidden=(8,))), path)
    assert path.read_bytes() == before  # the old file is intact...
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # ...and no temp file


def test_overwrite_false_refuses_existing(tmp_path):
    path = checkpoints.save(_model(), tmp_path / "m.safetensors")
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match="exists") as err:
        checkpoints.save(_model(AEConfig()), path, overwrite=False)
    assert str(path) in str(err.value)
    assert path.read_bytes() == before
    checkpoints.save(_model(AEConfig()), path)  # overwrite=True (the default) replaces it
    assert checkpoints.read_info(path).model_config == AEConfig()


def test_truncated_empty_and_random_files_are_refused(tmp_path):
    good = checkpoints.save(_model(), tmp_path / "good")
    blob = good.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(blob[: len(blob) // 2])
    _refused(tmp_path / "trunc.safetensors", "truncated")
    (tmp_path / "tail.safetensors").write_bytes(blob[:-4])  # only the last weight is cut
    _refused(tmp_path / "tail.safetensors", "truncated")
    (tmp_path / "padded.safetensors").write_bytes(blob + b"\0" * 8)
    _refused(tmp_path / "padded.safetensors", "truncated or corrupt")
    (tmp_path / "head.safetensors").write_bytes(blob[:100])
    _refused(tmp_path / "head.safetensors", "truncated")
    (tmp_path / "tiny.safetensors").write_bytes(blob[:5])
    _refused(tmp_path / "tiny.safetensors", "truncated or empty")
    (tmp_path / "empty.safetensors").write_bytes(b"")
    _refused(tmp_path / "empty.safetensors", "truncated or empty")
    (tmp_path / "rand.safetensors").write_bytes(np.random.default_rng(0).bytes(5000))
    _refused(tmp_path / "rand.safetensors", "truncated|not a Latent Lab")
    # a plausible length prefix followed by garbage instead of JSON
    (tmp_path / "garbage.safetensors").write_bytes(struct.pack("<Q", 16) + b"\xff" * 16)
    _refused(tmp_path / "garbage.safetensors", "not a Latent Lab")
    with pytest.raises(CheckpointError, match="no such") as err:
        checkpoints.load(tmp_path / "missing.safetensors")
    assert "missing.safetensors" in str(err.value)


def test_foreign_safetensors_file_is_refused(tmp_path):
    save_file({"w": torch.zeros(3)}, str(tmp_path / "foreign.safetensors"))
    _refused(tmp_path / "foreign.safetensors", "not a Latent Lab")
    save_file({"w": torch.zeros(3)}, str(tmp_path / "tagged.safetensors"),
              metadata={"latentlab": json.dumps({"format": "something.else"})})
    _refused(tmp_path / "tagged.safetensors", "format tag")


def _as_ae(cfg):
    """Turn a VAE config dict into an AE config dict (same sizes, no beta or free bits)."""
    cfg["model"] = "ae"
    del cfg["beta"]
    cfg.pop("free_bits", None)


def _rewrite_header(src, dst, edit):
    """Copy a checkpoint, editing the JSON metadata in its header (weights untouched)."""
    blob = src.read_bytes()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    meta = json.loads(header["__metadata__"]["latentlab"])
    edit(meta)
    header["__metadata__"]["latentlab"] = json.dumps(meta)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    dst.write_bytes(struct.pack("<Q", len(h)) + h + blob[8 + n:])


@pytest.mark.parametrize("edit,match", [
    (lambda m: m["model_config"].update(hidden=[64]), "do not match"),  # other architecture
    (lambda m: m["model_config"].update(input_shape=[1, 28, 28]), "do not match"),  # input size
    (lambda m: m["model_config"].update(latent_dim=4), "do not match"),
    (lambda m: _as_ae(m["model_config"]), "do not match"),  # no logvar half in an AE
    (lambda m: m["model_config"].update(latent_dim=999), "invalid model config"),
    (lambda m: m["model_config"].update(model="gan"), "invalid model config"),
    (lambda m: m.pop("model_config"), "invalid model config"),
    (lambda m: m.update(format_version=99), "version"),
], ids=["hidden", "input", "latent", "kind", "range", "unknown", "no-config", "version"])
def test_checkpoint_of_another_architecture_is_refused(tmp_path, edit, match):
    good = checkpoints.save(_model(), tmp_path / "good")
    bad = tmp_path / "bad.safetensors"
    _rewrite_header(good, bad, edit)
    with pytest.raises(CheckpointError, match=match) as err:
        checkpoints.load(bad)
    assert str(bad) in str(err.value)
    _rewrite_header(good, tmp_path / "same.safetensors", lambda m: None)  # the edit is the cause
    checkpoints.load(tmp_path / "same.safetensors")


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused(tmp_path, value):
    model = _model()
    with torch.no_grad():
        model.decoder[0].weight[0, 0] = value
    with pytest.raises(CheckpointError, match="NaN or inf"):
        checkpoints.save(model, tmp_path / "x")
    assert not list(tmp_path.iterdir())
    # a file written by someone else, with valid metadata but a NaN weight, is refused on load
    good = checkpoints.save(_model(), tmp_path / "good")
    blob = good.read_bytes()
    n = struct.unpack("<Q", blob[:8])[0]
    meta = json.loads(blob[8:8 + n])["__metadata__"]
    sd = {k: v.clone().contiguous() for k, v in _model().state_dict().items()}
    sd["decoder.0.weight"][0, 0] = value
    (tmp_path / "nan.safetensors").write_bytes(st_save(sd, metadata=meta))
    _refused(tmp_path / "nan.safetensors", "NaN or infinite", header_only=False)


class _Evil:
    """Unpickling this creates the marker folder: proof that a pickle's code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.mark.parametrize("force_unsafe", [False, True], ids=["default", "TORCH_FORCE_NO_WEIGHTS"])
def test_pickle_that_runs_code_is_refused_and_never_runs(tmp_path, monkeypatch, force_unsafe):
    if force_unsafe:  # torch.load would then unpickle anything: we must never call it
        monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = tmp_path / "PWNED"
    evil = tmp_path / "ckpt"
    evil.mkdir()
    (evil / "pickled.safetensors").write_bytes(pickle.dumps({"w": _Evil(str(marker))}))
    torch.save({"w": _Evil(str(marker))}, evil / "torch_saved.safetensors")
    assert not marker.exists()
    for p in sorted(evil.iterdir()):
        _refused(p, "truncated|not a Latent Lab")
    infos, problems = checkpoints.list_checkpoints(evil)
    assert infos == [] and len(problems) == 2
    assert not marker.exists()
    pickle.loads((evil / "pickled.safetensors").read_bytes())  # the exploit is real...
    assert marker.exists()  # ...so its absence above proves nothing was unpickled


@pytest.mark.parametrize("name", ["", "a/b", "../x", "..", "/abs", "/etc/passwd", "a\\b", "a\nb",
                                  "abc\n", "tab\tx", "nul\x00", "del\x7f", "x" * 65, ".hidden",
                                  "a..b", "-dash", "sp ace", "ümlaut"])
def test_bad_names_are_refused(name):
    with pytest.raises(CheckpointError, match="invalid checkpoint name"):
        checkpoints.validate_name(name)


@pytest.mark.parametrize("name", ["my_vae-2.1", "a", "x" * 64, "Digits_AE_z2"])
def test_good_names_are_accepted(name):
    assert checkpoints.validate_name(name) == name


def test_listing_skips_bad_files_and_reports_them_without_touching_them(tmp_path):
    checkpoints.save(_model(), tmp_path / "ok")
    checkpoints.save(_model(AEConfig()), tmp_path / "also_ok")
    bad = {"zeros.safetensors": b"\x00" * 40, "empty.safetensors": b"",
           "text.safetensors": b"hello, I am not a checkpoint"}
    for name, blob in bad.items():
        (tmp_path / name).write_bytes(blob)
    save_file({"w": torch.zeros(3)}, str(tmp_path / "foreign.safetensors"))
    foreign = (tmp_path / "foreign.safetensors").read_bytes()
    (tmp_path / "notes.txt").write_text("not a candidate")
    infos, problems = checkpoints.list_checkpoints(tmp_path)
    assert [i.name for i in infos] == ["also_ok", "ok"]  # sorted, bad files skipped
    assert len(problems) == 4
    for name in [*bad, "foreign.safetensors"]:
        assert sum(name in p for p in problems) == 1, (name, problems)
    for name, blob in bad.items():
        assert (tmp_path / name).read_bytes() == blob
    assert (tmp_path / "foreign.safetensors").read_bytes() == foreign


def test_listing_shipped_then_user_dir():
    from services.paths import user_dir

    # conftest points LATENTLAB_USER_DIR at a temporary folder
    assert user_dir() == Path(os.environ["LATENTLAB_USER_DIR"])
    path = checkpoints.save(_model(), user_dir() / "mine_for_listing")
    try:
        default = {i.name for i in checkpoints.list_checkpoints()[0]}  # the shipped folder
        infos, _ = checkpoints.list_checkpoints(checkpoints.SHIPPED_DIR, user_dir())
    finally:
        path.unlink()
    names = [i.name for i in infos]
    assert set(SHIPPED) <= set(names) and names[-1] == "mine_for_listing"
    assert set(SHIPPED) <= default and "mine_for_listing" not in default
    assert [i.shipped for i in infos if i.name == "mine_for_listing"] == [False]
    assert all(i.shipped for i in infos if i.name in SHIPPED)


# ---- the shipped checkpoints --------------------------------------------------------------

@pytest.fixture(scope="module")
def pixel_classifier(digits):
    """Nearest class mean on raw pixels, fitted to the digits training split (0.90 accuracy on
    the real test images)."""
    import warnings

    from sklearn.neighbors import NearestCentroid

    train, _ = digits
    with warnings.catch_warnings():  # corner pixels are 0 in every image of a class: harmless
        warnings.simplefilter("ignore", UserWarning)
        return NearestCentroid().fit(train.x.flatten(1).numpy(), train.y.numpy())


# Measured mean test reconstruction error (BCE, nats/image, of decode(embed(x))):
# digits_ae_z2 20.2, digits_vae_z2 19.9, digits_ae_z16 15.5, digits_vae_z16 18.6;
# an untrained model scores ~44.
RECON_CEILING = {"z2": 22.5, "z16": 20.5}
# Measured accuracy of the pixel classifier on the reconstructions of the 360 test images:
# ae_z2 0.836, vae_z2 0.883, ae_z16 0.894, vae_z16 0.886 (real images: 0.90).
ACCURACY_FLOOR = {"z2": 0.78, "z16": 0.83}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoints_load_and_reconstruct_well(name, digits):
    model, info = checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")
    assert info.shipped and info.dataset == "digits" and info.name == name
    assert info.model_config.input_shape == (1, 8, 8)
    assert info.model_config.latent_dim == int(name.rsplit("_z", 1)[1])
    errs = reconstruction_errors(model, digits[1].x)
    assert errs.shape == (360,) and np.isfinite(errs).all()
    assert errs.mean() < RECON_CEILING[name.rsplit("_", 1)[1]], errs.mean()


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_decoders_draw_recognisable_digits(name, digits, pixel_classifier):
    """A classifier trained on real digit pixels recognises the reconstructions."""
    _, test = digits
    model, _ = checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")
    x_hat = decode(model, encode(model, test.x))
    assert x_hat.shape == (360, 1, 8, 8) and 0 <= x_hat.min() and x_hat.max() <= 1
    acc = pixel_classifier.score(x_hat.reshape(360, -1), test.y.numpy())
    assert acc >= ACCURACY_FLOOR[name.rsplit("_", 1)[1]], acc
