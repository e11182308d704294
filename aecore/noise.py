"""Input corruption for denoising autoencoders (Vincent et al., 2008)."""
from __future__ import annotations

import torch

__all__ = ["NOISE_KINDS", "add_noise"]

NOISE_KINDS = ("gaussian", "salt_pepper", "masking")


def add_noise(x: torch.Tensor, kind: str, level: float,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """Corrupt images; the result stays in [0, 1].

    Parameters
    ----------
    x : Tensor of shape (N, C, H, W), float in [0, 1]
    kind : {"gaussian", "salt_pepper", "masking"}
        ``gaussian``: add N(0, level^2) per pixel, then clip. ``salt_pepper``: set a fraction
        ``level`` of pixels to 0 or 1 (half each). ``masking``: set a fraction ``level`` to 0.
    level : float
        Noise standard deviation (gaussian) or corrupted fraction (others), in [0, 1].
    generator : torch.Generator, optional
        Private random source (on ``x``'s device), for reproducible corruption.

    Returns
    -------
    Tensor of shape (N, C, H, W), float in [0, 1]

    Raises
    ------
    ValueError
        Unknown kind or level outside [0, 1].
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise kind must be one of {NOISE_KINDS}, got {kind!r}")
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"noise level must be in [0, 1], got {level}")
    if level == 0.0:
        return x.clone()
    if kind == "gaussian":
        eps = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (x + level * eps).clamp(0.0, 1.0)
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    hit = u < level
    if kind == "masking":
        return x.masked_fill(hit, 0.0)
    salt = u < level / 2  # first half of the hits become white, the rest black
    return torch.where(hit, salt.to(x.dtype), x)
