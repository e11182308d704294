"""The one training loop: :func:`fit`, its :class:`TrainConfig` and the logs it reports."""
from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from . import losses
from .data import Dataset
from .device import make_generator, pick_device, seed_everything
from .errors import TrainingDiverged
from .models.base import Autoencoder

__all__ = ["TrainConfig", "Splits", "StepLog", "EpochLog", "History", "fit", "evaluate"]

EVAL_BATCH = 1024  # images per forward pass when evaluating (memory, not maths)
# A loss this many times the first batch's loss has exploded: with Adam, a learning rate of 10
# drives the loss to ~1e13 nats/image within one epoch yet float32 does not overflow, so
# waiting for NaN/inf would let a diverged run go on (measured on digits, AE and VAE).
EXPLODE_FACTOR = 1000.0


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Hyper-parameters of :func:`fit`. The defaults train a good digits model in ~20 s on 2
    CPU cores.

    Raises
    ------
    ValueError
        From ``__post_init__``, naming the field and its allowed range.
    """

    epochs: int = 60  # passes over the training set
    batch_size: int = 64  # images per optimisation step
    lr: float = 2e-3  # Adam(W) learning rate; 10 makes the loss diverge (a lesson)
    weight_decay: float = 0.0  # decoupled L2 penalty of AdamW (a regulariser)
    seed: int = 0  # seeds weights, shuffling, noise and posterior samples
    kl_anneal: str = "none"  # "none", "linear" warm-up or "cyclical" schedule of beta
    warmup_epochs: int = 10  # length of the linear warm-up (kl_anneal="linear")
    cycle_epochs: int = 10  # length of one cycle (kl_anneal="cyclical")
    keep_best: bool = True  # end with the weights of the epoch with the lowest test loss
    report_every: int = 0  # call the callback with a StepLog every k steps (0: never)
    device: str = "auto"  # "auto" picks CUDA, then MPS, then CPU

    def __post_init__(self) -> None:
        if not 1 <= self.epochs <= 10_000:
            raise ValueError(f"epochs must be in [1, 10000], got {self.epochs}")
        if not 1 <= self.batch_size <= 65_536:
            raise ValueError(f"batch_size must be in [1, 65536], got {self.batch_size}")
        if not (0 < self.lr <= 100 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be in (0, 100], got {self.lr}")
        if not 0 <= self.weight_decay <= 1:
            raise ValueError(f"weight_decay must be in [0, 1], got {self.weight_decay}")
        if self.kl_anneal not in losses.ANNEAL_SCHEDULES:
            raise ValueError(f"kl_anneal must be one of {losses.ANNEAL_SCHEDULES}, "
                             f"got {self.kl_anneal!r}")
        if self.warmup_epochs < 1 or self.cycle_epochs < 1:
            raise ValueError("warmup_epochs and cycle_epochs must be >= 1")
        if self.report_every < 0:
            raise ValueError(f"report_every must be >= 0, got {self.report_every}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        extra = set(d) - {f.name for f in dataclasses.fields(cls)}
        if extra:
            raise ValueError(f"unknown TrainConfig fields: {sorted(extra)}")
        return cls(**d)


@dataclass(frozen=True)
class Splits:
    """Training and test data for :func:`fit`; images must have the model's input shape."""

    train: Dataset
    test: Dataset


@dataclass(frozen=True)
class StepLog:
    """Progress inside an epoch (sent every ``report_every`` steps).

    ``loss`` is the training loss of the last batch in nats per image; times in seconds.
    """

    epoch: int  # 1-based
    epochs: int
    step: int  # 1-based step within the epoch
    steps: int  # steps per epoch
    loss: float
    elapsed: float


@dataclass(frozen=True)
class EpochLog:
    """Losses of one finished epoch, in nats per image (BCE) or summed squared error (MSE).

    ``train_*`` are averages over the epoch's batches with the annealed ``beta``; ``test_*``
    are computed after the epoch on the whole test set with the model's own ``beta``.
    """

    epoch: int  # 1-based
    epochs: int
    train_total: float
    train_recon: float
    train_kl: float
    test_total: float
    test_recon: float
    test_kl: float
    beta: float  # effective beta used in training this epoch (after annealing)
    elapsed: float  # seconds since fit() started

    def to_dict(self) -> dict[str, float]:
        """Plain-dict copy."""
        return dataclasses.asdict(self)


@dataclass
class History:
    """What :func:`fit` returns."""

    epochs: list[EpochLog] = field(default_factory=list)
    best_epoch: int = 0  # 1-based epoch whose weights the model holds at the end
    stopped: bool = False  # True if the callback asked to stop early
    seconds: float = 0.0
    device: str = "cpu"

    @property
    def best(self) -> EpochLog | None:
        """Log of ``best_epoch`` (``None`` before any epoch finished)."""
        return self.epochs[self.best_epoch - 1] if self.best_epoch else None


def _beta(model: Autoencoder) -> float:
    """The model's configured KL weight (0 for non-variational models)."""
    return float(getattr(model.config, "beta", 0.0)) if model.is_variational else 0.0


@torch.no_grad()
def evaluate(model: Autoencoder, data: Dataset, *, beta: float | None = None, seed: int = 0,
             device: torch.device | str | None = None) -> dict[str, float]:
    """Mean loss terms of ``model`` on ``data`` in nats per image; deterministic under ``seed``.

    Parameters
    ----------
    model : Autoencoder
    data : Dataset
        ``x`` of shape (N, C, H, W) in [0, 1], or (N, D) feature vectors.
    beta : float, optional
        KL weight in ``total``; defaults to the model's own ``beta``.
    seed : int
        Seeds the posterior samples of a VAE.

    Returns
    -------
    dict with keys ``total``, ``recon``, ``kl`` (floats, nats per image).
    """
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    g = make_generator(seed, dev)
    sums = {"total": 0.0, "recon": 0.0, "kl": 0.0}
    for i in range(0, len(data), EVAL_BATCH):
        x = data.x[i:i + EVAL_BATCH].to(dev)
        terms = model.loss(x, model(x, generator=g), beta=beta)
        for k, v in terms.item().items():
            sums[k] += v * len(x)
    model.train(was_training)
    return {k: v / max(1, len(data)) for k, v in sums.items()}


def fit(model: Autoencoder, data: Splits, cfg: TrainConfig = TrainConfig(), *,
        callback: Callable[[StepLog | EpochLog], bool | None] | None = None,
        device: torch.device | str | None = None,
        on_backward: Callable[[Autoencoder], None] | None = None) -> History:
    """Train ``model`` in place with Adam(W) and return its history.

    ``fit`` seeds shuffling, corruption and posterior samples; the initial weights come from
    whatever seeded the model's construction (:func:`aecore.recipes.train_and_save` seeds first).

    Each step corrupts the batch (denoising models only), runs the model, and minimises
    ``model.loss`` with ``beta * kl_weight(epoch)`` (KL annealing). After each epoch the test
    loss is computed and ``callback(EpochLog)`` is called; with ``report_every`` set it is also
    called with a :class:`StepLog` every k steps. A callback that returns ``True`` stops
    training after the current step. At the end the model holds the weights of the best epoch
    (``keep_best``), is in ``eval()`` mode, and its code Gaussian is fitted to the training codes.

    Parameters
    ----------
    model : Autoencoder
        Trained in place (pass a copy to keep the original).
    data : Splits
        ``train.x`` and ``test.x`` of shape (N, C, H, W) float in [0, 1] (or (N, D) feature
        vectors) matching ``model.config.input_shape``.
    cfg : TrainConfig
    callback : callable, optional
    device : torch.device or str, optional
        Overrides ``cfg.device``.
    on_backward : callable, optional
        ``on_backward(model)`` after each step's ``backward()``, before the optimiser step, to
        read the gradients (e.g. :class:`aecore.pretrain.GradNormRecorder`); it must not change
        them.

    Returns
    -------
    History

    Raises
    ------
    TrainingDiverged
        If a training loss is NaN, infinite or over ``EXPLODE_FACTOR`` times the first batch's
        loss; raised before that step updates the weights.
    ValueError
        If the data's image shape does not match the model's ``input_shape``, or a sigmoid
        output is asked to reach values outside [0, 1] (standardised features need
        ``output="identity"`` with MSE).
    """
    for part in (data.train, data.test):
        if part.image_shape != model.config.input_shape:
            raise ValueError(f"{part.name} images have shape {part.image_shape}, the model "
                             f"expects {model.config.input_shape}")
        if model.config.output == "sigmoid" and len(part) and (
                float(part.x.min()) < 0 or float(part.x.max()) > 1):
            raise ValueError(f"{part.name} holds values outside [0, 1] (standardised "
                             "features?), which a sigmoid output cannot reach: use output "
                             "'identity' with recon_loss 'mse' (--output identity --recon-loss "
                             "mse)")
    dev = pick_device(device if device is not None else cfg.device)
    seed_everything(cfg.seed)
    model.to(dev).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    g_shuffle = make_generator(cfg.seed)  # CPU: shuffling order
    g_noise = make_generator(cfg.seed + 1, dev)  # device: corruption and posterior samples
    x_train = data.train.x.to(dev)
    n, bs = len(x_train), cfg.batch_size
    steps = math.ceil(n / bs)
    beta0 = _beta(model)
    hist = History(device=str(dev))
    best_loss, best_state = math.inf, None
    first_loss = None  # loss of the very first batch: the yardstick for an explosion
    t0 = time.perf_counter()
    for epoch in range(cfg.epochs):
        beta = beta0 * losses.kl_weight(epoch, cfg.kl_anneal, cfg.warmup_epochs, cfg.cycle_epochs)
        model.train()
        perm = torch.randperm(n, generator=g_shuffle).to(dev)
        sums = torch.zeros(3, device=dev)  # running (total, recon, kl) * batch size
        stop = False
        for step in range(steps):
            x = x_train[perm[step * bs:(step + 1) * bs]]
            out = model(model.corrupt(x, g_noise), generator=g_noise)
            terms = model.loss(x, out, beta=beta)  # target is always the clean image
            loss = float(terms.total.detach())
            first_loss = loss if first_loss is None else first_loss
            if not math.isfinite(loss) or loss > EXPLODE_FACTOR * max(first_loss, 1.0):
                what = "became " + str(loss) if not math.isfinite(loss) else (
                    f"exploded to {loss:.3g} (over {EXPLODE_FACTOR:g}x its first value "
                    f"{first_loss:.3g})")
                raise TrainingDiverged(
                    f"the training loss {what} at epoch {epoch + 1}, step {step + 1} with "
                    f"learning rate {cfg.lr:g}; lower the learning rate (1e-3 is a safe start)",
                    epoch=epoch + 1, step=epoch * steps + step + 1)
            opt.zero_grad(set_to_none=True)
            terms.total.backward()
            if on_backward is not None:
                on_backward(model)
            opt.step()
            sums += torch.stack([terms.total, terms.recon, terms.kl]).detach() * len(x)
            if cfg.report_every and callback and (step + 1) % cfg.report_every == 0:
                log = StepLog(epoch + 1, cfg.epochs, step + 1, steps, loss,
                              time.perf_counter() - t0)
                stop = bool(callback(log))
                if stop:
                    break
        tr = (sums / max(1, n if not stop else min(n, (step + 1) * bs))).tolist()
        te = evaluate(model, data.test, seed=cfg.seed)
        log = EpochLog(epoch + 1, cfg.epochs, *tr, te["total"], te["recon"], te["kl"], beta,
                       time.perf_counter() - t0)
        hist.epochs.append(log)
        if te["total"] < best_loss or not cfg.keep_best:
            best_loss, hist.best_epoch = te["total"], epoch + 1
            if cfg.keep_best:
                best_state = copy.deepcopy(model.state_dict())
        if callback and callback(log):
            stop = True
        if stop:
            hist.stopped = True
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        codes = torch.cat([model.embed(x_train[i:i + EVAL_BATCH]) for i in range(0, n, EVAL_BATCH)])
    model.fit_code_gaussian(codes)
    hist.seconds = time.perf_counter() - t0
    return hist
