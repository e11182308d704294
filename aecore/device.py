"""Device selection and seeding."""
from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["pick_device", "seed_everything", "make_generator"]


def pick_device(prefer: str | None = None) -> torch.device:
    """Pick the fastest available device: CUDA, then Apple MPS, then the CPU.

    Parameters
    ----------
    prefer : str, optional
        ``"cpu"``, ``"cuda"`` or ``"mps"`` to force a device; ``None`` or ``"auto"`` picks.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If ``prefer`` names a device that is not available here.
    """
    if prefer not in (None, "auto"):
        dev = torch.device(prefer)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("device 'cuda' was requested but CUDA is not available")
        if dev.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError("device 'mps' was requested but MPS is not available")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's global generators (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def make_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A private, seeded ``torch.Generator``: per-request randomness that no other user shares."""
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g
