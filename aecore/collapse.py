"""Posterior collapse: the KL of each latent dimension and the number of active units.

A latent dimension ``j`` of a VAE has *collapsed* when its posterior equals the prior for every
input, ``q(z_j | x) = N(0, 1)``: its KL term is 0 and it carries no information about ``x``.
Burda et al. (2016) call a unit ``u`` *active* when its posterior mean moves with the input,
``A_u = Cov_x(E_{q(u|x)}[u]) > 0.01``.

References
----------
Burda, Y., Grosse, R. & Salakhutdinov, R. (2016). Importance weighted autoencoders, Section 5.2
(active units). ICLR.
Kingma, D. P. & Welling, M. (2013). Auto-Encoding Variational Bayes, Appendix B (Gaussian KL).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .data import Dataset
from .losses import gaussian_kl_per_dim
from .models.base import Autoencoder
from .train import EVAL_BATCH

__all__ = ["ACTIVE_THRESHOLD", "unit_activity", "active_units", "CollapseReport",
           "collapse_report"]

ACTIVE_THRESHOLD = 0.01  # Burda et al. (2016): a unit is active when Cov_x(E_q[z_u]) > 0.01


def unit_activity(mu: np.ndarray | torch.Tensor) -> np.ndarray:
    """Activity of each latent unit, ``A_u = Cov_x(E_q[z_u])``: the variance over the data of
    the posterior mean (Burda et al. 2016, Section 5.2).

    Parameters
    ----------
    mu : array of shape (N, latent_dim), N >= 2
        Posterior means ``E_q[z | x_n]`` of N inputs.

    Returns
    -------
    ndarray of shape (latent_dim,), float64 >= 0 (squared code units), the unbiased sample
    variance (divisor N - 1).

    Raises
    ------
    ValueError
        If ``mu`` is not 2-D with at least 2 rows, or not finite.
    """
    m = np.asarray(mu.detach().cpu() if isinstance(mu, torch.Tensor) else mu, dtype=np.float64)
    if m.ndim != 2 or len(m) < 2:
        raise ValueError(f"mu must have shape (N >= 2, latent_dim), got {m.shape}")
    if not np.isfinite(m).all():
        raise ValueError("mu holds NaN or infinite values")
    return m.var(axis=0, ddof=1)


def active_units(activity: np.ndarray, threshold: float = ACTIVE_THRESHOLD) -> int:
    """Number of units whose activity (:func:`unit_activity`) exceeds ``threshold``."""
    return int((np.asarray(activity) > threshold).sum())


@dataclass(frozen=True)
class CollapseReport:
    """Posterior collapse numbers of one VAE on one dataset.

    Attributes
    ----------
    kl : ndarray (latent_dim,)
        Mean KL(q(z_j | x) || N(0, 1)) of each dimension over the images, nats per image.
    activity : ndarray (latent_dim,)
        :func:`unit_activity` of each dimension.
    threshold : float
        The activity above which a unit counts as active.
    """

    kl: np.ndarray
    activity: np.ndarray
    threshold: float = ACTIVE_THRESHOLD

    @property
    def active(self) -> int:
        """Number of active units (Burda et al. 2016)."""
        return active_units(self.activity, self.threshold)

    @property
    def total_kl(self) -> float:
        """Sum of the per-dimension KLs: the model's KL term, nats per image."""
        return float(self.kl.sum())

    @property
    def is_active(self) -> np.ndarray:
        """Boolean mask (latent_dim,) of the active units."""
        return self.activity > self.threshold


@torch.no_grad()
def collapse_report(model: Autoencoder, data: Dataset,
                    threshold: float = ACTIVE_THRESHOLD) -> CollapseReport:
    """KL per latent dimension and unit activity of a VAE on ``data``.

    Parameters
    ----------
    model : Autoencoder
        A variational model (``is_variational``); run in eval mode, deterministic.
    data : Dataset
        ``x`` of shape (N, C, H, W) in [0, 1], N >= 2, the model's input shape.
    threshold : float
        Activity threshold of an active unit.

    Returns
    -------
    CollapseReport

    Raises
    ------
    ValueError
        If the model is not variational, or the data has fewer than 2 images.
    """
    if not model.is_variational:
        raise ValueError(f"{model.config.name} is not a VAE: it has no posterior to collapse")
    if len(data) < 2:
        raise ValueError("need at least 2 images to measure unit activity")
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    mus, kls = [], []
    for i in range(0, len(data), EVAL_BATCH):
        mu, logvar = model.encode(data.x[i:i + EVAL_BATCH].to(dev))
        mus.append(mu.cpu())
        kls.append(gaussian_kl_per_dim(mu, logvar).sum(0).cpu())
    model.train(was)
    kl = (torch.stack(kls).sum(0) / len(data)).double().numpy()
    return CollapseReport(kl=kl, activity=unit_activity(torch.cat(mus)), threshold=threshold)
