"""The importance-weighted bound L_k on log p(x) (Burda, Grosse & Salakhutdinov 2016).

For a VAE with encoder q(z|x) = N(mu, diag(sigma^2)), prior p(z) = N(0, I) and decoder
p(x|z), draw z_1..z_k ~ q(z|x) and form the log importance weights

    log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x).

Then ``L_k = E[log (1/k) sum_i w_i]`` (Burda et al. 2016, eq. 8). L_1 is the ELBO,
``L_k <= L_m <= log p(x)`` for ``k <= m`` (their Theorem 1), and ``L_k -> log p(x)`` as k grows
(when p(z|x)/q(z|x) is bounded). The gap ``log p(x) - L_1`` is ``KL(q(z|x) || p(z|x))``, the KL
between the encoder's Gaussian and the true posterior.

The likelihood p(x|z) is the one the model is trained with:

- ``recon_loss="bce"``: Bernoulli, ``log p(x|z) = sum_j x_j log x_hat_j + (1 - x_j) log(1 -
  x_hat_j)`` (minus the BCE the ELBO uses). For grey levels x in (0, 1) this cross-entropy is not
  a normalised density, so the numbers are comparable with this app's ELBO (the "test total"
  of a checkpoint) but not with the literature's results on binarised MNIST.
- ``recon_loss="mse"``: Gaussian with variance 1/2 per pixel, whose negative log-likelihood is
  the summed squared error the model is trained on plus ``(D/2) log(pi)`` (D = pixels).

The bound is that of the model's ELBO at beta = 1, whatever ``beta`` the model was trained with.
"""
from __future__ import annotations

import math

import torch

from .errors import RequestTooLarge
from .models.base import Autoencoder

__all__ = ["MAX_K", "log_weights", "iwae_bound", "bound_curve"]

MAX_K = 100_000  # samples per image a caller may ask for
CHUNK_VALUES = 1 << 22  # decoded values held at once (chunk of samples x images x pixels), ~16 MB
_LOG_2PI = math.log(2 * math.pi)


def _check(model: Autoencoder, x: torch.Tensor, k: int) -> None:
    """Raise on a non-variational model, a wrong image shape or a bad ``k``."""
    if not model.is_variational:
        raise TypeError(f"{type(model).__name__} is not a VAE: the importance-weighted bound "
                        "needs an encoder q(z|x) and a prior p(z)")
    if tuple(x.shape[1:]) != tuple(model.config.input_shape):
        raise ValueError(f"x has images of shape {tuple(x.shape[1:])}, the model expects "
                         f"{tuple(model.config.input_shape)}")
    if not 1 <= int(k) <= MAX_K:
        raise RequestTooLarge(f"k must be in [1, {MAX_K:,}] samples per image, got {k}")


def _log_px_given_z(model: Autoencoder, x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log p(x|z) per image for decoder ``logits`` (S, N, C, H, W) and images x (N, C, H, W);
    returns (S, N) in nats."""
    if model.config.recon_loss == "bce":
        ll = -torch.nn.functional.binary_cross_entropy_with_logits(
            logits, x.expand_as(logits), reduction="none")
        return ll.flatten(2).sum(2)
    d = x[0].numel()  # Gaussian, variance 1/2: -log p = sum (x - x_hat)^2 + (d / 2) log(pi)
    return -((torch.sigmoid(logits) - x) ** 2).flatten(2).sum(2) - 0.5 * d * math.log(math.pi)


@torch.no_grad()
def log_weights(model: Autoencoder, x: torch.Tensor, k: int, *,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Log importance weights ``log p(x, z_i) - log q(z_i|x)`` of k posterior samples per image.

    Parameters
    ----------
    model : Autoencoder
        A variational model (``model.is_variational``); used in ``eval()`` mode.
    x : Tensor of shape (N, C, H, W), float in [0, 1]
    k : int
        Samples per image, 1 to ``MAX_K``.
    generator : torch.Generator, optional
        Source of the posterior noise (reproducible results); sample i of image n is
        ``mu_n + sigma_n * eps`` with eps drawn in chunks of samples, each chunk (S, N, latent_dim).

    Returns
    -------
    Tensor of shape (N, k), nats. Its row mean is the Monte Carlo ELBO with those samples.

    Raises
    ------
    TypeError
        The model is not variational.
    ValueError
        ``x`` does not have the model's input shape.
    RequestTooLarge
        ``k`` outside [1, MAX_K].
    """
    _check(model, x, k)
    was_training = model.training
    model.eval()
    dev = next(model.parameters()).device
    x = x.to(dev)
    mu, logvar = model.encode(x)  # (N, d) each
    std = torch.exp(0.5 * logvar)
    n, d = mu.shape
    per_sample = max(1, n * x[0].numel())
    chunk = max(1, min(k, CHUNK_VALUES // per_sample))
    out = []
    for start in range(0, k, chunk):
        s = min(chunk, k - start)
        if generator is not None and generator.device != dev:
            eps = torch.randn((s, n, d), generator=generator).to(mu)
        else:
            eps = torch.randn((s, n, d), generator=generator, device=dev, dtype=mu.dtype)
        z = mu + std * eps  # (S, N, d)
        logits = model.decode_logits(z.reshape(s * n, d)).reshape(s, n, *x.shape[1:])
        log_pz = -0.5 * (z.pow(2) + _LOG_2PI).sum(2)  # N(0, I)
        log_qz = -0.5 * (eps.pow(2) + _LOG_2PI + logvar).sum(2)  # N(mu, sigma^2) at z
        out.append((_log_px_given_z(model, x, logits) + log_pz - log_qz).T)  # (N, S)
    model.train(was_training)
    return torch.cat(out, dim=1)


def iwae_bound(model: Autoencoder, x: torch.Tensor, k: int, *,
               generator: torch.Generator | None = None, batch_size: int = 256) -> torch.Tensor:
    """The importance-weighted lower bound L_k on log p(x) of each image, one estimate each.

    ``L_k(x) = log (1/k) sum_{i=1..k} p(x, z_i) / q(z_i|x)``, z_i ~ q(z|x) (Burda et al. 2016,
    eq. 8), computed with log-sum-exp over the log weights of :func:`log_weights`; images go in
    batches of ``batch_size`` and samples in chunks (at most ``CHUNK_VALUES`` decoded values at
    once), so memory stays bounded for any k. k = 1 is the one-sample ELBO estimate.

    Parameters
    ----------
    model : Autoencoder
        A variational model; the likelihood is the one it is trained with (see the module
        docstring: Bernoulli for BCE, Gaussian with variance 1/2 for MSE).
    x : Tensor of shape (N, C, H, W), float in [0, 1]
    k : int
        Importance samples per image, 1 to ``MAX_K``.
    generator : torch.Generator, optional
    batch_size : int
        Images per call of :func:`log_weights` (memory, not maths).

    Returns
    -------
    Tensor of shape (N,), nats per image (a lower bound on log p(x); -L_k estimates -log p(x)).

    Raises
    ------
    TypeError, ValueError, RequestTooLarge
        As :func:`log_weights`.
    """
    _check(model, x, k)
    parts = []
    for i in range(0, len(x), batch_size):
        lw = log_weights(model, x[i:i + batch_size], k, generator=generator)
        parts.append(torch.logsumexp(lw, dim=1) - math.log(k))
    return torch.cat(parts) if parts else torch.zeros(0)


def bound_curve(lw: torch.Tensor, ks: list[int]) -> list[float]:
    """Mean L_k over images for each k in ``ks``, from one set of log weights.

    For each k the K samples of every image are cut into ``K // k`` disjoint groups of k; L_k is
    averaged over the groups and the images (an unbiased estimate of E[L_k] that uses every
    sample once, so small k are not noisier than they need to be).

    Parameters
    ----------
    lw : Tensor of shape (N, K)
        Log weights from :func:`log_weights`.
    ks : list of int
        Each in [1, K].

    Returns
    -------
    list of float, nats per image, one per k.

    Raises
    ------
    ValueError
        A k outside [1, K].
    """
    n, big_k = lw.shape
    out = []
    for k in ks:
        if not 1 <= k <= big_k:
            raise ValueError(f"k must be in [1, {big_k}], got {k}")
        groups = lw[:, :(big_k // k) * k].reshape(n, big_k // k, k)
        out.append(float((torch.logsumexp(groups, dim=2) - math.log(k)).mean()))
    return out
