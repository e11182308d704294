"""Greedy layer-wise pretraining of a deep MLP autoencoder, and per-layer gradient norms.

Layer-wise pretraining (Hinton & Salakhutdinov 2006, Science 313; Bengio et al. 2007, NIPS
"Greedy layer-wise training of deep networks", Alg. 2 with autoassociators): the first hidden
layer and the decoder layer that mirrors it are trained as a *shallow* autoencoder on the images;
the next pair is then trained as a shallow autoencoder on the first layer's codes, and so on up to
the code layer z. The stacked layers initialise the deep model, which is then fine-tuned end to
end (:func:`aecore.train.fit`). Each shallow autoencoder sees a short path from its loss to its
weights, so its gradients do not vanish the way they do through eight saturating sigmoid layers.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from . import losses
from .data import Dataset
from .device import make_generator, pick_device, seed_everything
from .errors import TrainingDiverged
from .models.base import Autoencoder

__all__ = ["PretrainLog", "layer_pairs", "pretrain_layerwise", "linear_labels",
           "GradNormRecorder", "MAX_PRETRAIN_EPOCHS", "PRETRAINABLE"]

MAX_PRETRAIN_EPOCHS = 200  # per layer: bounds the time a pretraining run can take
PRETRAINABLE = ("ae", "dae")  # registry names of the models layer_pairs accepts


@dataclass(frozen=True)
class PretrainLog:
    """One finished pretraining epoch of one shallow autoencoder.

    ``loss`` is its mean training loss over the epoch: nats per image (BCE) or summed squared
    error per image for the first layer (the model's own loss); summed squared error of the
    reconstructed codes per image for the deeper layers.
    """

    layer: int  # 1-based: 1 is the pair next to the image
    layers: int
    epoch: int  # 1-based
    epochs: int
    loss: float


def _segments(seq: nn.Sequential) -> list[nn.Sequential]:
    """Split a Sequential at each Linear: [Linear, norm, activation, dropout] groups (modules
    before the first Linear, e.g. Flatten, are left out)."""
    groups: list[list[nn.Module]] = []
    for m in seq:
        if isinstance(m, nn.Linear):
            groups.append([m])
        elif groups:
            groups[-1].append(m)
    return [nn.Sequential(*g) for g in groups]


def layer_pairs(model: Autoencoder) -> list[tuple[nn.Sequential, nn.Sequential]]:
    """(encoder layer, mirrored decoder layer) pairs from the image inwards.

    Pair i maps codes h_i (width ``hidden[i-1]``, or the flattened image for i = 0) to h_{i+1}
    and back; the last pair maps to and from z. The modules are the model's own (shared, not
    copied): training a pair trains the deep model.

    Raises
    ------
    ValueError
        The model is variational or not an MLP (no matching Linear layers).
    """
    if model.is_variational or not isinstance(model.encoder[0], nn.Flatten):
        raise ValueError(f"layer-wise pretraining needs a plain MLP autoencoder (ae or dae), "
                         f"got {model.config.name!r}")
    enc, dec = _segments(model.encoder), _segments(model.decoder)
    if len(enc) != len(dec) or len(enc) != len(model.config.hidden) + 1:
        raise ValueError("encoder and decoder do not mirror each other layer by layer")
    return list(zip(enc, reversed(dec)))


def linear_labels(model: Autoencoder) -> list[str]:
    """Names of the model's Linear layers from input to output, matching
    :class:`GradNormRecorder`'s columns: ``enc 1`` ... ``enc k``, ``to z``, ``dec 1`` ...
    ``dec k``, ``to x̂``."""
    k = sum(isinstance(m, nn.Linear) for m in model.encoder) - 1
    return ([f"enc {i + 1}" for i in range(k)] + ["to z"] + [f"dec {i + 1}" for i in range(k)]
            + ["to x̂"])


@torch.no_grad()
def _codes(layers: list[nn.Sequential], x: torch.Tensor) -> torch.Tensor:
    """Push (N, D) inputs through ``layers`` in eval mode (dropout off), in batches."""
    outs = []
    for i in range(0, len(x), 1024):
        h = x[i:i + 1024]
        for seg in layers:
            seg.eval()
            h = seg(h)
        outs.append(h)
    return torch.cat(outs) if outs else x


def pretrain_layerwise(model: Autoencoder, data: Dataset, epochs: int, *, lr: float = 1e-3,
                       batch_size: int = 64, seed: int = 0,
                       callback: Callable[[PretrainLog], bool | None] | None = None,
                       device: torch.device | str | None = None) -> list[list[float]]:
    """Greedy layer-wise pretraining of ``model`` in place (Bengio et al. 2007, Alg. 2).

    For each pair (encoder layer i, its mirror decoder layer) from the image inwards: compute
    the codes ``h_i`` of the training images through the already pretrained layers below (eval
    mode), then train the pair for ``epochs`` epochs with Adam as a shallow autoencoder
    ``h_i -> enc_i -> dec_i -> h_i``. The first pair reconstructs the image with the model's own
    loss on logits (BCE or MSE, per image) from the model's training corruption (a denoising AE
    pretrains as stacked denoising autoencoders, Vincent et al. 2010); deeper pairs minimise
    the summed squared error of the codes, ``||dec_i(enc_i(h_i)) - h_i||^2`` per image.

    Parameters
    ----------
    model : Autoencoder
        A plain MLP AE or DAE; its layers are trained in place. Fine-tune it afterwards with
        :func:`aecore.train.fit`.
    data : Dataset
        Training images ``x`` of shape (N, C, H, W) in [0, 1].
    epochs : int
        Epochs per layer pair, 1 to :data:`MAX_PRETRAIN_EPOCHS`.
    lr, batch_size, seed
        Adam learning rate, images per step, seed of shuffling and corruption.
    callback : callable, optional
        Called with a :class:`PretrainLog` after each epoch; returning True stops pretraining.

    Returns
    -------
    list of list of float
        Per pair (image side first), the mean training loss of each epoch (see PretrainLog).

    Raises
    ------
    ValueError
        ``epochs`` out of range, or a model that cannot be pretrained (see :func:`layer_pairs`).
    TrainingDiverged
        A pretraining loss became NaN or infinite.
    """
    if not 1 <= int(epochs) <= MAX_PRETRAIN_EPOCHS:
        raise ValueError(f"pretraining epochs must be in [1, {MAX_PRETRAIN_EPOCHS}], got {epochs}")
    pairs = layer_pairs(model)
    dev = pick_device(device)
    seed_everything(seed)
    model.to(dev)
    g_shuffle, g_noise = make_generator(seed), make_generator(seed + 1, dev)
    x_img = data.x.to(dev)
    n, shape = len(x_img), x_img.shape[1:]
    history: list[list[float]] = []
    for i, (enc, dec) in enumerate(pairs):
        h = x_img.flatten(1) if i == 0 else _codes([e for e, _ in pairs[:i]], x_img.flatten(1))
        opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=lr)
        enc.train()
        dec.train()
        history.append([])
        for epoch in range(epochs):
            perm = torch.randperm(n, generator=g_shuffle).to(dev)
            total = 0.0
            for s in range(math.ceil(n / batch_size)):
                idx = perm[s * batch_size:(s + 1) * batch_size]
                if i == 0:  # the image layer: the model's corruption and loss
                    x = x_img[idx]
                    out = dec(enc(model.corrupt(x, g_noise).flatten(1))).reshape(-1, *shape)
                    loss = losses.reconstruction(x, out, model.config.recon_loss)
                else:
                    target = h[idx]
                    loss = (dec(enc(target)) - target).pow(2).sum(1).mean()
                if not torch.isfinite(loss):
                    raise TrainingDiverged(f"layer-wise pretraining of layer {i + 1} diverged "
                                           f"(loss {float(loss)}); lower the learning rate",
                                           epoch=epoch + 1, step=s + 1)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(idx)
            history[-1].append(total / n)
            log = PretrainLog(i + 1, len(pairs), epoch + 1, epochs, total / n)
            if callback is not None and callback(log):
                model.eval()
                return history
    model.eval()
    return history


class GradNormRecorder:
    """Records the L2 norm of each Linear layer's weight gradient at every training step.

    Pass it as ``fit(..., on_backward=recorder)``: :func:`aecore.train.fit` calls it after each
    ``backward()`` and before the optimiser step; it only reads the gradients, so training is
    unchanged. Columns follow :func:`linear_labels` (input to output).

    Attributes
    ----------
    steps : list of list of float
        One row per step: ``||dL/dW_l||_2`` of each Linear layer l (0 where it has no gradient).
    """

    def __init__(self) -> None:
        self.steps: list[list[float]] = []

    def __call__(self, model: Autoencoder) -> None:
        """Append one row for ``model``'s current gradients."""
        lin = [m for m in (*model.encoder, *model.decoder) if isinstance(m, nn.Linear)]
        norms = torch.stack([m.weight.grad.norm() if m.weight.grad is not None
                             else m.weight.new_zeros(()) for m in lin])
        self.steps.append(norms.tolist())

    def per_epoch(self, steps_per_epoch: int) -> list[list[float]]:
        """Mean norm of each layer over each epoch's steps: (epochs, layers) nested lists."""
        if steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")
        rows = torch.tensor(self.steps, dtype=torch.float64)
        return [rows[i:i + steps_per_epoch].mean(0).tolist()
                for i in range(0, len(rows), steps_per_epoch)]
