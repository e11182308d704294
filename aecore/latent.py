"""Operations in latent space: encoding a dataset, interpolation, grids, nearest neighbours."""
from __future__ import annotations

import numpy as np
import torch
from scipy.stats import norm

from .errors import RequestTooLarge
from .models.base import Autoencoder

__all__ = ["sample_prior", "MAX_SAMPLES", "encode", "decode", "reconstruction_errors", "lerp",
           "slerp", "interpolate", "grid_2d", "normal_grid_2d", "nearest", "knn_inverse",
           "MAX_DECODE"]

MAX_DECODE = 100_000  # most codes decoded in one request (memory guard)
MAX_SAMPLES = 10_000  # most prior samples drawn in one request
_BATCH = 1024


@torch.no_grad()
def encode(model: Autoencoder, x: torch.Tensor) -> np.ndarray:
    """Deterministic codes (``mu`` for a VAE) of images ``x`` (N, C, H, W) in [0, 1].

    Returns
    -------
    ndarray of shape (N, latent_dim), float32
    """
    dev = model.code_mean.device
    out = [model.embed(x[i:i + _BATCH].to(dev)).cpu() for i in range(0, len(x), _BATCH)]
    return torch.cat(out).numpy() if out else np.zeros((0, model.config.latent_dim), np.float32)


@torch.no_grad()
def decode(model: Autoencoder, z) -> np.ndarray:
    """Decode codes ``z`` (n, latent_dim) into images (n, C, H, W), float32 in [0, 1].

    Raises
    ------
    RequestTooLarge
        More than ``MAX_DECODE`` codes.
    ValueError
        ``z`` does not have ``latent_dim`` columns.
    """
    z = torch.as_tensor(np.asarray(z, dtype=np.float32))
    if z.ndim == 1:
        z = z[None]
    if z.shape[1] != model.config.latent_dim:
        raise ValueError(f"codes have {z.shape[1]} dims, the model's latent has "
                         f"{model.config.latent_dim}")
    if len(z) > MAX_DECODE:
        raise RequestTooLarge(f"{len(z)} codes requested; at most {MAX_DECODE} are decoded at once")
    dev = model.code_mean.device
    out = [model.decode(z[i:i + _BATCH].to(dev)).cpu() for i in range(0, len(z), _BATCH)]
    return torch.cat(out).numpy()


@torch.no_grad()
def reconstruction_errors(model: Autoencoder, x: torch.Tensor) -> np.ndarray:
    """Per-image reconstruction error of the deterministic reconstruction, in the model's loss
    unit (nats per image for BCE, summed squared error for MSE).

    Parameters
    ----------
    x : Tensor of shape (N, C, H, W), float in [0, 1], or (N, D) feature vectors

    Returns
    -------
    ndarray of shape (N,), float32
    """
    from .losses import reconstruction_per_image

    dev = model.code_mean.device
    errs = []
    for i in range(0, len(x), _BATCH):
        xb = x[i:i + _BATCH].to(dev)
        logits = model.decode_logits(model.embed(xb))
        errs.append(reconstruction_per_image(xb, logits, model.config.recon_loss,
                                             model.config.output).cpu())
    return torch.cat(errs).numpy() if errs else np.zeros(0, np.float32)


def lerp(z0, z1, t) -> np.ndarray:
    """Linear interpolation ``(1 - t) z0 + t z1``.

    Parameters
    ----------
    z0, z1 : ndarray of shape (latent_dim,)
    t : ndarray of shape (K,), values in [0, 1]

    Returns
    -------
    ndarray of shape (K, latent_dim)
    """
    z0, z1, t = np.asarray(z0, float), np.asarray(z1, float), np.asarray(t, float)[:, None]
    return (1 - t) * z0 + t * z1


def slerp(z0, z1, t) -> np.ndarray:
    """Spherical linear interpolation (Shoemake 1985; White 2016, "Sampling generative
    networks"): follows the great circle between the directions of ``z0`` and ``z1`` while the
    norm changes linearly, so intermediate codes keep a typical norm under a Gaussian prior.

    Parameters
    ----------
    z0, z1 : ndarray of shape (latent_dim,)
    t : ndarray of shape (K,), values in [0, 1]

    Returns
    -------
    ndarray of shape (K, latent_dim); equals :func:`lerp` when the directions are (anti)parallel
    or a code is zero.
    """
    z0, z1, t = np.asarray(z0, float), np.asarray(z1, float), np.asarray(t, float)[:, None]
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 < 1e-12 or n1 < 1e-12:
        return lerp(z0, z1, t[:, 0])
    u0, u1 = z0 / n0, z1 / n1
    omega = np.arccos(np.clip(u0 @ u1, -1.0, 1.0))
    if omega < 1e-6 or np.pi - omega < 1e-6:
        return lerp(z0, z1, t[:, 0])
    direction = (np.sin((1 - t) * omega) * u0 + np.sin(t * omega) * u1) / np.sin(omega)
    return direction * ((1 - t) * n0 + t * n1)


def interpolate(z0, z1, steps: int, method: str = "lerp") -> np.ndarray:
    """``steps`` codes from ``z0`` to ``z1`` inclusive (``method`` "lerp" or "slerp").

    Raises
    ------
    ValueError
        ``steps`` outside [2, 1000] or unknown method.
    """
    if not 2 <= steps <= 1000:
        raise ValueError(f"steps must be in [2, 1000], got {steps}")
    fns = {"lerp": lerp, "slerp": slerp}
    if method not in fns:
        raise ValueError(f"method must be 'lerp' or 'slerp', got {method!r}")
    return fns[method](z0, z1, np.linspace(0.0, 1.0, steps))


def grid_2d(xmin: float, xmax: float, ymin: float, ymax: float, n: int) -> np.ndarray:
    """Regular n x n grid of 2-D points, row-major from (xmin, ymax) (top-left, like an image).

    Returns
    -------
    ndarray of shape (n * n, 2)

    Raises
    ------
    RequestTooLarge
        ``n`` above 200.
    """
    if not 2 <= n <= 200:
        raise RequestTooLarge(f"grid size {n} is outside [2, 200]")
    xs = np.linspace(xmin, xmax, n)
    ys = np.linspace(ymax, ymin, n)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def normal_grid_2d(n: int, eps: float = 0.05) -> np.ndarray:
    """n x n grid of 2-D codes at equal quantiles of N(0, 1) per axis (inverse normal CDF of
    ``linspace(eps, 1 - eps, n)``), as in Kingma & Welling (2013), Figure 4.

    Returns
    -------
    ndarray of shape (n * n, 2)
    """
    q = norm.ppf(np.linspace(eps, 1 - eps, n))
    return grid_2d(q[0], q[-1], q[0], q[-1], n)


def nearest(points: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index and Euclidean distance of the nearest row of ``points`` (n, d) for each query
    (m, d). Brute force in chunks: exact, and fast enough for n up to ~10^5.

    Returns
    -------
    index : ndarray of shape (m,), int
    distance : ndarray of shape (m,), float
    """
    points = np.asarray(points, np.float64)
    queries = np.atleast_2d(np.asarray(queries, np.float64))
    idx, dist = np.empty(len(queries), int), np.empty(len(queries))
    p2 = (points ** 2).sum(1)
    for i in range(0, len(queries), 512):
        q = queries[i:i + 512]
        d2 = p2[None, :] - 2 * q @ points.T + (q ** 2).sum(1)[:, None]  # (m, n)
        j = d2.argmin(1)
        idx[i:i + 512] = j
        dist[i:i + 512] = np.sqrt(np.maximum(d2[np.arange(len(q)), j], 0))
    return idx, dist


@torch.no_grad()
def sample_prior(model: Autoencoder, n: int, *, seed: int = 0, temperature: float = 1.0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` codes from the model's generative distribution and decode them.

    A VAE samples its prior ``z ~ N(0, temperature^2 I)``; a plain AE has no prior, so it
    samples the Gaussian fitted to its training codes (see ``Autoencoder.sample``). The
    random source is private to the call (a seeded ``torch.Generator``), never global.

    Returns
    -------
    z : ndarray of shape (n, latent_dim), float32
    x : ndarray of shape (n, C, H, W), float32 in [0, 1]

    Raises
    ------
    RequestTooLarge
        ``n`` above ``MAX_SAMPLES``.
    ValueError
        ``n`` < 1 or ``temperature`` outside (0, 10].
    """
    if n > MAX_SAMPLES:
        raise RequestTooLarge(f"{n} samples requested; at most {MAX_SAMPLES} at once")
    if n < 1 or not 0 < temperature <= 10:
        raise ValueError(f"need n >= 1 and 0 < temperature <= 10, got {n}, {temperature}")
    g = torch.Generator().manual_seed(int(seed))
    z, x = model.sample(n, generator=g, temperature=temperature)
    return z.cpu().numpy(), x.cpu().numpy()


def knn_inverse(embedding: np.ndarray, codes: np.ndarray, xy: np.ndarray, *, k: int = 10
                ) -> np.ndarray:
    """Inverse-distance-weighted k nearest neighbours from one space to another:
    ``v(q) = sum_i w_i codes_i / sum_i w_i`` over the k points of ``embedding`` nearest to
    ``q``, with ``w_i = 1 / d_i`` (an exact hit returns that point's value).

    Used both ways round by :mod:`aecore.atlas`: map locations -> latent codes (``embedding``
    the map positions (N, 2), ``codes`` the latent codes), and new codes -> map positions
    (:meth:`aecore.atlas.Atlas.project`, with ``embedding`` the codes (N, latent_dim) and
    ``codes`` the map positions (N, 2)). Costs milliseconds for a whole click grid and never
    leaves the convex hull of ``codes``; ``k = 1`` is the t-SNE "snap". Measured by
    ``bench/umap_inverse.py`` on held-out test codes placed with ``umap.transform``: closer to
    the true codes than umap-learn's own ``inverse_transform`` on the shipped 16-D models.

    Parameters
    ----------
    embedding : ndarray of shape (N, d_in)
        Positions of the known points, in the space of ``xy``.
    codes : ndarray of shape (N, d_out)
        Their values in the other space.
    xy : ndarray of shape (n, d_in)
        Query positions.
    k : int
        Neighbours averaged (clipped to N).

    Returns
    -------
    ndarray of shape (n, d_out), float64
    """
    emb = np.asarray(embedding, np.float64)
    codes = np.asarray(codes, np.float64)
    xy = np.atleast_2d(np.asarray(xy, np.float64))
    k = max(1, min(int(k), len(emb)))
    out = np.empty((len(xy), codes.shape[1]))
    e2 = (emb ** 2).sum(1)
    for s in range(0, len(xy), 512):  # chunks keep the (512, N) distance block small
        q = xy[s:s + 512]
        d2 = np.maximum(e2[None] - 2 * q @ emb.T + (q ** 2).sum(1)[:, None], 0)  # (m, N)
        nb = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < len(emb) else \
            np.broadcast_to(np.arange(len(emb)), (len(q), len(emb)))
        w = 1.0 / np.maximum(np.sqrt(np.take_along_axis(d2, nb, 1)), 1e-9)  # (m, k)
        out[s:s + 512] = (w[:, :, None] * codes[nb]).sum(1) / w.sum(1, keepdims=True)
    return out
