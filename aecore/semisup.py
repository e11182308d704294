"""Semi-supervised classification with an autoencoder's codes (the "M1" model).

Kingma et al. (2014) train a VAE on every image, labelled or not, then fit a classifier on the
posterior means ``mu`` of the few labelled ones: where the codes group images by class, a few
labels go further than they do on raw pixels. :func:`accuracy_vs_labels` measures it: for
``n`` labelled training images per class, the test accuracy of a 1-nearest-neighbour
classifier on three representations of the same images,

* ``pixels``: the raw pixel vectors (N, C * H * W);
* ``latent``: the model's deterministic code, ``mu`` for a VAE (N, latent_dim);
* ``pca``: a PCA of the pixels with as many components as the latent has dimensions, fitted
  on every training image (unlabelled, as the autoencoder was).

Which images carry labels is random: each ``n`` is repeated ``repeats`` times with independent
draws (seeded), and the mean, minimum and maximum accuracy are reported.

References
----------
Kingma, D. P., Rezende, D. J., Mohamed, S. & Welling, M. (2014). Semi-supervised learning with
deep generative models. NeurIPS. Section 2.1 (latent-feature discriminative model, M1).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .data import Dataset
from .errors import DataError, RequestTooLarge
from .latent import encode
from .models.base import Autoencoder

__all__ = ["LABELS_PER_CLASS", "FEATURES", "SemiSupResult", "labelled_indices",
           "accuracy_vs_labels"]

LABELS_PER_CLASS = (1, 5, 10, 50, None)  # None: every training label
FEATURES = ("pixels", "latent", "pca")
MAX_TRAIN = 20_000  # training images a measurement may use (kNN costs N_test x N_train)


@dataclass(frozen=True)
class SemiSupResult:
    """Test accuracy against the number of labels.

    Attributes
    ----------
    labels_per_class : list of int or None
        The ``n`` of each column (None: all labels).
    n_labels : list of int
        Labelled training images used at each ``n`` (``n`` x classes, or the whole split).
    mean, low, high : dict of str -> ndarray of shape (len(labels_per_class),)
        Per representation (``FEATURES``): mean, minimum and maximum test accuracy in [0, 1]
        over the repeats.
    labelled : dict of int -> ndarray of int
        Training indices of the labelled images of the first repeat, per ``n`` (not for "all").
    latent_dim : int
        Dimension of the codes (and of the PCA).
    n_test : int
    repeats : int
    seed : int
    """

    labels_per_class: list
    n_labels: list
    mean: dict = field(default_factory=dict)
    low: dict = field(default_factory=dict)
    high: dict = field(default_factory=dict)
    labelled: dict = field(default_factory=dict)
    latent_dim: int = 0
    n_test: int = 0
    repeats: int = 0
    seed: int = 0

    def at(self, n: int | None, feature: str) -> float:
        """Mean test accuracy of ``feature`` at ``n`` labels per class."""
        return float(self.mean[feature][self.labels_per_class.index(n)])


def labelled_indices(y: np.ndarray, n: int | None, rng: np.random.Generator) -> np.ndarray:
    """``n`` random indices of each class of ``y`` (all indices when ``n`` is None), sorted.

    Raises
    ------
    DataError
        A class has fewer than ``n`` examples.
    """
    y = np.asarray(y)
    if n is None:
        return np.arange(len(y))
    picks = []
    for c in np.unique(y):
        pool = np.flatnonzero(y == c)
        if len(pool) < n:
            raise DataError(f"class {c} has {len(pool)} training examples, fewer than {n}")
        picks.append(rng.choice(pool, n, replace=False))
    return np.sort(np.concatenate(picks))


def _one_nn_accuracy(a: np.ndarray, y_a: np.ndarray, b: np.ndarray, y_b: np.ndarray) -> float:
    """Accuracy on (b, y_b) of a 1-nearest-neighbour classifier (Euclidean) fitted to (a, y_a)."""
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(n_neighbors=1).fit(a, y_a)
    return float((clf.predict(b) == y_b).mean())


def accuracy_vs_labels(model: Autoencoder, train: Dataset, test: Dataset, *,
                       labels_per_class=LABELS_PER_CLASS, repeats: int = 10,
                       seed: int = 0) -> SemiSupResult:
    """Test accuracy of 1-NN on pixels, on the model's codes and on PCA, against labels.

    Parameters
    ----------
    model : Autoencoder
        Trained on ``train``'s images (no labels); its ``embed`` (``mu`` for a VAE) gives the
        codes.
    train, test : Dataset
        ``x`` of shape (N, C, H, W) in [0, 1] (or (N, D)); ``y`` the class labels. Only the
        labelled subset of ``train``'s labels is used; the test labels only score.
    labels_per_class : sequence of int or None
        Labelled training images per class; None: all of them.
    repeats : int
        Independent random draws of the labelled images per ``n`` (1 to 50; "all" is one).
    seed : int
        Seeds the draws: the same seed gives the same numbers.

    Returns
    -------
    SemiSupResult

    Raises
    ------
    ValueError
        ``repeats`` out of range.
    RequestTooLarge
        More than ``MAX_TRAIN`` training images (a ``LatentLabError``, so pages report it).
    DataError
        A class has fewer training images than some ``n``.
    """
    from sklearn.decomposition import PCA

    if not 1 <= repeats <= 50:
        raise ValueError(f"repeats must be in [1, 50], got {repeats}")
    if len(train) > MAX_TRAIN:
        raise RequestTooLarge(f"{len(train)} training images; at most {MAX_TRAIN} are measured "
                              "(1-NN compares every test image with every labelled one)")
    y_tr, y_te = train.y.numpy(), test.y.numpy()
    px_tr = train.x.reshape(len(train), -1).numpy()  # (N, C * H * W)
    px_te = test.x.reshape(len(test), -1).numpy()
    z_tr, z_te = encode(model, train.x), encode(model, test.x)  # (N, latent_dim): mu for a VAE
    k = z_tr.shape[1]
    pca = PCA(n_components=min(k, px_tr.shape[1]), random_state=seed).fit(px_tr)
    feats = {"pixels": (px_tr, px_te), "latent": (z_tr, z_te),
             "pca": (pca.transform(px_tr), pca.transform(px_te))}
    ns = list(labels_per_class)
    accs = {f: np.zeros((len(ns), repeats)) for f in FEATURES}
    labelled, n_labels = {}, []
    for j, n in enumerate(ns):
        # one stream per (seed, n): the draws at n do not depend on which other n are asked
        rng = np.random.default_rng([seed, 0 if n is None else n])
        reps = 1 if n is None else repeats
        for r in range(reps):
            idx = labelled_indices(y_tr, n, rng)
            if r == 0:
                n_labels.append(len(idx))
                if n is not None:
                    labelled[n] = idx
            for f, (a, b) in feats.items():
                accs[f][j, r] = _one_nn_accuracy(a[idx], y_tr[idx], b, y_te)
        for f in FEATURES:
            accs[f][j, reps:] = accs[f][j, 0]  # "all" has a single draw
    return SemiSupResult(
        labels_per_class=ns, n_labels=n_labels,
        mean={f: a.mean(1) for f, a in accs.items()}, low={f: a.min(1) for f, a in accs.items()},
        high={f: a.max(1) for f, a in accs.items()}, labelled=labelled, latent_dim=k,
        n_test=len(test), repeats=repeats, seed=seed)
