"""Deterministic autoencoder: x -> encoder -> z -> decoder -> x_hat (sigmoid output)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from .. import losses
from .base import Autoencoder, LossTerms, ModelConfig, ModelOutput
from .blocks import mlp_decoder, mlp_encoder

__all__ = ["AEConfig", "AE"]


@dataclass(frozen=True, kw_only=True)
class AEConfig(ModelConfig):
    """Config of the MLP autoencoder (the fields of :class:`ModelConfig` plus ``sparsity``).

    Raises
    ------
    ValueError
        From ``__post_init__``, naming the field and its allowed range.
    """

    name: ClassVar[str] = "ae"
    sparsity: float = 0.0  # weight of the L1 penalty on the code z (a sparse AE); 0: none

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (0.0 <= self.sparsity <= 10.0):  # also refuses NaN
            raise ValueError(f"sparsity must be in [0, 10], got {self.sparsity}")


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

    def loss(self, x: torch.Tensor, out: ModelOutput, beta: float | None = None) -> LossTerms:
        """Reconstruction loss plus ``sparsity * mean_n ||z_n||_1`` (a sparse autoencoder,
        Goodfellow et al. 2016, Section 14.2.1: L(x, g(f(x))) + Omega(h)).

        ``recon`` is the reconstruction term alone (nats per image for BCE); ``total`` adds the
        penalty (:func:`aecore.losses.l1_code`), so with ``sparsity = 0`` it is the plain AE
        loss; ``kl`` is 0.
        """
        terms = super().loss(x, out, beta)
        w = float(getattr(self.config, "sparsity", 0.0))
        if w > 0:
            terms.total = terms.recon + w * losses.l1_code(out.z)
        return terms
