"""Typed exceptions of the app's services: the errors of a shared class.

Each derives from :class:`aecore.errors.LatentLabError` (and ``ValueError``), so code that
catches every deliberate Latent Lab error catches these too.
"""
from __future__ import annotations

from aecore.errors import LatentLabError

__all__ = ["ClassroomError", "ClassNotFound", "ClassExpired", "NotLecturer", "RateLimited",
           "ClassFull", "BadClick", "AnswersClosed", "BadDrawing", "WrongDataset",
           "DrawingsHidden"]


class ClassroomError(LatentLabError, ValueError):
    """Base class of the errors of a shared class (:mod:`services.classroom`)."""


class ClassNotFound(ClassroomError):
    """No class has this code (it never existed, was closed, or expired and was purged)."""


class ClassExpired(ClassroomError):
    """The class exists but its time is over; the lecturer must open a new one."""


class NotLecturer(ClassroomError):
    """The lecturer token is wrong: only the lecturer may change settings or close the class."""


class NotThisStudent(ClassroomError):
    """A request through the class API (:mod:`services.classapi`) does not carry the student's
    key (:meth:`services.classroom.ClassStore.student_key`): it did not come from that
    student's page."""


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


class AnswersClosed(ClassroomError):
    """A class question was revealed (or replaced by the next one): its answers are final."""


class BadDrawing(BadClick):
    """A drawing sent to the class map is malformed: not ``H*W`` pixels of 0..255 for the
    class's dataset (:mod:`services.classdraw`)."""


class WrongDataset(BadDrawing):
    """A drawing was made for another dataset than the class's model's (e.g. an 8x8 digit sent
    to a class on MNIST)."""


class DrawingsHidden(ClassroomError):
    """The lecturer hid the class's drawings: none is shown and new ones are refused."""
