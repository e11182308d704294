"""A model's decoder as a flat program of layers plus one float32 buffer, for decoders that run
outside PyTorch (the app's in-browser latent map decodes every pointer move with it).

The program is the decoder in evaluation mode: dropout is left out (it is the identity at
inference), ``Flatten`` / ``Unflatten`` become shape notes, and the final sigmoid of
:meth:`aecore.models.base.Autoencoder.decode` is the last op. Weights keep PyTorch's layouts:
``Linear.weight`` is (out, in) row-major, ``ConvTranspose2d.weight`` is (C_in, C_out, k, k).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
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
        ``{"op": "relu" | "tanh" | "sigmoid"}``; ``{"op": "leaky_relu", "slope": s}``;
        ``{"op": "unflatten", "shape": [C, H, W]}``; ``{"op": "conv_transpose2d", "cin",
        "cout", "k", "stride", "pad", "hin", "win", "hout", "wout", "w", "b"}``. Offsets count
        float32 values into ``weights``.
    weights : ndarray of shape (P,), float32
        Every parameter the ops read, concatenated.
    latent_dim : int
        Size of the input code ``z``.
    output_shape : list of int
        (C, H, W) of the decoded image.
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
    c, h, w = None, None, None  # current feature-map shape once the decoder unflattens
    for layer in model.decoder:
        if isinstance(layer, nn.Linear):
            ops.append({"op": "linear", "in": layer.in_features, "out": layer.out_features,
                        "w": put(layer.weight), "b": put(layer.bias)})
        elif type(layer) in _ACTIVATIONS:
            ops.append({"op": _ACTIVATIONS[type(layer)]})
        elif isinstance(layer, nn.LeakyReLU):
            ops.append({"op": "leaky_relu", "slope": float(layer.negative_slope)})
        elif isinstance(layer, nn.Dropout):
            continue  # identity in eval mode
        elif isinstance(layer, nn.Unflatten):
            c, h, w = (int(v) for v in layer.unflattened_size)
            ops.append({"op": "unflatten", "shape": [c, h, w]})
        elif isinstance(layer, nn.ConvTranspose2d):
            k, s, p = layer.kernel_size[0], layer.stride[0], layer.padding[0]
            if layer.kernel_size[0] != layer.kernel_size[1] or layer.output_padding != (0, 0) \
                    or layer.dilation != (1, 1) or layer.groups != 1 or h is None:
                raise ValueError(f"unsupported ConvTranspose2d in the decoder: {layer}")
            # H_out = (H_in - 1) * stride - 2 * pad + k   (PyTorch docs, no output padding)
            ho, wo = (h - 1) * s - 2 * p + k, (w - 1) * s - 2 * p + k
            ops.append({"op": "conv_transpose2d", "cin": layer.in_channels,
                        "cout": layer.out_channels, "k": k, "stride": s, "pad": p,
                        "hin": h, "win": w, "hout": ho, "wout": wo,
                        "w": put(layer.weight), "b": put(layer.bias)})
            c, h, w = layer.out_channels, ho, wo
        else:
            raise ValueError(f"cannot export decoder layer {type(layer).__name__}")
    ops.append({"op": "sigmoid"})  # decode() = sigmoid(decode_logits())
    weights = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return DecoderProgram(ops=ops, weights=weights, latent_dim=model.config.latent_dim,
                          output_shape=list(model.config.input_shape))


def run_program(prog: DecoderProgram, z: np.ndarray) -> np.ndarray:
    """Run a :class:`DecoderProgram` in NumPy: the reference the browser's decoder follows.

    Parameters
    ----------
    prog : DecoderProgram
    z : ndarray of shape (n, latent_dim)

    Returns
    -------
    ndarray of shape (n, C, H, W), float64 in [0, 1]
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
        elif kind == "unflatten":
            x = x.reshape(len(x), *op["shape"])
        elif kind == "conv_transpose2d":
            x = _conv_transpose(x, op, wts)
    return x.reshape(len(x), *prog.output_shape)


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


def encoder_program(model: Autoencoder) -> DecoderProgram:
    """Flatten an MLP ``model.encoder`` into a :class:`DecoderProgram` the browser can run
    (``ui/web/decoder.js`` runs it with the same interpreter as decoders).

    The program maps a flat image (C * H * W values, CHW order, in [0, 1]) to the encoder's
    raw output: ``z`` (AE, ``latent_dim`` values) or ``mu`` then ``logvar`` (VAE, ``2 *
    latent_dim`` values; the browser clamps logvar as :meth:`VAE.encode` does). It has no
    final sigmoid. ``latent_dim`` of the result is the program's input size and
    ``output_shape`` is ``[out, 1, 1]``.

    Raises
    ------
    ValueError
        The encoder is not an MLP (a leading ``Flatten`` then layers the exporter knows),
        e.g. a convolutional encoder.
    """
    layers = list(model.encoder)
    if layers and isinstance(layers[0], nn.Flatten):
        layers = layers[1:]  # a (C, H, W) image is already flat in CHW order
    if any(isinstance(m, (nn.Flatten, nn.Unflatten, nn.Conv2d)) for m in layers):
        raise ValueError(f"{type(model).__name__}'s encoder is not an MLP; it cannot be "
                         "exported for the browser")
    outs = [m.out_features for m in layers if isinstance(m, nn.Linear)]
    if not outs:
        raise ValueError("the encoder has no Linear layer")
    c, h, w = model.config.input_shape

    class _Shim:  # decoder_program reads .decoder and .config: reuse its op table as is
        decoder = layers

        class config:  # noqa: N801
            latent_dim = c * h * w
            input_shape = (outs[-1], 1, 1)

    prog = decoder_program(_Shim)  # type: ignore[arg-type]
    prog.ops = prog.ops[:-1]  # drop decode()'s sigmoid
    return prog
