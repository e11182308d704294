"""A student's drawing as the model's input, and what the encoder makes of it.

The app's drawing pad runs the same steps in the browser (``ui/web/drawpad.js`` mirrors
:func:`normalise` line for line; ``tests/test_draw_browser.py`` checks the two agree):

1. the pad is a square bitmap of ink in [0, 1] (:data:`PAD`, :func:`render_strokes`);
2. :func:`normalise` crops the ink's bounding box, scales it (aspect kept) to the dataset's
   digit box (all 8 pixels of an 8x8 digit; the central 20 of MNIST's 28, as LeCun et al.
   1998 describe MNIST's preprocessing), area-averages it down and rescales the darkest pixel
   to 1;
3. the encoder gives a code (AE) or a posterior N(mu, sigma^2) (VAE), shown on the map as a
   point or as :func:`posterior_ellipse`; the reconstruction error is ranked against the test
   set's errors (:func:`percentile_rank`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import DataError

__all__ = ["PAD", "MAX_PAD", "SUPERSAMPLE", "digit_box", "stroke_width", "render_strokes",
           "check_ink", "normalise", "Ellipse", "posterior_ellipse", "percentile_rank"]

PAD = 112  # side of the pad's ink bitmap in pixels (the browser reads its canvas at this size)
MAX_PAD = 512  # largest ink bitmap accepted from a browser (a forged message is refused)
SUPERSAMPLE = 8  # samples per output pixel side when area-averaging (8 x 8 = 64 per pixel)
INK_MIN = 0.05  # a pad pixel with less ink than this is background when cropping


def digit_box(shape: tuple[int, int]) -> int:
    """Side in pixels of the box a drawing is scaled into: the whole image for images up to
    16 pixels (sklearn's 8x8 digits fill their frame), else 20/28 of it (MNIST: a 20x20 box
    in a 28x28 frame)."""
    h, w = shape
    side = min(h, w)
    return side if side <= 16 else max(1, round(side * 20 / 28))


def stroke_width(shape: tuple[int, int]) -> float:
    """Pen width as a fraction of the pad's side, chosen so that a digit drawn across the pad
    ends with strokes as thick as the dataset's: about 1.6 of 8 pixels for the digits (their
    strokes are ~2 pixels of 8), 2.4 of MNIST's 20-pixel box."""
    box = digit_box(shape)
    return (1.6 if box <= 16 else 2.4) / box


def render_strokes(strokes, size: int = PAD, width: float | None = None,
                   shape: tuple[int, int] = (8, 8)) -> np.ndarray:
    """Ink bitmap of polylines, for tests and scripted drawings (the browser draws with the
    canvas API instead).

    Parameters
    ----------
    strokes : sequence of sequences of (x, y)
        Points in pad units, (0, 0) top left to (1, 1) bottom right.
    size : int
        Side of the bitmap.
    width : float, optional
        Pen width as a fraction of the side (default :func:`stroke_width` of ``shape``).

    Returns
    -------
    ndarray of shape (size, size), float64 in {0, 1}
    """
    r = 0.5 * (stroke_width(shape) if width is None else width) * size
    yy, xx = np.mgrid[0:size, 0:size] + 0.5  # pixel centres
    ink = np.zeros((size, size), bool)
    for stroke in strokes:
        p = np.asarray(stroke, float).reshape(-1, 2) * size
        if len(p) == 1:
            p = np.vstack([p, p])
        for a, b in zip(p[:-1], p[1:]):
            d = b - a
            L = float(d @ d)
            t = np.zeros_like(xx) if L == 0 else \
                np.clip(((xx - a[0]) * d[0] + (yy - a[1]) * d[1]) / L, 0, 1)
            ink |= (xx - a[0] - t * d[0]) ** 2 + (yy - a[1] - t * d[1]) ** 2 <= r * r
    return ink.astype(float)


def check_ink(ink) -> np.ndarray:
    """Validate an ink bitmap that came from a browser (anything can be forged).

    Returns
    -------
    ndarray of shape (S, S), float64 in [0, 1]

    Raises
    ------
    DataError
        Not a square 2-D array of side 8 .. :data:`MAX_PAD`, or values that are not finite
        numbers in [0, 1].
    """
    try:
        a = np.asarray(ink, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"a drawing must be an array of numbers: {exc}") from None
    if a.ndim != 2 or a.shape[0] != a.shape[1] or not 8 <= a.shape[0] <= MAX_PAD:
        raise DataError(f"a drawing must be a square bitmap of side 8 to {MAX_PAD}, "
                        f"got shape {a.shape}")
    if not np.isfinite(a).all() or a.min() < 0 or a.max() > 1:
        raise DataError("a drawing's values must be finite numbers in [0, 1]")
    return a


def normalise(ink, shape: tuple[int, int]) -> np.ndarray:
    """A pad bitmap as the model's input: crop, scale into the digit box, centre, downsample.

    The square around the ink's bounding box (side = its longer edge, aspect kept) is mapped
    onto the centred :func:`digit_box`; each output pixel is the mean of
    :data:`SUPERSAMPLE` x :data:`SUPERSAMPLE` nearest-neighbour samples of the pad (a box
    filter); the result is divided by its maximum so the darkest pixel is 1, like the
    datasets' pen strokes.

    Parameters
    ----------
    ink : array of shape (S, S), float in [0, 1]
        Validated by :func:`check_ink`.
    shape : (H, W)
        The model's image size (8, 8) or (28, 28).

    Returns
    -------
    ndarray of shape (1, H, W), float32 in [0, 1]; all zeros for an empty pad.

    Raises
    ------
    DataError
        From :func:`check_ink`.
    """
    a = check_ink(ink)
    h, w = shape
    out = np.zeros((h, w))
    rows, cols = np.nonzero(a >= INK_MIN)
    if rows.size == 0:
        return out[None].astype(np.float32)
    s = a.shape[0]
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    side = max(r1 - r0, c1 - c0)
    cy, cx = (r0 + r1) / 2, (c0 + c1) / 2  # bounding-box centre, pad pixels
    box = digit_box(shape)
    scale = side / box  # pad pixels per output pixel
    k = SUPERSAMPLE
    for i in range(h):
        for j in range(w):
            acc = 0.0
            for u in range(k):
                py = math.floor(cy + (i + (u + 0.5) / k - h / 2) * scale)
                if py < 0 or py >= s:
                    continue
                for v in range(k):
                    px = math.floor(cx + (j + (v + 0.5) / k - w / 2) * scale)
                    if 0 <= px < s:
                        acc += a[py, px]
            out[i, j] = acc / (k * k)
    top = out.max()
    return (out / top if top > 0 else out)[None].astype(np.float32)


@dataclass(frozen=True)
class Ellipse:
    """A 2-D Gaussian's k-sigma ellipse on the map.

    Attributes
    ----------
    center : (x, y)
        The mean's map position.
    half_axes : (a, b)
        Semi-axes in map units, a >= b (full axes 2a, 2b).
    angle : float
        Direction of the ``a`` axis, radians from the map's x axis.
    """

    center: tuple[float, float]
    half_axes: tuple[float, float]
    angle: float


def posterior_ellipse(mu, logvar, plane=None, k: float = 1.0) -> Ellipse:
    """The ``k``-sigma ellipse of the posterior N(mu, diag(sigma^2)) on a map.

    A linear map of a Gaussian is Gaussian (exact, no sampling): with the map position
    ``p = U (z - o)`` (rows of ``U``: ``u / |u|^2`` and ``v / |v|^2``, as
    :meth:`aecore.atlas.Atlas.project` places codes) the projected covariance is
    ``U diag(sigma^2) U^T``, whose eigenvalues are the squared semi-axes. For a 2-D latent on
    the identity map this is the axis-aligned ellipse with full axes ``2 k sigma_1`` and
    ``2 k sigma_2``.

    Parameters
    ----------
    mu, logvar : array of shape (D,)
        The encoder's outputs (Kingma & Welling 2013, eq. 9: q(z|x) = N(mu, sigma^2 I)).
    plane : array of shape (3, D), optional
        ``origin, u, v`` with ``u, v`` orthogonal (:attr:`aecore.atlas.Atlas.plane`: the
        identity or a PCA plane); default: the identity for D = 2.
    k : float
        How many standard deviations the ellipse spans (1: ~39 % of a 2-D Gaussian's mass).

    Returns
    -------
    Ellipse

    Raises
    ------
    ValueError
        Shapes that disagree, or no plane for D != 2.
    """
    mu = np.asarray(mu, float).ravel()
    var = np.exp(np.asarray(logvar, float).ravel())
    d = mu.size
    if var.size != d:
        raise ValueError(f"mu has {d} values, logvar {var.size}")
    if plane is None:
        if d != 2:
            raise ValueError(f"a {d}-D posterior needs a projection plane")
        plane = np.vstack([np.zeros(2), np.eye(2)])
    plane = np.asarray(plane, float)
    if plane.shape != (3, d):
        raise ValueError(f"plane must have shape (3, {d}), got {plane.shape}")
    U = plane[1:] / (plane[1:] ** 2).sum(1, keepdims=True)  # (2, D)
    c = U @ (mu - plane[0])
    cov = (U * var) @ U.T  # U diag(var) U^T, (2, 2)
    evals, evecs = np.linalg.eigh(cov)  # ascending
    a, b = k * math.sqrt(max(evals[1], 0.0)), k * math.sqrt(max(evals[0], 0.0))
    angle = math.atan2(evecs[1, 1], evecs[0, 1])
    return Ellipse((float(c[0]), float(c[1])), (a, b), angle)


def percentile_rank(errors, value: float) -> float:
    """Percent of ``errors`` strictly below ``value`` (0 .. 100): where a drawing's
    reconstruction error falls among the test set's.

    Raises
    ------
    ValueError
        ``errors`` empty.
    """
    e = np.asarray(errors, float).ravel()
    if e.size == 0:
        raise ValueError("no errors to rank against")
    return float(100.0 * np.count_nonzero(e < value) / e.size)
