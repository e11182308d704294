"""Metrics that make "a VAE's latent space is smooth, a plain AE's has holes" measurable, plus
the anomaly-detection and denoising scores. Deterministic under a seed."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from . import latent
from .data import Dataset
from .errors import RequestTooLarge
from .models.base import Autoencoder
from .train import evaluate

__all__ = ["interpolation_evenness", "hole_rate", "knn_accuracy", "map_trustworthiness",
           "psnr", "anomaly_roc", "Scoreboard", "scoreboard", "pca_reconstruction_error"]


def interpolation_evenness(decode_fn, codes: np.ndarray, *, pairs: int = 50, steps: int = 16,
                           seed: int = 0) -> tuple[float, float]:
    """How evenly the decoded image changes along straight lines in latent space.

    For ``pairs`` random pairs of codes (z_a, z_b), decode ``steps + 1`` equally spaced codes
    on the segment, giving frames f_0 ... f_K (K = steps). Then

    - ``path_ratio`` = mean over pairs of  sum_k ||f_{k+1} - f_k|| / ||f_K - f_0||
    - ``jump_ratio`` = mean over pairs of  max_k ||f_{k+1} - f_k|| / mean_k ||f_{k+1} - f_k||

    Both are 1 for a decoder that is linear along the segment; a path through a hole makes a
    detour (path_ratio > 1) or a jump (jump_ratio > 1). Distances are Euclidean in pixel space.

    Parameters
    ----------
    decode_fn : callable
        ``(n, latent_dim) ndarray -> (n, ...) ndarray`` of images.
    codes : ndarray of shape (N, latent_dim)
        Codes to draw the pairs from (e.g. the test set's).
    pairs, steps, seed : int

    Returns
    -------
    (path_ratio, jump_ratio) : tuple of float, each >= 1
    """
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(codes), size=(pairs, 2), replace=len(codes) < 2 * pairs)
    t = np.linspace(0.0, 1.0, steps + 1)
    path, jump = [], []
    for a, b in idx:
        if a == b:
            continue
        f = np.asarray(decode_fn(latent.lerp(codes[a], codes[b], t))).reshape(steps + 1, -1)
        d = np.linalg.norm(np.diff(f, axis=0), axis=1)  # (K,) step sizes
        straight = np.linalg.norm(f[-1] - f[0])
        if straight < 1e-8 or d.mean() < 1e-12:
            continue
        path.append(d.sum() / straight)
        jump.append(d.max() / d.mean())
    return float(np.mean(path)), float(np.mean(jump))


def _nearest_dist(train_x: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Pixel-space distance from each row of ``x`` to its nearest row of ``train_x``."""
    return latent.nearest(train_x.reshape(len(train_x), -1), x.reshape(len(x), -1))[1]


def hole_rate(model: Autoencoder, train: Dataset, test: Dataset, *, n: int = 500,
              seed: int = 0, quantile: float = 0.95) -> float:
    """Fraction of generated images that look like nothing in the training set.

    Draw ``n`` codes from the model's generative distribution (a VAE's prior N(0, I); for an
    AE, the Gaussian fitted to its training codes) and decode them. A sample is in a *hole* if
    its decoded image is farther (Euclidean, pixel space) from every training image than
    ``quantile`` of the test images are from their nearest training image.

    Returns
    -------
    float in [0, 1]

    Raises
    ------
    RequestTooLarge
        ``n`` above ``aecore.latent.MAX_SAMPLES``.
    """
    if n > latent.MAX_SAMPLES:
        raise RequestTooLarge(f"{n} samples requested; at most {latent.MAX_SAMPLES}")
    tr = train.x.numpy()
    threshold = np.quantile(_nearest_dist(tr, test.x.numpy()), quantile)
    _, x = latent.sample_prior(model, n, seed=seed)
    return float(np.mean(_nearest_dist(tr, x) > threshold))


def knn_accuracy(train_codes: np.ndarray, train_y, test_codes: np.ndarray, test_y,
                 k: int = 5) -> float:
    """Accuracy of a k-nearest-neighbour classifier (``sklearn``) on latent codes: how well
    the classes separate in latent space even though the model never saw a label."""
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(n_neighbors=k).fit(train_codes, np.asarray(train_y))
    return float(clf.score(test_codes, np.asarray(test_y)))


def map_trustworthiness(codes: np.ndarray, embedding: np.ndarray, k: int = 10) -> float:
    """``sklearn.manifold.trustworthiness`` of a 2-D map: 1 when the map's k nearest neighbours
    are also neighbours in latent space (Venna & Kaski 2001). 1.0 for a 2-D latent drawn as is."""
    from sklearn.manifold import trustworthiness

    if codes.shape[1] == embedding.shape[1] and np.allclose(codes, embedding):
        return 1.0
    return float(trustworthiness(codes, embedding, n_neighbors=k))


def psnr(x, y) -> np.ndarray:
    """Peak signal-to-noise ratio in dB of images in [0, 1]: 10 log10(1 / MSE) per image.

    Parameters
    ----------
    x, y : array of shape (N, ...) in [0, 1]

    Returns
    -------
    ndarray of shape (N,); +inf where the images are equal.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    mse = ((x - y) ** 2).reshape(len(x), -1).mean(1)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(1.0 / mse)


def anomaly_roc(scores, is_anomaly) -> tuple[np.ndarray, np.ndarray, float]:
    """ROC curve and ROC-AUC (``sklearn.metrics``) of an anomaly score.

    Returns
    -------
    fpr, tpr : ndarray
    auc : float (0.5 = chance, 1 = perfect)
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(np.asarray(is_anomaly, bool), np.asarray(scores))
    return fpr, tpr, float(roc_auc_score(np.asarray(is_anomaly, bool), np.asarray(scores)))


def pca_reconstruction_error(train_x: np.ndarray, test_x: np.ndarray, k: int = 2,
                             kind: str = "bce") -> float:
    """Reconstruction error of PCA with ``k`` components (the optimal *linear* autoencoder),
    in the same unit as the models' loss (BCE nats per image after clipping to [0, 1], or
    summed squared error), on ``test_x`` (N, C, H, W)."""
    from sklearn.decomposition import PCA

    from .losses import reconstruction_per_image

    tr, te = train_x.reshape(len(train_x), -1), test_x.reshape(len(test_x), -1)
    pca = PCA(n_components=k, random_state=0).fit(tr)
    rec = pca.inverse_transform(pca.transform(te))  # project onto the plane, then back
    rec = np.clip(rec, 1e-4, 1 - 1e-4).reshape(test_x.shape)
    logits = torch.logit(torch.as_tensor(rec, dtype=torch.float32))
    return float(reconstruction_per_image(torch.as_tensor(test_x), logits, kind).mean())


@dataclass(frozen=True)
class Scoreboard:
    """The AE-vs-VAE scoreboard of one model on a test set (see :func:`scoreboard`)."""

    recon: float  # nats per image
    kl: float  # nats per image (0 for an AE)
    path_ratio: float  # >= 1; 1 is perfectly even
    jump_ratio: float  # >= 1; 1 is perfectly even
    hole_rate: float  # in [0, 1]
    knn_accuracy: float  # in [0, 1]
    trustworthiness: float  # in [0, 1]

    def to_dict(self) -> dict[str, float]:
        """Plain dict."""
        return asdict(self)


def scoreboard(model: Autoencoder, train: Dataset, test: Dataset, embedding: np.ndarray, *,
               seed: int = 0, pairs: int = 50, steps: int = 16, samples: int = 500
               ) -> Scoreboard:
    """All metrics of one model on ``test`` (codes are the deterministic ``embed``).

    Parameters
    ----------
    embedding : ndarray of shape (len(test), 2)
        The 2-D map of the test codes (for trustworthiness).

    Returns
    -------
    Scoreboard
    """
    ev = evaluate(model, test, seed=seed)
    codes, train_codes = latent.encode(model, test.x), latent.encode(model, train.x)
    path, jump = interpolation_evenness(lambda z: latent.decode(model, z), codes, pairs=pairs,
                                        steps=steps, seed=seed)
    return Scoreboard(
        recon=ev["recon"], kl=ev["kl"], path_ratio=path, jump_ratio=jump,
        hole_rate=hole_rate(model, train, test, n=samples, seed=seed),
        knn_accuracy=knn_accuracy(train_codes, train.y, codes, test.y),
        trustworthiness=map_trustworthiness(codes, np.asarray(embedding)))
