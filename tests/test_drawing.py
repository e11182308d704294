"""A drawing as the model's input (aecore.drawing), the exported encoder, the posterior ellipse
and the anomaly score on the shipped digits models."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from aecore import checkpoints, drawing, latent
from aecore.data import load_dataset
from aecore.errors import DataError
from aecore.export import encoder_program, run_program
from aecore.models import VAE, VAEConfig

SHIPPED = checkpoints.SHIPPED_DIR
ZERO = [[(0.5 + 0.25 * math.cos(t), 0.5 + 0.4 * math.sin(t))
         for t in np.linspace(0, 2 * math.pi, 40)]]
LETTERS = {"A": [[(0.2, 0.9), (0.5, 0.1), (0.8, 0.9)], [(0.32, 0.6), (0.68, 0.6)]],
           "H": [[(0.2, 0.1), (0.2, 0.9)], [(0.8, 0.1), (0.8, 0.9)], [(0.2, 0.5), (0.8, 0.5)]],
           "W": [[(0.1, 0.1), (0.3, 0.9), (0.5, 0.4), (0.7, 0.9), (0.9, 0.1)]]}


def _load(name):
    return checkpoints.load(SHIPPED / f"{name}.safetensors")[0]


def _x(strokes, shape=(8, 8)):
    ink = drawing.render_strokes(strokes, shape=shape)
    return torch.from_numpy(drawing.normalise(ink, shape))[None]


def test_normalise_fills_the_digit_box_and_ignores_position_and_size():
    x = drawing.normalise(drawing.render_strokes(ZERO), (8, 8))
    assert x.shape == (1, 8, 8) and x.dtype == np.float32 and x.max() == 1.0 and x.min() >= 0
    assert x[0, 0].max() > 0.3 and x[0, -1].max() > 0.3  # the 0 spans the 8 rows
    small = [[(0.3 + 0.5 * (p[0] - 0.5), 0.6 + 0.5 * (p[1] - 0.5)) for p in ZERO[0]]]
    y = drawing.normalise(drawing.render_strokes(small, width=0.1), (8, 8))
    assert np.abs(x - y).max() < 0.2  # half the size, elsewhere, same pen: the same 8x8 image
    mn = drawing.normalise(drawing.render_strokes(ZERO, shape=(28, 28)), (28, 28))
    rows = np.nonzero(mn[0].max(1) > 0)[0]
    assert rows.min() >= 3 and rows.max() <= 24  # MNIST: inside the central 20-pixel box
    assert not drawing.normalise(np.zeros((112, 112)), (8, 8)).any()  # empty pad: no ink


@pytest.mark.parametrize("bad", [np.zeros((5, 5)), np.zeros((20, 30)), np.zeros((600, 600)),
                                 np.full((20, 20), np.nan), np.full((20, 20), 2.0),
                                 np.zeros((2, 20, 20)), [["a"] * 20] * 20, "ink"])
def test_normalise_refuses_what_a_browser_cannot_have_drawn(bad):
    with pytest.raises(DataError):
        drawing.normalise(bad, (8, 8))


@pytest.mark.parametrize("name", ["digits_ae_z2", "digits_vae_z2", "digits_dae_z16",
                                  "mnist_convvae_z16"])
def test_encoder_program_equals_torch(name):
    model = _load(name)
    x = torch.rand(20, *model.config.input_shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = model.encoder(x).numpy()
    prog = encoder_program(model)
    got = run_program(prog, x.reshape(20, -1).numpy()).reshape(20, -1)
    assert np.abs(got - ref).max() <= 1e-5  # measured 6e-7 (MLP), 9e-7 (conv)
    if name.startswith("mnist_conv"):  # the convolutions run as conv2d ops, then flatten
        assert [o["op"] for o in prog.ops][:6] == ["unflatten", "conv2d", "relu", "conv2d",
                                                   "relu", "flatten"]


def test_a_conv_encoder_with_batchnorm_is_folded_and_exported():
    from aecore.models.conv import ConvVAE, ConvVAEConfig

    torch.manual_seed(0)
    conv = ConvVAE(ConvVAEConfig(latent_dim=2, input_shape=(1, 28, 28), norm="batchnorm",
                                 channels=(8, 16), hidden=(32,))).eval()
    for m in conv.encoder:  # non-trivial running statistics, so folding matters
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        ref = conv.encoder(x).numpy()
    got = run_program(encoder_program(conv), x.reshape(4, -1).numpy()).reshape(4, -1)
    assert np.abs(got - ref).max() <= 1e-4


def test_a_constructed_encoder_with_a_known_code_gives_its_ellipse():
    # the encoder's last layer outputs its bias whatever the input: mu = (1, -2),
    # logvar = log(0.3^2), log(0.1^2)
    vae = VAE(VAEConfig(latent_dim=2, hidden=(8,)))
    last = vae.encoder[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([1.0, -2.0, 2 * math.log(0.3), 2 * math.log(0.1)]))
    mu, logvar = vae.encode(_x(ZERO))
    e = drawing.posterior_ellipse(mu[0].detach().numpy(), logvar[0].detach().numpy())
    assert e.center == pytest.approx((1.0, -2.0), abs=1e-6)
    assert e.half_axes == pytest.approx((0.3, 0.1), rel=1e-5)
    assert math.cos(e.angle) ** 2 == pytest.approx(1.0, abs=1e-9)  # along z1
    # a plane that swaps and doubles the axes (u = 2 e2, v = e1: position = (z2 / 2, z1))
    plane = np.array([[0.0, 0.0], [0.0, 2.0], [1.0, 0.0]])
    f = drawing.posterior_ellipse(mu[0].detach().numpy(), logvar[0].detach().numpy(), plane)
    assert f.center == pytest.approx((-1.0, 1.0), abs=1e-6)
    assert f.half_axes == pytest.approx((0.3, 0.05), rel=1e-5)
    assert math.sin(f.angle) ** 2 == pytest.approx(1.0, abs=1e-9)  # z1 now runs along y


def test_projected_ellipse_matches_projected_samples():
    g = np.random.default_rng(0)
    mu, logvar = g.normal(size=16), g.normal(size=16) - 1
    q, _ = np.linalg.qr(g.normal(size=(16, 2)))
    plane = np.vstack([g.normal(size=16), q.T])
    e = drawing.posterior_ellipse(mu, logvar, plane)
    z = mu + np.exp(logvar / 2) * g.normal(size=(200_000, 16))
    p = (z - plane[0]) @ q
    evals = np.sort(np.linalg.eigvalsh(np.cov(p.T)))[::-1]
    assert np.sqrt(evals) == pytest.approx(e.half_axes, rel=0.01)
    assert p.mean(0) == pytest.approx(e.center, abs=0.01)


def test_ellipse_axes_are_two_sigma_on_the_shipped_2d_vae():
    model = _load("digits_vae_z2")
    with torch.no_grad():
        mu, logvar = model.encode(_x(ZERO))
    sigma = np.exp(logvar[0].numpy() / 2)
    e = drawing.posterior_ellipse(mu[0].numpy(), logvar[0].numpy())
    assert sorted(2 * np.array(e.half_axes)) == pytest.approx(sorted(2 * sigma), rel=1e-6)
    assert e.center == pytest.approx(tuple(mu[0].numpy()), abs=1e-6)
    along = abs(math.cos(e.angle)) > 0.5  # the long axis lies along z1 iff sigma1 > sigma2
    assert along == (sigma[0] >= sigma[1])


def test_a_letter_scores_above_the_95th_percentile_and_a_zero_does_not():
    model = _load("digits_ae_z2")
    errors = latent.reconstruction_errors(model, load_dataset("digits", "test").x)
    p95 = float(np.percentile(errors, 95))  # measured 29.4 nats
    zero = float(latent.reconstruction_errors(model, _x(ZERO))[0])
    assert zero < p95  # measured 20.9 nats, rank 64 %
    for name, strokes in LETTERS.items():
        err = float(latent.reconstruction_errors(model, _x(strokes))[0])
        assert err > p95, name  # measured A 47.3, H 123.4, W 148.1 nats
        assert drawing.percentile_rank(errors, err) > 95


def test_percentile_rank():
    assert drawing.percentile_rank([1, 2, 3, 4], 3) == 50.0
    assert drawing.percentile_rank([1, 2, 3, 4], 9) == 100.0
    with pytest.raises(ValueError):
        drawing.percentile_rank([], 1.0)
