"""Posterior collapse: KL per dimension, active units (Burda et al. 2016) on constructed cases,
free bits (Kingma et al. 2016) in the VAE loss, and the options' command line."""
import dataclasses
import math

import numpy as np
import pytest
import torch

from aecore import losses
from aecore.__main__ import build_parser
from aecore.collapse import active_units, collapse_report, unit_activity
from aecore.data import Dataset
from aecore.models import VAE, AEConfig, ConvVAEConfig, VAEConfig, config_from_dict
from aecore.models.base import ModelOutput
from aecore.recipes import Recipe, cli_args, recipe_from_args
from aecore.train import TrainConfig


def test_active_units_counts_units_whose_mean_moves_with_the_input():
    rng = np.random.default_rng(0)
    n = 1000
    mu = np.zeros((n, 5))
    mu[:, 0] = rng.normal(0, 1.0, n)  # variance 1: active
    mu[:, 1] = rng.normal(0, 0.2, n)  # variance 0.04: active
    mu[:, 2] = rng.normal(0, 0.05, n)  # variance 0.0025: inactive
    mu[:, 3] = 3.0  # constant far from 0: inactive (it does not depend on x)
    mu[:, 4] = rng.normal(0, 1e-4, n)  # collapsed
    a = unit_activity(mu)
    assert a[0] == pytest.approx(1.0, rel=0.1) and a[1] == pytest.approx(0.04, rel=0.15)
    assert active_units(a) == 2
    assert active_units(a, threshold=0.001) == 3
    assert unit_activity(torch.tensor([[0.0, 1.0], [2.0, 1.0]])).tolist() == [2.0, 0.0]
    for bad in (np.zeros((1, 3)), np.zeros(4), np.array([[np.nan, 0], [0, 0]])):
        with pytest.raises(ValueError):
            unit_activity(bad)


def test_kl_per_dim_sums_to_the_kl_per_image():
    mu = torch.tensor([[0.0, 1.0], [2.0, -1.0]])
    logvar = torch.tensor([[0.0, math.log(4.0)], [math.log(0.25), 0.0]])
    per_dim = losses.gaussian_kl_per_dim(mu, logvar)
    assert per_dim.shape == (2, 2)
    kl = lambda m, v: 0.5 * (v + m ** 2 - 1 - math.log(v))  # noqa: E731  one dimension, nats
    assert per_dim.flatten().tolist() == pytest.approx([0.0, kl(1, 4), kl(2, 0.25), kl(-1, 1)])
    assert per_dim.sum(1).tolist() == pytest.approx(losses.gaussian_kl_per_image(mu, logvar)
                                                    .tolist())


class _Fixed(VAE):
    """A VAE whose encoder returns given (mu, logvar) for each image index: a constructed case."""

    def __init__(self, mu, logvar):
        super().__init__(VAEConfig(latent_dim=mu.shape[1], hidden=(4,)))
        self._mu, self._logvar = mu, logvar

    def encode(self, x):
        idx = x.flatten(1)[:, 0].round().long()  # pixel 0 holds the image's index
        return self._mu[idx], self._logvar[idx]


def test_collapse_report_on_a_constructed_posterior():
    n = 200
    g = torch.Generator().manual_seed(0)
    mu = torch.zeros(n, 3)
    mu[:, 0] = torch.randn(n, generator=g)  # an informative unit
    logvar = torch.zeros(n, 3)
    logvar[:, 0] = math.log(0.1)
    logvar[:, 2] = math.log(0.5)  # inactive (mean 0 always) but its variance is off the prior
    x = torch.zeros(n, 1, 8, 8)
    x[:, 0, 0, 0] = torch.arange(n, dtype=torch.float32)
    rep = collapse_report(_Fixed(mu, logvar), Dataset(x, torch.zeros(n, dtype=torch.long), ["0"],
                                                      "made", "test"))
    assert rep.active == 1 and rep.is_active.tolist() == [True, False, False]
    assert rep.kl[1] == 0.0  # exactly the prior: collapsed
    assert rep.kl[2] == pytest.approx(0.5 * (0.5 - 1 - math.log(0.5)))
    want0 = float((0.5 * (0.1 + mu[:, 0] ** 2 - 1 - math.log(0.1))).mean())
    assert rep.kl[0] == pytest.approx(want0, rel=1e-5)
    assert rep.total_kl == pytest.approx(float(rep.kl.sum()))


def test_free_bits_charges_at_least_lambda_per_dimension():
    mu = torch.tensor([[0.0, 2.0, 0.1], [0.0, -2.0, -0.1]])
    logvar = torch.zeros(2, 3)
    per_dim = losses.gaussian_kl_per_dim(mu, logvar).mean(0)  # [0, 2, 0.005] nats
    assert per_dim.tolist() == pytest.approx([0.0, 2.0, 0.005])
    assert float(losses.free_bits_kl(mu, logvar, 0.0)) == pytest.approx(2.005)
    assert float(losses.free_bits_kl(mu, logvar, 0.5)) == pytest.approx(0.5 + 2.0 + 0.5)
    with pytest.raises(ValueError):
        losses.free_bits_kl(mu, logvar, -1.0)
    # no gradient pushes a dimension below lambda: only the 2-nat dimension gets one
    m = mu.clone().requires_grad_(True)
    losses.free_bits_kl(m, logvar, 0.5).backward()
    assert m.grad[:, 0].abs().sum() == 0 and m.grad[:, 2].abs().sum() == 0
    assert m.grad[:, 1].abs().sum() > 0


def test_vae_loss_with_free_bits_reports_the_true_kl():
    model = VAE(VAEConfig(latent_dim=3, hidden=(4,), beta=2.0, free_bits=0.5))
    mu = torch.tensor([[0.0, 2.0, 0.1], [0.0, -2.0, -0.1]])
    logits = torch.zeros(2, 1, 8, 8)
    out = ModelOutput(torch.sigmoid(logits), logits, mu, mu, torch.zeros(2, 3))
    t = model.loss(torch.full((2, 1, 8, 8), 0.5), out)
    assert float(t.kl) == pytest.approx(2.005)  # the KL itself
    assert float(t.total) == pytest.approx(float(t.recon) + 2.0 * 3.0)  # beta * (0.5 + 2 + 0.5)


def test_sparsity_adds_an_l1_penalty_on_the_code():
    from aecore.models import AE
    z = torch.tensor([[1.0, -2.0], [0.0, 0.5]])
    assert float(losses.l1_code(z)) == pytest.approx((3.0 + 0.5) / 2)
    logits = torch.zeros(2, 1, 8, 8)
    out = ModelOutput(torch.sigmoid(logits), logits, z)
    x = torch.full((2, 1, 8, 8), 0.5)
    plain = AE(AEConfig(latent_dim=2, hidden=(4,))).loss(x, out)
    sparse = AE(AEConfig(latent_dim=2, hidden=(4,), sparsity=0.1)).loss(x, out)
    assert float(sparse.recon) == pytest.approx(float(plain.recon))
    assert float(sparse.total) == pytest.approx(float(plain.total) + 0.1 * 1.75)


@pytest.mark.parametrize("cfg,field,value", [
    (AEConfig, "sparsity", -0.1), (AEConfig, "sparsity", 11.0), (AEConfig, "sparsity", math.nan),
    (VAEConfig, "free_bits", -0.5), (VAEConfig, "free_bits", 11.0),
    (VAEConfig, "free_bits", math.nan), (ConvVAEConfig, "free_bits", -1.0),
])
def test_new_options_are_validated(cfg, field, value):
    with pytest.raises(ValueError, match=field):
        cfg(**{field: value})


def test_new_options_round_trip_through_dict_and_cli():
    for recipe in (Recipe(AEConfig(latent_dim=128, sparsity=0.05), TrainConfig(epochs=2)),
                   Recipe(VAEConfig(latent_dim=16, beta=4.0, free_bits=0.25),
                          TrainConfig(epochs=2, kl_anneal="cyclical", cycle_epochs=4))):
        m = recipe.model
        assert config_from_dict(m.to_dict()) == m
        args = cli_args(recipe, out="x.safetensors")
        parsed = recipe_from_args(build_parser().parse_args(args[3:]), m.input_shape)
        assert parsed == dataclasses.replace(recipe, train=dataclasses.replace(
            recipe.train, report_every=1))
    # an old checkpoint's config (no such field) loads with the defaults
    old = {k: v for k, v in VAEConfig(latent_dim=4).to_dict().items() if k != "free_bits"}
    assert config_from_dict(old).free_bits == 0.0
