"""Encoder and decoder builders shared by the models (MLP and convolutional).

Every hidden layer is ``Linear (or conv) -> [norm] -> activation [-> Dropout]``. The activation
and the normalisation are config fields (:data:`ACTIVATIONS`, :data:`NORMS`); the defaults
(``"relu"``, ``"none"``) build exactly the layers, and so the ``state_dict`` keys, that models had
before these fields existed, so old checkpoints load unchanged.
"""
from __future__ import annotations

import math

from torch import nn

__all__ = ["ACTIVATIONS", "NORMS", "activation", "mlp_encoder", "mlp_decoder", "conv_encoder",
           "conv_decoder"]

# hidden-layer nonlinearities; leaky_relu uses PyTorch's default slope 0.01
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "gelu")
# normalisation after each hidden Linear/conv: BatchNorm (Ioffe & Szegedy 2015) or LayerNorm
# (Ba et al. 2016)
NORMS = ("none", "batchnorm", "layernorm")


def activation(name: str) -> nn.Module:
    """The module of activation ``name`` (one of :data:`ACTIVATIONS`).

    ``gelu`` is the exact (erf) GELU, x * Phi(x) (Hendrycks & Gimpel 2016).

    Raises
    ------
    ValueError
        Unknown name (the message lists the known ones).
    """
    mods = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh,
            "sigmoid": nn.Sigmoid, "gelu": nn.GELU}
    if name not in mods:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")
    return mods[name]()


def _norm(kind: str, width: int, conv: bool = False) -> list[nn.Module]:
    """[] for ``"none"``, else one BatchNorm1d/2d or LayerNorm over ``width`` features.

    LayerNorm after a convolution would normalise over (C, H, W); conv layers take BatchNorm2d
    only (the config refuses ``layernorm`` for conv models)."""
    if kind == "none":
        return []
    if kind == "batchnorm":
        return [nn.BatchNorm2d(width) if conv else nn.BatchNorm1d(width)]
    if kind == "layernorm" and not conv:
        return [nn.LayerNorm(width)]
    raise ValueError(f"norm must be one of {NORMS} (conv layers: none or batchnorm), got {kind!r}")


def _mlp(widths: list[int], dropout: float, act: str = "relu", norm: str = "none"
         ) -> list[nn.Module]:
    """Linear -> [norm] -> activation (-> Dropout) for each consecutive pair of widths."""
    layers: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), *_norm(norm, b), activation(act)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return layers


def mlp_encoder(input_shape: tuple[int, ...], hidden: tuple[int, ...], out_dim: int,
                dropout: float = 0.0, act: str = "relu", norm: str = "none") -> nn.Sequential:
    """(N, C, H, W) or (N, D) -> (N, out_dim) through hidden layers of widths ``hidden``
    (activation ``act``, normalisation ``norm``); the last Linear (to the code) has no
    activation."""
    widths = [math.prod(input_shape), *hidden]
    return nn.Sequential(nn.Flatten(), *_mlp(widths, dropout, act, norm),
                         nn.Linear(widths[-1], out_dim))


def mlp_decoder(latent_dim: int, hidden: tuple[int, ...], input_shape: tuple[int, ...],
                dropout: float = 0.0, act: str = "relu", norm: str = "none") -> nn.Sequential:
    """(N, latent_dim) -> (N, C, H, W) (or (N, D)) logits through ``reversed(hidden)`` hidden
    layers."""
    widths = [latent_dim, *reversed(hidden)]
    return nn.Sequential(*_mlp(widths, dropout, act, norm),
                         nn.Linear(widths[-1], math.prod(input_shape)),
                         nn.Unflatten(1, tuple(input_shape)))


def conv_encoder(input_shape: tuple[int, int, int], channels: tuple[int, ...], fc: int,
                 out_dim: int, dropout: float = 0.0, act: str = "relu", norm: str = "none"
                 ) -> nn.Sequential:
    """(N, C, H, W) -> (N, out_dim): stride-2 4x4 convolutions (each halves H and W), then a
    fully connected layer of width ``fc``; ``norm`` is ``"none"`` or ``"batchnorm"``."""
    c, h, w = input_shape
    layers: list[nn.Module] = []
    for c_out in channels:
        layers += [nn.Conv2d(c, c_out, 4, stride=2, padding=1), *_norm(norm, c_out, True),
                   activation(act)]
        c = c_out
    s = 2 ** len(channels)
    layers += [nn.Flatten(), nn.Linear(c * (h // s) * (w // s), fc), *_norm(norm, fc),
               activation(act)]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(fc, out_dim))


def conv_decoder(latent_dim: int, channels: tuple[int, ...], fc: int,
                 input_shape: tuple[int, int, int], dropout: float = 0.0, act: str = "relu",
                 norm: str = "none") -> nn.Sequential:
    """(N, latent_dim) -> (N, C, H, W) logits: the mirror of :func:`conv_encoder` with
    stride-2 transposed convolutions (each doubles H and W)."""
    c_img, h, w = input_shape
    s = 2 ** len(channels)
    rev = list(reversed(channels))
    layers: list[nn.Module] = [nn.Linear(latent_dim, fc), *_norm(norm, fc), activation(act)]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    n0 = rev[0] * (h // s) * (w // s)
    layers += [nn.Linear(fc, n0), *_norm(norm, n0), activation(act),
               nn.Unflatten(1, (rev[0], h // s, w // s))]
    for c_in, c_out in zip(rev, rev[1:] + [c_img]):
        layers.append(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1))
        if c_out != c_img:
            layers += [*_norm(norm, c_out, True), activation(act)]
    return nn.Sequential(*layers)
