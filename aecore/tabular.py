"""Tabular data: scikit-learn's breast cancer set as standardised feature vectors.

569 cases x 30 features (mean, standard error and "worst" value of ten measurements of cell
nuclei in a breast mass image); labels 0 = malignant (212 cases), 1 = benign (357). The set
ships with scikit-learn, so it works offline.

Each feature is standardised, ``(x - mean) / std``, with the mean and standard deviation of the
**training split only** (the test cases never leak into the scaling). An autoencoder for it
uses an identity output and the MSE loss (``ModelConfig(output="identity", recon_loss="mse")``):
standardised values are not in [0, 1], so a sigmoid output could not reach them.

References
----------
Street, W. N., Wolberg, W. H. & Mangasarian, O. L. (1993). Nuclear feature extraction for
breast tumor diagnosis. IS&T/SPIE 1993, vol. 1905, 861-870 (the Wisconsin diagnostic data).
"""
from __future__ import annotations

import numpy as np

__all__ = ["TABULAR", "BREAST_CANCER_CLASSES", "TEST_FRACTION", "SPLIT_SEED", "feature_names",
           "load_breast_cancer_split", "feature_errors"]

BREAST_CANCER_CLASSES = ["malignant", "benign"]  # scikit-learn's target 0 and 1
TABULAR = ("breast-cancer",)  # dataset names whose rows are feature vectors (N, D)
TEST_FRACTION = 0.3  # 398 train / 171 test cases (stratified)
SPLIT_SEED = 0  # fixed so every model and every page sees the same test cases


def feature_names(name: str) -> list[str] | None:
    """The column names of a tabular dataset (30 for ``"breast-cancer"``), None for images."""
    if name != "breast-cancer":
        return None
    from sklearn.datasets import load_breast_cancer

    return [str(f) for f in load_breast_cancer().feature_names]


def load_breast_cancer_split(base: str) -> tuple[np.ndarray, np.ndarray]:
    """One split of the breast cancer set, standardised with the training split's statistics.

    Parameters
    ----------
    base : {"train", "test", "all"}
        The fixed stratified split (``TEST_FRACTION``, seed ``SPLIT_SEED``); ``"all"`` is every
        case in scikit-learn's order, scaled the same way.

    Returns
    -------
    x : ndarray of shape (N, 30), float32, standardised (training mean 0, std 1 per feature)
    y : ndarray of shape (N,), int64; 0 = malignant, 1 = benign
    """
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    d = load_breast_cancer()
    x, y = d.data.astype(np.float64), d.target.astype(np.int64)
    idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=TEST_FRACTION,
                                           random_state=SPLIT_SEED, stratify=y)
    mean = x[idx_train].mean(0)
    std = x[idx_train].std(0)  # population std (ddof 0), as sklearn's StandardScaler
    x = ((x - mean) / std).astype(np.float32)
    if base == "all":
        return x, y
    idx = idx_train if base == "train" else idx_test
    return x[idx], y[idx]


def feature_errors(model, x) -> np.ndarray:
    """Squared reconstruction error of each feature of each row, ``(x - x_hat)^2``.

    Summed over a row it is the model's MSE reconstruction error of that row
    (:func:`aecore.latent.reconstruction_errors`), so it says which features make a case
    anomalous.

    Parameters
    ----------
    model : Autoencoder
        With a flat ``input_shape`` (D,).
    x : Tensor of shape (N, D), standardised features

    Returns
    -------
    ndarray of shape (N, D), float32

    Raises
    ------
    ValueError
        ``x`` is not (N, D) with the model's D.
    """
    import torch

    if x.ndim != 2 or tuple(x.shape[1:]) != tuple(model.config.input_shape):
        raise ValueError(f"x must be (N, {model.config.input_shape[0]}) feature vectors for "
                         f"this model, got shape {tuple(x.shape)}")
    with torch.no_grad():
        x_hat = model.reconstruct(x.to(model.code_mean.device)).cpu()
    return ((x - x_hat) ** 2).numpy().astype(np.float32)
