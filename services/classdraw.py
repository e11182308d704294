"""Students' drawings sent to the class map: the model-input pixels of a drawing, per class.

Stored in the class database beside the classes, students and clicks of
:class:`services.classroom.ClassStore` (SQLite or PostgreSQL, one transaction per call, writes
serialised, so no bound can be overshot by concurrent senders). Two tables (schema step 4 of
``services.classroom.MIGRATIONS``):

* ``drawings``: one row per drawing: class code, student id, display name (plain text,
  :func:`services.classroom.clean_name`), time, the class's dataset, the image's height and
  width, and its pixels (uint8 0..255, row-major, base64);
* ``drawings_hidden``: the classes whose lecturer hid the drawings.

A drawing is only what the model reads: ``H*W`` grey values in the dataset's image shape (8x8
digits, 28x28 MNIST), never the pad's ink or strokes. Bounds (:class:`DrawLimits`): per student
at least 5 s between two drawings and at most 20 stored; per class at most 1,000 stored. A new
drawing replaces nothing. While the lecturer hides the drawings, new ones are refused
(:class:`~services.errors.DrawingsHidden`), so a student is never told "sent" for a drawing
nobody sees. Ending a class, or its expiry, deletes its drawings with its clicks; removing a
student deletes theirs.

Typical use::

    draws = DrawStore(store)                                 # store: a ClassStore
    draws.send(code, "s-42", "digits", pixels_64_uint8, name="Ada")   # a student
    new = draws.drawings(code, after_id=last_seen)          # the lecturer's map
    draws.set_hidden(code, token, True)                      # the lecturer hides them
"""
from __future__ import annotations

import base64
import json
import numbers
import threading
from dataclasses import dataclass

import numpy as np

from aecore.data import DATASETS, image_shape, is_tabular

from .classroom import ClassStore, _check_student, clean_name, normalize_code
from .errors import (BadDrawing, ClassFull, ClassNotFound, DrawingsHidden, NotLecturer,
                     RateLimited, WrongDataset)

__all__ = ["DrawLimits", "Drawing", "DrawStore", "drawing_shape"]


@dataclass(frozen=True)
class DrawLimits:
    """Bounds on what students' drawings may cost a class.

    Attributes
    ----------
    min_interval_s : float
        Per student: seconds between two drawings (refused in memory first, then checked in
        the write transaction against the stored times).
    per_student : int
        Per student: drawings stored in a class.
    per_class : int
        Per class: drawings stored (all students). At 28x28 that is at most 784 kB of pixels.
    """

    min_interval_s: float = 5.0
    per_student: int = 20
    per_class: int = 1000


@dataclass(frozen=True)
class Drawing:
    """One student's drawing as stored.

    Attributes
    ----------
    id : int
        Unique over the database, increasing in commit order.
    code, student, name : str
        Class code, student id, display name (plain text; may be empty).
    t : float
        Epoch seconds when it was stored.
    dataset : str
        The class's dataset when it was sent (the pixels' meaning).
    pixels : ndarray of shape (H, W), uint8 in 0..255
        The model's input times 255; ``pixels / 255`` is the image in [0, 1].
    """

    id: int
    code: str
    student: str
    name: str
    t: float
    dataset: str
    pixels: np.ndarray

    def image(self) -> np.ndarray:
        """The model input: shape (1, H, W), float32 in [0, 1]."""
        return (self.pixels.astype(np.float32) / 255.0)[None]


def drawing_shape(dataset: str) -> tuple[int, int]:
    """(H, W) of a drawing for ``dataset`` (its one-channel image shape).

    Raises
    ------
    WrongDataset
        Unknown dataset, a tabular one, or images with more than one channel.
    """
    if not isinstance(dataset, str) or dataset not in DATASETS:
        raise WrongDataset(f"unknown dataset {str(dataset)[:30]!r}")
    shape = image_shape(dataset)
    if is_tabular(dataset) or len(shape) != 3 or shape[0] != 1:
        raise WrongDataset(f"{dataset} holds no one-channel images: nothing to draw")
    return int(shape[1]), int(shape[2])


def _pixel_bytes(pixels, n: int) -> bytes:
    """``pixels`` (bytes, a uint8 array of any shape, or a sequence of ints 0..255) as exactly
    ``n`` bytes (row-major); BadDrawing otherwise. The length is checked before any element is
    read."""
    if isinstance(pixels, np.ndarray):  # any shape holding n values, e.g. (H, W)
        if pixels.dtype != np.uint8 or pixels.size != n:
            raise BadDrawing(f"a drawing for this class is {n} uint8 pixels; got "
                             f"{pixels.size} of {pixels.dtype}")
        return np.ascontiguousarray(pixels).tobytes()
    try:
        size = len(pixels)
    except TypeError:
        raise BadDrawing(f"a drawing's pixels are a sequence, not {type(pixels).__name__}") \
            from None
    if size != n:
        raise BadDrawing(f"a drawing for this class has exactly {n} pixels; got {size}")
    if isinstance(pixels, (bytes, bytearray)):
        return bytes(pixels)
    out = bytearray(n)
    for i, v in enumerate(pixels):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 0 <= v <= 255:
            raise BadDrawing(f"pixel {i} is {str(v)[:12]!r}: pixels are integers 0..255")
        out[i] = int(v)
    return bytes(out)


class DrawStore:
    """The students' drawings of one :class:`~services.classroom.ClassStore`'s database.

    Parameters
    ----------
    classes : ClassStore
        The class store whose database, clock, lecturer tokens, students and name limit this
        uses.
    limits : DrawLimits

    Raises
    ------
    ClassroomError
        If the database cannot be opened (as :class:`ClassStore`).
    """

    def __init__(self, classes: ClassStore, limits: DrawLimits = DrawLimits()):
        self.classes = classes
        self.limits = limits
        self._mem = threading.Lock()
        self._last: dict[tuple[str, str], float] = {}  # (code, student) -> last drawing time

    # -- students ---------------------------------------------------------------------------

    def send(self, code: str, student: str, dataset: str, pixels, name: str = "") -> Drawing:
        """Store a student's drawing.

        Parameters
        ----------
        code, student : str
            Class code and the student's id (the student must have joined).
        dataset : str
            The dataset the drawing was made for; must be the class's model's dataset.
        pixels : bytes, ndarray of uint8, or sequence of int
            Exactly ``H * W`` grey values 0..255, row-major, for the dataset's (H, W) (an array
        may have shape (H, W)).
        name : str
            Display name (:func:`services.classroom.clean_name`).

        Raises
        ------
        BadClick
            Malformed code, student id or name.
        WrongDataset
            ``dataset`` is not the class's, or has no drawable images.
        BadDrawing
            Not exactly ``H * W`` integers in 0..255.
        ClassNotFound, ClassExpired
            No such class (or the student is not in it), or it has ended.
        NotLecturer
            The lecturer blocked this student.
        DrawingsHidden
            The lecturer hid the class's drawings.
        RateLimited
            Within ``limits.min_interval_s`` of the student's last drawing.
        ClassFull
            The student has ``limits.per_student`` drawings stored, or the class
            ``limits.per_class``.
        """
        c, lim = self.classes, self.limits
        code = normalize_code(code)
        _check_student(student)
        name = clean_name(name, c.limits.max_name_len)
        h, w = drawing_shape(dataset)
        data = _pixel_bytes(pixels, h * w)
        last = self._last.get((code, student))
        if last is not None and c._clock() - last < lim.min_interval_s:  # no write lock
            wait = lim.min_interval_s - (c._clock() - last)
            raise RateLimited(f"wait {wait:.1f} s before sending another drawing",
                              retry_after_s=wait)
        with c._tx(write=True) as conn:
            now = c._clock()
            settings = json.loads(c._class_row(conn, code, now)[4])
            if settings.get("dataset") != dataset:
                raise WrongDataset(f"this class's model is on {settings.get('dataset')!r}; "
                                   f"your drawing was made for {dataset!r}")
            s = conn.execute("SELECT blocked FROM students WHERE code = ? AND student = ?",
                             (code, student)).fetchone()
            if s is None:
                raise ClassNotFound(f"you are not in class {code} (any more): join again")
            if s[0]:
                raise NotLecturer("the lecturer removed you from this class")
            if self._hidden(conn, code):
                raise DrawingsHidden("the lecturer has hidden the class's drawings; sending "
                                     "is paused")
            mine, t_last = conn.execute("SELECT COUNT(*), MAX(t) FROM drawings WHERE code = ? "
                                        "AND student = ?", (code, student)).fetchone()
            if t_last is not None and now - t_last < lim.min_interval_s:
                wait = lim.min_interval_s - (now - t_last)
                raise RateLimited(f"wait {wait:.1f} s before sending another drawing",
                                  retry_after_s=wait)
            if mine >= lim.per_student:
                raise ClassFull(f"you have sent {lim.per_student} drawings to this class, "
                                "the most one student may")
            n = conn.execute("SELECT COUNT(*) FROM drawings WHERE code = ?",
                             (code,)).fetchone()[0]
            if n >= lim.per_class:
                raise ClassFull(f"class {code} has {lim.per_class} drawings, the most it keeps")
            id_ = int(conn.execute(
                "INSERT INTO drawings (code, student, name, t, dataset, h, w, pixels) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (code, student, name, now, dataset, h, w,
                 base64.b64encode(data).decode("ascii"))).fetchone()[0])
        c._remember(self._last, (code, student), now)
        return Drawing(id_, code, student, name, now, dataset,
                       np.frombuffer(data, np.uint8).reshape(h, w).copy())

    # -- everyone ---------------------------------------------------------------------------

    def drawings(self, code: str, after_id: int = 0, limit: int = 500) -> list[Drawing]:
        """Drawings of a class with ``id > after_id``, in id order, at most ``limit``
        (1..1000). Page with ``after_id = result[-1].id`` until a short page.

        Raises
        ------
        BadClick, ClassNotFound, ClassExpired
        """
        code = normalize_code(code)
        after_id, limit = int(after_id), min(max(int(limit), 1), 1000)
        c = self.classes
        with c._tx(write=False) as conn:
            c._class_row(conn, code, c._clock())
            rows = conn.execute("SELECT id, code, student, name, t, dataset, h, w, pixels "
                                "FROM drawings WHERE code = ? AND id > ? ORDER BY id LIMIT ?",
                                (code, after_id, limit)).fetchall()
        return [Drawing(r[0], r[1], r[2], r[3], r[4], r[5],
                        np.frombuffer(base64.b64decode(r[8]), np.uint8).reshape(r[6], r[7])
                        .copy()) for r in rows]

    def status(self, code: str) -> tuple[int, bool]:
        """``(drawings stored, hidden)`` of a class.

        Raises
        ------
        BadClick, ClassNotFound, ClassExpired
        """
        code = normalize_code(code)
        c = self.classes
        with c._tx(write=False) as conn:
            c._class_row(conn, code, c._clock())
            n = conn.execute("SELECT COUNT(*) FROM drawings WHERE code = ?",
                             (code,)).fetchone()[0]
            return int(n), self._hidden(conn, code)

    # -- lecturer ---------------------------------------------------------------------------

    def set_hidden(self, code: str, token: str, hidden: bool) -> None:
        """Hide (``True``) or show the class's drawings (lecturer only). While hidden, the
        map shows none and :meth:`send` refuses new ones.

        Raises
        ------
        BadClick, ClassNotFound, NotLecturer
        """
        code = normalize_code(code)
        with self.classes._lecturer_tx(code, token) as conn:
            if hidden:
                conn.execute("INSERT INTO drawings_hidden (code) VALUES (?) ON CONFLICT (code) "
                             "DO NOTHING", (code,))
            else:
                conn.execute("DELETE FROM drawings_hidden WHERE code = ?", (code,))

    def clear(self, code: str, token: str) -> int:
        """Delete every drawing of the class (lecturer only); returns how many.

        Raises
        ------
        BadClick, ClassNotFound, NotLecturer
        """
        code = normalize_code(code)
        with self.classes._lecturer_tx(code, token) as conn:
            return conn.execute("DELETE FROM drawings WHERE code = ?", (code,)).rowcount

    # -- plumbing ---------------------------------------------------------------------------

    @staticmethod
    def _hidden(conn, code: str) -> bool:
        return conn.execute("SELECT 1 FROM drawings_hidden WHERE code = ?",
                            (code,)).fetchone() is not None
