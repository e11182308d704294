"""Recipes: train a model on a named dataset and save it as a checkpoint, and the exact
recipes of the shipped checkpoints (rebuilt by ``python -m aecore rebuild-shipped``)."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import checkpoints
from .data import load_dataset
from .device import seed_everything
from .models import build_model
from .models.ae import AEConfig
from .models.base import Autoencoder, ModelConfig
from .models.conv import ConvVAEConfig
from .models.dae import DAEConfig
from .models.vae import VAEConfig
from .train import History, Splits, TrainConfig, evaluate, fit

__all__ = ["Recipe", "SHIPPED", "load_splits", "train_and_save", "save_trained"]


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


def load_splits(dataset: str, train_split: str = "train", test_split: str = "test",
                root: str | os.PathLike | None = None) -> Splits:
    """Load the two splits of a dataset (see :func:`aecore.data.load_dataset`)."""
    return Splits(load_dataset(dataset, train_split, root), load_dataset(dataset, test_split, root))


def train_and_save(recipe: Recipe, out: str | os.PathLike | None, *,
                   root: str | os.PathLike | None = None,
                   callback: Callable | None = None, overwrite: bool = True,
                   splits: Splits | None = None) -> tuple[Autoencoder, History, Path | None]:
    """Train ``recipe`` with :func:`aecore.train.fit` and save the best model to ``out``.

    The checkpoint's metadata records the recipe, the epochs run, the best epoch and the final
    test metrics (nats per image).

    Returns
    -------
    model, history, path (``None`` if ``out`` is None).

    Raises
    ------
    TrainingDiverged, DataError, CheckpointError
    """
    splits = splits or load_splits(recipe.dataset, recipe.train_split, recipe.test_split, root)
    if recipe.exclude_class is not None:
        keep = splits.train.y != recipe.exclude_class
        splits = Splits(splits.train.subset(keep), splits.test)
    seed_everything(recipe.train.seed)  # weights are initialised here, so seed first
    model = build_model(recipe.model)
    hist = fit(model, splits, recipe.train, callback=callback)
    path = None
    if out is not None:
        path = save_trained(model, recipe, hist, splits, out, overwrite=overwrite)
    return model, hist, path


def save_trained(model: Autoencoder, recipe: Recipe, hist: History, splits: Splits,
                 out: str | os.PathLike, *, overwrite: bool = True) -> Path:
    """Save a model trained from ``recipe`` with metadata: the recipe, epochs run, best epoch
    and final test metrics (nats per image).

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
    }
    return checkpoints.save(model.cpu(), out, meta=meta, overwrite=overwrite)

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
