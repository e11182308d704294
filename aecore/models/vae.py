"""Gaussian VAE (Kingma & Welling, 2013): encoder -> (mu, logvar), z = mu + sigma * eps,
decoder with sigmoid output, loss = reconstruction + beta * KL (the negative ELBO at beta=1)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from .. import losses
from .base import Autoencoder, LossTerms, ModelConfig, ModelOutput
from .blocks import mlp_decoder, mlp_encoder

__all__ = ["VAEConfig", "VAE", "VariationalMixin", "check_free_bits"]

LOGVAR_MIN, LOGVAR_MAX = -30.0, 20.0  # clamp logvar: exp() overflows float32 above ~88


@dataclass(frozen=True, kw_only=True)
class VAEConfig(ModelConfig):
    """Config of the MLP VAE.

    ``beta`` weights the KL term (beta-VAE, Higgins et al. 2017); 1 gives the ELBO.
    """

    name: ClassVar[str] = "vae"
    beta: float = 1.0  # KL weight: <1 sharper reconstructions, >1 smoother, more regular map
    free_bits: float = 0.0  # nats per latent dimension the KL term does not charge (0: none)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.beta <= 100.0:
            raise ValueError(f"beta must be in [0, 100], got {self.beta}")
        check_free_bits(self.free_bits)


def check_free_bits(free_bits: float) -> None:
    """Raise ``ValueError`` unless ``free_bits`` (nats per latent dimension) is in [0, 10]."""
    if not 0.0 <= free_bits <= 10.0:  # also refuses NaN
        raise ValueError(f"free_bits must be in [0, 10] nats per dimension, got {free_bits}")


class VariationalMixin:
    """The VAE parts shared by the MLP and the convolutional VAE.

    The encoder network outputs ``2 * latent_dim`` values, split into ``mu`` and ``logvar``.
    """

    is_variational: ClassVar[bool] = True

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, C, H, W) in [0, 1] -> (mu, logvar), each (N, latent_dim)."""
        h = self.encoder(x)  # (N, 2 * latent_dim)
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Posterior mean ``mu`` (N, latent_dim): the deterministic code of ``x``."""
        return self.encode(x)[0]

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor,
                       generator: torch.Generator | None = None) -> torch.Tensor:
        """z = mu + exp(logvar / 2) * eps with eps ~ N(0, I), differentiable in mu and logvar.

        References
        ----------
        Kingma & Welling (2013), Section 2.4 (the reparameterization trick).
        """
        if generator is not None and generator.device != mu.device:
            eps = torch.randn(mu.shape, generator=generator).to(mu)
        else:
            eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * eps

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> ModelOutput:
        """Encode, draw one posterior sample ``z`` and decode it."""
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, generator)
        logits = self.decode_logits(z)
        return ModelOutput(x_hat=self.output_fn(logits), logits=logits, z=z, mu=mu,
                           logvar=logvar)

    def loss(self, x: torch.Tensor, out: ModelOutput, beta: float | None = None) -> LossTerms:
        """``recon + beta * KL`` in nats per image; ``beta`` defaults to ``config.beta``.

        With BCE and ``beta = 1`` the total is the negative ELBO (Kingma & Welling 2013, eq. 10).
        With ``config.free_bits = lambda > 0`` the total charges
        ``beta * sum_j max(lambda, mean_batch KL_j)`` instead (free bits, Kingma et al. 2016;
        :func:`aecore.losses.free_bits_kl`); ``kl`` always reports the true KL.
        """
        b = self.config.beta if beta is None else float(beta)
        recon = losses.reconstruction(x, out.logits, self.config.recon_loss, self.config.output)
        kl = losses.gaussian_kl(out.mu, out.logvar)  # Kingma & Welling (2013), Appendix B
        fb = float(getattr(self.config, "free_bits", 0.0))
        charged = losses.free_bits_kl(out.mu, out.logvar, fb) if fb > 0 else kl
        return LossTerms(total=recon + b * charged, recon=recon, kl=kl, beta=b)

    def sample(self, n: int, generator: torch.Generator | None = None,
               temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``z ~ N(0, temperature^2 I)`` from the prior and decode.

        Returns
        -------
        z : Tensor of shape (n, latent_dim)
        x : Tensor of shape (n, C, H, W), float in [0, 1]
        """
        z = temperature * self._randn(n, generator)
        return z, self.decode(z)


class VAE(VariationalMixin, Autoencoder):
    """MLP Gaussian VAE.

    Parameters
    ----------
    config : VAEConfig
    """

    def __init__(self, config: VAEConfig):
        super().__init__(config)
        c = config
        self.encoder = mlp_encoder(c.input_shape, c.hidden, 2 * c.latent_dim, c.dropout,
                                   c.activation, c.norm)
        self.decoder = mlp_decoder(c.latent_dim, c.hidden, c.input_shape, c.dropout,
                                   c.activation, c.norm)
