"""A model's decoder as a flat program of layers plus one float32 buffer, for decoders that run
outside PyTorch (the app's in-browser latent map decodes every pointer move with it).

The program is the decoder in evaluation mode: dropout is left out (it is the identity at
inference), an eval-mode BatchNorm is folded into the Linear or transposed convolution before it
(``W' = s W``, ``b' = s (b - mean) + beta`` with ``s = gamma / sqrt(var + eps)``, per output
feature; Ioffe & Szegedy 2015, Alg. 2), ``Flatten`` / ``Unflatten`` become shape notes, and
the final sigmoid of :meth:`aecore.models.base.Autoencoder.decode` is the last op (a model with
``output="identity"``, for standardised tabular features, has none: its program ends with the
last linear layer and its ``output_shape`` is ``[D]``; such an output is not an image, and the
app's latent map does not draw it). Weights keep PyTorch's layouts: ``Linear.weight`` is
(out, in) row-major, ``ConvTranspose2d.weight`` is (C_in, C_out, k, k).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import math

import numpy as np
import torch
from torch import nn

from .models.base import Autoencoder

__all__ = ["DecoderProgram", "decoder_program", "encoder_program", "run_program"]

_ACTIVATIONS = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}


@dataclass
class DecoderProgram:
    """A decoder as data.

    Attributes
    ----------
    ops : list of dict
        In order: ``{"op": "linear", "in": a, "out": b, "w": offset, "b": offset}``;
        ``{"op": "relu" | "tanh" | "sigmoid" | "gelu"}`` (gelu: exact, x * Phi(x));
        ``{"op": "leaky_relu", "slope": s}``; ``{"op": "layernorm", "n", "eps", "w", "b"}``
        (over the whole current vector);
        ``{"op": "unflatten", "shape": [C, H, W] or [D]}``; ``{"op": "conv_transpose2d", "cin",
        "cout", "k", "stride", "pad", "hin", "win", "hout", "wout", "w", "b"}``. Offsets count
        float32 values into ``weights``.
    weights : ndarray of shape (P,), float32
        Every parameter the ops read, concatenated.
    latent_dim : int
        Size of the input code ``z``.
    output_shape : list of int
        (C, H, W) of the decoded image, or (D,) of a decoded feature vector.
    """

    ops: list[dict]
    weights: np.ndarray
    latent_dim: int
    output_shape: list[int] = field(default_factory=list)


def decoder_program(model: Autoencoder) -> DecoderProgram:
    """Flatten ``model.decoder`` (an ``nn.Sequential``) into a :class:`DecoderProgram`.

    Parameters
    ----------
    model : Autoencoder
        Any registered model (MLP or convolutional decoder).

    Returns
    -------
    DecoderProgram
        Whose :func:`run_program` equals ``model.decode`` up to float32 rounding.

    Raises
    ------
    ValueError
        The decoder holds a layer this exporter does not know (naming it).
    """
    chunks: list[np.ndarray] = []
    size = 0

    def put(t) -> int:
        nonlocal size
        a = t.detach().cpu().numpy().astype(np.float32).ravel()
        chunks.append(a)
        size += a.size
        return size - a.size

    ops: list[dict] = []
    h, w = None, None  # current feature-map size once the decoder unflattens
    layers = list(model.decoder)
    for i, layer in enumerate(layers):
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(layer, nn.Linear):
            wt, b = _fold(layer.weight, layer.bias, nxt, nn.BatchNorm1d, 0)
            ops.append({"op": "linear", "in": layer.in_features, "out": layer.out_features,
                        "w": put(wt), "b": put(b)})
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            prev = layers[i - 1] if i else None
            if not isinstance(prev, (nn.Linear, nn.ConvTranspose2d, nn.Conv2d)):
                raise ValueError(f"cannot fold {type(layer).__name__}: it does not follow a "
                                 "Linear, Conv2d or ConvTranspose2d layer")
            continue  # folded into the layer before it
        elif isinstance(layer, nn.LayerNorm):
            n = int(math.prod(layer.normalized_shape))
            ones = torch.ones(n) if layer.weight is None else layer.weight
            zeros = torch.zeros(n) if layer.bias is None else layer.bias
            ops.append({"op": "layernorm", "n": n, "eps": float(layer.eps), "w": put(ones),
                        "b": put(zeros)})
        elif isinstance(layer, nn.GELU):
            if layer.approximate != "none":
                raise ValueError("only the exact GELU (approximate='none') is exported")
            ops.append({"op": "gelu"})
        elif type(layer) in _ACTIVATIONS:
            ops.append({"op": _ACTIVATIONS[type(layer)]})
        elif isinstance(layer, nn.LeakyReLU):
            ops.append({"op": "leaky_relu", "slope": float(layer.negative_slope)})
        elif isinstance(layer, nn.Dropout):
            continue  # identity in eval mode
        elif isinstance(layer, nn.Unflatten):
            shape = [int(v) for v in layer.unflattened_size]
            if len(shape) == 3:  # a feature vector (D,) has no feature map
                h, w = shape[1:]
            ops.append({"op": "unflatten", "shape": shape})
        elif isinstance(layer, nn.ConvTranspose2d):
            k, s, p = layer.kernel_size[0], layer.stride[0], layer.padding[0]
            if layer.kernel_size[0] != layer.kernel_size[1] or layer.output_padding != (0, 0) \
                    or layer.dilation != (1, 1) or layer.groups != 1 or h is None:
                raise ValueError(f"unsupported ConvTranspose2d in the decoder: {layer}")
            # H_out = (H_in - 1) * stride - 2 * pad + k   (PyTorch docs, no output padding)
            ho, wo = (h - 1) * s - 2 * p + k, (w - 1) * s - 2 * p + k
            wt, b = _fold(layer.weight, layer.bias, nxt, nn.BatchNorm2d, 1)
            ops.append({"op": "conv_transpose2d", "cin": layer.in_channels,
                        "cout": layer.out_channels, "k": k, "stride": s, "pad": p,
                        "hin": h, "win": w, "hout": ho, "wout": wo,
                        "w": put(wt), "b": put(b)})
            h, w = ho, wo
        elif isinstance(layer, nn.Conv2d):  # an encoder's (encoder_program)
            k, s, p = layer.kernel_size[0], layer.stride[0], layer.padding[0]
            if layer.kernel_size[0] != layer.kernel_size[1] or layer.stride[0] != layer.stride[1] \
                    or layer.padding[0] != layer.padding[1] or layer.dilation != (1, 1) \
                    or layer.groups != 1 or h is None or not isinstance(layer.padding[0], int):
                raise ValueError(f"unsupported Conv2d: {layer}")
            # H_out = floor((H_in + 2 * pad - k) / stride) + 1   (PyTorch docs, no dilation)
            ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
            wt, b = _fold(layer.weight, layer.bias, nxt, nn.BatchNorm2d, 0)
            ops.append({"op": "conv2d", "cin": layer.in_channels, "cout": layer.out_channels,
                        "k": k, "stride": s, "pad": p, "hin": h, "win": w, "hout": ho,
                        "wout": wo, "w": put(wt), "b": put(b)})
            h, w = ho, wo
        elif isinstance(layer, nn.Flatten):  # (C, H, W) feature map -> CHW vector, as torch
            ops.append({"op": "flatten"})
            h, w = None, None
        else:
            raise ValueError(f"cannot export decoder layer {type(layer).__name__}")
    if model.config.output == "sigmoid":
        ops.append({"op": "sigmoid"})  # decode() = sigmoid(decode_logits())
    weights = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return DecoderProgram(ops=ops, weights=weights, latent_dim=model.config.latent_dim,
                          output_shape=list(model.config.input_shape))


def _fold(weight, bias, bn, bn_type, axis: int):
    """Weight and bias of a layer with the eval-mode BatchNorm ``bn`` after it folded in.

    ``axis`` is the output-feature axis of ``weight`` (0 for Linear (out, in), 1 for
    ConvTranspose2d (C_in, C_out, k, k)). Returns the layer's own tensors when ``bn`` is not
    a ``bn_type``. Computed in float64, then rounded once to float32 by the caller.
    """
    if not isinstance(bn, bn_type):
        return weight, bias
    if bn.running_mean is None:
        raise ValueError("cannot fold a BatchNorm without running statistics")
    w64, b64 = weight.detach().double(), bias.detach().double()
    s = bn.running_var.double().add(bn.eps).rsqrt()
    gamma = bn.weight.detach().double() if bn.weight is not None else torch.ones_like(s)
    beta = bn.bias.detach().double() if bn.bias is not None else torch.zeros_like(s)
    s = s * gamma
    shape = [1] * w64.dim()
    shape[axis] = -1
    return w64 * s.reshape(shape), (b64 - bn.running_mean.double()) * s + beta


def run_program(prog: DecoderProgram, z: np.ndarray) -> np.ndarray:
    """Run a :class:`DecoderProgram` in NumPy: the reference the browser's decoder follows.

    Parameters
    ----------
    prog : DecoderProgram
    z : ndarray of shape (n, latent_dim)

    Returns
    -------
    ndarray of shape (n, C, H, W), float64 in [0, 1], or (n, D) for a tabular decoder
    """
    x = np.asarray(z, np.float64).reshape(len(z), -1)
    wts = prog.weights.astype(np.float64)
    for op in prog.ops:
        kind = op["op"]
        if kind == "linear":
            W = wts[op["w"]:op["w"] + op["in"] * op["out"]].reshape(op["out"], op["in"])
            x = x.reshape(len(x), -1) @ W.T + wts[op["b"]:op["b"] + op["out"]]
        elif kind == "relu":
            x = np.maximum(x, 0)
        elif kind == "leaky_relu":
            x = np.where(x > 0, x, op["slope"] * x)
        elif kind == "tanh":
            x = np.tanh(x)
        elif kind == "sigmoid":
            x = 1 / (1 + np.exp(-x))
        elif kind == "gelu":
            x = 0.5 * x * (1 + _erf(x / math.sqrt(2)))
        elif kind == "layernorm":
            n, flat = op["n"], x.reshape(len(x), -1)
            mean = flat.mean(1, keepdims=True)
            var = flat.var(1, keepdims=True)  # biased, as LayerNorm (Ba et al. 2016, eq. 4)
            x = ((flat - mean) / np.sqrt(var + op["eps"]) * wts[op["w"]:op["w"] + n]
                 + wts[op["b"]:op["b"] + n]).reshape(x.shape)
        elif kind == "unflatten":
            x = x.reshape(len(x), *op["shape"])
        elif kind == "conv_transpose2d":
            x = _conv_transpose(x, op, wts)
        elif kind == "conv2d":
            x = _conv2d(x, op, wts)
        elif kind == "flatten":
            x = x.reshape(len(x), -1)
    return x.reshape(len(x), *prog.output_shape)


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _conv_transpose(x: np.ndarray, op: dict, wts: np.ndarray) -> np.ndarray:
    """Transposed convolution (n, C_in, H, W) -> (n, C_out, H_out, W_out) by scattering."""
    ci, co, k, s, p = op["cin"], op["cout"], op["k"], op["stride"], op["pad"]
    W = wts[op["w"]:op["w"] + ci * co * k * k].reshape(ci, co, k, k)
    n, _, h, w = x.shape
    full = np.zeros((n, co, (h - 1) * s + k, (w - 1) * s + k))
    for ky in range(k):
        for kx in range(k):
            # every input pixel (iy, ix) adds W[:, :, ky, kx] at output (iy*s + ky, ix*s + kx)
            full[:, :, ky:ky + (h - 1) * s + 1:s, kx:kx + (w - 1) * s + 1:s] += \
                np.einsum("nchw,cd->ndhw", x, W[:, :, ky, kx])
    out = full[:, :, p:p + op["hout"], p:p + op["wout"]]
    return out + wts[op["b"]:op["b"] + co][None, :, None, None]


def _conv2d(x: np.ndarray, op: dict, wts: np.ndarray) -> np.ndarray:
    """Convolution (n, C_in, H, W) -> (n, C_out, H_out, W_out) (cross-correlation, as torch)."""
    ci, co, k, s, p = op["cin"], op["cout"], op["k"], op["stride"], op["pad"]
    W = wts[op["w"]:op["w"] + co * ci * k * k].reshape(co, ci, k, k)
    ho, wo = op["hout"], op["wout"]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    out = np.zeros((len(x), co, ho, wo))
    for ky in range(k):
        for kx in range(k):
            # output (oy, ox) reads input (oy*s - p + ky, ox*s - p + kx)
            patch = xp[:, :, ky:ky + (ho - 1) * s + 1:s, kx:kx + (wo - 1) * s + 1:s]
            out += np.einsum("nchw,dc->ndhw", patch, W[:, :, ky, kx])
    return out + wts[op["b"]:op["b"] + co][None, :, None, None]


def encoder_program(model: Autoencoder) -> DecoderProgram:
    """Flatten ``model.encoder`` (an MLP, or convolutions then dense layers) into a
    :class:`DecoderProgram` the browser can run (``ui/web/decoder.js`` runs it with the same
    interpreter as decoders).

    The program maps a flat image (C * H * W values, CHW order, in [0, 1]) to the encoder's
    raw output: ``z`` (AE, ``latent_dim`` values) or ``mu`` then ``logvar`` (VAE, ``2 *
    latent_dim`` values; the browser clamps logvar as :meth:`VAE.encode` does). It has no
    final sigmoid. ``latent_dim`` of the result is the program's input size and
    ``output_shape`` is ``[out, 1, 1]``. A convolutional encoder's program starts by
    unflattening the image to (C, H, W); its ``Flatten`` becomes a ``flatten`` op.

    Raises
    ------
    ValueError
        The encoder holds a layer the exporter does not know, or has no Linear layer.
    """
    layers = list(model.encoder)
    if layers and isinstance(layers[0], nn.Flatten):
        layers = layers[1:]  # a (C, H, W) image is already flat in CHW order
    if any(isinstance(m, nn.Conv2d) for m in layers):
        layers = [nn.Unflatten(1, tuple(model.config.input_shape)), *layers]
    outs = [m.out_features for m in layers if isinstance(m, nn.Linear)]
    if not outs:
        raise ValueError("the encoder has no Linear layer")
    n_in = math.prod(model.config.input_shape)

    class _Shim:  # decoder_program reads .decoder and .config: reuse its op table as is
        decoder = layers

        class config:  # noqa: N801
            latent_dim = n_in
            input_shape = (outs[-1], 1, 1)
            output = "identity"  # no final sigmoid: the encoder's last layer is linear

    return decoder_program(_Shim)  # type: ignore[arg-type]
