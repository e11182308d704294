"""Students' drawings in the class database (services/classdraw.py), on SQLite and PostgreSQL:
exact model-input pixels for the class's dataset, the per-student and per-class bounds, the
lecturer's hide and clear, and ending a class (or removing a student) deletes them."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from services.classdraw import DrawLimits, DrawStore, drawing_shape
from services.classroom import SCHEMA_VERSION, ClassStore, Limits
from services.errors import (BadClick, BadDrawing, ClassExpired, ClassFull, ClassNotFound,
                             DrawingsHidden, NotLecturer, RateLimited, WrongDataset)

from . import pgtest

DIGITS = {"dataset": "digits", "model_id": "a", "projection": "identity",
          "extent": [-3.0, 3.0, -3.0, 3.0], "n_points": 360}
ROOMY = Limits(join_burst=1000, join_per_s=100, max_students=400)


class Clock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t


def _rows(db, sql: str, params=()) -> list[tuple]:
    """What is really stored (``?`` placeholders), read outside the store."""
    if isinstance(db, str):
        return pgtest.raw(db, sql.replace("?", "%s"), params)
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _class(db, clock, limits=None, settings=DIGITS, n=2):
    store = ClassStore(db, limits=ROOMY, clock=clock)
    code, token = store.open_class(settings)
    for k in range(n):
        store.join(code, f"s{k}", f"Name{k}")
    return store, DrawStore(store, limits or DrawLimits()), code, token


def _digit(seed=0):
    return np.random.default_rng(seed).integers(0, 256, (8, 8)).astype(np.uint8)


def test_a_drawing_is_stored_as_exact_pixels_and_read_back(db):
    clock = Clock()
    store, draws, code, _ = _class(db, clock)
    assert store.db.version() == SCHEMA_VERSION == 4
    px = _digit()
    d = draws.send(code, "s0", "digits", px.ravel().tolist(), name="  Ada  Lovelace ")
    assert d.name == "Ada Lovelace" and d.t == clock.t and d.dataset == "digits"
    clock.t += 6
    draws.send(code, "s1", "digits", _digit(1).tobytes())  # bytes are accepted too
    got = draws.drawings(code)
    assert [g.id for g in got] == sorted(g.id for g in got) and len(got) == 2
    assert got[0].pixels.dtype == np.uint8 and got[0].pixels.shape == (8, 8)
    assert np.array_equal(got[0].pixels, px) and got[0].student == "s0"
    assert np.array_equal(got[0].image()[0] * 255, px.astype(np.float32))
    assert draws.drawings(code, after_id=got[0].id)[0].student == "s1"
    assert draws.status(code) == (2, False)
    # the row holds the pixels and nothing else of the drawing (no strokes, no ink)
    (h, w, b64), = _rows(db, "SELECT h, w, pixels FROM drawings WHERE id = ?", (got[0].id,))
    assert (h, w) == (8, 8) and len(b64) == 88  # base64 of 64 bytes


def test_bad_drawings_are_refused_with_typed_errors(db):
    clock = Clock()
    _, draws, code, _ = _class(db, clock)
    ok = _digit().ravel().tolist()
    with pytest.raises(WrongDataset):
        draws.send(code, "s0", "mnist", [0] * 784)  # a 28x28 drawing to a digits class
    with pytest.raises(WrongDataset):
        draws.send(code, "s0", "breast-cancer", [0] * 30)  # tabular: nothing to draw
    with pytest.raises(WrongDataset):
        draws.send(code, "s0", "cifar", ok)
    for bad in (ok[:-1], ok + [0], [0] * 784, [256] + ok[1:], [-1] + ok[1:], [1.5] + ok[1:],
                [True] + ok[1:], np.zeros(64, np.float32), "x" * 64, 42):
        with pytest.raises(BadDrawing):
            draws.send(code, "s0", "digits", bad)
    with pytest.raises(BadClick):
        draws.send(code, "s0", "digits", ok, name="a\u200db")  # invisible character
    with pytest.raises(BadClick):
        draws.send(code, "s0", "digits", ok, name="n" * 25)
    with pytest.raises(ClassNotFound):
        draws.send(code, "stranger", "digits", ok)  # never joined
    with pytest.raises(ClassNotFound):
        draws.send("ZZZZZ", "s0", "digits", ok)
    assert draws.status(code) == (0, False) and _rows(db, "SELECT COUNT(*) FROM drawings") == [(0,)]


def test_bounds_per_student_and_per_class(db):
    clock = Clock()
    store, draws, code, token = _class(db, clock, DrawLimits(min_interval_s=5, per_student=3,
                                                             per_class=5), n=3)
    px = _digit()
    draws.send(code, "s0", "digits", px)
    clock.t += 4.9
    with pytest.raises(RateLimited) as e:
        draws.send(code, "s0", "digits", px)
    assert e.value.retry_after_s == pytest.approx(0.1, abs=1e-6)
    # a second store (another process or replica) has no memory of s0: the database refuses
    other = DrawStore(ClassStore(db, clock=clock), draws.limits)
    with pytest.raises(RateLimited):
        other.send(code, "s0", "digits", px)
    draws.send(code, "s1", "digits", px)  # another student is not held back
    for _ in range(2):
        clock.t += 5
        draws.send(code, "s0", "digits", px)
    clock.t += 5
    with pytest.raises(ClassFull, match="3 drawings"):
        draws.send(code, "s0", "digits", px)  # per student
    draws.send(code, "s2", "digits", px)  # 5 stored: the class is full
    clock.t += 5
    with pytest.raises(ClassFull, match="5 drawings"):
        draws.send(code, "s1", "digits", px)
    assert draws.status(code)[0] == 5
    assert draws.clear(code, token) == 5 and draws.status(code) == (0, False)
    draws.send(code, "s1", "digits", px)  # room again after the clear


def test_the_lecturer_hides_shows_and_clears(db):
    clock = Clock()
    store, draws, code, token = _class(db, clock)
    draws.send(code, "s0", "digits", _digit())
    with pytest.raises(NotLecturer):
        draws.set_hidden(code, "wrong", True)
    with pytest.raises(NotLecturer):
        draws.clear(code, "wrong")
    draws.set_hidden(code, token, True)
    assert draws.status(code) == (1, True)
    with pytest.raises(DrawingsHidden):
        draws.send(code, "s1", "digits", _digit())
    draws.set_hidden(code, token, True)  # twice: still hidden, no error
    draws.set_hidden(code, token, False)
    assert draws.status(code) == (1, False)
    draws.send(code, "s1", "digits", _digit())
    assert draws.clear(code, token) == 2 and draws.drawings(code) == []


def test_removing_a_student_ending_or_expiring_a_class_deletes_its_drawings(db):
    clock = Clock()
    store, draws, code, token = _class(db, clock)
    draws.send(code, "s0", "digits", _digit())
    draws.send(code, "s1", "digits", _digit())
    store.remove_student(code, token, "s1", block=True)
    assert [d.student for d in draws.drawings(code)] == ["s0"]
    clock.t += 6
    with pytest.raises(NotLecturer):
        draws.send(code, "s1", "digits", _digit())  # blocked
    draws.set_hidden(code, token, True)
    store.close(code, token)
    assert _rows(db, "SELECT COUNT(*) FROM drawings") == [(0,)]
    assert _rows(db, "SELECT COUNT(*) FROM drawings_hidden") == [(0,)]
    # an expired class: refused, then purged with its drawings when the next class opens
    code2, _ = store.open_class(DIGITS)
    store.join(code2, "s0")
    draws.send(code2, "s0", "digits", _digit())
    clock.t += store.limits.ttl_s + 1
    with pytest.raises(ClassExpired):
        draws.send(code2, "s0", "digits", _digit())
    store.open_class(DIGITS)
    assert _rows(db, "SELECT COUNT(*) FROM drawings") == [(0,)]


def test_a_class_on_mnist_takes_28_by_28_drawings(db):
    clock = Clock()
    _, draws, code, _ = _class(db, clock, settings={**DIGITS, "dataset": "mnist"})
    assert drawing_shape("mnist") == (28, 28) and drawing_shape("digits") == (8, 8)
    with pytest.raises(WrongDataset):
        draws.send(code, "s0", "digits", _digit())
    d = draws.send(code, "s0", "mnist", np.full(784, 7, np.uint8))
    assert draws.drawings(code)[0].pixels.shape == (28, 28) and d.pixels.sum() == 7 * 784
