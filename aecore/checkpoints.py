"""Checkpoints: one ``.safetensors`` file per model, weights plus JSON metadata in its header.

Loading never unpickles anything: safetensors stores raw tensors, the metadata is JSON, and the
model is rebuilt from its config before ``load_state_dict(strict=True)``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .errors import CheckpointError
from .files import atomic_write
from .models import Autoencoder, build_model, config_from_dict
from .models.base import ModelConfig

__all__ = ["FORMAT", "FORMAT_VERSION", "CheckpointInfo", "save", "load", "read_info",
           "list_checkpoints", "validate_name", "SHIPPED_DIR"]

FORMAT = "latentlab.checkpoint"
FORMAT_VERSION = 1
MAX_BYTES = 256 * 2**20  # refuse files over 256 MiB before reading them
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class CheckpointInfo:
    """Metadata of a checkpoint file (what the header says; weights not loaded).

    Attributes
    ----------
    path : Path
    id : str
        ``<stem>-<first 12 hex of the file's sha256>``: a cache key that changes with the file.
    model_config : ModelConfig
    meta : dict
        The whole JSON metadata: ``train_config``, ``dataset``, ``epochs``, ``metrics``, ...
    """

    path: Path
    id: str
    model_config: ModelConfig
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """File stem, e.g. ``digits_vae_z2``."""
        return self.path.stem

    @property
    def dataset(self) -> str:
        """Dataset id the model was trained on (e.g. ``"digits"``)."""
        return str(self.meta.get("dataset", "?"))

    @property
    def shipped(self) -> bool:
        """True for the pretrained models that ship in ``checkpoints/``."""
        return self.path.parent.resolve() == SHIPPED_DIR.resolve()


def validate_name(name: str) -> str:
    """Check a user-typed checkpoint name: 1-64 letters, digits, ``_ . -``; no path parts.

    Returns
    -------
    str
        The name, unchanged.

    Raises
    ------
    CheckpointError
        Empty, too long, a path separator, ``..``, a control character or any other character.
    """
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or ".." in name:
        raise CheckpointError(
            f"invalid checkpoint name {name!r}: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit, with no '/', '\\' or '..'")
    return name


def save(model: Autoencoder, path: str | os.PathLike, *, meta: dict[str, Any] | None = None,
         overwrite: bool = True) -> Path:
    """Write ``model`` to ``path`` atomically (temporary file in the same folder + os.replace).

    Parameters
    ----------
    model : Autoencoder
    path : path
        Target file; ``.safetensors`` is appended if missing.
    meta : dict, optional
        JSON-serialisable extras: ``train_config``, ``dataset``, ``epochs``, ``metrics``, ...
    overwrite : bool
        If False and the file exists, raise instead of replacing it.

    Returns
    -------
    Path of the written file.

    Raises
    ------
    CheckpointError
        If the file exists and ``overwrite`` is False, or a weight is NaN or infinite.
    """
    path = Path(path)
    if path.suffix != ".safetensors":
        path = path.with_name(path.name + ".safetensors")
    if path.exists() and not overwrite:
        raise CheckpointError(f"{path} already exists; choose another name")
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"refusing to save {path}: weights {bad[:3]} hold NaN or inf")
    header = {"format": FORMAT, "format_version": FORMAT_VERSION,
              "model_config": model.config.to_dict(), **(meta or {})}
    blob = st_save(tensors, metadata={"latentlab": json.dumps(header)})
    return atomic_write(path, blob)  # readers see the old file or the new one, never half


def _read(path: Path) -> tuple[bytes, dict[str, Any]]:
    """Bytes and parsed header of a checkpoint, or CheckpointError."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise CheckpointError(f"{path}: {size} bytes is larger than the {MAX_BYTES} byte limit")
    blob = path.read_bytes()
    # safetensors layout: u64 little-endian header length, then a JSON header
    if len(blob) < 8:
        raise CheckpointError(f"{path}: file is truncated or empty ({len(blob)} bytes)")
    n = int.from_bytes(blob[:8], "little")
    if n > len(blob) - 8:
        raise CheckpointError(f"{path}: header length {n} runs past the end of the file "
                              f"({len(blob)} bytes); the file is truncated or not a checkpoint")
    try:
        header = json.loads(blob[8:8 + n])
        meta = json.loads(header["__metadata__"]["latentlab"])
        # the tensor table must cover the data exactly: a cut-off download fails here, so
        # read_info (and the model picker) see it without loading any weights
        end = max((int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"),
                  default=0)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: not a Latent Lab checkpoint (no readable metadata: "
                              f"{type(exc).__name__})") from None
    if end != len(blob) - 8 - n:
        raise CheckpointError(f"{path}: the header describes {end} bytes of weights but the file "
                              f"holds {len(blob) - 8 - n}; the file is truncated or corrupt")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a Latent Lab checkpoint (format tag missing)")
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: format version {meta.get('format_version')!r} is not "
                              f"supported (this version reads {FORMAT_VERSION})")
    return blob, meta


def _info(path: Path, blob: bytes, meta: dict[str, Any]) -> CheckpointInfo:
    """Build CheckpointInfo, validating the model config."""
    try:
        cfg = config_from_dict(meta["model_config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: invalid model config: {exc}") from None
    sha = hashlib.sha256(blob).hexdigest()
    return CheckpointInfo(path=path, id=f"{path.stem}-{sha[:12]}", model_config=cfg, meta=meta)


def read_info(path: str | os.PathLike) -> CheckpointInfo:
    """Read and validate a checkpoint's metadata without building the model.

    Raises
    ------
    CheckpointError
        Missing, oversized, truncated, foreign or corrupt file, or an invalid config.
    """
    path = Path(path)
    blob, meta = _read(path)
    return _info(path, blob, meta)


def load(path: str | os.PathLike, device: torch.device | str = "cpu"
         ) -> tuple[Autoencoder, CheckpointInfo]:
    """Load a checkpoint: rebuild the model from its config, then load weights strictly.

    Parameters
    ----------
    path : path
    device : torch.device or str

    Returns
    -------
    model : Autoencoder
        In ``eval()`` mode on ``device``.
    info : CheckpointInfo

    Raises
    ------
    CheckpointError
        Missing, oversized, truncated, corrupt or foreign file; weights that do not fit the
        config (another architecture or input size); NaN or infinite weights.
    """
    path = Path(path)
    blob, meta = _read(path)
    info = _info(path, blob, meta)
    try:
        tensors = st_load(blob)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: corrupt weights ({exc})") from None
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"{path}: weights {bad[:3]} hold NaN or infinite values")
    model = build_model(info.model_config)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = " ".join(str(exc).splitlines()[0:3])
        raise CheckpointError(f"{path}: weights do not match the {info.model_config.name} "
                              f"config {info.model_config.input_shape}: {first}") from None
    return model.to(device).eval(), info


def list_checkpoints(*dirs: str | os.PathLike) -> tuple[list[CheckpointInfo], list[str]]:
    """All readable checkpoints in ``dirs`` (default: the shipped folder), in folder order,
    each folder sorted by file name.

    Returns
    -------
    infos : list of CheckpointInfo
    problems : list of str
        One message per file that could not be read (it is skipped, never changed).
    """
    folders = [Path(d) for d in dirs] if dirs else [SHIPPED_DIR]
    infos, problems = [], []
    for folder in folders:
        for p in sorted(folder.glob("*.safetensors")):
            try:
                infos.append(read_info(p))
            except CheckpointError as exc:
                problems.append(str(exc))
    return infos, problems
