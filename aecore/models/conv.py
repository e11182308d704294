"""Convolutional AE and VAE: stride-2 convolutions down, transposed convolutions up.

Made for 28x28 images (28 -> 14 -> 7); any H and W divisible by ``2 ** len(channels)`` works.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .base import Autoencoder, ModelConfig
from .blocks import conv_decoder, conv_encoder
from .vae import VariationalMixin, check_free_bits

__all__ = ["ConvAEConfig", "ConvAE", "ConvVAEConfig", "ConvVAE"]


@dataclass(frozen=True, kw_only=True)
class ConvAEConfig(ModelConfig):
    """Config of the convolutional AE.

    ``hidden[0]`` is the width of the one dense layer between the convolutions and z; further
    widths are accepted but not used (so the MLP widths of the Train page fit a conv model too).
    """

    name: ClassVar[str] = "conv_ae"
    input_shape: tuple[int, int, int] = (1, 28, 28)  # (C, H, W)
    hidden: tuple[int, ...] = (256,)  # hidden[0]: width of the dense layer; the rest unused
    channels: tuple[int, ...] = (32, 64)  # conv channels; each layer halves H and W

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.is_tabular:
            raise ValueError(f"input_shape must be (C, H, W) for a convolutional model, got "
                             f"{self.input_shape}: use an MLP model for feature vectors")
        object.__setattr__(self, "channels", tuple(int(v) for v in self.channels))
        s = 2 ** len(self.channels)
        if not 1 <= len(self.channels) <= 4 or any(not 1 <= c <= 512 for c in self.channels):
            raise ValueError(f"channels must be 1 to 4 counts in [1, 512], got {self.channels}")
        if self.input_shape[1] % s or self.input_shape[2] % s:
            raise ValueError(f"input H and W must be divisible by {s} for {len(self.channels)} "
                             f"conv layers, got {self.input_shape}")
        if self.norm == "layernorm":
            raise ValueError("norm must be 'none' or 'batchnorm' for a conv model, got "
                             "'layernorm'")

    def to_dict(self):
        """JSON-ready dict including ``channels``."""
        d = super().to_dict()
        d["channels"] = list(self.channels)
        return d


@dataclass(frozen=True, kw_only=True)
class ConvVAEConfig(ConvAEConfig):
    """Config of the convolutional VAE (adds ``beta`` and ``free_bits``, as :class:`VAEConfig`)."""

    name: ClassVar[str] = "conv_vae"
    beta: float = 1.0  # KL weight (beta-VAE); 1 gives the ELBO
    free_bits: float = 0.0  # nats per latent dimension the KL term does not charge (0: none)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.beta <= 100.0:
            raise ValueError(f"beta must be in [0, 100], got {self.beta}")
        check_free_bits(self.free_bits)


class ConvAE(Autoencoder):
    """Convolutional autoencoder. ``config``: :class:`ConvAEConfig`."""

    def __init__(self, config: ConvAEConfig):
        super().__init__(config)
        c = config
        self.encoder = conv_encoder(c.input_shape, c.channels, c.hidden[0], c.latent_dim, c.dropout,
                                    c.activation, c.norm)
        self.decoder = conv_decoder(c.latent_dim, c.channels, c.hidden[0], c.input_shape, c.dropout,
                                    c.activation, c.norm)

    def layer_sizes(self):
        """(label, width) per layer; conv layers are given as channels x H x W values."""
        c = self.config
        h, w = c.input_shape[1:]
        enc = [("input", c.input_dim)]
        for i, ch in enumerate(c.channels):
            h, w = h // 2, w // 2
            enc.append((f"conv {i + 1}", ch * h * w))
        enc.append(("dense", c.hidden[0]))
        dec = [(lab.replace("conv", "deconv"), n) for lab, n in reversed(enc[1:])]
        return enc + [("z", c.latent_dim)] + dec + [("output", c.input_dim)]


class ConvVAE(VariationalMixin, ConvAE):
    """Convolutional Gaussian VAE. ``config``: :class:`ConvVAEConfig`."""

    def __init__(self, config: ConvVAEConfig):
        Autoencoder.__init__(self, config)
        c = config
        self.encoder = conv_encoder(c.input_shape, c.channels, c.hidden[0], 2 * c.latent_dim,
                                    c.dropout, c.activation, c.norm)
        self.decoder = conv_decoder(c.latent_dim, c.channels, c.hidden[0], c.input_shape, c.dropout,
                                    c.activation, c.norm)
