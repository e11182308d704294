"""Model registry: ``MODELS`` maps a name to its (Config, Model) pair.

The same dict drives checkpoint loading, the UI's model picker and the parametrized tests.
"""
from __future__ import annotations

from typing import Any

from .ae import AE, AEConfig
from .base import Autoencoder, LossTerms, ModelConfig, ModelOutput
from .conv import ConvAE, ConvAEConfig, ConvVAE, ConvVAEConfig
from .dae import DAE, DAEConfig
from .vae import VAE, VAEConfig

__all__ = ["MODELS", "MODEL_LABELS", "build_model", "config_from_dict", "Autoencoder",
           "ModelConfig", "ModelOutput", "LossTerms", "AE", "AEConfig", "VAE", "VAEConfig", "DAE",
           "DAEConfig", "ConvAE", "ConvAEConfig", "ConvVAE", "ConvVAEConfig"]

MODELS: dict[str, tuple[type[ModelConfig], type[Autoencoder]]] = {
    "ae": (AEConfig, AE),
    "vae": (VAEConfig, VAE),
    "dae": (DAEConfig, DAE),
    "conv_ae": (ConvAEConfig, ConvAE),
    "conv_vae": (ConvVAEConfig, ConvVAE),
}
# human names of the registered models (pickers, model cards)
MODEL_LABELS: dict[str, str] = {"ae": "AE", "vae": "VAE", "dae": "Denoising AE",
                                "conv_ae": "Conv AE", "conv_vae": "Conv VAE"}


def config_from_dict(d: dict[str, Any]) -> ModelConfig:
    """Rebuild a config from :meth:`ModelConfig.to_dict` output.

    Raises
    ------
    ValueError
        Unknown model name, unknown fields or out-of-range values.
    """
    name = d.get("model")
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {sorted(MODELS)}")
    return MODELS[name][0].from_dict(d)


def build_model(config: ModelConfig) -> Autoencoder:
    """Instantiate the model class registered for ``config.name``.

    Raises
    ------
    ValueError
        If no model is registered under that name.
    """
    if config.name not in MODELS:
        raise ValueError(f"unknown model {config.name!r}; known models: {sorted(MODELS)}")
    return MODELS[config.name][1](config)
