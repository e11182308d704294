import math

import pytest
import torch

from aecore import losses
from aecore.models import AE, VAE, AEConfig, VAEConfig
from aecore.models.base import ModelOutput

# A 2-image example with 2 pixels per image and a 2-D latent, small enough to do by hand.
X = torch.tensor([[[[1.0, 0.0]]], [[[0.25, 0.5]]]])  # (N=2, C=1, H=1, W=2)
LOGITS = torch.tensor([[[[0.0, 1.0]]], [[[2.0, -1.0]]]])
MU = torch.tensor([[0.0, 1.0], [2.0, -1.0]])
LOGVAR = torch.tensor([[0.0, math.log(4.0)], [math.log(0.25), 0.0]])


def _bce(t, logit):
    """-[t log p + (1 - t) log(1 - p)] with p = sigmoid(logit), in nats."""
    p = 1 / (1 + math.exp(-logit))
    return -(t * math.log(p) + (1 - t) * math.log(1 - p))


def _kl(mu, var):
    """KL(N(mu, var) || N(0, 1)) of one latent dimension, in nats."""
    return 0.5 * (var + mu ** 2 - 1 - math.log(var))


# per image: sum over its pixels / latent dims
RECON = [_bce(1, 0) + _bce(0, 1), _bce(0.25, 2) + _bce(0.5, -1)]
KL = [_kl(0, 1) + _kl(1, 4), _kl(2, 0.25) + _kl(-1, 1)]


def test_vae_loss_matches_hand_computation():
    model = VAE(VAEConfig(input_shape=(1, 1, 2), latent_dim=2, hidden=(4,), beta=0.5))
    out = ModelOutput(x_hat=torch.sigmoid(LOGITS), logits=LOGITS, z=MU, mu=MU, logvar=LOGVAR)
    terms = model.loss(X, out)
    # batch mean of per-image sums (nats per image)
    assert float(terms.recon) == pytest.approx(sum(RECON) / 2, rel=1e-6)
    assert float(terms.kl) == pytest.approx(sum(KL) / 2, rel=1e-6)
    assert float(terms.total) == pytest.approx(sum(RECON) / 2 + 0.5 * sum(KL) / 2, rel=1e-6)
    assert terms.beta == 0.5
    # an explicit beta overrides the config's
    terms2 = model.loss(X, out, beta=2.0)
    assert float(terms2.total) == pytest.approx(sum(RECON) / 2 + 2.0 * sum(KL) / 2, rel=1e-6)
    assert terms.item() == pytest.approx({"total": float(terms.total), "recon": sum(RECON) / 2,
                                          "kl": sum(KL) / 2}, rel=1e-6)


def test_per_image_terms_match_hand_computation():
    assert losses.reconstruction_per_image(X, LOGITS, "bce").tolist() == \
        pytest.approx(RECON, rel=1e-6)
    assert losses.gaussian_kl_per_image(MU, LOGVAR).tolist() == pytest.approx(KL, rel=1e-6)


def test_kl_is_zero_only_at_the_prior():
    zero = torch.zeros(3, 4)
    assert losses.gaussian_kl_per_image(zero, zero).tolist() == [0.0, 0.0, 0.0]
    assert float(losses.gaussian_kl(zero + 0.1, zero)) > 0
    assert float(losses.gaussian_kl(zero, zero + 0.1)) > 0


def test_bce_from_logits_is_stable_at_saturation():
    x = torch.tensor([[[[1.0, 0.0]]]])
    logits = torch.tensor([[[[100.0, -100.0]]]])  # sigmoid rounds to exactly 1 and 0
    r = losses.reconstruction(x, logits, "bce")
    assert math.isfinite(float(r)) and float(r) < 1e-6
    wrong = losses.reconstruction(1 - x, logits, "bce")  # confidently wrong: ~100 nats/pixel
    assert float(wrong) == pytest.approx(200.0, rel=1e-3)


def test_mse_is_summed_squared_error():
    x = torch.tensor([[[[1.0, 0.0, 0.5]]]])
    logits = torch.zeros_like(x)  # x_hat = 0.5 everywhere
    assert float(losses.reconstruction(x, logits, "mse")) == pytest.approx(0.25 + 0.25 + 0)
    with pytest.raises(ValueError, match="recon_loss"):
        losses.reconstruction(x, logits, "l1")


def test_mse_path_through_a_model():
    model = AE(AEConfig(input_shape=(1, 1, 2), latent_dim=2, hidden=(4,), recon_loss="mse"))
    out = ModelOutput(x_hat=torch.sigmoid(LOGITS), logits=LOGITS, z=MU)
    terms = model.loss(X, out)
    sq = [(torch.sigmoid(LOGITS[i]) - X[i]).pow(2).sum().item() for i in range(2)]
    assert float(terms.recon) == pytest.approx(sum(sq) / 2, rel=1e-6)
    assert float(terms.total) == float(terms.recon) and float(terms.kl) == 0.0
    vae = VAE(VAEConfig(input_shape=(1, 1, 2), latent_dim=2, hidden=(4,), recon_loss="mse"))
    vout = ModelOutput(x_hat=torch.sigmoid(LOGITS), logits=LOGITS, z=MU, mu=MU, logvar=LOGVAR)
    assert float(vae.loss(X, vout).total) == pytest.approx(sum(sq) / 2 + sum(KL) / 2, rel=1e-6)


@pytest.mark.parametrize("schedule,epoch,expected", [
    ("none", 0, 1.0), ("none", 50, 1.0),
    # linear warm-up over 10 epochs: (epoch + 1) / 10, then 1
    ("linear", 0, 0.1), ("linear", 4, 0.5), ("linear", 9, 1.0), ("linear", 30, 1.0),
    # cyclical, 10-epoch cycles: rise over the first 5 epochs, hold for 5, restart
    ("cyclical", 0, 0.2), ("cyclical", 4, 1.0), ("cyclical", 9, 1.0), ("cyclical", 10, 0.2),
    ("cyclical", 12, 0.6), ("cyclical", 25, 1.0),
])
def test_kl_weight_schedule(schedule, epoch, expected):
    assert losses.kl_weight(epoch, schedule, warmup_epochs=10, cycle_epochs=10) == \
        pytest.approx(expected)


def test_kl_weight_defaults_and_odd_cycles():
    assert losses.kl_weight(0) == 1.0
    # a 3-epoch cycle rises over ceil(3 / 2) = 2 epochs
    assert [losses.kl_weight(e, "cyclical", cycle_epochs=3) for e in range(6)] == \
        pytest.approx([0.5, 1.0, 1.0, 0.5, 1.0, 1.0])


def test_kl_weight_rejects_bad_input():
    with pytest.raises(ValueError, match="schedule"):
        losses.kl_weight(0, "cosine")
    with pytest.raises(ValueError):
        losses.kl_weight(0, "linear", warmup_epochs=0)
    with pytest.raises(ValueError):
        losses.kl_weight(0, "cyclical", cycle_epochs=0)
