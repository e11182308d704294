"""Denoising autoencoder (Vincent et al., 2008): trained to map a corrupted input back to the
clean image, which forces it to learn the structure of the data instead of copying pixels."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from ..noise import NOISE_KINDS, add_noise
from .ae import AE
from .base import ModelConfig

__all__ = ["DAEConfig", "DAE"]


@dataclass(frozen=True, kw_only=True)
class DAEConfig(ModelConfig):
    """Config of the MLP denoising autoencoder."""

    name: ClassVar[str] = "dae"
    noise: str = "gaussian"  # corruption: "gaussian", "salt_pepper" or "masking"
    noise_level: float = 0.3  # std of Gaussian noise, or fraction of corrupted pixels

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.noise not in NOISE_KINDS:
            raise ValueError(f"noise must be one of {NOISE_KINDS}, got {self.noise!r}")
        if not 0.0 <= self.noise_level <= 1.0:
            raise ValueError(f"noise_level must be in [0, 1], got {self.noise_level}")
        if self.output != "sigmoid":  # add_noise clips to [0, 1] and salts with 0 and 1
            raise ValueError("the denoising AE's noise is made for pixels in [0, 1]; output "
                             f"{self.output!r} (standardised features) cannot use it")


class DAE(AE):
    """MLP AE whose training input is corrupted by :func:`aecore.noise.add_noise`; the loss
    compares the output with the clean image.

    Parameters
    ----------
    config : DAEConfig
    """

    def corrupt(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Corrupted copy of ``x`` (N, C, H, W) in [0, 1], same shape and range."""
        return add_noise(x, self.config.noise, self.config.noise_level, generator)
