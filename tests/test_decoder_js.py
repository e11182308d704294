"""The in-browser decoder (ui/web/decoder.js) equals PyTorch's ``model.decode`` for every
shipped model: max |pixel difference| <= 1e-4 on 100 random codes, run in Chromium."""
from __future__ import annotations

import base64

import numpy as np
import pytest
import torch

from aecore import checkpoints
from aecore.export import decoder_program, run_program
from ui import blob
from ui.latentmap import decoder_blob_bytes

WEB = checkpoints.SHIPPED_DIR.parent / "ui" / "web"
SHIPPED = sorted(checkpoints.SHIPPED_DIR.glob("*.safetensors"))


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


def test_blob_roundtrip():
    a = np.arange(7, dtype=np.float32)
    b = np.array([3, 1], np.uint8)
    head, arrays = blob.unpack(blob.pack({"id": "x"}, {"a": a, "b": b}))
    assert head["id"] == "x"
    np.testing.assert_array_equal(arrays["a"], a)
    np.testing.assert_array_equal(arrays["b"], b)
    with pytest.raises(ValueError):
        blob.pack({}, {"c": np.zeros(2, np.float64)})


@pytest.mark.e2e
def test_browser_decoder_matches_torch(browser):
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=(WEB / "decoder.js").read_text())
    worst = {}
    for path in SHIPPED:
        model, info = checkpoints.load(path)
        z = _codes(model)
        with torch.no_grad():
            ref = model.decode(torch.from_numpy(z)).numpy().reshape(len(z), -1)
        got = page.evaluate(
            """([b64, codes]) => {
                const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
                const dec = llMakeDecoder(llParseBlob(bytes));
                return codes.map(z => Array.from(dec.decode(z)));
            }""", [base64.b64encode(decoder_blob_bytes(model, info.id)).decode(), z.tolist()])
        worst[path.stem] = float(np.abs(np.asarray(got) - ref).max())
    page.close()
    assert len(worst) == len(SHIPPED) >= 10
    assert max(worst.values()) <= 1e-4, worst  # measured <= 1.2e-6 (float64 sums in JS)
