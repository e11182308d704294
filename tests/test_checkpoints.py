import json
import pickle
import struct

import numpy as np
import pytest
import torch

from aecore import checkpoints
from aecore.errors import CheckpointError
from aecore.latent import decode, encode
from aecore.models import AEConfig, VAEConfig, build_model

SHIPPED = ["digits_ae_z2", "digits_vae_z2", "digits_ae_z16", "digits_vae_z16"]


def _model(cfg=None):
    torch.manual_seed(0)
    return build_model(cfg or VAEConfig(hidden=(32,)))


def test_round_trip_restores_identical_weights_and_outputs(tmp_path, digits):
    model = _model().eval()
    path = checkpoints.save(model, tmp_path / "m", meta={"dataset": "digits", "epochs": 3})
    assert path.name == "m.safetensors"
    loaded, info = checkpoints.load(path)
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    x = digits[1].x[:10]
    assert torch.equal(model.reconstruct(x), loaded.reconstruct(x))
    assert info.meta["epochs"] == 3 and info.dataset == "digits"
    assert info.model_config == model.config
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]  # no temp file left


def test_overwrite_false_refuses_existing(tmp_path):
    path = checkpoints.save(_model(), tmp_path / "m.safetensors")
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match="exists"):
        checkpoints.save(_model(AEConfig()), path, overwrite=False)
    assert path.read_bytes() == before


def _refused(path, match):
    with pytest.raises(CheckpointError, match=match) as err:
        checkpoints.load(path)
    assert str(path) in str(err.value)


def test_truncated_empty_and_random_files_are_refused(tmp_path):
    good = checkpoints.save(_model(), tmp_path / "good")
    blob = good.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(blob[: len(blob) // 2])
    _refused(tmp_path / "trunc.safetensors", "corrupt|truncated")
    (tmp_path / "head.safetensors").write_bytes(blob[:100])
    _refused(tmp_path / "head.safetensors", "truncated")
    (tmp_path / "empty.safetensors").write_bytes(b"")
    _refused(tmp_path / "empty.safetensors", "truncated")
    (tmp_path / "rand.safetensors").write_bytes(np.random.default_rng(0).bytes(5000))
    _refused(tmp_path / "rand.safetensors", "truncated|not a Latent Lab")
    _refused(tmp_path / "missing.safetensors", "no such")


def test_foreign_safetensors_file_is_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(3)}, str(tmp_path / "foreign.safetensors"))
    _refused(tmp_path / "foreign.safetensors", "not a Latent Lab")


def _rewrite_header(src, dst, edit):
    blob = src.read_bytes()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    meta = json.loads(header["__metadata__"]["latentlab"])
    edit(meta)
    header["__metadata__"]["latentlab"] = json.dumps(meta)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    dst.write_bytes(struct.pack("<Q", len(h)) + h + blob[8 + n:])


def test_other_architecture_or_input_size_is_refused(tmp_path):
    good = checkpoints.save(_model(), tmp_path / "good")
    _rewrite_header(good, tmp_path / "arch.safetensors",
                    lambda m: m["model_config"].update(hidden=[64]))
    _refused(tmp_path / "arch.safetensors", "do not match")
    _rewrite_header(good, tmp_path / "size.safetensors",
                    lambda m: m["model_config"].update(input_shape=[1, 28, 28]))
    _refused(tmp_path / "size.safetensors", "do not match")
    _rewrite_header(good, tmp_path / "kind.safetensors",
                    lambda m: m["model_config"].update(model="ae"))
    _refused(tmp_path / "kind.safetensors", "do not match|invalid model config")
    _rewrite_header(good, tmp_path / "bad.safetensors",
                    lambda m: m["model_config"].update(latent_dim=999))
    _refused(tmp_path / "bad.safetensors", "invalid model config")
    _rewrite_header(good, tmp_path / "ver.safetensors", lambda m: m.update(format_version=99))
    _refused(tmp_path / "ver.safetensors", "version")


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused(tmp_path, value):
    model = _model()
    with pytest.raises(CheckpointError, match="NaN or inf"):
        with torch.no_grad():
            model.decoder[0].weight[0, 0] = value
        checkpoints.save(model, tmp_path / "x")
    # a file written by someone else with NaN weights is refused on load
    from safetensors.torch import save

    good = checkpoints.save(_model(), tmp_path / "good")
    blob = good.read_bytes()
    n = struct.unpack("<Q", blob[:8])[0]
    meta = json.loads(blob[8:8 + n])["__metadata__"]
    sd = {k: v.clone() for k, v in _model().state_dict().items()}
    next(v for v in sd.values() if v.is_floating_point())[0] = value
    (tmp_path / "nan.safetensors").write_bytes(save(sd, metadata=meta))
    _refused(tmp_path / "nan.safetensors", "NaN or infinite")


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("force_unsafe", [False, True])
def test_pickle_that_runs_code_is_refused_and_never_runs(tmp_path, monkeypatch, force_unsafe):
    if force_unsafe:
        monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"w": _Evil(str(marker))}))
    torch_path = tmp_path / "evil_torch.safetensors"
    torch.save({"w": _Evil(str(marker))}, torch_path)
    for p in (path, torch_path):
        before = p.read_bytes()
        _refused(p, "truncated|not a Latent Lab")
        assert p.read_bytes() == before
    assert not marker.exists()


@pytest.mark.parametrize("name", ["", "a/b", "../x", "..", "/abs", "a\\b", "a\nb", "tab\tx",
                                  "x" * 65, ".hidden", "a..b"])
def test_bad_names_are_refused(name):
    with pytest.raises(CheckpointError, match="invalid checkpoint name"):
        checkpoints.validate_name(name)


def test_good_name_is_accepted():
    assert checkpoints.validate_name("my_vae-2.1") == "my_vae-2.1"


def test_listing_skips_bad_files_without_touching_them(tmp_path):
    checkpoints.save(_model(), tmp_path / "ok")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 40)
    infos, problems = checkpoints.list_checkpoints(tmp_path)
    assert [i.name for i in infos] == ["ok"]
    assert len(problems) == 1 and "bad.safetensors" in problems[0]
    assert bad.read_bytes() == b"\x00" * 40


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoints_load_and_reconstruct_well(name, digits):
    model, info = checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")
    assert info.shipped and info.dataset == "digits"
    assert info.meta["metrics"]["test_recon"] < 21.5  # measured 15.5-20.7 nats per image
    x_hat = model.reconstruct(digits[1].x).detach()
    assert x_hat.shape == (360, 1, 8, 8)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_decoders_draw_readable_digits(name, digits):
    """A classifier trained on real digit pixels recognises the reconstructions."""
    from sklearn.linear_model import LogisticRegression

    train, test = digits
    clf = LogisticRegression(max_iter=2000).fit(train.x.flatten(1).numpy(), train.y.numpy())
    model, _ = checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")
    x_hat = decode(model, encode(model, test.x))
    acc = clf.score(x_hat.reshape(len(x_hat), -1), test.y.numpy())
    # measured: 2-D models ~0.75-0.8, 16-D models ~0.95
    floor = 0.65 if name.endswith("z2") else 0.9
    assert acc >= floor, acc
