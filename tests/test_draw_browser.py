"""Draw your own in a real browser: a stroke on the pad puts the posterior ellipse on the map,
and the browser's steps (normalise, encoder, ellipse, error) agree with aecore's."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from aecore import checkpoints, drawing, latent
from tests.e2e import open_page, shot

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PAD = "window.__latentlab.pads.get('draw')"
RED = """(p) => { const c = p.map.over;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let q = 0; q < d.length; q += 4) if (d[q] > 180 && d[q + 1] < 90 && d[q + 3] > 0) n++;
  return n; }"""


def _pad(pg, js, arg=None):
    return pg.evaluate(f"(a) => ({js})({PAD}, a)", arg)


def _stroke(pg, pts):
    box = pg.locator("canvas.ld-pad").first.bounding_box()
    xy = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in pts]
    pg.mouse.move(*xy[0])
    pg.mouse.down()
    for p in xy[1:]:
        pg.mouse.move(*p, steps=4)
    pg.mouse.up()


def test_a_stroke_puts_the_posterior_ellipse_on_the_map(server, page):
    open_page(page, server, "Draw_your_own?model=digits_vae_z2")
    page.wait_for_function(f"() => window.__latentlab && window.__latentlab.pads && {PAD} "
                           f"&& {PAD}.map.meta && {PAD}.encoder", timeout=90_000)
    page.locator("canvas.ld-pad").first.scroll_into_view_if_needed()
    assert _pad(page, RED) == 0  # no drawing yet: nothing red on the map
    _stroke(page, [(0.5 + 0.25 * math.cos(t), 0.5 + 0.4 * math.sin(t))
                   for t in np.linspace(0, 2 * math.pi, 24)])
    page.wait_for_function(f"() => {PAD}.result && {PAD}.result.ellipse", timeout=10_000)
    assert _pad(page, RED) > 100  # the ellipse's outline and the star at mu
    r = _pad(page, "(p) => p.result")
    ink = np.array(_pad(page, "(p) => Array.from(p.ink())")).reshape(drawing.PAD, drawing.PAD)
    x = drawing.normalise(ink, (8, 8))
    assert np.abs(x.ravel() - np.array(r["x"])).max() < 1e-6  # the browser's normalise = aecore's
    model, _ = checkpoints.load(checkpoints.SHIPPED_DIR / "digits_vae_z2.safetensors")
    xt = torch.tensor(r["xin"], dtype=torch.float32).reshape(1, 1, 8, 8)
    with torch.no_grad():
        mu, logvar = model.encode(xt)
    e = drawing.posterior_ellipse(mu[0].numpy(), logvar[0].numpy())
    assert r["ellipse"]["center"] == pytest.approx(e.center, abs=1e-4)
    assert r["ellipse"]["half"] == pytest.approx(e.half_axes, rel=1e-4)
    assert r["error"] == pytest.approx(float(latent.reconstruction_errors(model, xt)[0]), abs=0.05)
    assert len(r["samples"]) == 5 and page.locator("canvas.ld-small").count() == 5
    text = _pad(page, "(p) => p.errText.textContent")
    assert f"{r['error']:.1f} nats" in text
    shot(page, "draw_your_own")
    page.get_by_role("button", name="Clear").click()
    assert _pad(page, RED) == 0 and _pad(page, "(p) => p.result") is None


def test_a_stroke_on_a_conv_vae_is_encoded_in_the_browser_as_torch_does(server, page):
    # the MNIST conv VAE's encoder runs in the page as conv2d ops (aecore.export.encoder_program)
    open_page(page, server, "Draw_your_own?dataset=mnist&model=mnist_convvae_z16")
    page.wait_for_function(f"() => window.__latentlab && window.__latentlab.pads && {PAD} "
                           f"&& {PAD}.map.meta && {PAD}.encoder", timeout=120_000)
    page.locator("canvas.ld-pad").first.scroll_into_view_if_needed()
    _stroke(page, [(0.5, 0.15), (0.5, 0.5), (0.5, 0.85)])  # a "1"
    page.wait_for_function(f"() => {PAD}.result && {PAD}.result.ellipse", timeout=20_000)
    r = _pad(page, "(p) => p.result")
    model, _ = checkpoints.load(checkpoints.SHIPPED_DIR / "mnist_convvae_z16.safetensors")
    xt = torch.tensor(r["xin"], dtype=torch.float32).reshape(1, 1, 28, 28)
    with torch.no_grad():
        mu, _ = model.encode(xt)
    assert len(r["mu"]) == 16
    assert np.abs(np.array(r["mu"]) - mu[0].numpy()).max() < 1e-4
    assert _pad(page, RED) > 50  # the projected posterior and its centre drawn on the map
