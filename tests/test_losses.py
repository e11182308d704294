import math

import pytest
import torch

from aecore import losses
from aecore.models import VAE, VAEConfig
from aecore.models.base import ModelOutput
from aecore.noise import add_noise


def test_vae_loss_matches_hand_computation():
    model = VAE(VAEConfig(input_shape=(1, 1, 2), latent_dim=2, hidden=(4,), beta=0.5))
    x = torch.tensor([[[[1.0, 0.0]]], [[[0.25, 0.5]]]])  # 2 images of 2 pixels
    logits = torch.tensor([[[[0.0, 1.0]]], [[[2.0, -1.0]]]])
    mu = torch.tensor([[0.0, 1.0], [2.0, -1.0]])
    logvar = torch.tensor([[0.0, math.log(4.0)], [math.log(0.25), 0.0]])
    out = ModelOutput(x_hat=torch.sigmoid(logits), logits=logits, z=mu, mu=mu, logvar=logvar)
    terms = model.loss(x, out)

    def bce(t, lg):
        p = 1 / (1 + math.exp(-lg))
        return -(t * math.log(p) + (1 - t) * math.log(1 - p))

    recon = [bce(1, 0) + bce(0, 1), bce(0.25, 2) + bce(0.5, -1)]
    # KL(N(mu, s^2) || N(0, 1)) per dim = (s^2 + mu^2 - 1 - log s^2) / 2
    kl = [(1 + 0 - 1 - 0) / 2 + (4 + 1 - 1 - math.log(4)) / 2,
          (0.25 + 4 - 1 - math.log(0.25)) / 2 + (1 + 1 - 1 - 0) / 2]
    assert float(terms.recon) == pytest.approx(sum(recon) / 2, rel=1e-6)
    assert float(terms.kl) == pytest.approx(sum(kl) / 2, rel=1e-6)
    assert float(terms.total) == pytest.approx(sum(recon) / 2 + 0.5 * sum(kl) / 2, rel=1e-6)
    assert terms.beta == 0.5


def test_mse_is_summed_squared_error():
    x = torch.tensor([[[[1.0, 0.0, 0.5]]]])
    logits = torch.zeros_like(x)  # x_hat = 0.5 everywhere
    assert float(losses.reconstruction(x, logits, "mse")) == pytest.approx(0.25 + 0.25 + 0)
    with pytest.raises(ValueError):
        losses.reconstruction(x, logits, "l1")


@pytest.mark.parametrize("schedule,epoch,expected", [
    ("none", 0, 1.0), ("none", 50, 1.0),
    ("linear", 0, 0.1), ("linear", 4, 0.5), ("linear", 9, 1.0), ("linear", 30, 1.0),
    ("cyclical", 0, 0.2), ("cyclical", 4, 1.0), ("cyclical", 9, 1.0), ("cyclical", 10, 0.2),
    ("cyclical", 12, 0.6),
])
def test_kl_weight_schedule(schedule, epoch, expected):
    assert losses.kl_weight(epoch, schedule, warmup_epochs=10, cycle_epochs=10) == \
        pytest.approx(expected)


def test_kl_weight_rejects_bad_input():
    with pytest.raises(ValueError):
        losses.kl_weight(0, "cosine")
    with pytest.raises(ValueError):
        losses.kl_weight(0, "linear", warmup_epochs=0)


@pytest.mark.parametrize("kind", ["gaussian", "salt_pepper", "masking"])
def test_noise_stays_in_range_and_level_zero_is_identity(kind, digits):
    x = digits[1].x[:64]
    g = torch.Generator().manual_seed(0)
    y = add_noise(x, kind, 0.3, g)
    assert y.shape == x.shape and 0 <= float(y.min()) and float(y.max()) <= 1
    assert torch.equal(add_noise(x, kind, 0.0), x)


def test_masking_fraction_matches_level():
    x = torch.ones(200, 1, 8, 8)
    y = add_noise(x, "masking", 0.25, torch.Generator().manual_seed(0))
    assert float((y == 0).float().mean()) == pytest.approx(0.25, abs=0.01)


def test_noise_rejects_bad_input():
    with pytest.raises(ValueError):
        add_noise(torch.zeros(1, 1, 2, 2), "blur", 0.1)
    with pytest.raises(ValueError):
        add_noise(torch.zeros(1, 1, 2, 2), "gaussian", 1.5)
