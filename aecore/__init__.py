"""aecore: autoencoders for teaching, as a plain Python library (no UI code).

Typical use from a notebook::

    from aecore import load_dataset, VAE, VAEConfig, fit, Splits, TrainConfig
    train, test = load_dataset("digits", "train"), load_dataset("digits", "test")
    model = VAE(VAEConfig(latent_dim=2))
    history = fit(model, Splits(train, test), TrainConfig(epochs=60, seed=0))
"""
from .checkpoints import CheckpointInfo, list_checkpoints, load, save
from .data import DATASETS, Dataset, load_dataset
from .device import pick_device
from .errors import (CheckpointError, DataError, LatentLabError, NotFittedError, RequestTooLarge,
                     TrainingDiverged)
from .models import (AE, DAE, MODELS, VAE, AEConfig, Autoencoder, ConvAE, ConvAEConfig, ConvVAE,
                     ConvVAEConfig, DAEConfig, LossTerms, ModelOutput, VAEConfig, build_model)
from .train import EpochLog, History, Splits, StepLog, TrainConfig, evaluate, fit

__all__ = ["CheckpointInfo", "list_checkpoints", "load", "save", "DATASETS", "Dataset",
           "load_dataset", "pick_device", "CheckpointError", "DataError", "LatentLabError",
           "NotFittedError", "RequestTooLarge", "TrainingDiverged", "AE", "DAE", "MODELS", "VAE",
           "AEConfig", "Autoencoder", "ConvAE", "ConvAEConfig", "ConvVAE", "ConvVAEConfig",
           "DAEConfig", "LossTerms", "ModelOutput", "VAEConfig", "build_model", "EpochLog",
           "History", "Splits", "StepLog", "TrainConfig", "evaluate", "fit"]
