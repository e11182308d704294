"""Recipes: everything that defines a trained checkpoint, the one training sequence
(:func:`train_and_save`), a recipe's command line (:func:`cli_args`, :func:`recipe_from_args`)
and the exact recipes of the shipped checkpoints (``python -m aecore rebuild-shipped``)."""
from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import checkpoints
from .data import load_dataset
from .device import seed_everything
from .models import MODELS, build_model, config_from_dict
from .models.ae import AEConfig
from .models.base import Autoencoder, ModelConfig
from .models.conv import ConvVAEConfig
from .models.dae import DAEConfig
from .models.vae import VAEConfig
from .pretrain import MAX_PRETRAIN_EPOCHS, PRETRAINABLE, GradNormRecorder, pretrain_layerwise
from .train import History, Splits, TrainConfig, evaluate, fit

__all__ = ["Recipe", "SHIPPED", "load_splits", "training_splits", "train_and_save",
           "save_trained", "model_config", "recipe_from_args", "cli_args", "recipe_to_dict",
           "recipe_from_dict"]


@dataclass(frozen=True)
class Recipe:
    """Everything that defines a trained checkpoint."""

    model: ModelConfig
    train: TrainConfig
    dataset: str = "digits"
    train_split: str = "train"
    test_split: str = "test"
    notes: str = ""
    exclude_class: int | None = None  # leave this class out of the TRAINING split (anomaly demo)
    pretrain_epochs: int = 0  # greedy layer-wise pretraining epochs per layer (0: none)
    record_grads: bool = False  # store per-layer gradient norms per epoch in the metadata
    maps: bool = True  # rebuild-shipped precomputes its latent maps (False: built on first use)

    def __post_init__(self) -> None:
        if not 0 <= self.pretrain_epochs <= MAX_PRETRAIN_EPOCHS:
            raise ValueError(f"pretrain_epochs must be in [0, {MAX_PRETRAIN_EPOCHS}], got "
                             f"{self.pretrain_epochs}")
        if self.pretrain_epochs and self.model.name not in PRETRAINABLE:
            raise ValueError(f"layer-wise pretraining needs an MLP autoencoder "
                             f"({', '.join(PRETRAINABLE)}), got {self.model.name!r}")


def load_splits(dataset: str, train_split: str = "train", test_split: str = "test",
                root: str | os.PathLike | None = None) -> Splits:
    """Load the two splits of a dataset (see :func:`aecore.data.load_dataset`)."""
    return Splits(load_dataset(dataset, train_split, root), load_dataset(dataset, test_split, root))


def training_splits(recipe: Recipe, root: str | os.PathLike | None = None,
                    splits: Splits | None = None) -> Splits:
    """The splits ``recipe`` trains and tests on: ``splits`` (loaded when None) with
    ``recipe.exclude_class`` removed from the training split (idempotent)."""
    splits = splits or load_splits(recipe.dataset, recipe.train_split, recipe.test_split, root)
    if recipe.exclude_class is not None:
        keep = splits.train.y != recipe.exclude_class
        splits = Splits(splits.train.subset(keep), splits.test)
    return splits


def train_and_save(recipe: Recipe, out: str | os.PathLike | None, *,
                   root: str | os.PathLike | None = None,
                   callback: Callable | None = None, overwrite: bool = True,
                   splits: Splits | None = None,
                   on_start: Callable[[Autoencoder, Splits], None] | None = None,
                   report_every: int | None = None) -> tuple[Autoencoder, History, Path | None]:
    """Train ``recipe`` with :func:`aecore.train.fit` and save the best model to ``out``.

    The one training sequence of the library, the CLI and the app's worker: splits, seed,
    model, ``fit``, save. The checkpoint's metadata records the recipe, the epochs run, the
    best epoch and the final test metrics (nats per image for BCE).

    Parameters
    ----------
    recipe : Recipe
    out : path or None
        Checkpoint to write; None trains without saving.
    root : path, optional
        Data folder (see :func:`aecore.data.load_dataset`).
    callback : callable, optional
        Passed to :func:`aecore.train.fit`: called with each ``StepLog`` and ``EpochLog``;
        returning True stops training (the best epoch so far is kept).
    overwrite : bool
        Passed to :func:`aecore.checkpoints.save`.
    splits : Splits, optional
        Already loaded data (``recipe.exclude_class`` is still applied).
    on_start : callable, optional
        ``on_start(model, splits)``, called once the seeded model is built, before training
        (the app's worker announces the run and its preview batch from it).
    report_every : int, optional
        Overrides ``recipe.train.report_every`` for this run only (progress reports change;
        the weights and the recipe saved in the metadata do not).

    Returns
    -------
    model, history, path (``None`` if ``out`` is None).

    Raises
    ------
    TrainingDiverged, DataError, CheckpointError
    """
    splits = training_splits(recipe, root, splits)
    seed_everything(recipe.train.seed)  # weights are initialised here, so seed first
    model = build_model(recipe.model)
    if on_start is not None:
        on_start(model, splits)
    cfg = recipe.train
    if report_every is not None:
        cfg = dataclasses.replace(cfg, report_every=report_every)
    extra: dict[str, Any] = {}
    if recipe.pretrain_epochs:  # Bengio et al. 2007: stack shallow AEs, then fine-tune
        extra["pretrain_loss"] = pretrain_layerwise(
            model, splits.train, recipe.pretrain_epochs, lr=cfg.lr, batch_size=cfg.batch_size,
            seed=cfg.seed, callback=callback, device=cfg.device)
    rec = GradNormRecorder() if recipe.record_grads else None
    hist = fit(model, splits, cfg, callback=callback, on_backward=rec)
    if rec is not None:
        extra["grad_norms"] = rec.per_epoch(-(-len(splits.train) // cfg.batch_size))
    path = None
    if out is not None:
        path = save_trained(model, recipe, hist, splits, out, overwrite=overwrite, extra=extra)
    return model, hist, path


def save_trained(model: Autoencoder, recipe: Recipe, hist: History, splits: Splits,
                 out: str | os.PathLike, *, overwrite: bool = True,
                 extra: dict[str, Any] | None = None) -> Path:
    """Save a model trained from ``recipe`` with metadata: the recipe, epochs run, best epoch,
    final test metrics (nats per image) and ``history`` (per-epoch ``train_total`` and
    ``test_total`` lists, nats per image); ``extra`` adds keys (``pretrain_loss``,
    ``grad_norms``).

    Raises
    ------
    CheckpointError
        ``out`` exists and ``overwrite`` is False, or the weights are not finite.
    """
    test = evaluate(model, splits.test, seed=recipe.train.seed)
    meta = {
        "train_config": recipe.train.to_dict(),
        "dataset": recipe.dataset,
        "train_split": recipe.train_split,
        "test_split": recipe.test_split,
        "epochs": len(hist.epochs),
        "best_epoch": hist.best_epoch,
        "stopped_early": hist.stopped,
        "train_seconds": round(hist.seconds, 2),
        "metrics": {f"test_{k}": round(v, 4) for k, v in test.items()},
        "notes": recipe.notes,
        "exclude_class": recipe.exclude_class,
        "pretrain_epochs": recipe.pretrain_epochs,
        "history": {k: [round(getattr(e, k), 4) for e in hist.epochs]
                    for k in ("train_total", "test_total")},
        **_rounded(extra or {}),
    }
    return checkpoints.save(model.cpu(), out, meta=meta, overwrite=overwrite)


def _rounded(d: dict[str, Any]) -> dict[str, Any]:
    """Nested lists of floats rounded to 4 significant digits (metadata stays small)."""
    def r(v):
        return [r(x) for x in v] if isinstance(v, list) else float(f"{v:.4g}")
    return {k: r(v) for k, v in d.items()}


def recipe_to_dict(r: Recipe) -> dict[str, Any]:
    """A JSON-ready dict of a recipe (what crosses a process boundary)."""
    return {"model": r.model.to_dict(), "train": r.train.to_dict(), "dataset": r.dataset,
            "train_split": r.train_split, "test_split": r.test_split, "notes": r.notes,
            "exclude_class": r.exclude_class, "pretrain_epochs": r.pretrain_epochs,
            "record_grads": r.record_grads}


def recipe_from_dict(d: dict[str, Any]) -> Recipe:
    """Inverse of :func:`recipe_to_dict`. Raises ``ValueError`` on invalid fields."""
    return Recipe(model=config_from_dict(d["model"]), train=TrainConfig.from_dict(d["train"]),
                  dataset=d["dataset"], train_split=d["train_split"],
                  test_split=d["test_split"], notes=d.get("notes", ""),
                  exclude_class=d.get("exclude_class"),
                  pretrain_epochs=int(d.get("pretrain_epochs", 0)),
                  record_grads=bool(d.get("record_grads", False)))


def model_config(name: str, **options: Any) -> ModelConfig:
    """The config of model ``name`` (a key of :data:`aecore.models.MODELS`) from options.

    Options the model's config has no field for (``beta`` for a plain AE, ``noise`` for
    anything but the denoising AE, ``channels`` for an MLP) are ignored, so one set of
    knobs (the CLI's, the Train page's) describes every model.

    Raises
    ------
    ValueError
        A field is out of range (the message names it).
    """
    cls = MODELS[name][0]
    fields = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in options.items() if k in fields})


def recipe_from_args(a: argparse.Namespace, input_shape: tuple[int, ...]) -> Recipe:
    """The recipe that ``python -m aecore train``'s parsed arguments describe.

    Parameters
    ----------
    a : argparse.Namespace
        From :func:`aecore.__main__.build_parser`.
    input_shape : tuple of int
        (C, H, W) of the dataset's images, or (D,) of its feature vectors.

    Raises
    ------
    ValueError
        An option is out of range (the message names the field).
    """
    opts: dict[str, Any] = dict(input_shape=tuple(input_shape), latent_dim=a.latent_dim,
                                recon_loss=a.recon_loss, output=a.output, dropout=a.dropout,
                                beta=a.beta, noise=a.noise, noise_level=a.noise_level,
                                activation=a.activation, norm=a.norm,
                                sparsity=getattr(a, "sparsity", 0.0),
                                free_bits=getattr(a, "free_bits", 0.0))
    if a.hidden:
        opts["hidden"] = tuple(int(v) for v in a.hidden.split(","))
    if a.channels:
        opts["channels"] = tuple(int(v) for v in a.channels.split(","))
    return Recipe(
        model=model_config(a.model, **opts),
        train=TrainConfig(epochs=a.epochs, batch_size=a.batch_size, lr=a.lr,
                          weight_decay=a.weight_decay, seed=a.seed, kl_anneal=a.kl_anneal,
                          warmup_epochs=a.warmup_epochs, cycle_epochs=a.cycle_epochs,
                          report_every=1, device=a.device),
        dataset=a.dataset, train_split=a.train_split, test_split=a.test_split,
        pretrain_epochs=a.pretrain_epochs, record_grads=a.record_grads)


def cli_args(recipe: Recipe, out: str = "model.safetensors", threads: int | None = None
             ) -> list[str]:
    """The ``python -m aecore train`` command line that trains ``recipe`` (the inverse of
    :func:`recipe_from_args`, up to ``report_every``, which only changes progress reports).

    Parameters
    ----------
    recipe : Recipe
    out : str
        Checkpoint file the command writes.
    threads : int, optional
        Adds ``--threads``. Runs agree bit for bit only at the same CPU thread count (the
        order of floating-point sums changes with it); the app's worker uses 1.

    Returns
    -------
    list of str, starting with ``python -m aecore train``; every option is written out, so
    the command does not depend on the CLI's defaults.
    """
    m, t = recipe.model, recipe.train

    def num(v: float) -> str:
        return repr(float(v))  # shortest string that parses back to the same float

    args = ["python", "-m", "aecore", "train", "--model", m.name, "--dataset", recipe.dataset,
            "--train-split", recipe.train_split, "--test-split", recipe.test_split,
            "--latent-dim", str(m.latent_dim), "--hidden", ",".join(map(str, m.hidden)),
            "--recon-loss", m.recon_loss, "--output", m.output, "--dropout", num(m.dropout),
            "--activation", m.activation, "--norm", m.norm]
    if hasattr(m, "beta"):
        args += ["--beta", num(m.beta)]
    if hasattr(m, "noise"):
        args += ["--noise", m.noise, "--noise-level", num(m.noise_level)]
    if hasattr(m, "sparsity"):
        args += ["--sparsity", num(m.sparsity)]
    if hasattr(m, "free_bits"):
        args += ["--free-bits", num(m.free_bits)]
    if hasattr(m, "channels"):
        args += ["--channels", ",".join(map(str, m.channels))]
    args += ["--epochs", str(t.epochs), "--batch-size", str(t.batch_size), "--lr", num(t.lr),
             "--weight-decay", num(t.weight_decay), "--kl-anneal", t.kl_anneal,
             "--warmup-epochs", str(t.warmup_epochs), "--cycle-epochs", str(t.cycle_epochs),
             "--seed", str(t.seed)]
    if recipe.pretrain_epochs:
        args += ["--pretrain-epochs", str(recipe.pretrain_epochs)]
    if recipe.record_grads:
        args += ["--record-grads"]
    if t.device != "auto":
        args += ["--device", t.device]
    if threads:
        args += ["--threads", str(threads)]
    return args + ["--out", str(out)]

_H = (256, 128)
SHIPPED: dict[str, Recipe] = {
    "digits_ae_z2": Recipe(AEConfig(latent_dim=2, hidden=_H), TrainConfig(epochs=300, lr=1e-3),
                           notes="Plain MLP AE with a 2-D bottleneck: the map is z itself."),
    "digits_vae_z2": Recipe(VAEConfig(latent_dim=2, hidden=_H), TrainConfig(epochs=300, lr=1e-3),
                            notes="MLP VAE, beta 1, 2-D latent: the map is mu itself."),
    "digits_ae_z16": Recipe(AEConfig(latent_dim=16, hidden=_H), TrainConfig(epochs=300, lr=1e-3),
                            notes="MLP AE with a 16-D bottleneck (undercomplete: 16 < 64)."),
    "digits_vae_z16": Recipe(VAEConfig(latent_dim=16, hidden=_H),
                             TrainConfig(epochs=300, lr=1e-3),
                             notes="MLP VAE, beta 1, 16-D latent."),
}

# 28x28 MNIST models: trained on the first 8,000 images of the official MNIST test set and
# evaluated on the last 2,000 (the only split that can ship offline; the images never ship).
_MNIST = dict(dataset="mnist", train_split="test[:8000]", test_split="test[8000:]")
_M = (256, 128)
_MT = TrainConfig(epochs=40, batch_size=128, lr=1e-3)
SHIPPED.update({
    "mnist_ae_z2": Recipe(AEConfig(input_shape=(1, 28, 28), latent_dim=2, hidden=_M), _MT,
                          notes="MLP AE, 2-D bottleneck, MNIST.", **_MNIST),
    "mnist_vae_z2": Recipe(VAEConfig(input_shape=(1, 28, 28), latent_dim=2, hidden=_M), _MT,
                           notes="MLP VAE, beta 1, 2-D latent, MNIST.", **_MNIST),
    "mnist_ae_z16": Recipe(AEConfig(input_shape=(1, 28, 28), latent_dim=16, hidden=_M), _MT,
                           notes="MLP AE, 16-D bottleneck, MNIST.", **_MNIST),
    "mnist_vae_z16": Recipe(VAEConfig(input_shape=(1, 28, 28), latent_dim=16, hidden=_M), _MT,
                            notes="MLP VAE, beta 1, 16-D latent, MNIST.", **_MNIST),
    "mnist_convvae_z16": Recipe(ConvVAEConfig(latent_dim=16, hidden=(128,), channels=(16, 32)),
                                _MT, notes="Convolutional VAE, 16-D latent, MNIST.", **_MNIST),
})

# More digits models for the lessons: a beta sweep (beta 1 is digits_vae_z2), a denoising AE
# to compare with digits_ae_z16, and an AE that never saw a 7 (anomaly detection).
_T = TrainConfig(epochs=300, lr=1e-3)
SHIPPED.update({
    "digits_bvae_b0.1_z2": Recipe(VAEConfig(latent_dim=2, hidden=_H, beta=0.1), _T,
                                  notes="beta-VAE sweep: beta 0.1 (weak KL pull)."),
    "digits_bvae_b2_z2": Recipe(VAEConfig(latent_dim=2, hidden=_H, beta=2.0), _T,
                                notes="beta-VAE sweep: beta 2 (codes squeezed, classes merge)."),
    "digits_bvae_b4_z2": Recipe(VAEConfig(latent_dim=2, hidden=_H, beta=4.0), _T,
                                notes="beta-VAE sweep: beta 4 (strong KL pull)."),
    "digits_dae_z16": Recipe(DAEConfig(latent_dim=16, hidden=_H, noise="gaussian",
                                       noise_level=0.3), _T,
                             notes="Denoising AE: trained on Gaussian noise (std 0.3) inputs."),
    "digits_ae_no7_z16": Recipe(AEConfig(latent_dim=16, hidden=_H), _T, exclude_class=7,
                                notes="AE trained without any 7: 7s are anomalies to it."),
})

# The "Activations" lesson: one AE, five hidden-layer nonlinearities, modest epochs (the curves
# show how fast each learns). The "Deep AE" lesson: 8 hidden sigmoid layers (4 + 4) trained end
# to end, or after greedy layer-wise pretraining, vs ReLU + BatchNorm; gradient norms recorded.
_ACT = TrainConfig(epochs=40, lr=1e-3)
SHIPPED.update({
    f"digits_act_{a}_z8": Recipe(AEConfig(latent_dim=8, hidden=_H, activation=a), _ACT,
                                 notes=f"Activations lesson: {a} hidden layers.")
    for a in ("relu", "leaky_relu", "tanh", "sigmoid", "gelu")})
_DEEP, _DT = (128, 64, 32, 16), TrainConfig(epochs=60, lr=1e-3)
SHIPPED.update({
    "digits_deep_sigmoid_z8": Recipe(
        AEConfig(latent_dim=8, hidden=_DEEP, activation="sigmoid"), _DT, record_grads=True,
        notes="Deep AE lesson: 8 sigmoid hidden layers trained end to end."),
    "digits_deep_sigmoid_pre_z8": Recipe(
        AEConfig(latent_dim=8, hidden=_DEEP, activation="sigmoid"), _DT, pretrain_epochs=30,
        record_grads=True, notes="Deep AE lesson: the same, after layer-wise pretraining."),
    "digits_deep_relu_bn_z8": Recipe(
        AEConfig(latent_dim=8, hidden=_DEEP, activation="relu", norm="batchnorm"), _DT,
        record_grads=True, notes="Deep AE lesson: the modern fix, ReLU + BatchNorm."),
})

# Tabular anomaly detection (the Tabular lesson): an AE trained on the benign cases of the
# breast cancer training split only (malignant, class 0, left out), on standardised features,
# so an identity output and MSE. keep_best is off: the test split holds malignant cases, and
# picking the epoch by their error would let the anomalies choose the model.
SHIPPED["breast_cancer_ae_z2"] = Recipe(
    AEConfig(input_shape=(30,), latent_dim=2, hidden=(32, 16), recon_loss="mse",
             output="identity"),
    TrainConfig(epochs=200, batch_size=32, lr=1e-3, keep_best=False),
    dataset="breast-cancer", exclude_class=0,
    notes="AE on benign cases only (30 standardised features): malignant ones are anomalies.")

# Bottleneck-size lesson (pages/10_Bottleneck.py): one architecture and training, only z
# changes (64 pixels: z >= 64 is overcomplete), then the overcomplete z = 128 AE with one fix
# each. Their maps are not precomputed (the lesson does not draw them; the map pages build
# one on first use).
_CAP = TrainConfig(epochs=60, lr=2e-3)
CAPACITY_SWEEP = (2, 4, 8, 16, 32, 64, 128)
SHIPPED.update({
    f"digits_ae_cap_z{z}": Recipe(AEConfig(latent_dim=z, hidden=_H), _CAP, maps=False,
                                  notes=f"Bottleneck sweep: AE with z = {z}.")
    for z in CAPACITY_SWEEP})
SHIPPED.update({
    "digits_ae_cap_z128_denoise": Recipe(DAEConfig(latent_dim=128, hidden=_H, noise="gaussian",
                                                   noise_level=0.3), _CAP, maps=False,
                                         notes="Overcomplete AE + denoising (Gaussian, 0.3)."),
    "digits_ae_cap_z128_dropout": Recipe(AEConfig(latent_dim=128, hidden=_H, dropout=0.2), _CAP,
                                         maps=False, notes="Overcomplete AE + dropout 0.2."),
    "digits_ae_cap_z128_wd": Recipe(AEConfig(latent_dim=128, hidden=_H),
                                    dataclasses.replace(_CAP, weight_decay=0.1), maps=False,
                                    notes="Overcomplete AE + weight decay 0.1 (AdamW)."),
    "digits_ae_cap_z128_sparse": Recipe(AEConfig(latent_dim=128, hidden=_H, sparsity=0.05),
                                        _CAP, maps=False,
                                        notes="Overcomplete AE + L1 sparsity 0.05 on z."),
})
# Posterior-collapse lesson (pages/11_Posterior_collapse.py): a 16-D VAE with a large beta,
# alone, with cyclical KL annealing (4 cycles of 15 epochs) and with free bits.
_PC = TrainConfig(epochs=60, lr=2e-3)
SHIPPED.update({
    "digits_vae_z16_b4": Recipe(VAEConfig(latent_dim=16, hidden=_H, beta=4.0), _PC, maps=False,
                                notes="VAE, beta 4: most latent dimensions collapse."),
    "digits_vae_z16_b4_cyclical": Recipe(
        VAEConfig(latent_dim=16, hidden=_H, beta=4.0),
        dataclasses.replace(_PC, kl_anneal="cyclical", cycle_epochs=15), maps=False,
        notes="VAE, beta 4, cyclical KL annealing (Fu et al. 2019)."),
    "digits_vae_z16_b4_freebits": Recipe(VAEConfig(latent_dim=16, hidden=_H, beta=4.0,
                                                   free_bits=0.5), _PC, maps=False,
                                         notes="VAE, beta 4, free bits 0.5 nats per dimension."),
})
