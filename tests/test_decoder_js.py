"""The in-browser decoder (ui/web/decoder.js) equals PyTorch's ``model.decode`` for every
shipped model: max |pixel difference| <= 1e-4 on 100 random codes, run in Chromium."""
from __future__ import annotations

import base64

import numpy as np
import pytest
import torch

from aecore import checkpoints
from aecore.models import AEConfig, ConvVAEConfig, build_model
from aecore.models.blocks import ACTIVATIONS
from aecore.export import decoder_program, run_program
from ui import blob
from ui.latentmap import decoder_blob_bytes

WEB = checkpoints.SHIPPED_DIR.parent / "ui" / "web"
SHIPPED = sorted(checkpoints.SHIPPED_DIR.glob("*.safetensors"))


def _variant(kind, act, norm, seed=0):
    """A small model with ``act`` and ``norm`` whose norm layers hold random (non-trivial)
    running statistics and affine parameters, so BatchNorm folding is really exercised."""
    torch.manual_seed(seed)
    if kind == "conv":
        cfg = ConvVAEConfig(input_shape=(1, 8, 8), latent_dim=3, hidden=(12,), channels=(4, 6),
                            activation=act, norm=norm)
    else:
        cfg = AEConfig(latent_dim=3, hidden=(16, 12), activation=act, norm=norm)
    model = build_model(cfg)
    with torch.no_grad():
        for m in model.decoder.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.LayerNorm)):
                m.weight.uniform_(0.5, 2.0)
                m.bias.normal_(0, 0.5)
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.running_mean.normal_(0, 0.5)
                m.running_var.uniform_(0.2, 3.0)
    return model.eval()


# every activation without a norm, every norm with two activations, conv with BatchNorm2d
VARIANTS = ([("mlp", a, "none") for a in ACTIVATIONS]
            + [("mlp", a, n) for n in ("batchnorm", "layernorm") for a in ("gelu", "sigmoid")]
            + [("conv", "leaky_relu", "batchnorm"), ("conv", "gelu", "none")])


def _codes(model, n=100, seed=0):
    # spread wider than the prior so codes also land where no training code sits
    g = np.random.default_rng(seed)
    return (g.normal(size=(n, model.config.latent_dim)) * 2.5).astype(np.float32)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_numpy_reference_matches_torch(path):
    model, _ = checkpoints.load(path)
    z = _codes(model)
    with torch.no_grad():
        ref = model.decode(torch.from_numpy(z)).numpy()
    assert np.abs(run_program(decoder_program(model), z) - ref).max() <= 1e-5  # measured <1.2e-6


@pytest.mark.parametrize("variant", VARIANTS, ids="-".join)
def test_numpy_reference_matches_torch_for_every_activation_and_norm(variant):
    model = _variant(*variant)
    z = _codes(model)
    with torch.no_grad():
        ref = model.decode(torch.from_numpy(z)).numpy()
    prog = decoder_program(model)
    ops = {op["op"] for op in prog.ops}
    assert "batchnorm" not in ops  # folded into the layer before it
    assert (variant[1] in ops) or variant[1] == "sigmoid"
    assert np.abs(run_program(prog, z) - ref).max() <= 1e-5  # measured <= 1.3e-7


def test_blob_roundtrip():
    a = np.arange(7, dtype=np.float32)
    b = np.array([3, 1], np.uint8)
    head, arrays = blob.unpack(blob.pack({"id": "x"}, {"a": a, "b": b}))
    assert head["id"] == "x"
    np.testing.assert_array_equal(arrays["a"], a)
    np.testing.assert_array_equal(arrays["b"], b)
    with pytest.raises(ValueError):
        blob.pack({}, {"c": np.zeros(2, np.float64)})


def _js_worst(page, model, model_id) -> float:
    """max |JS decode - torch decode| over 100 codes, for one model."""
    z = _codes(model)
    with torch.no_grad():
        ref = model.decode(torch.from_numpy(z)).numpy().reshape(len(z), -1)
    got = page.evaluate(
        """([b64, codes]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const dec = llMakeDecoder(llParseBlob(bytes));
            return codes.map(z => Array.from(dec.decode(z)));
        }""", [base64.b64encode(decoder_blob_bytes(model, model_id)).decode(), z.tolist()])
    return float(np.abs(np.asarray(got) - ref).max())


@pytest.mark.e2e
def test_browser_decoder_matches_torch(browser):
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=(WEB / "decoder.js").read_text())
    worst = {}
    for path in SHIPPED:
        model, info = checkpoints.load(path)
        worst[path.stem] = _js_worst(page, model, info.id)
    for variant in VARIANTS:  # the ops of the activation and norm config fields
        model = _variant(*variant)
        worst["-".join(variant)] = _js_worst(page, model, "v")
    page.close()
    assert len(worst) == len(SHIPPED) + len(VARIANTS) and len(SHIPPED) >= 10
    assert max(worst.values()) <= 1e-4, worst  # measured <= 1.2e-6 (float64 sums in JS)


@pytest.mark.e2e
def test_browser_encoder_matches_torch_for_mlp_and_conv_encoders(browser):
    from aecore.export import encoder_program

    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=(WEB / "decoder.js").read_text())
    worst = {}
    for name in ("digits_vae_z2", "mnist_convvae_z16"):
        model, _ = checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")
        x = torch.rand(5, *model.config.input_shape, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            ref = model.encoder(x).numpy()
        prog = encoder_program(model)
        raw = blob.pack({"id": "e", "kind": "decoder", "ops": prog.ops,
                          "latent_dim": prog.latent_dim, "output_shape": prog.output_shape},
                         {"weights": prog.weights})
        got = page.evaluate(
            """([b64, xs]) => {
                const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
                const enc = llMakeDecoder(llParseBlob(bytes));
                return xs.map(x => Array.from(enc.decode(x)));
            }""", [base64.b64encode(raw).decode(), x.reshape(5, -1).tolist()])
        worst[name] = float(np.abs(np.asarray(got) - ref).max())
    page.close()
    assert max(worst.values()) <= 1e-4, worst
