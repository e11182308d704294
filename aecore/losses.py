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
Kingma, D. P. et al. (2016). Improved variational inference with inverse autoregressive flow
(free bits, Appendix C.8). NeurIPS.
Goodfellow, I., Bengio, Y. & Courville, A. (2016). Deep Learning, Section 14.2.1 (sparse
autoencoders). MIT Press.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["RECON_LOSSES", "reconstruction", "reconstruction_per_image", "gaussian_kl",
           "gaussian_kl_per_image", "kl_weight", "ANNEAL_SCHEDULES", "gaussian_kl_per_dim",
           "free_bits_kl", "l1_code"]

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


def gaussian_kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL of each latent dimension of each code, in nats: the terms that
    :func:`gaussian_kl_per_image` sums.

    Parameters
    ----------
    mu, logvar : Tensor of shape (N, latent_dim)

    Returns
    -------
    Tensor of shape (N, latent_dim), each entry ``-1/2 (1 + logvar - mu^2 - exp(logvar)) >= 0``
    (Kingma & Welling 2013, Appendix B, one term of the sum).
    """
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def free_bits_kl(mu: torch.Tensor, logvar: torch.Tensor, free_bits: float) -> torch.Tensor:
    """The KL term with free bits: ``sum_j max(lambda, mean_batch KL_j)``, a scalar in nats.

    Each latent dimension's KL, averaged over the batch, is charged at least ``lambda`` nats,
    so pushing a dimension's KL below ``lambda`` gains nothing and the optimiser has no reason
    to switch it off (collapse it onto the prior). Kingma et al. (2016), Appendix C.8, eq. (15)
    with one group per latent dimension. With ``free_bits = 0`` it equals :func:`gaussian_kl`.

    Parameters
    ----------
    mu, logvar : Tensor of shape (N, latent_dim)
    free_bits : float
        ``lambda``, in nats per latent dimension, >= 0.

    Returns
    -------
    Scalar tensor (nats per image). Not the KL itself: report :func:`gaussian_kl` beside it.

    Raises
    ------
    ValueError
        If ``free_bits`` is negative or not finite.
    """
    if not (math.isfinite(free_bits) and free_bits >= 0):
        raise ValueError(f"free_bits must be a finite number >= 0, got {free_bits}")
    per_dim = gaussian_kl_per_dim(mu, logvar).mean(0)  # (latent_dim,) batch mean
    return per_dim.clamp_min(free_bits).sum()


def l1_code(z: torch.Tensor) -> torch.Tensor:
    """Batch mean of the L1 norm of the codes, ``mean_n sum_j |z_nj|``: the sparsity penalty
    Omega(h) = sum_j |h_j| of a sparse autoencoder (Goodfellow et al. 2016, Section 14.2.1,
    the Laplace-prior penalty; Ng 2011 uses a KL penalty on sigmoid units to the same end).

    Parameters
    ----------
    z : Tensor of shape (N, latent_dim)

    Returns
    -------
    Scalar tensor, in code units per image.
    """
    return z.abs().sum(1).mean()


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
