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
    "ClassroomError",
    "ClassNotFound",
    "ClassExpired",
    "NotLecturer",
    "RateLimited",
    "ClassFull",
    "BadClick",
]


class LatentLabError(Exception):
    """Base class of every error raised on purpose by :mod:`aecore`."""


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


class ClassroomError(LatentLabError, ValueError):
    """Base class of the errors of a shared class (:mod:`aecore.classroom`)."""


class ClassNotFound(ClassroomError):
    """No class has this code (it never existed, was closed, or expired and was purged)."""


class ClassExpired(ClassroomError):
    """The class exists but its time is over; the lecturer must open a new one."""


class NotLecturer(ClassroomError):
    """The lecturer token is wrong: only the lecturer may change settings or close the class."""


class RateLimited(ClassroomError):
    """A student clicks too fast.

    Attributes
    ----------
    retry_after_s : float
        Seconds (> 0) after which the same click would be accepted.
    """

    def __init__(self, message: str, *, retry_after_s: float = 0.0):
        # the default keeps the exception picklable (BaseException pickles only ``args``)
        super().__init__(message)
        self.retry_after_s = float(retry_after_s)


class ClassFull(ClassroomError):
    """The class has reached its maximum number of clicks or of students."""


class BadClick(ClassroomError):
    """Malformed input: a class code, student id, name, click or settings dict."""
