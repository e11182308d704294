"""Shared pieces of every model: the config base class, output dataclasses and the
:class:`Autoencoder` interface (encode, decode, embed, forward, loss, sample)."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from .. import losses
from .blocks import ACTIVATIONS, NORMS

__all__ = ["ModelConfig", "ModelOutput", "LossTerms", "Autoencoder"]

MAX_PIXELS = 64 * 64  # per channel of an RGB image: inputs hold at most 3 * 4096 = 12,288 values
# decoder output: "sigmoid" for pixels in [0, 1]; "identity" for standardised features (tabular
# data, unbounded), which needs the MSE loss (a Bernoulli likelihood needs probabilities)
OUTPUTS = ("sigmoid", "identity")


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Fields shared by all models. Subclasses add their own and set ``name``.

    Raises
    ------
    ValueError
        From ``__post_init__``, naming the field and its allowed range.
    """

    name: ClassVar[str] = "base"
    input_shape: tuple[int, ...] = (1, 8, 8)  # (C, H, W) of one image, or (D,) of a feature vector
    latent_dim: int = 2  # size of the bottleneck z; 2 lets the map show z directly
    hidden: tuple[int, ...] = (256, 128)  # encoder layer widths; the decoder mirrors them
    recon_loss: str = "bce"  # "bce" (Bernoulli NLL, nats) or "mse" (summed squared error)
    dropout: float = 0.0  # dropout probability after each hidden layer (a regulariser)
    activation: str = "relu"  # hidden-layer nonlinearity, one of blocks.ACTIVATIONS
    norm: str = "none"  # normalisation after each hidden layer, one of blocks.NORMS
    # "sigmoid": x_hat in [0, 1] (images); "identity": x_hat = decoder output, for standardised
    # features (needs recon_loss "mse" and a flat (D,) input). Checkpoints saved before this
    # field existed have no "output" key and load as "sigmoid", which is what they were.
    output: str = "sigmoid"

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", tuple(int(v) for v in self.input_shape))
        object.__setattr__(self, "hidden", tuple(int(v) for v in self.hidden))
        shape = self.input_shape
        if len(shape) not in (1, 3) or min(shape) < 1 or math.prod(shape) > MAX_PIXELS * 3:
            raise ValueError(f"input_shape must be (C, H, W) or (D,) with at most "
                             f"{MAX_PIXELS * 3} values in all, got {self.input_shape}")
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {self.output!r}")
        if self.output == "identity" and (self.recon_loss != "mse" or len(shape) != 1):
            raise ValueError("output 'identity' (standardised features) needs recon_loss 'mse' "
                             f"and a flat input_shape (D,), got recon_loss {self.recon_loss!r} "
                             f"and input_shape {shape}")
        if not 2 <= self.latent_dim <= 128:
            raise ValueError(f"latent_dim must be in [2, 128], got {self.latent_dim}")
        if not self.hidden or any(not 1 <= n <= 4096 for n in self.hidden) or len(self.hidden) > 6:
            raise ValueError(f"hidden must be 1 to 6 widths in [1, 4096], got {self.hidden}")
        if self.recon_loss not in losses.RECON_LOSSES:
            raise ValueError(f"recon_loss must be one of {losses.RECON_LOSSES}, "
                             f"got {self.recon_loss!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {self.norm!r}")

    @property
    def input_dim(self) -> int:
        """Number of input values C * H * W."""
        return math.prod(self.input_shape)

    @property
    def is_tabular(self) -> bool:
        """Whether inputs are flat feature vectors (D,) rather than images (C, H, W)."""
        return len(self.input_shape) == 1

    @property
    def completeness(self) -> str:
        """``"undercomplete"`` if ``latent_dim < input_dim``, else ``"overcomplete"``."""
        return "undercomplete" if self.latent_dim < self.input_dim else "overcomplete"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, including ``"model"`` (the registry name)."""
        d = dataclasses.asdict(self)
        d["input_shape"] = list(self.input_shape)
        d["hidden"] = list(self.hidden)
        return {"model": self.name, **d}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        d = {k: v for k, v in d.items() if k != "model"}
        known = {f.name for f in dataclasses.fields(cls)}
        extra = set(d) - known
        if extra:
            raise ValueError(f"unknown {cls.__name__} fields: {sorted(extra)}")
        for key in ("input_shape", "hidden", "channels"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)


@dataclass
class ModelOutput:
    """What :meth:`Autoencoder.forward` returns.

    Attributes
    ----------
    x_hat : Tensor of shape (N, C, H, W) or (N, D)
        Reconstruction: ``sigmoid(logits)`` in [0, 1], or ``logits`` itself for a model with
        ``output="identity"`` (standardised features).
    logits : Tensor of the same shape
        Decoder output before the output function.
    z : Tensor of shape (N, latent_dim)
        Code that was decoded (a posterior sample for a VAE).
    mu, logvar : Tensor of shape (N, latent_dim) or None
        Posterior parameters (VAE only).
    """

    x_hat: torch.Tensor
    logits: torch.Tensor
    z: torch.Tensor
    mu: torch.Tensor | None = None
    logvar: torch.Tensor | None = None


@dataclass
class LossTerms:
    """Named loss terms, each a scalar tensor in nats per image (batch mean).

    ``total = recon + beta * kl``; for a VAE with ``beta = 1`` that is the negative ELBO.
    """

    total: torch.Tensor
    recon: torch.Tensor
    kl: torch.Tensor
    beta: float = 0.0

    def item(self) -> dict[str, float]:
        """The terms as plain floats."""
        return {k: float(getattr(self, k).detach()) for k in ("total", "recon", "kl")}


class Autoencoder(nn.Module):
    """Base class: subclasses set ``self.encoder`` / ``self.decoder`` and override what differs.

    Every model also carries a Gaussian fitted to its training codes (``code_mean``,
    ``code_scale_tril``, set by :meth:`fit_code_gaussian`), which a plain AE samples from: it has
    no prior of its own.
    """

    config: ModelConfig
    is_variational: ClassVar[bool] = False

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        k = config.latent_dim
        self.register_buffer("code_mean", torch.zeros(k))
        self.register_buffer("code_scale_tril", torch.eye(k))

    # -- the interface -------------------------------------------------------------------
    def encode(self, x: torch.Tensor):
        """Encode images ``x`` (N, C, H, W) in [0, 1]: ``z`` (N, latent_dim) for an AE."""
        return self.encoder(x)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """(N, latent_dim) -> (N, C, H, W) logits (before the sigmoid)."""
        return self.decoder(z)

    def output_fn(self, logits: torch.Tensor) -> torch.Tensor:
        """Decoder output from logits: ``sigmoid`` (pixels in [0, 1]) or the identity
        (standardised features), as ``config.output`` says."""
        return logits if self.config.output == "identity" else torch.sigmoid(logits)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decode codes ``z`` (N, latent_dim) to images (N, C, H, W), float in [0, 1], or to
        feature vectors (N, D) (unbounded with ``output="identity"``)."""
        return self.output_fn(self.decode_logits(z))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Deterministic code of ``x`` (N, C, H, W): ``z`` for an AE, ``mu`` for a VAE."""
        return self.encode(x)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Deterministic reconstruction ``decode(embed(x))``, shape of ``x``, in [0, 1]."""
        return self.decode(self.embed(x))

    def corrupt(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Input corruption applied in training (identity except for denoising models)."""
        return x

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> ModelOutput:
        """Encode then decode ``x`` (N, C, H, W) in [0, 1], or (N, D) features."""
        z = self.encode(x)
        logits = self.decode_logits(z)
        return ModelOutput(x_hat=self.output_fn(logits), logits=logits, z=z)

    def loss(self, x: torch.Tensor, out: ModelOutput, beta: float | None = None) -> LossTerms:
        """Reconstruction loss of ``out`` against clean targets ``x`` (N, C, H, W), in nats per
        image (BCE) or summed squared error per image (MSE); ``kl`` is 0 for an AE."""
        recon = losses.reconstruction(x, out.logits, self.config.recon_loss, self.config.output)
        zero = recon.new_zeros(())
        return LossTerms(total=recon, recon=recon, kl=zero, beta=0.0)

    def sample(self, n: int, generator: torch.Generator | None = None,
               temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``n`` codes from the model's generative distribution and decode them.

        For an AE that is the Gaussian fitted to its training codes,
        ``z = code_mean + temperature * L eps`` with ``eps ~ N(0, I)``.

        Returns
        -------
        z : Tensor of shape (n, latent_dim)
        x : Tensor of shape (n, C, H, W), float in [0, 1]
        """
        eps = self._randn(n, generator)
        z = self.code_mean + temperature * eps @ self.code_scale_tril.T
        return z, self.decode(z)

    # -- helpers -------------------------------------------------------------------------
    def _randn(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        """(n, latent_dim) standard normal draws on the model's device."""
        dev = self.code_mean.device
        if generator is not None and generator.device != dev:
            return torch.randn(n, self.config.latent_dim, generator=generator).to(dev)
        return torch.randn(n, self.config.latent_dim, generator=generator, device=dev)

    @torch.no_grad()
    def fit_code_gaussian(self, z: torch.Tensor) -> None:
        """Fit ``code_mean`` and ``code_scale_tril`` (Cholesky factor of the covariance) to
        training codes ``z`` of shape (N, latent_dim)."""
        z = z.to(self.code_mean)
        k = z.shape[1]
        if len(z) < 2 or not torch.isfinite(z).all():
            return  # nothing sensible to fit: keep the current Gaussian
        mean = z.mean(0)
        cov = torch.cov(z.T).reshape(k, k)
        cov = cov + 1e-6 * cov.diagonal().mean().clamp_min(1e-6) * torch.eye(k, device=z.device)
        tril, info = torch.linalg.cholesky_ex(cov)  # info > 0: not positive definite
        if int(info) != 0:
            tril = torch.diag(cov.diagonal().clamp_min(1e-12).sqrt())  # fall back to diagonal
        self.code_mean.copy_(mean)
        self.code_scale_tril.copy_(tril)

    def layer_sizes(self) -> list[tuple[str, int]]:
        """(label, width) of each layer from input to output, for the model diagram."""
        c = self.config
        enc = [("input", c.input_dim)] + [(f"enc {i + 1}", h) for i, h in enumerate(c.hidden)]
        dec = [(f"dec {i + 1}", h) for i, h in enumerate(reversed(c.hidden))]
        return enc + [("z", c.latent_dim)] + dec + [("output", c.input_dim)]
