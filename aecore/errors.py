"""Typed exceptions raised by :mod:`aecore`.

Every error a user can cause (a bad file, a missing dataset, a diverging run, a request that is
too large) has its own class, so the UI can show a clear message and tests can assert the type.
"""
from __future__ import annotations

from sklearn.exceptions import NotFittedError

__all__ = [
    "LatentLabError",
    "DataError",
    "CheckpointError",
    "TrainingDiverged",
    "RequestTooLarge",
    "NotFittedError",
]


class LatentLabError(Exception):
    """Base class of every error raised on purpose by :mod:`aecore` (and by the app's
    :mod:`services`, whose errors derive from it)."""


class DataError(LatentLabError, ValueError):
    """A dataset cannot be loaded (unknown name, missing files, wrong shape or range)."""


class CheckpointError(LatentLabError, ValueError):
    """A checkpoint file is missing, truncated, corrupt, foreign or unsafe.

    The message always names the file and the problem.
    """


class TrainingDiverged(LatentLabError, ArithmeticError):
    """The training loss became NaN or infinite.

    Attributes
    ----------
    epoch : int
        1-based epoch in which the loss diverged.
    step : int
        1-based global optimisation step at which it diverged.
    """

    def __init__(self, message: str, *, epoch: int, step: int):
        super().__init__(message)
        self.epoch = epoch
        self.step = step


class RequestTooLarge(LatentLabError, ValueError):
    """A request would allocate too much work or memory (e.g. 10**6 prior samples)."""
