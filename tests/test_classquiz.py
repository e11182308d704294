"""Class questions in the class database: one answer per student per question, changeable until
the reveal; counts only; the reveal switches the class's map in the same transaction; pre/post
percentages; 300 students answering at once from several processes, each counted once."""
import time

import pytest

from tests.procs import spawning

from services.classquiz import QuizLimits, QuizStore
from services.classroom import ClassStore, Limits
from services.errors import (AnswersClosed, BadClick, ClassNotFound, NotLecturer,
                             RateLimited)

MAP = {"dataset": "digits", "model_id": "a", "projection": "identity",
       "extent": [-3.0, 3.0, -3.0, 3.0], "n_points": 360}
ROOMY = Limits(join_burst=1000, join_per_s=100, max_students=400)


class Clock:
    """A settable clock (epoch seconds)."""

    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t


def _class(db, n_students=3, clock=None):
    store = ClassStore(db, limits=ROOMY, clock=clock or time.time)
    code, token = store.open_class(MAP)
    for k in range(n_students):
        store.join(code, f"s{k}", f"Name{k}")
    return store, code, token


def test_one_answer_per_student_changeable_until_the_reveal(db):
    clock = Clock()
    store, code, token = _class(db, clock=clock)
    quiz = QuizStore(store)
    r = quiz.ask(code, token, "hole-picture", n_options=4, correct=2)
    assert quiz.current(code).correct == -1  # the answer is not handed out before the reveal
    quiz.answer(code, "s0", r.id, 1)
    quiz.answer(code, "s1", r.id, 2)
    clock.t += 1
    quiz.answer(code, "s0", r.id, 2)  # changed: still one answer
    t = quiz.tally(code, r.id)
    assert t.counts == [0, 0, 2, 0] and t.answered == 2 and t.students == 3
    assert quiz.my_answer(code, "s0", r.id) == 2
    done = quiz.reveal(code, token, r.id)
    assert done.revealed and done.correct == 2
    with pytest.raises(AnswersClosed):
        quiz.answer(code, "s2", r.id, 0)
    # a restart (a new store on the same file) loses nothing
    again = QuizStore(ClassStore(db, clock=clock))
    assert again.tally(code, r.id).counts == [0, 0, 2, 0] and again.current(code).revealed


def test_bad_answers_are_refused(db):
    clock = Clock()
    store, code, token = _class(db, clock=clock)
    quiz = QuizStore(store, QuizLimits(max_changes=2))
    r = quiz.ask(code, token, "dae-target", n_options=4, correct=0)
    with pytest.raises(BadClick):
        quiz.answer(code, "s0", r.id, 4)  # no fifth option
    with pytest.raises(BadClick):
        quiz.answer(code, "s0", r.id, True)
    with pytest.raises(ClassNotFound):
        quiz.answer(code, "stranger", r.id, 0)  # never joined
    store.remove_student(code, token, "s1", block=True)
    with pytest.raises(NotLecturer):
        quiz.answer(code, "s1", r.id, 0)
    quiz.answer(code, "s0", r.id, 0)
    with pytest.raises(RateLimited):
        quiz.answer(code, "s0", r.id, 1)  # too soon
    for k in range(2):
        clock.t += 1
        quiz.answer(code, "s0", r.id, k)
    clock.t += 1
    with pytest.raises(RateLimited, match="at most 2 changes"):
        quiz.answer(code, "s0", r.id, 3)
    r2 = quiz.ask(code, token, "dae-masking", n_options=2, correct=1)
    with pytest.raises(AnswersClosed):
        quiz.answer(code, "s2", r.id, 0)  # the earlier question is over
    with pytest.raises(NotLecturer):
        quiz.ask(code, "wrong-token", "dae-target", n_options=4, correct=0)
    with pytest.raises(BadClick):
        quiz.ask(code, token, "Not An Id!", n_options=4, correct=0)
    with pytest.raises(BadClick):
        quiz.ask(code, token, "x", n_options=40, correct=0)
    assert quiz.tally(code, r2.id).answered == 0


def test_reveal_switches_the_class_map_in_the_same_step(db):
    store, code, token = _class(db)
    quiz = QuizStore(store)
    store.add_click(code, "s0", {"kind": "grid", "x": 0.5, "y": 0.5})
    r = quiz.ask(code, token, "hole-picture", n_options=4, correct=2)
    new = {**MAP, "model_id": "b", "extent": [-10.0, 23.0, -8.0, 18.0]}
    pick = {"kind": "grid", "x": -2.0, "y": 6.8}
    quiz.reveal(code, token, r.id, settings=new, demo=pick)
    assert store.get(code).settings == new
    assert store.counts(code)["clicks"] == 0  # clicks on the old map are gone
    cur = quiz.current(code)
    assert cur.revealed and cur.demo == pick and cur.correct == 2


def test_pre_post_percentages(db):
    clock = Clock()
    store, code, token = _class(db, n_students=4, clock=clock)
    quiz = QuizStore(store)
    for phase, right in (("pre", 1), ("post", 3)):
        for qid in ("dae-target", "kl-zero"):
            r = quiz.ask(code, token, qid, n_options=4, correct=0, phase=phase)
            for k in range(4):
                quiz.answer(code, f"s{k}", r.id, 0 if k < right else 1)
            clock.t += 1
            quiz.reveal(code, token, r.id)
    r = quiz.ask(code, token, "elbo-terms", n_options=4, correct=0)  # no phase: not counted
    rows = quiz.prepost(code, token)
    assert [(p.qid, p.pre_pct, p.pre_n, p.post_pct, p.post_n) for p in rows] == [
        ("dae-target", 25.0, 4, 75.0, 4), ("kl-zero", 25.0, 4, 75.0, 4)]
    with pytest.raises(NotLecturer):
        quiz.prepost(code, "nope")


def _answer_many(path, code, round_id, students, barrier, out):
    """One process: its own stores, each student answers twice (1, then their final choice)."""
    quiz = QuizStore(ClassStore(path, limits=ROOMY), QuizLimits(min_interval_s=0))
    barrier.wait()
    errors = 0
    for s in students:
        for choice in (1, int(s[1:]) % 4):
            try:
                quiz.answer(code, s, round_id, choice)
            except Exception:  # noqa: BLE001 - counted, then asserted to be 0
                errors += 1
    out.put(errors)


def test_300_students_answer_at_once_from_several_processes(db):
    path = db
    store, code, token = _class(db, n_students=300)
    r = QuizStore(store).ask(code, token, "hole-picture", n_options=4, correct=2)
    n_proc = 6
    with spawning() as ctx:  # tests/procs.py: why spawn, and a plain __main__
        barrier, out = ctx.Barrier(n_proc), ctx.Queue()
        procs = [ctx.Process(target=_answer_many, args=(path, code, r.id,
                                                        [f"s{k}" for k in range(p, 300, n_proc)],
                                                        barrier, out)) for p in range(n_proc)]
        for p in procs:
            p.start()
    errors = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert errors == [0] * n_proc
    t = QuizStore(ClassStore(path)).tally(code, r.id)
    assert t.answered == 300 and t.counts == [75, 75, 75, 75]  # every answer counted once
