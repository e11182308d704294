"""The latent map of one model: codes, their 2-D projection and an invertible click grid.

An :class:`Atlas` is computed once per (checkpoint, projection method) and stored as a plain
``.npz`` (no pickles): beside the checkpoint for the shipped models, in a cache folder keyed by
the checkpoint's hash for the others. A page rerun therefore never refits UMAP or t-SNE.

The click grid is a ``grid_n x grid_n`` lattice over the map. Each node carries the latent code
it decodes to, chosen by the projector's declared capabilities (:mod:`aecore.project`):

- ``inverse_is_exact`` (identity, PCA): the inverse is affine, ``z = origin + x u + y v``; the
  atlas stores that plane, so any location decodes exactly (within the plane for PCA);
- ``supports_inverse`` but approximate (UMAP): an inverse-distance-weighted mean of the codes of
  the 10 nearest map points (:func:`knn_inverse`, computed once for the whole grid at build
  time), which recovers held-out codes better than umap-learn's ``inverse_transform`` and
  hundreds of times faster (``bench/umap_inverse.py``; figures in the README);
- no inverse (t-SNE): each node snaps to the code of the nearest embedded point.
"""
from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checkpoints import CheckpointInfo
from .files import atomic_write
from .latent import knn_inverse, nearest
from .project import PROJECTORS, Projector, make_projector

__all__ = ["Atlas", "build_atlas", "knn_inverse", "atlas_path", "load_atlas", "save_atlas",
           "get_atlas", "ATLAS_VERSION"]

ATLAS_VERSION = 2  # 2: the affine inverse is stored (``plane``); 1 had an ``inverse`` string
PAD = 0.12  # grid extends this fraction of the data range beyond the data on each side
KNN_K = 10  # neighbours of the kNN inverse (UMAP grid) and of placing new codes on a map
FAR_CELLS = 2.0  # a grid node is "far from the data" beyond this many grid cells (or the
#                  95th percentile of the points' nearest-neighbour distance, if larger)

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
    plane : ndarray of shape (3, latent_dim), float64
        ``origin, u, v`` of the affine inverse ``z = origin + x u + y v`` when the projector's
        inverse is exact (identity: the unit axes; PCA: the mean code and the two
        components); shape (0, latent_dim) otherwise.
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
    plane: np.ndarray

    @property
    def projector(self) -> type[Projector]:
        """The projector class of :attr:`method`, whose capabilities the map follows."""
        return PROJECTORS[self.method]

    @property
    def inverse_is_exact(self) -> bool:
        """True when a map location decodes exactly (identity; PCA within its plane)."""
        return self.projector.inverse_is_exact

    @property
    def snaps(self) -> bool:
        """True when the projection has no inverse (t-SNE): a location decodes the code of the
        nearest embedded point."""
        return not self.projector.supports_inverse

    @property
    def grid_n(self) -> int:
        """Nodes per axis of the click grid."""
        return int(round(np.sqrt(len(self.grid_xy))))

    def node_at(self, x: float, y: float) -> int:
        """Index of the grid node nearest to the map location (x, y)."""
        return int(np.argmin(((self.grid_xy - [x, y]) ** 2).sum(1)))

    def code_at(self, x: float, y: float) -> tuple[np.ndarray, int]:
        """Latent code for a map location and the grid node nearest to it.

        The same code the app's in-browser map decodes there (``ui/web/latentmap.js``): with
        an exact inverse, :attr:`plane` at (x, y); with an approximate one (UMAP), the grid
        codes interpolated bilinearly between the four nodes around (x, y), so the code
        changes continuously as the location moves; with none (t-SNE), the code of the
        nearest embedded point.

        Returns
        -------
        z : ndarray of shape (latent_dim,)
        node : int
        """
        return self.codes_at(np.array([[x, y]], np.float64))[0], self.node_at(x, y)

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
            With an exact (affine) inverse: the exact positions, the projections of
            ``z - origin`` onto the orthogonal axes ``u`` and ``v`` of :attr:`plane` (the
            identity map returns ``z`` itself; PCA its principal-component scores).
            Otherwise (UMAP, t-SNE: they cannot embed new points cheaply or at all): the
            inverse-distance-weighted mean position of the ``KNN_K`` nearest stored codes
            (:func:`knn_inverse` in the other direction; bench/umap_inverse.py compares it
            with ``umap.transform``).
        exact : bool
        """
        z = np.atleast_2d(np.asarray(z, np.float64))
        if self.inverse_is_exact:
            origin, u, v = self.plane
            return np.c_[(z - origin) @ u / (u @ u), (z - origin) @ v / (v @ v)], True
        return knn_inverse(self.codes, self.embedding, z, k=KNN_K), False

    def codes_at(self, xy: np.ndarray) -> np.ndarray:
        """Latent codes for many map locations (n, 2) -> (n, latent_dim); see :meth:`code_at`."""
        xy = np.atleast_2d(np.asarray(xy, np.float64))
        if self.inverse_is_exact:
            return self._plane_inverse(xy)
        if self.snaps:
            return self.codes[nearest(self.embedding, xy)[0]]
        return self._bilinear(xy)

    def _bilinear(self, xy: np.ndarray) -> np.ndarray:
        """Grid codes interpolated between the 4 nodes around each location (n, 2), clamped
        to the grid; nodes run row-major from the top-left (x rises along a row, y falls)."""
        n, g = self.grid_n, self.grid_xy
        x0, x1, y1, y0 = g[0, 0], g[n - 1, 0], g[0, 1], g[-1, 1]
        fx = np.clip((xy[:, 0] - x0) / (x1 - x0) * (n - 1), 0, n - 1)
        fy = np.clip((y1 - xy[:, 1]) / (y1 - y0) * (n - 1), 0, n - 1)
        c0, r0 = np.minimum(fx.astype(int), n - 2), np.minimum(fy.astype(int), n - 2)
        tx, ty = (fx - c0)[:, None], (fy - r0)[:, None]
        gc = self.grid_codes.astype(np.float64)
        i00 = r0 * n + c0
        top = (1 - tx) * gc[i00] + tx * gc[i00 + 1]
        bottom = (1 - tx) * gc[i00 + n] + tx * gc[i00 + n + 1]
        return ((1 - ty) * top + ty * bottom).astype(np.float32)

    def _plane_inverse(self, xy: np.ndarray) -> np.ndarray:
        """The affine inverse at map locations (n, 2) -> (n, latent_dim) float32:
        ``origin + x u + y v`` (microseconds, so clicks stay fast)."""
        origin, u, v = self.plane
        return (origin + xy[:, :1] * u + xy[:, 1:2] * v).astype(np.float32)


def build_atlas(codes: np.ndarray, train_codes: np.ndarray, method: str, checkpoint_id: str,
                *, grid_n: int = 64, random_state: int = 0) -> Atlas:
    """Fit a projection of ``codes`` (N, latent_dim) and build its click grid.

    Seconds for PCA; UMAP and t-SNE take ~5-40 s (numba compilation on first use).

    Parameters
    ----------
    codes : ndarray of shape (N, latent_dim)
        Codes of the map's images (the model's test split).
    train_codes : ndarray of shape (M, latent_dim)
        Codes of the training images.
    method : str
        A key of :data:`aecore.project.PROJECTORS`.
    checkpoint_id : str
    grid_n : int
        Click-grid nodes per axis (the app chooses it for its chart size).
    random_state : int
        Seed of the projection.

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
    plane = np.zeros((0, codes.shape[1]))
    if proj.inverse_is_exact:  # affine (identity, PCA): one batched call, and the plane
        grid_codes = proj.inverse_transform(grid_xy)
        o, ex, ey = np.asarray(proj.inverse_transform(np.array([[0.0, 0], [1, 0], [0, 1]])),
                               np.float64)
        plane = np.stack([o, ex - o, ey - o])  # (3, latent_dim): origin, u, v
    elif proj.supports_inverse:  # approximate (UMAP): kNN beats umap-learn's inverse_transform
        grid_codes = knn_inverse(emb, codes, grid_xy, k=KNN_K)
    else:  # no inverse (t-SNE): snap to the nearest embedded point
        grid_codes = codes[near_i]
    _, d_test = nearest(train_codes, codes)
    return Atlas(method=method, checkpoint_id=checkpoint_id, codes=codes.astype(np.float32),
                 embedding=emb, train_codes=train_codes.astype(np.float32), grid_xy=grid_xy,
                 grid_codes=np.asarray(grid_codes, np.float32), grid_gap=gap,
                 hole_threshold=float(np.quantile(d_test, 0.95)), plane=plane)


def atlas_path(info: CheckpointInfo, method: str, cache_dir: str | Path | None = None) -> Path:
    """Where the atlas of ``info`` and ``method`` is stored: beside a shipped checkpoint, else in
    ``cache_dir`` under the checkpoint's id (which contains its hash).

    Raises
    ------
    ValueError
        Unknown method, or no ``cache_dir`` for a model that is not shipped.
    """
    if method not in PROJECTORS:
        raise ValueError(f"unknown projection {method!r}")
    if info.shipped:
        return info.path.with_name(f"{info.path.stem}.{method}.npz")
    if cache_dir is None:
        raise ValueError(f"{info.name} is not a shipped model: give a cache_dir for its map")
    return Path(cache_dir) / f"{info.id}.{method}.npz"


def save_atlas(atlas: Atlas, path: Path) -> None:
    """Write ``atlas`` as an ``.npz`` of plain arrays, atomically."""
    arrays = {k: np.asarray(v) for k, v in vars(atlas).items()}
    arrays["version"] = np.asarray(ATLAS_VERSION)
    atomic_write(path, lambda f: np.savez_compressed(f, **arrays))


def _plane_v1(inverse: str, grid_xy: np.ndarray, grid_codes: np.ndarray) -> np.ndarray | None:
    """The ``plane`` of a version-1 atlas, from its ``inverse`` string; None for the
    ``"approximate"`` UMAP maps of earlier releases (rebuilt instead). An exact (affine) grid
    gives the plane from three corners: ``u`` along the bottom row, ``v`` up the left column."""
    d = grid_codes.shape[1]
    if inverse == "exact":
        return np.array([[0.0, 0.0], [1, 0], [0, 1]]) if d == 2 else None  # origin, u, v
    if inverse == "plane":
        g, gz = grid_xy, grid_codes.astype(np.float64)
        n = int(round(np.sqrt(len(g))))
        i0, ix, iy = n * (n - 1), n * n - 1, 0  # bottom-left, bottom-right, top-left
        u = (gz[ix] - gz[i0]) / (g[ix, 0] - g[i0, 0])
        v = (gz[iy] - gz[i0]) / (g[iy, 1] - g[i0, 1])
        return np.stack([gz[i0] - g[i0, 0] * u - g[i0, 1] * v, u, v])
    return np.zeros((0, d)) if inverse in ("knn", "snap") else None


def load_atlas(path: Path, checkpoint_id: str) -> Atlas | None:
    """Read an atlas; ``None`` if missing, unreadable, of an unknown version or another
    checkpoint. Version 1 (the shipped maps) is converted on reading (:func:`_plane_v1`)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            version = int(f["version"])
            if version not in (1, ATLAS_VERSION) or str(f["checkpoint_id"]) != checkpoint_id:
                return None
            d = {k: f[k] for k in f.files if k != "version"}
        for k in ("method", "checkpoint_id"):
            d[k] = str(d[k])
        d["hole_threshold"] = float(d["hole_threshold"])
        if version == 1:
            d["plane"] = _plane_v1(str(d.pop("inverse")), d["grid_xy"], d["grid_codes"])
            if d["plane"] is None:
                return None
        return Atlas(**d)
    # truncated or corrupt zip, missing or unexpected fields: rebuild rather than crash
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile, zlib.error):
        return None


def get_atlas(info: CheckpointInfo, method: str, codes_fn, *, cache_dir: str | Path | None = None,
              grid_n: int = 64) -> tuple[Atlas, bool]:
    """Load the stored atlas or build and store it.

    Parameters
    ----------
    info : CheckpointInfo
    method : str
    codes_fn : callable
        ``codes_fn() -> (codes, train_codes)``, called only when the atlas must be built.
    cache_dir : path, optional
        Folder for the maps of models that are not shipped (see :func:`atlas_path`).
    grid_n : int
        Click-grid nodes per axis of a map built now.

    Returns
    -------
    atlas : Atlas
    built : bool
        True if it had to be computed now.
    """
    path = atlas_path(info, method, cache_dir)
    atlas = load_atlas(path, info.id) if path.exists() else None
    if atlas is not None:
        return atlas, False
    codes, train_codes = codes_fn()
    atlas = build_atlas(codes, train_codes, method, info.id, grid_n=grid_n)
    try:
        save_atlas(atlas, path)
    except OSError:
        pass  # read-only install: keep it in memory only
    return atlas, True
