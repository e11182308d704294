"""The latent map of one model: codes, their 2-D projection and an invertible click grid.

An :class:`Atlas` is computed once per (checkpoint, projection method) and stored as a plain
``.npz`` (no pickles): beside the checkpoint for the shipped models, in a cache folder keyed by
the checkpoint's hash for the others. A page rerun therefore never refits UMAP or t-SNE.

The click grid is a ``grid_n x grid_n`` lattice over the map. Each node carries the latent code
it decodes to: exact for the identity map (2-D latents) and within the plane for PCA; for UMAP
it is an inverse-distance-weighted mean of the codes of the 10 nearest map points
(:func:`knn_inverse`, computed once for the whole grid at build time), which recovers held-out
codes better than umap-learn's ``inverse_transform`` and hundreds of times faster (numbers in
:data:`UMAP_INVERSE`); t-SNE has no inverse, so its nodes snap to the nearest embedded point.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checkpoints import SHIPPED_DIR, CheckpointInfo
from .latent import nearest
from .project import PROJECTORS, make_projector

__all__ = ["Atlas", "build_atlas", "knn_inverse", "atlas_path", "load_atlas", "save_atlas",
           "get_atlas", "cache_dir", "ATLAS_VERSION", "GRID_N"]

ATLAS_VERSION = 1
GRID_N = 64  # click-grid nodes per axis: ~10 px apart on a 650 px wide chart
PAD = 0.12  # grid extends this fraction of the data range beyond the data on each side
KNN_K = 10  # neighbours of the kNN inverse (UMAP grid) and of placing new codes on a map
FAR_CELLS = 2.0  # a grid node is "far from the data" beyond this many grid cells (or the
#                  95th percentile of the points' nearest-neighbour distance, if larger)

# bench/umap_inverse.py (2026-11-24): held-out 20 % of each model's test codes, placed on a
# UMAP map of the other 80 % with umap.transform, then mapped back; error = mean ||z_hat - z||
# / mean ||z - mean z|| (1 = no better than the mean code). Lower is better.
UMAP_INVERSE = {  # model: (umap-learn inverse_transform, kNN k=1 "snap", kNN k=10 IDW)
    "digits_ae_z16": (0.752, 0.668, 0.559),
    "digits_vae_z16": (0.568, 0.368, 0.339),
    "mnist_ae_z16": (0.523, 0.587, 0.470),
    "mnist_vae_z16": (0.604, 0.687, 0.551),
}


def cache_dir() -> Path:
    """Folder for atlases of non-shipped models: ``$LATENTLAB_CACHE_DIR`` or ``.cache/``."""
    default = SHIPPED_DIR.parent / ".cache" / "atlas"
    return Path(os.environ.get("LATENTLAB_CACHE_DIR", default))


@dataclass
class Atlas:
    """A latent map.

    Attributes
    ----------
    method : str
        Projection id (``identity``, ``pca``, ``umap``, ``tsne``).
    checkpoint_id : str
        :attr:`CheckpointInfo.id` of the model it was built from.
    codes : ndarray of shape (N, latent_dim), float32
        Deterministic codes (``mu`` for a VAE) of the map's images (the model's test split).
    embedding : ndarray of shape (N, 2)
        2-D map coordinates of ``codes``.
    train_codes : ndarray of shape (M, latent_dim), float32
        Codes of the training images (for nearest-neighbour and "hole" checks).
    grid_xy : ndarray of shape (G * G, 2)
        Click-grid nodes in map coordinates, row-major from the top-left.
    grid_codes : ndarray of shape (G * G, latent_dim), float32
        Latent code decoded at each node (nearest data point's code for t-SNE).
    grid_gap : ndarray of shape (G * G,)
        Distance from each node to the nearest embedded point, in map units.
    hole_threshold : float
        95th percentile of the distance from a test code to its nearest training code; a
        latent location farther than this from every training code is called a hole.
    inverse : str
        ``"exact"``, ``"plane"`` (PCA), ``"knn"`` (UMAP, :func:`knn_inverse`), ``"snap"``
        (t-SNE), or ``"approximate"`` (UMAP maps cached before the kNN inverse: umap-learn's
        ``inverse_transform``).
    """

    method: str
    checkpoint_id: str
    codes: np.ndarray
    embedding: np.ndarray
    train_codes: np.ndarray
    grid_xy: np.ndarray
    grid_codes: np.ndarray
    grid_gap: np.ndarray
    hole_threshold: float
    inverse: str

    @property
    def grid_n(self) -> int:
        """Nodes per axis of the click grid."""
        return int(round(np.sqrt(len(self.grid_xy))))

    def node_at(self, x: float, y: float) -> int:
        """Index of the grid node nearest to the map location (x, y)."""
        return int(np.argmin(((self.grid_xy - [x, y]) ** 2).sum(1)))

    def code_at(self, x: float, y: float) -> tuple[np.ndarray, int]:
        """Latent code for a map location and the grid node it came from.

        For identity and PCA maps the code is computed exactly at (x, y); for UMAP and
        t-SNE it is the code stored at the nearest grid node.

        Returns
        -------
        z : ndarray of shape (latent_dim,)
        node : int
        """
        node = self.node_at(x, y)
        if self.inverse == "exact":
            return np.array([x, y], dtype=np.float32), node
        if self.inverse == "plane":
            return self._pca_inverse(np.array([[x, y]]))[0], node
        return self.grid_codes[node], node

    def nearest_point(self, x: float, y: float) -> tuple[int, float]:
        """Row index of the embedded point nearest to (x, y) and its distance in map units."""
        i, d = nearest(self.embedding, np.array([[x, y]], np.float64))
        return int(i[0]), float(d[0])

    def far_nodes(self) -> np.ndarray:
        """Boolean mask (G * G,) of grid nodes far from every embedded point: farther than
        ``FAR_CELLS`` grid cells, or than the 95th percentile of the points' own
        nearest-neighbour distances if that is larger (sparse maps)."""
        from scipy.spatial import cKDTree

        cell = float(abs(self.grid_xy[1, 0] - self.grid_xy[0, 0])) if len(self.grid_xy) > 1 else 0.0
        nn = 0.0
        if len(self.embedding) > 1:  # k=2: the nearest other point (k=1 is the point itself)
            d, _ = cKDTree(self.embedding).query(self.embedding, k=2)
            nn = float(np.quantile(d[:, 1], 0.95))
        return self.grid_gap > max(FAR_CELLS * cell, nn)

    def nearest_train(self, z: np.ndarray) -> tuple[int, float]:
        """Index of, and Euclidean distance to, the training code nearest ``z`` (latent_dim,)."""
        i, d = nearest(self.train_codes, np.asarray(z)[None])
        return int(i[0]), float(d[0])

    def project(self, z: np.ndarray) -> tuple[np.ndarray, bool]:
        """Place new codes on the map.

        Parameters
        ----------
        z : ndarray of shape (n, latent_dim)

        Returns
        -------
        xy : ndarray of shape (n, 2)
            Exact positions for identity and PCA maps (PCA is affine, so it is recovered
            exactly from the stored codes and embedding by least squares); for UMAP and t-SNE
            (which cannot embed new points cheaply or at all) the inverse-distance-weighted
            mean position of the ``KNN_K`` nearest stored codes (:func:`knn_inverse` in the
            other direction; bench/umap_inverse.py compares it with ``umap.transform``).
        exact : bool
        """
        z = np.atleast_2d(np.asarray(z, np.float64))
        if self.inverse == "exact":
            return z[:, :2].copy(), True
        if self.inverse == "plane":  # PCA scores: project onto the plane's orthonormal axes
            origin, u, v = self._plane()
            return np.c_[(z - origin) @ u / (u @ u), (z - origin) @ v / (v @ v)], True
        return knn_inverse(self.codes, self.embedding, z, k=KNN_K), False

    def codes_at(self, xy: np.ndarray) -> np.ndarray:
        """Latent codes for many map locations (n, 2) -> (n, latent_dim); see :meth:`code_at`."""
        xy = np.atleast_2d(np.asarray(xy, np.float64))
        if self.inverse == "exact":
            return xy.astype(np.float32)
        if self.inverse == "plane":
            return self._pca_inverse(xy)
        nodes, _ = nearest(self.grid_xy, xy)
        return self.grid_codes[nodes]

    def _plane(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The PCA inverse ``z = origin + x u + y v`` (each (latent_dim,)), read off three
        corners of the stored grid (exact: the grid codes came from ``inverse_transform``,
        which is affine). ``origin`` is the mean code, ``u`` and ``v`` the two components.
        Microseconds, unlike a least-squares fit over the grid (~35 ms), so clicks stay fast."""
        g, gz = self.grid_xy, self.grid_codes.astype(np.float64)
        n = self.grid_n
        i0, ix, iy = n * (n - 1), n * n - 1, 0  # bottom-left, bottom-right, top-left
        u = (gz[ix] - gz[i0]) / (g[ix, 0] - g[i0, 0])
        v = (gz[iy] - gz[i0]) / (g[iy, 1] - g[i0, 1])
        return gz[i0] - g[i0, 0] * u - g[i0, 1] * v, u, v

    def _pca_inverse(self, xy: np.ndarray) -> np.ndarray:
        """PCA inverse at map locations (n, 2) -> (n, latent_dim) float32; see :meth:`_plane`."""
        origin, u, v = self._plane()
        return (origin + xy[:, :1] * u + xy[:, 1:2] * v).astype(np.float32)


def knn_inverse(embedding: np.ndarray, codes: np.ndarray, xy: np.ndarray, *, k: int = 10
                ) -> np.ndarray:
    """Map 2-D map locations back to latent codes by inverse-distance-weighted k nearest
    neighbours: ``z(xy) = sum_i w_i z_i / sum_i w_i`` over the k map points nearest to ``xy``,
    with ``w_i = 1 / d_i`` (an exact hit returns that point's code).

    Works for any map (it needs only the embedded points and their codes), costs milliseconds
    for a whole click grid, and never leaves the convex hull of the codes. ``k = 1`` is the
    t-SNE "snap". Measured by ``bench/umap_inverse.py`` on held-out test codes placed with
    ``umap.transform``; see :data:`UMAP_INVERSE`.

    Parameters
    ----------
    embedding : ndarray of shape (N, 2)
        Map positions of the codes.
    codes : ndarray of shape (N, latent_dim)
    xy : ndarray of shape (n, 2)
        Locations to invert.
    k : int
        Neighbours averaged (clipped to N).

    Returns
    -------
    ndarray of shape (n, latent_dim), float64
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


def build_atlas(codes: np.ndarray, train_codes: np.ndarray, method: str, checkpoint_id: str,
                *, grid_n: int = GRID_N, random_state: int = 0) -> Atlas:
    """Fit a projection of ``codes`` (N, latent_dim) and build its click grid.

    Seconds for PCA; UMAP and t-SNE take ~5-40 s (numba compilation on first use).

    Raises
    ------
    ValueError
        Unknown method, or ``identity`` for a latent that is not 2-D.
    """
    proj = make_projector(method, random_state=random_state)
    emb = np.asarray(proj.fit_transform(codes), dtype=np.float64)
    lo, hi = emb.min(0), emb.max(0)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - PAD * span, hi + PAD * span
    xs, ys = np.linspace(lo[0], hi[0], grid_n), np.linspace(hi[1], lo[1], grid_n)
    gx, gy = np.meshgrid(xs, ys)
    grid_xy = np.stack([gx.ravel(), gy.ravel()], 1)  # (G*G, 2), row-major from the top-left
    near_i, gap = nearest(emb, grid_xy)
    if method == "tsne":
        grid_codes, inverse = codes[near_i], "snap"
    elif method == "umap":  # kNN beats umap-learn's inverse_transform (see UMAP_INVERSE)
        grid_codes, inverse = knn_inverse(emb, codes, grid_xy, k=KNN_K), "knn"
    else:
        grid_codes = proj.inverse_transform(grid_xy)  # exact: one batched call
        inverse = {"identity": "exact", "pca": "plane"}[method]
    _, d_test = nearest(train_codes, codes)
    return Atlas(method=method, checkpoint_id=checkpoint_id, codes=codes.astype(np.float32),
                 embedding=emb, train_codes=train_codes.astype(np.float32), grid_xy=grid_xy,
                 grid_codes=np.asarray(grid_codes, np.float32), grid_gap=gap,
                 hole_threshold=float(np.quantile(d_test, 0.95)), inverse=inverse)


def atlas_path(info: CheckpointInfo, method: str) -> Path:
    """Where the atlas of ``info`` and ``method`` is stored: beside a shipped checkpoint, else in
    :func:`cache_dir` under the checkpoint's id (which contains its hash)."""
    if method not in PROJECTORS:
        raise ValueError(f"unknown projection {method!r}")
    if info.shipped:
        return info.path.with_name(f"{info.path.stem}.{method}.npz")
    return cache_dir() / f"{info.id}.{method}.npz"


def save_atlas(atlas: Atlas, path: Path) -> None:
    """Write ``atlas`` as an ``.npz`` of plain arrays, atomically."""
    arrays = {k: np.asarray(v) for k, v in vars(atlas).items()}
    arrays["version"] = np.asarray(ATLAS_VERSION)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; checkpoints are meant to be shared
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_atlas(path: Path, checkpoint_id: str) -> Atlas | None:
    """Read an atlas; ``None`` if missing, unreadable, of another version or checkpoint."""
    try:
        with np.load(path, allow_pickle=False) as f:
            if int(f["version"]) != ATLAS_VERSION or str(f["checkpoint_id"]) != checkpoint_id:
                return None
            d = {k: f[k] for k in f.files if k != "version"}
        for k in ("method", "checkpoint_id", "inverse"):
            d[k] = str(d[k])
        d["hole_threshold"] = float(d["hole_threshold"])
        return Atlas(**d)
    # truncated or corrupt zip, missing or unexpected fields: rebuild rather than crash
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile, zlib.error):
        return None


def get_atlas(info: CheckpointInfo, method: str, codes_fn) -> tuple[Atlas, bool]:
    """Load the stored atlas or build and store it.

    Parameters
    ----------
    info : CheckpointInfo
    method : str
    codes_fn : callable
        ``codes_fn() -> (codes, train_codes)``, called only when the atlas must be built.

    Returns
    -------
    atlas : Atlas
    built : bool
        True if it had to be computed now.
    """
    path = atlas_path(info, method)
    atlas = load_atlas(path, info.id) if path.exists() else None
    if atlas is not None:
        return atlas, False
    codes, train_codes = codes_fn()
    atlas = build_atlas(codes, train_codes, method, info.id)
    try:
        save_atlas(atlas, path)
    except OSError:
        pass  # read-only install: keep it in memory only
    return atlas, True
