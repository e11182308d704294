"""Loss terms and schedules, all in nats per image (summed over pixels / latent dims, averaged
over the batch).

References
----------
Kingma, D. P. & Welling, M. (2013). Auto-Encoding Variational Bayes. arXiv:1312.6114.
Higgins, I. et al. (2017). beta-VAE: Learning basic visual concepts with a constrained
variational framework. ICLR.
Bowman, S. R. et al. (2016). Generating sentences from a continuous space (KL annealing). CoNLL.
Fu, H. et al. (2019). Cyclical annealing schedule: a simple approach to mitigating KL vanishing.
NAACL.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["RECON_LOSSES", "reconstruction", "reconstruction_per_image", "gaussian_kl",
           "gaussian_kl_per_image", "kl_weight", "ANNEAL_SCHEDULES"]

RECON_LOSSES = ("bce", "mse")
ANNEAL_SCHEDULES = ("none", "linear", "cyclical")


def reconstruction_per_image(x: torch.Tensor, logits: torch.Tensor, kind: str,
                             output: str = "sigmoid") -> torch.Tensor:
    """Reconstruction error of each image (or feature vector), summed over its values.

    Parameters
    ----------
    x : Tensor of shape (N, C, H, W), float in [0, 1], or (N, D)
        Target images (or standardised feature vectors, with ``output="identity"``).
    logits : Tensor of the same shape
        Decoder output before the output function; ``x_hat = sigmoid(logits)``, or
        ``x_hat = logits`` with ``output="identity"``.
    kind : {"bce", "mse"}
        ``"bce"``: negative log-likelihood of a Bernoulli decoder, in nats
        (``-sum x log x_hat + (1 - x) log(1 - x_hat)``, computed from logits for stability).
        ``"mse"``: sum of squared errors ``sum (x - x_hat)^2``, which is twice the negative
        log-likelihood of a unit-variance Gaussian decoder up to a constant.
    output : {"sigmoid", "identity"}
        The decoder's output function (``ModelConfig.output``); BCE needs ``"sigmoid"``.

    Returns
    -------
    Tensor of shape (N,)

    Raises
    ------
    ValueError
        If ``kind`` is not one of ``RECON_LOSSES``, or BCE is asked of an identity output.
    """
    if kind == "bce" and output == "sigmoid":
        err = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    elif kind == "mse" and output in ("sigmoid", "identity"):
        x_hat = logits if output == "identity" else torch.sigmoid(logits)
        err = (x_hat - x) ** 2
    else:
        raise ValueError(f"recon_loss must be one of {RECON_LOSSES} (bce only with a sigmoid "
                         f"output), got {kind!r} with output {output!r}")
    return err.flatten(1).sum(1)  # (N, C, H, W) or (N, D) -> (N,)


def reconstruction(x: torch.Tensor, logits: torch.Tensor, kind: str,
                   output: str = "sigmoid") -> torch.Tensor:
    """Batch mean of :func:`reconstruction_per_image`: a scalar in nats (BCE) per image."""
    return reconstruction_per_image(x, logits, kind, output).mean()


def gaussian_kl_per_image(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, diag(exp(logvar))) || N(0, I) ) of each code, in nats.

    Parameters
    ----------
    mu, logvar : Tensor of shape (N, latent_dim)

    Returns
    -------
    Tensor of shape (N,)

    References
    ----------
    Kingma & Welling (2013), Appendix B:
    ``-KL = 1/2 * sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)``.
    """
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Batch mean of :func:`gaussian_kl_per_image`: a scalar in nats per image."""
    return gaussian_kl_per_image(mu, logvar).mean()


def kl_weight(epoch: int, schedule: str = "none", warmup_epochs: int = 10,
              cycle_epochs: int = 10) -> float:
    """Multiplier in [0, 1] on beta for KL annealing at a given epoch.

    Parameters
    ----------
    epoch : int
        0-based epoch index (the weight is used for that whole epoch).
    schedule : {"none", "linear", "cyclical"}
        ``"none"``: always 1. ``"linear"``: rises linearly from ``1/warmup_epochs`` to 1 over the
        first ``warmup_epochs`` epochs, then stays at 1 (Bowman et al., 2016).
        ``"cyclical"``: repeats cycles of ``cycle_epochs`` epochs; in each cycle the weight rises
        linearly over the first half and stays at 1 for the second half (Fu et al., 2019, R=0.5).
    warmup_epochs, cycle_epochs : int
        Lengths in epochs, at least 1.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Unknown schedule or non-positive lengths.
    """
    if warmup_epochs < 1 or cycle_epochs < 1:
        raise ValueError("warmup_epochs and cycle_epochs must be >= 1")
    if schedule == "none":
        return 1.0
    if schedule == "linear":
        return min(1.0, (epoch + 1) / warmup_epochs)
    if schedule == "cyclical":
        rise = max(1, math.ceil(cycle_epochs / 2))
        pos = epoch % cycle_epochs
        return min(1.0, (pos + 1) / rise)
    raise ValueError(f"schedule must be one of {ANNEAL_SCHEDULES}, got {schedule!r}")
