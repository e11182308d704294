"""Metrics that make "a VAE's latent space is smooth, a plain AE's has holes" measurable, plus
the anomaly-detection, denoising and PCA scores of the lesson pages.

Every function is deterministic under its ``seed``: random draws come from a generator private
to the call (``numpy.random.default_rng`` or a seeded ``torch.Generator``), never from global
state. On the digits test set (360 images) the whole :func:`scoreboard` takes seconds on a CPU
(``bench/metrics.py`` prints the timings).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch

from . import latent
from .bounds import iwae_bound  # the importance-weighted bound lives in aecore.bounds
from .data import Dataset
from .errors import RequestTooLarge
from .models.base import Autoencoder
from .train import evaluate

__all__ = ["recon_kl", "interpolation_evenness", "HOLE_THRESHOLD", "decoder_codes",
           "typical_gap", "hole_score", "hole_rate", "knn_accuracy",
           "map_trustworthiness", "psnr", "anomaly_roc",
           "image_errors", "iwae_bound",
           "Scoreboard", "scoreboard"]


def recon_kl(model: Autoencoder, data: Dataset, *, seed: int = 0) -> tuple[float, float]:
    """Mean reconstruction error and KL of ``model`` on ``data``, per image.

    ``recon = -E_q[log p(x|z)]`` in nats for a BCE model (BCE summed over pixels; for an MSE
    model it is the summed squared error, not a log-likelihood; one posterior sample per image for a
    VAE, drawn from a generator seeded with ``seed``) and ``kl = KL(q(z|x) || N(0, I))`` in
    closed form; ``recon + kl`` is the negative ELBO. An AE has ``kl = 0``.

    Parameters
    ----------
    model : Autoencoder
    data : Dataset
        ``x`` of shape (N, C, H, W), float in [0, 1].
    seed : int

    Returns
    -------
    (recon, kl) : tuple of float, nats per image (summed squared error for an MSE model)

    References
    ----------
    Kingma & Welling (2013), "Auto-Encoding Variational Bayes", eq. 10 and appendix B.
    """
    ev = evaluate(model, data, seed=seed)
    return float(ev["recon"]), float(ev["kl"])


def interpolation_evenness(decode_fn: Callable[[np.ndarray], np.ndarray], codes: np.ndarray, *,
                           pairs: int = 50, steps: int = 16, seed: int = 0
                           ) -> tuple[float, float]:
    """How evenly the decoded image changes along straight lines in latent space.

    For ``pairs`` random pairs of codes (z_a, z_b), decode K + 1 equally spaced codes
    ``z_k = z_a + (k / K)(z_b - z_a)`` (K = ``steps``), giving frames f_0 ... f_K. Then

    - path ratio = mean over pairs of  sum_k ||f_{k+1} - f_k|| / ||f_K - f_0||
    - jump ratio = mean over pairs of  max_k ||f_{k+1} - f_k|| / mean_k ||f_{k+1} - f_k||

    Both are 1 for a decoder that is affine along the segment (the frames move at constant
    speed on a straight line in pixel space). A path that crosses a hole makes a detour (path
    ratio > 1: the frames wander through images unlike either end) or a jump (jump ratio > 1:
    the image changes all at once). Distances are Euclidean in pixel space. Caveat: a plain
    cross-fade between the two end images also scores 1, so read these with the hole rate.

    Parameters
    ----------
    decode_fn : callable
        ``(n, latent_dim) ndarray -> (n, ...) ndarray`` of images.
    codes : ndarray of shape (N, latent_dim)
        Codes to draw the pairs from (e.g. the test set's), N >= 2.
    pairs : int
        Number of random pairs M (drawn without replacement when N >= 2M).
    steps : int
        Number of steps K per path (K + 1 decoded frames).
    seed : int
        Seeds the choice of pairs.

    Returns
    -------
    (path_ratio, jump_ratio) : tuple of float, each >= 1. Pairs whose end images coincide are
    skipped; ``nan`` if every pair was skipped.

    Raises
    ------
    ValueError
        Fewer than 2 codes, or ``pairs`` or ``steps`` < 1.

    References
    ----------
    The path-length idea follows the perceptual path length of Karras et al. (2019), "A
    Style-Based Generator Architecture for GANs", section 4.1, here in pixel space and
    normalised by the end-to-end distance.
    """
    if len(codes) < 2 or pairs < 1 or steps < 1:
        raise ValueError(f"need >= 2 codes, pairs >= 1 and steps >= 1; got {len(codes)}, "
                         f"{pairs}, {steps}")
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(codes), size=(pairs, 2), replace=len(codes) < 2 * pairs)
    t = np.linspace(0.0, 1.0, steps + 1)
    path, jump = [], []
    for a, b in idx:
        if a == b:
            continue
        # (K+1, latent_dim) codes -> (K+1, D) flattened frames
        f = np.asarray(decode_fn(latent.lerp(codes[a], codes[b], t))).reshape(steps + 1, -1)
        d = np.linalg.norm(np.diff(f, axis=0), axis=1)  # (K,) step sizes
        straight = np.linalg.norm(f[-1] - f[0])
        if straight < 1e-8 or d.mean() < 1e-12:
            continue  # same image at both ends: the ratios are undefined
        path.append(d.sum() / straight)
        jump.append(d.max() / d.mean())
    if not path:
        return float("nan"), float("nan")
    return float(np.mean(path)), float(np.mean(jump))


HOLE_THRESHOLD = 2.0  # hole_score above this: a hole. Real held-out codes score ~1 (median)
#                       and the shipped VAEs' prior samples mostly under 2 (tests/test_metrics.py)


def decoder_codes(model: Autoencoder, x: torch.Tensor, *, seed: int = 0,
                  batch: int = 2048) -> np.ndarray:
    """The codes the decoder was trained on, one per image: ``z`` of ``model(x)``.

    For an AE that is the code itself; for a VAE it is one posterior sample
    ``mu + sigma * eps`` (the decoder never sees ``mu`` alone in training, and in a latent
    dimension the KL term switched off ``mu`` is ~0 while the samples fill N(0, 1)).

    Parameters
    ----------
    model : Autoencoder
    x : Tensor of shape (N, C, H, W), float in [0, 1]
    seed : int
        Seeds the posterior samples (a ``torch.Generator`` private to the call).

    Returns
    -------
    ndarray of shape (N, latent_dim), float32
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        return np.concatenate([model(x[i:i + batch], generator=g).z.cpu().numpy()
                               for i in range(0, len(x), batch)]).astype(np.float32)


def typical_gap(train_codes: np.ndarray) -> float:
    """Median distance from a training code to its nearest other training code (> 0)."""
    from scipy.spatial import cKDTree

    d, _ = cKDTree(train_codes).query(train_codes, k=2)  # k=1 is the code itself
    gaps = d[:, 1][d[:, 1] > 0]
    return float(np.median(gaps)) if len(gaps) else 1.0


def hole_score(z: np.ndarray, train_codes: np.ndarray, *, gap: float | None = None
               ) -> np.ndarray:
    """How far codes lie from what the decoder was trained on, in the model's own units.

        hole_score(z) = min_i ||z - z_i|| / median_i min_{j != i} ||z_i - z_j||

    with ``z_i`` the training codes (:func:`decoder_codes`). Dividing by the typical
    nearest-neighbour gap makes the score comparable across models and latent sizes: a score of
    1 is as close as training codes are to each other; a code is in a *hole* when the score is
    above :data:`HOLE_THRESHOLD`. This is the one hole criterion of the app (the scoreboard's
    :func:`hole_rate`, the map's hole message and shading). It is about the latent space: on a
    UMAP or t-SNE map a spot's code is an average of nearby codes, so a hole cannot be seen
    there; a 2-D latent drawn as is (or PCA's plane) shows it.

    Parameters
    ----------
    z : ndarray of shape (n, latent_dim) or (latent_dim,)
    train_codes : ndarray of shape (N, latent_dim)
    gap : float, optional
        :func:`typical_gap` of ``train_codes`` (computed when not given).

    Returns
    -------
    ndarray of shape (n,), float >= 0
    """
    z = np.atleast_2d(np.asarray(z, dtype=np.float64))
    train_codes = np.asarray(train_codes, dtype=np.float64)
    gap = typical_gap(train_codes) if gap is None else gap
    return latent.nearest(train_codes, z)[1] / gap


def hole_rate(model: Autoencoder, train: Dataset, *, n: int = 500, seed: int = 0,
              threshold: float = HOLE_THRESHOLD) -> float:
    """Fraction of generated codes that land in a hole (:func:`hole_score` > ``threshold``).

    Draw ``n`` codes from the model's generative distribution (a VAE's prior N(0, I); for an
    AE, which has no prior, the Gaussian fitted to its training codes, see
    ``Autoencoder.sample``) and score them against the codes its decoder was trained on:

        hole rate = (1/n) sum_s [ hole_score(z_s) > threshold ]

    An earlier version compared decoded images with training images in pixel space; that
    forgives blur (a blurry average image is close to many training images) and gave 0.000
    for both shipped MNIST 2-D models. In latent space they score 0.44 (AE) and 0.23 (VAE).

    Parameters
    ----------
    model : Autoencoder
    train : Dataset
        The split the model was trained on; ``x`` of shape (N, C, H, W), float in [0, 1].
    n : int
        Number of samples, 1 to ``aecore.latent.MAX_SAMPLES``.
    seed : int
        Seeds the samples and the posterior draws.
    threshold : float
        See :data:`HOLE_THRESHOLD`.

    Returns
    -------
    float in [0, 1]

    Raises
    ------
    RequestTooLarge
        ``n`` above ``aecore.latent.MAX_SAMPLES``.
    ValueError
        ``n`` < 1.
    """
    if n > latent.MAX_SAMPLES:
        raise RequestTooLarge(f"{n} samples requested; at most {latent.MAX_SAMPLES}")
    if n < 1:
        raise ValueError(f"need n >= 1, got {n}")
    z, _ = latent.sample_prior(model, n, seed=seed)
    scores = hole_score(np.asarray(z), decoder_codes(model, train.x, seed=seed))
    return float(np.mean(scores > threshold))


def knn_accuracy(train_codes: np.ndarray, train_y, test_codes: np.ndarray, test_y,
                 k: int = 5) -> float:
    """Test accuracy of a k-nearest-neighbour classifier fitted on the training codes.

    Measures how well the classes separate in latent space although the model never saw a
    label: ``accuracy = (1/N) sum_n [ majority label of the k nearest training codes of z_n
    = y_n ]`` (Euclidean distance, ``sklearn.neighbors.KNeighborsClassifier``).

    Parameters
    ----------
    train_codes : ndarray of shape (N_train, latent_dim)
    train_y : array of shape (N_train,), int
    test_codes : ndarray of shape (N_test, latent_dim)
    test_y : array of shape (N_test,), int
    k : int

    Returns
    -------
    float in [0, 1] (0.1 is chance for ten balanced classes)
    """
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(n_neighbors=k).fit(train_codes, np.asarray(train_y))
    return float(clf.score(test_codes, np.asarray(test_y)))


def map_trustworthiness(codes: np.ndarray, embedding: np.ndarray, k: int = 10) -> float:
    """Trustworthiness of a 2-D map of latent codes (``sklearn.manifold.trustworthiness``).

        T(k) = 1 - 2 / (n k (2n - 3k - 1)) * sum_i sum_{j in U_k(i)} (r(i, j) - k)

    where U_k(i) are the points among i's k nearest neighbours on the map but not in latent
    space, and r(i, j) is j's rank among i's neighbours in latent space. 1 means every map
    neighbour is a true latent neighbour. A 2-D latent drawn as is scores exactly 1.

    Parameters
    ----------
    codes : ndarray of shape (N, latent_dim)
    embedding : ndarray of shape (N, 2)
    k : int
        Neighbourhood size, < N / 2.

    Returns
    -------
    float in [0, 1]

    References
    ----------
    Venna & Kaski (2001), "Neighborhood preservation in nonlinear projection methods: an
    experimental study", ICANN.
    """
    from sklearn.manifold import trustworthiness

    if codes.shape == embedding.shape and np.allclose(codes, embedding):
        return 1.0  # the identity map: skip the O(N^2) computation
    return float(trustworthiness(codes, embedding, n_neighbors=k))


def psnr(x, y) -> np.ndarray:
    """Peak signal-to-noise ratio, in dB, of images in [0, 1] (peak value 1).

        PSNR(x, y) = 10 log10(1 / MSE),  MSE = (1/D) sum_i (x_i - y_i)^2 over the D pixels

    +20 dB is ten times less RMS error. A clean image against itself has infinite PSNR.

    Parameters
    ----------
    x, y : array of shape (N, ...), float in [0, 1]

    Returns
    -------
    ndarray of shape (N,), dB; ``inf`` where the images are equal.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    mse = ((x - y) ** 2).reshape(len(x), -1).mean(1)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(1.0 / mse)


def anomaly_roc(scores, is_anomaly) -> tuple[np.ndarray, np.ndarray, float]:
    """ROC curve and ROC-AUC of an anomaly score (``sklearn.metrics``).

    The AUC is the probability that a random anomaly scores higher than a random normal
    image (ties count half): ``AUC = P(s_anomaly > s_normal)``.

    Parameters
    ----------
    scores : array of shape (N,)
        Higher = more anomalous (e.g. reconstruction error, nats per image).
    is_anomaly : array of shape (N,), bool
        Both classes must be present.

    Returns
    -------
    fpr, tpr : ndarray of shape (T,)
        False and true positive rates at each threshold, from (0, 0) to (1, 1).
    auc : float in [0, 1] (0.5 = chance, 1 = perfect)

    Raises
    ------
    ValueError
        Only one class in ``is_anomaly``.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    y, s = np.asarray(is_anomaly, bool), np.asarray(scores)
    if y.all() or not y.any():
        raise ValueError("anomaly_roc needs both anomalies and normal images")
    fpr, tpr, _ = roc_curve(y, s)
    return fpr, tpr, float(roc_auc_score(y, s))


def image_errors(x, x_hat, eps: float = 1e-4) -> tuple[float, float]:
    """Mean per-image reconstruction error of any reconstruction ``x_hat`` of ``x``, in two
    units: BCE in nats (``x_hat`` clipped to [eps, 1 - eps] first, so that log stays finite)
    and summed squared error (unclipped).

        BCE = -sum_i [x_i log x_hat_i + (1 - x_i) log(1 - x_hat_i)],   SSE = sum_i (x_i - x_hat_i)^2

    Use it to compare reconstructions that do not come from a model's logits (e.g. PCA's).

    Parameters
    ----------
    x, x_hat : array of shape (N, ...), float in [0, 1]

    Returns
    -------
    (bce, sse) : tuple of float, means over the N images
    """
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    x_hat = np.asarray(x_hat, np.float64).reshape(len(x), -1)
    r = np.clip(x_hat, eps, 1 - eps)
    bce = -(x * np.log(r) + (1 - x) * np.log1p(-r)).sum(1)
    return float(bce.mean()), float(((x - x_hat) ** 2).sum(1).mean())


@dataclass(frozen=True)
class Scoreboard:
    """The AE-vs-VAE scoreboard of one model on a test set (see :func:`scoreboard`)."""

    recon: float  # nats per image (one posterior sample for a VAE, as in the ELBO)
    kl: float  # nats per image (0 for an AE)
    path_ratio: float  # >= 1; 1 is perfectly even
    jump_ratio: float  # >= 1; 1 is perfectly even
    hole_rate: float  # in [0, 1]; share of generated codes in a hole (hole_score > 2)
    knn_accuracy: float  # in [0, 1]; 0.1 is chance on ten classes
    trustworthiness: float  # in [0, 1]; 1 for a 2-D latent drawn as is

    def to_dict(self) -> dict[str, float]:
        """The fields as a plain dict (JSON-ready)."""
        return asdict(self)


def scoreboard(model: Autoencoder, train: Dataset, test: Dataset, embedding: np.ndarray, *,
               seed: int = 0, pairs: int = 50, steps: int = 16, samples: int = 500
               ) -> Scoreboard:
    """Every metric of one model on ``test``; codes are the deterministic ``embed`` (mu).

    Parameters
    ----------
    model : Autoencoder
    train, test : Dataset
        The splits the model was trained and evaluated on.
    embedding : ndarray of shape (len(test), 2)
        The 2-D map of the test codes (for trustworthiness).
    seed : int
        Seeds every random draw (posterior samples, pairs, prior samples).
    pairs, steps : int
        See :func:`interpolation_evenness`.
    samples : int
        See ``n`` in :func:`hole_rate`.

    Returns
    -------
    Scoreboard

    Raises
    ------
    ValueError
        ``embedding`` does not have one row per test image.
    """
    embedding = np.asarray(embedding)
    if len(embedding) != len(test):
        raise ValueError(f"embedding has {len(embedding)} rows for {len(test)} test images")
    recon, kl = recon_kl(model, test, seed=seed)
    codes, train_codes = latent.encode(model, test.x), latent.encode(model, train.x)
    path, jump = interpolation_evenness(lambda z: latent.decode(model, z), codes, pairs=pairs,
                                        steps=steps, seed=seed)
    return Scoreboard(
        recon=recon, kl=kl, path_ratio=path, jump_ratio=jump,
        hole_rate=hole_rate(model, train, n=samples, seed=seed),
        knn_accuracy=knn_accuracy(train_codes, train.y, codes, test.y),
        trustworthiness=map_trustworthiness(codes, embedding))
