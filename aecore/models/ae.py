"""Deterministic autoencoder: x -> encoder -> z -> decoder -> x_hat (sigmoid output)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .base import Autoencoder, ModelConfig
from .blocks import mlp_decoder, mlp_encoder

__all__ = ["AEConfig", "AE"]


@dataclass(frozen=True, kw_only=True)
class AEConfig(ModelConfig):
    """Config of the MLP autoencoder (all fields from :class:`ModelConfig`)."""

    name: ClassVar[str] = "ae"


class AE(Autoencoder):
    """MLP autoencoder trained on reconstruction loss alone.

    Parameters
    ----------
    config : AEConfig

    Notes
    -----
    ``encode(x)`` maps (N, C, H, W) in [0, 1] to ``z`` (N, latent_dim); nothing pulls the codes
    towards any prior, so the latent space can have holes the decoder never saw in training.
    """

    def __init__(self, config: AEConfig):
        super().__init__(config)
        c = config
        self.encoder = mlp_encoder(c.input_shape, c.hidden, c.latent_dim, c.dropout,
                                   c.activation, c.norm)
        self.decoder = mlp_decoder(c.latent_dim, c.hidden, c.input_shape, c.dropout,
                                   c.activation, c.norm)
