"""The server process's one class store, question store and drawing store.

Both the Streamlit pages (through ``ui.cache``) and the class API (:mod:`services.classapi`,
served beside Streamlit by the same process) use these objects, so their in-memory pacing
(a student's last click, last answer, last drawing) is one per process whichever way a request
came in. Each is created on first use from ``$LATENTLAB_DATABASE_URL`` or the state folder
(:func:`services.classroom.default_db`).
"""
from __future__ import annotations

import functools

from .classdraw import DrawStore
from .classquiz import QuizStore
from .classroom import ClassStore, default_db

__all__ = ["class_store", "quiz_store", "draw_store"]


@functools.cache
def class_store() -> ClassStore:
    """The one :class:`ClassStore` of this process (it opens a connection per call, so threads
    share it). Raises ``ClassroomError`` if the database is unusable (not cached then)."""
    return ClassStore(default_db())


@functools.cache
def quiz_store() -> QuizStore:
    """The one :class:`QuizStore` of this process, on :func:`class_store`."""
    return QuizStore(class_store())


@functools.cache
def draw_store() -> DrawStore:
    """The one :class:`DrawStore` of this process, on :func:`class_store`."""
    return DrawStore(class_store())
