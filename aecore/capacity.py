"""Bottleneck size and memorisation: the copy test and the numbers of a bottleneck sweep.

An undercomplete autoencoder (``latent_dim < C*H*W``) must compress, so it can only reproduce
inputs that look like its training data. An overcomplete one (``latent_dim >= C*H*W``) has room
to learn the identity map and then copies anything, noise included, which means it learned
nothing about the data (Goodfellow et al. 2016, Section 14.1). The *copy test* feeds inputs
that are not digits through a model and measures how much of them comes back.

References
----------
Goodfellow, I., Bengio, Y. & Courville, A. (2016). Deep Learning, Sections 14.1-14.2. MIT Press.
Rifai, S. et al. (2011). Contractive auto-encoders: explicit invariance during feature
extraction. ICML.
Vincent, P. et al. (2008). Extracting and composing robust features with denoising autoencoders.
ICML.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .data import Dataset
from .device import make_generator
from .models.base import Autoencoder
from .noise import add_noise
from .train import evaluate

__all__ = ["NOISE_STD", "PROBES", "probe_inputs", "letter_strokes", "noise_copy_score",
           "CopyResult", "copy_test", "sweep_errors"]

NOISE_STD = 0.3  # std of the Gaussian noise of the noise-copy score (pixels in [0, 1])
# the copy test's inputs, in display order; "digits" are real test images (the reference)
PROBES = ("digits", "uniform noise", "shifted digit", "inverted digit", "letter stroke")

# letter-like strokes as line segments in a unit square (x right, y down): not digits
_LETTERS: dict[str, list[tuple[float, float, float, float]]] = {
    "A": [(0.15, 0.9, 0.5, 0.1), (0.5, 0.1, 0.85, 0.9), (0.3, 0.6, 0.7, 0.6)],
    "T": [(0.1, 0.15, 0.9, 0.15), (0.5, 0.15, 0.5, 0.9)],
    "H": [(0.2, 0.1, 0.2, 0.9), (0.8, 0.1, 0.8, 0.9), (0.2, 0.5, 0.8, 0.5)],
    "X": [(0.15, 0.1, 0.85, 0.9), (0.85, 0.1, 0.15, 0.9)],
    "K": [(0.2, 0.1, 0.2, 0.9), (0.8, 0.1, 0.2, 0.55), (0.4, 0.45, 0.85, 0.9)],
}


def letter_strokes(n: int, shape: tuple[int, int, int], width: float = 0.09) -> torch.Tensor:
    """``n`` letter-like stroke images (A, T, H, X, K in turn), drawn anti-aliased.

    Parameters
    ----------
    n : int
        Number of images, >= 1.
    shape : (C, H, W)
        Image shape; every channel gets the same strokes.
    width : float
        Stroke half-width as a fraction of the image side.

    Returns
    -------
    Tensor of shape (n, C, H, W), float in [0, 1] (1 on the stroke).

    Raises
    ------
    ValueError
        If ``n < 1``.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    c, h, w = shape
    ss = 4  # supersampling: draw on a 4x finer grid, then average each 4x4 block
    ys, xs = np.meshgrid((np.arange(h * ss) + 0.5) / (h * ss), (np.arange(w * ss) + 0.5) / (w * ss),
                         indexing="ij")
    out = np.zeros((n, c, h, w), dtype=np.float32)
    letters = list(_LETTERS.values())
    for i in range(n):
        d = np.full(ys.shape, np.inf)
        for x0, y0, x1, y1 in letters[i % len(letters)]:
            vx, vy = x1 - x0, y1 - y0
            t = np.clip(((xs - x0) * vx + (ys - y0) * vy) / (vx * vx + vy * vy), 0, 1)
            d = np.minimum(d, np.hypot(xs - x0 - t * vx, ys - y0 - t * vy))
        fine = (d <= width).astype(np.float32)
        out[i, :] = fine.reshape(h, ss, w, ss).mean((1, 3))
    return torch.from_numpy(out)


def probe_inputs(digits: torch.Tensor, n: int = 8, seed: int = 0) -> dict[str, torch.Tensor]:
    """The copy test's inputs, built from ``n`` test digits.

    Parameters
    ----------
    digits : Tensor of shape (N, C, H, W), float in [0, 1], N >= 1
        Real test images; the first ``n`` are used (repeated when N < n).
    n : int
        Images per probe, >= 1.
    seed : int
        Seeds the uniform noise.

    Returns
    -------
    dict mapping each name of :data:`PROBES` to a tensor (n, C, H, W) in [0, 1]:
    ``digits`` (the images themselves), ``uniform noise`` (each pixel ~ U[0, 1]),
    ``shifted digit`` (moved right by a quarter of the width, zeros shifted in), ``inverted
    digit`` (``1 - x``) and ``letter stroke`` (:func:`letter_strokes`).

    Raises
    ------
    ValueError
        If ``digits`` is empty or not 4-D, or ``n < 1``.
    """
    if digits.ndim != 4 or len(digits) == 0 or n < 1:
        raise ValueError(f"need digits (N>=1, C, H, W) and n >= 1, got {tuple(digits.shape)}, {n}")
    x = digits[torch.arange(n) % len(digits)].float()
    shift = max(1, x.shape[-1] // 4)
    shifted = torch.zeros_like(x)
    shifted[..., shift:] = x[..., :-shift]
    noise = torch.rand(x.shape, generator=make_generator(seed))
    return {"digits": x, "uniform noise": noise, "shifted digit": shifted,
            "inverted digit": 1 - x, "letter stroke": letter_strokes(n, tuple(x.shape[1:]))}


def noise_copy_score(clean: torch.Tensor, noisy: torch.Tensor, out_clean: torch.Tensor,
                     out_noisy: torch.Tensor) -> float:
    """How much of a change to the input comes out of the model: the *noise-copy score*.

    ``s = sum <f(x~) - f(x), x~ - x> / sum ||x~ - x||^2``

    for clean images ``x``, noisy copies ``x~`` and the model's reconstruction ``f``. It is the
    average gain of ``f`` along the noise: 1 for the identity map (the noise is copied to the
    output), 0 for a model whose output does not follow the noise (it answers with what it
    knows of the data), between them for a partial copy. It is a finite-difference version of
    the sensitivity ``||J_f(x)||`` that contractive autoencoders penalise (Rifai et al. 2011);
    the model's own error on the clean image cancels out.

    Parameters
    ----------
    clean, noisy, out_clean, out_noisy : Tensor of the same shape (N, C, H, W)
        ``x``, ``x~`` (in [0, 1]), ``f(x)`` and ``f(x~)``.

    Returns
    -------
    float (unitless; can exceed 1 for a model that amplifies the noise, or be negative).

    Raises
    ------
    ValueError
        If the shapes differ or ``noisy`` equals ``clean``.
    """
    shapes = {tuple(t.shape) for t in (clean, noisy, out_clean, out_noisy)}
    if len(shapes) != 1:
        raise ValueError(f"all four tensors must have one shape, got {sorted(shapes)}")
    d_in = (noisy - clean).double()
    ref = float((d_in ** 2).sum())
    if ref == 0:
        raise ValueError("noisy equals clean: there is no noise to copy")
    return float(((out_noisy - out_clean).double() * d_in).sum()) / ref


@dataclass(frozen=True)
class CopyResult:
    """One model's copy test.

    Attributes
    ----------
    outputs : dict name -> ndarray (n, C, H, W) float in [0, 1]
        Reconstructions of each probe of :func:`probe_inputs`.
    errors : dict name -> float
        Mean summed squared error per image, ``mean_n sum_pixels (x_hat - x)^2``.
    score : float
        :func:`noise_copy_score` with Gaussian noise of std ``NOISE_STD`` added to the
        digits (clipped to [0, 1]).
    """

    outputs: dict[str, np.ndarray]
    errors: dict[str, float]
    score: float

    @property
    def noise_to_digit(self) -> float:
        """Error on uniform noise divided by error on digits (large: noise is not copied)."""
        return self.errors["uniform noise"] / max(self.errors["digits"], 1e-12)


@torch.no_grad()
def copy_test(model: Autoencoder, probes: dict[str, torch.Tensor], seed: int = 0,
              score_on: torch.Tensor | None = None) -> CopyResult:
    """Run the probes (from :func:`probe_inputs`) through ``model``'s deterministic
    reconstruction ``decode(embed(x))`` (eval mode; ``mu`` for a VAE), and score how much
    Gaussian noise (std ``NOISE_STD``, seeded by ``seed``) added to clean images it copies
    (:func:`noise_copy_score`).

    Parameters
    ----------
    model : Autoencoder
    probes : dict name -> Tensor (n, C, H, W) in [0, 1]
        Must include ``"digits"`` and ``"uniform noise"``.
    seed : int
        Seeds the score's noise.
    score_on : Tensor (N, C, H, W), optional
        Clean images the score adds noise to (default ``probes["digits"]``; more images give
        a steadier score).

    Raises
    ------
    ValueError
        If a probe's image shape is not the model's ``input_shape``, or probes lack
        ``"digits"`` or ``"uniform noise"``.
    """
    if not {"digits", "uniform noise"} <= set(probes):
        raise ValueError("probes must include 'digits' and 'uniform noise'")
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    outputs, errors = {}, {}
    for name, x in probes.items():
        if tuple(x.shape[1:]) != tuple(model.config.input_shape):
            raise ValueError(f"probe {name!r} has images {tuple(x.shape[1:])}, the model "
                             f"expects {model.config.input_shape}")
        x_hat = model.reconstruct(x.to(dev)).cpu()
        outputs[name] = x_hat.numpy()
        errors[name] = float(((x_hat - x) ** 2).flatten(1).sum(1).mean())
    clean = probes["digits"] if score_on is None else score_on
    noisy = add_noise(clean, "gaussian", NOISE_STD, make_generator(seed))
    score = noise_copy_score(clean, noisy, model.reconstruct(clean.to(dev)).cpu(),
                             model.reconstruct(noisy.to(dev)).cpu())
    model.train(was)
    return CopyResult(outputs, errors, score)


def sweep_errors(model: Autoencoder, train: Dataset, test: Dataset) -> tuple[float, float]:
    """Reconstruction error of ``model`` on its training and test images: the mean ``recon``
    term of :func:`aecore.train.evaluate` (nats per image for BCE, summed squared error for
    MSE), as (train, test). A gap between them is overfitting; both falling as ``latent_dim``
    grows is the bottleneck letting more through."""
    return evaluate(model, train)["recon"], evaluate(model, test)["recon"]
