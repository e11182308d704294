"""The importance-weighted bound (aecore.bounds) on a shipped digits VAE and a small MSE VAE."""
import math
from pathlib import Path

import pytest
import torch

from aecore import bounds, checkpoints
from aecore.data import load_dataset
from aecore.errors import RequestTooLarge
from aecore.losses import reconstruction_per_image
from aecore.models import AE, VAE, AEConfig, VAEConfig

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def vae():
    return checkpoints.load(ROOT / "checkpoints" / "digits_vae_z16.safetensors")[0]


@pytest.fixture(scope="module")
def x():
    return load_dataset("digits", "test").x  # (360, 1, 8, 8)


def _normal_logpdf(z, mu, std):
    return torch.distributions.Normal(mu, std).log_prob(z).sum(-1)


def test_l1_is_the_elbo_of_the_same_sample(vae, x):
    """k = 1: the bound is log p(x|z) + log p(z) - log q(z|x) at the very z the model's own
    forward pass draws from the same generator, with the model's own reconstruction loss."""
    l1 = bounds.iwae_bound(vae, x, 1, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        out = vae(x, generator=torch.Generator().manual_seed(5))  # same eps, same z
        std = torch.exp(0.5 * out.logvar)
        elbo = (-reconstruction_per_image(x, out.logits, "bce")
                + _normal_logpdf(out.z, torch.zeros_like(out.z), torch.ones_like(out.z))
                - _normal_logpdf(out.z, out.mu, std))
    assert l1.shape == (360,)
    torch.testing.assert_close(l1, elbo, rtol=0, atol=1e-3)


def test_l1_averages_to_the_checkpoint_elbo(vae, x):
    """Many single-sample L_1 average to minus the closed-form-KL loss the model reports."""
    lw = bounds.log_weights(vae, x, 100, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        mu, logvar = vae.encode(x)
        std = torch.exp(0.5 * logvar)
        rec = torch.stack([reconstruction_per_image(
            x, vae.decode_logits(mu + std * torch.randn(mu.shape, generator=g)), "bce")
            for g in [torch.Generator().manual_seed(1)] for _ in range(20)]).mean(0)
        kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)
    neg_elbo = float((rec + kl).mean())
    # the two are independent Monte Carlo estimates of one number (~23.8 nats here)
    assert float(-lw.mean()) == pytest.approx(neg_elbo, abs=0.1)


def test_lk_rises_with_k_on_average(vae, x):
    """Burda et al. (2016), Theorem 1: E[L_k] <= E[L_m] for k <= m. Measured on these 360
    images (seed 0): L_1 -23.80, L_10 -23.52, L_100 -23.46 nats; independent samples for every
    k, so only the means over images are compared."""
    g = torch.Generator().manual_seed(0)
    means = [float(bounds.iwae_bound(vae, x, k, generator=g).mean()) for k in (1, 10, 100)]
    assert means == sorted(means)
    assert means[1] - means[0] > 0.15  # the first step is large, not noise
    # and for one set of log weights, log-mean-exp >= mean (Jensen), image by image
    lw = bounds.log_weights(vae, x[:50], 64, generator=g)
    assert bool((torch.logsumexp(lw, 1) - math.log(64) >= lw.mean(1) - 1e-5).all())


def test_curve_from_groups_matches_iwae_bound_and_rises(vae, x):
    lw = bounds.log_weights(vae, x[:40], 100, generator=torch.Generator().manual_seed(3))
    curve = bounds.bound_curve(lw, [1, 10, 100])
    assert curve[0] == pytest.approx(float(lw.mean()), abs=1e-4)
    assert curve[2] == pytest.approx(float(torch.logsumexp(lw, 1).mean() - math.log(100)),
                                     abs=1e-4)
    assert curve == sorted(curve)
    with pytest.raises(ValueError, match="k must be in"):
        bounds.bound_curve(lw, [101])


def test_chunking_does_not_change_the_numbers(vae, x, monkeypatch):
    """Samples drawn and decoded 3 at a time give the very numbers of one big chunk."""
    def bound():
        return bounds.iwae_bound(vae, x[:10], 12, generator=torch.Generator().manual_seed(9))
    whole = bound()
    monkeypatch.setattr(bounds, "CHUNK_VALUES", 10 * 64 * 3)  # 3 samples per chunk
    torch.testing.assert_close(bound(), whole)
    assert float(whole.mean()) < 0  # a log-likelihood bound of grey images, not a stub


def test_mse_model_uses_a_gaussian_of_variance_half():
    torch.manual_seed(0)
    m = VAE(VAEConfig(input_shape=(1, 4, 4), latent_dim=2, hidden=(8,), recon_loss="mse"))
    xs = torch.rand(5, 1, 4, 4)
    l1 = bounds.iwae_bound(m, xs, 1, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = m(xs, generator=torch.Generator().manual_seed(0))
        gauss = torch.distributions.Normal(out.x_hat, math.sqrt(0.5))
        log_px = gauss.log_prob(xs).flatten(1).sum(1)
        want = (log_px + _normal_logpdf(out.z, 0 * out.z, 1 + 0 * out.z)
                - _normal_logpdf(out.z, out.mu, torch.exp(0.5 * out.logvar)))
    torch.testing.assert_close(l1, want, rtol=0, atol=1e-4)


def test_bad_requests_raise_typed_errors(vae, x):
    with pytest.raises(TypeError, match="not a VAE"):
        bounds.iwae_bound(AE(AEConfig()), x[:2], 5)
    with pytest.raises(RequestTooLarge, match="k must be in"):
        bounds.iwae_bound(vae, x[:2], 0)
    with pytest.raises(RequestTooLarge):
        bounds.iwae_bound(vae, x[:2], bounds.MAX_K + 1)
    with pytest.raises(ValueError, match="expects"):
        bounds.iwae_bound(vae, torch.zeros(2, 1, 28, 28), 5)
