"""2-D projections of latent codes behind scikit-learn's estimator contract.

Each projector wraps a library (scikit-learn's PCA and t-SNE, umap-learn's UMAP); none is
reimplemented here. Capabilities are declared: ``supports_transform`` (can embed new codes) and
``supports_inverse`` (can map a 2-D location back to a latent code).
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = ["Projector", "IdentityProjector", "PCAProjector", "UMAPProjector", "TSNEProjector",
           "PROJECTORS", "make_projector", "methods_for"]


class Projector(BaseEstimator):
    """Base class: ``fit(Z)``, ``transform(Z)``, ``fit_transform(Z)``, ``inverse_transform(Y)``.

    ``Z`` is an ndarray of shape (n_samples, latent_dim); ``Y`` of shape (n_samples, 2).
    Learned attributes end in ``_``; using an unfitted projector raises ``NotFittedError``.
    """

    method: ClassVar[str] = "base"
    label: ClassVar[str] = "base"
    supports_transform: ClassVar[bool] = True
    supports_inverse: ClassVar[bool] = False
    inverse_is_exact: ClassVar[bool] = False

    def fit_transform(self, Z, y=None) -> np.ndarray:
        """Fit to ``Z`` (n_samples, latent_dim) and return its embedding (n_samples, 2)."""
        return self.fit(Z, y).transform(Z)

    def inverse_transform(self, Y) -> np.ndarray:
        """Map 2-D points ``Y`` (n, 2) back to latent codes (n, latent_dim).

        Raises
        ------
        NotImplementedError
            If the method has no inverse (t-SNE).
        """
        raise NotImplementedError(f"{self.label} has no inverse transform")

    def _check_Z(self, Z, *, fitted: bool = False) -> np.ndarray:
        """Validate codes (and fitted state), returning float64 (n, d)."""
        if fitted:
            check_is_fitted(self)
        return check_array(Z, dtype=np.float64)


class IdentityProjector(Projector):
    """The latent code itself, for 2-D latents: exact in both directions."""

    method = "identity"
    label = "Latent z (2-D, exact)"
    supports_inverse = True
    inverse_is_exact = True

    def fit(self, Z, y=None) -> "IdentityProjector":
        """Check that ``Z`` has exactly 2 columns. Raises ``ValueError`` otherwise."""
        self._check_2d(self._check_Z(Z))
        self.n_features_in_ = 2
        return self

    def transform(self, Z) -> np.ndarray:
        """(n, 2) -> the same (n, 2) array as float64. Raises ``ValueError`` for other widths."""
        return self._check_2d(self._check_Z(Z, fitted=True))

    def inverse_transform(self, Y) -> np.ndarray:
        """(n, 2) -> the same (n, 2) array as float64. Raises ``ValueError`` for other widths."""
        return self._check_2d(self._check_Z(Y, fitted=True))

    @staticmethod
    def _check_2d(Z: np.ndarray) -> np.ndarray:
        """``Z`` unchanged if it has exactly 2 columns, else ValueError."""
        if Z.shape[1] != 2:
            raise ValueError(f"the identity projection needs a 2-D latent, got {Z.shape[1]}-D")
        return Z


class PCAProjector(Projector):
    """Principal component analysis to 2-D (``sklearn.decomposition.PCA``).

    The inverse is exact within the plane of the first two components; the other components
    are set to their mean (zero after centering).
    """

    method = "pca"
    label = "PCA (linear, invertible)"
    supports_inverse = True
    inverse_is_exact = True

    def __init__(self, random_state: int | None = 0):
        self.random_state = random_state

    def fit(self, Z, y=None) -> "PCAProjector":
        """Fit PCA with 2 components to ``Z`` (n_samples, latent_dim)."""
        from sklearn.decomposition import PCA

        Z = self._check_Z(Z)
        self.pca_ = PCA(n_components=2, random_state=self.random_state).fit(Z)
        self.n_features_in_ = Z.shape[1]
        return self

    def transform(self, Z) -> np.ndarray:
        """(n, latent_dim) -> (n, 2) principal-component scores."""
        Z = self._check_Z(Z, fitted=True)
        return self.pca_.transform(Z)

    def inverse_transform(self, Y) -> np.ndarray:
        """(n, 2) -> (n, latent_dim): ``mean + Y @ components``."""
        Y = self._check_Z(Y, fitted=True)
        return self.pca_.inverse_transform(Y)


class UMAPProjector(Projector):
    """UMAP (``umap.UMAP``, McInnes et al. 2018): nonlinear, keeps local neighbourhoods.

    Its inverse (``umap.UMAP.inverse_transform``) is approximate and poor outside the data's
    convex hull. umap-learn compiles with numba on first use (tens of seconds per process).
    """

    method = "umap"
    label = "UMAP (nonlinear)"
    supports_inverse = True

    def __init__(self, n_neighbors: int = 15, min_dist: float = 0.1, random_state: int | None = 0):
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.random_state = random_state

    def fit(self, Z, y=None) -> "UMAPProjector":
        """Fit UMAP to ``Z`` (n_samples, latent_dim)."""
        import umap  # deferred: importing umap-learn costs seconds

        Z = self._check_Z(Z)
        self.umap_ = umap.UMAP(n_neighbors=self.n_neighbors, min_dist=self.min_dist,
                               random_state=self.random_state, n_jobs=1).fit(Z)
        self.embedding_ = np.asarray(self.umap_.embedding_, dtype=np.float64)
        self.n_features_in_ = Z.shape[1]
        return self

    def fit_transform(self, Z, y=None) -> np.ndarray:
        """Fit and return the training embedding (n_samples, 2)."""
        return self.fit(Z).embedding_

    def transform(self, Z) -> np.ndarray:
        """(n, latent_dim) -> (n, 2) for new codes."""
        Z = self._check_Z(Z, fitted=True)
        return np.asarray(self.umap_.transform(Z), dtype=np.float64)

    def inverse_transform(self, Y) -> np.ndarray:
        """(n, 2) -> approximate (n, latent_dim) codes (slow: call it once for many points)."""
        Y = self._check_Z(Y, fitted=True)
        return np.asarray(self.umap_.inverse_transform(Y))


class TSNEProjector(Projector):
    """t-SNE (``sklearn.manifold.TSNE``): embeds only the points it was fitted on, and has no
    inverse, so a click on a t-SNE map snaps to the nearest embedded point."""

    method = "tsne"
    label = "t-SNE (no inverse)"
    supports_transform = False

    def __init__(self, perplexity: float = 30.0, random_state: int | None = 0):
        self.perplexity = perplexity
        self.random_state = random_state

    def fit(self, Z, y=None) -> "TSNEProjector":
        """Fit t-SNE on ``Z`` (n_samples, latent_dim); the result is ``embedding_``."""
        from sklearn.manifold import TSNE

        Z = self._check_Z(Z)
        perp = min(self.perplexity, max(1.0, (len(Z) - 1) / 3))  # sklearn needs perp < n
        self.embedding_ = TSNE(n_components=2, perplexity=perp, init="pca",
                               random_state=self.random_state).fit_transform(Z)
        self.n_features_in_ = Z.shape[1]
        return self

    def fit_transform(self, Z, y=None) -> np.ndarray:
        """Fit and return ``embedding_`` (n_samples, 2)."""
        return self.fit(Z).embedding_

    def transform(self, Z) -> np.ndarray:
        """Not available: t-SNE cannot embed new points. Raises ``NotImplementedError``."""
        raise NotImplementedError("t-SNE cannot embed new points; refit on all of them")


PROJECTORS: dict[str, type[Projector]] = {p.method: p for p in
                                          (IdentityProjector, PCAProjector, UMAPProjector,
                                           TSNEProjector)}


def make_projector(method: str, random_state: int = 0) -> Projector:
    """Projector for ``method`` with its default parameters.

    Raises
    ------
    ValueError
        Unknown method.
    """
    if method not in PROJECTORS:
        raise ValueError(f"unknown projection {method!r}; choose one of {sorted(PROJECTORS)}")
    cls = PROJECTORS[method]
    return cls() if method == "identity" else cls(random_state=random_state)


def methods_for(latent_dim: int) -> list[str]:
    """Projection methods that make sense for a latent size: identity only fits 2-D."""
    return ["identity"] if latent_dim == 2 else ["pca", "umap", "tsne"]
