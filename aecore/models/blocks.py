"""Encoder and decoder builders shared by the models (MLP and convolutional)."""
from __future__ import annotations

import math

from torch import nn

__all__ = ["mlp_encoder", "mlp_decoder", "conv_encoder", "conv_decoder"]


def _mlp(widths: list[int], dropout: float) -> list[nn.Module]:
    """Linear -> ReLU (-> Dropout) for each consecutive pair of widths."""
    layers: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return layers


def mlp_encoder(input_shape: tuple[int, ...], hidden: tuple[int, ...], out_dim: int,
                dropout: float = 0.0) -> nn.Sequential:
    """(N, C, H, W) or (N, D) -> (N, out_dim) through ReLU layers of widths ``hidden``."""
    widths = [math.prod(input_shape), *hidden]
    return nn.Sequential(nn.Flatten(), *_mlp(widths, dropout), nn.Linear(widths[-1], out_dim))


def mlp_decoder(latent_dim: int, hidden: tuple[int, ...], input_shape: tuple[int, ...],
                dropout: float = 0.0) -> nn.Sequential:
    """(N, latent_dim) -> (N, C, H, W) (or (N, D)) logits through ``reversed(hidden)`` ReLU
    layers."""
    widths = [latent_dim, *reversed(hidden)]
    return nn.Sequential(*_mlp(widths, dropout), nn.Linear(widths[-1], math.prod(input_shape)),
                         nn.Unflatten(1, tuple(input_shape)))


def conv_encoder(input_shape: tuple[int, int, int], channels: tuple[int, ...], fc: int,
                 out_dim: int, dropout: float = 0.0) -> nn.Sequential:
    """(N, C, H, W) -> (N, out_dim): stride-2 4x4 convolutions (each halves H and W), then a
    fully connected layer of width ``fc``."""
    c, h, w = input_shape
    layers: list[nn.Module] = []
    for c_out in channels:
        layers += [nn.Conv2d(c, c_out, 4, stride=2, padding=1), nn.ReLU()]
        c = c_out
    s = 2 ** len(channels)
    layers += [nn.Flatten(), nn.Linear(c * (h // s) * (w // s), fc), nn.ReLU()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(fc, out_dim))


def conv_decoder(latent_dim: int, channels: tuple[int, ...], fc: int,
                 input_shape: tuple[int, int, int], dropout: float = 0.0) -> nn.Sequential:
    """(N, latent_dim) -> (N, C, H, W) logits: the mirror of :func:`conv_encoder` with
    stride-2 transposed convolutions (each doubles H and W)."""
    c_img, h, w = input_shape
    s = 2 ** len(channels)
    rev = list(reversed(channels))
    layers: list[nn.Module] = [nn.Linear(latent_dim, fc), nn.ReLU()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(fc, rev[0] * (h // s) * (w // s)), nn.ReLU(),
               nn.Unflatten(1, (rev[0], h // s, w // s))]
    for c_in, c_out in zip(rev, rev[1:] + [c_img]):
        layers.append(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1))
        if c_out != c_img:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)
