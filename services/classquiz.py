"""Questions to a whole class: the lecturer sends one, students answer, the lecturer reveals.

Stored in the class database beside the classes, students and clicks of
:class:`services.classroom.ClassStore` (SQLite or PostgreSQL, one transaction per call, writes
serialised), so a server restart loses no answer and every Streamlit
thread and process sees the same counts. Two tables:

* ``quiz_rounds``: one row per question sent (a *round*): the bank's question id, how many
  options it has, the right option, the phase (``""``, ``"pre"`` or ``"post"`` for a pre/post
  check), when it was sent and revealed, and the demo pick the class's map switched to;
* ``quiz_answers``: one row per (round, student), the student's current choice; a new answer
  replaces the old one until the reveal.

Typical use::

    quiz = QuizStore(store)                                  # store: a ClassStore
    r = quiz.ask(code, token, "hole-picture", n_options=4, correct=2)
    quiz.answer(code, "s-42", r.id, 1)                       # a student (again: replaces)
    quiz.tally(code, r.id)                                   # Tally(counts=[0, 1, 0, 0], ...)
    quiz.reveal(code, token, r.id, settings=new_map, demo={"kind": "grid", "x": -2, "y": 6.8})

A round's right option is never handed out before its reveal (:meth:`QuizStore.current` gives
-1), and a tally has counts only, never names.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass

from .classroom import ClassStore, _check_student, _settings_json, normalize_code
from .errors import (AnswersClosed, BadClick, ClassExpired, ClassFull, ClassNotFound, NotLecturer,
                     RateLimited)

__all__ = ["QuizLimits", "Round", "Tally", "PrePost", "QuizStore", "PHASES"]

PHASES = ("", "pre", "post")  # a plain question, or one of a pre/post check
_QID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")



@dataclass(frozen=True)
class QuizLimits:
    """Bounds on what a class's questions may cost.

    Attributes
    ----------
    max_rounds : int
        Questions sent per class.
    max_options : int
        Options of one question.
    max_changes : int
        Times one student may change an answer to one question.
    min_interval_s : float
        Per student: seconds between two answers (refused in memory, before any write lock).
    """

    max_rounds: int = 500
    max_options: int = 6
    max_changes: int = 20
    min_interval_s: float = 0.3


@dataclass(frozen=True)
class Round:
    """One question sent to a class.

    ``correct`` is the right option's index once revealed, -1 before. ``demo`` is the pick
    (``{"kind": "grid", "x": ..., "y": ...}`` or ``{"kind": "point", "index": i}``) the class's
    map switched to at the reveal, or None.
    """

    id: int
    code: str
    qid: str
    n_options: int
    phase: str
    asked: float
    revealed: bool
    correct: int
    demo: dict | None


@dataclass(frozen=True)
class Tally:
    """Answers to one round: ``counts[k]`` students chose option k; ``answered`` students
    answered; ``students`` are in the class (joined, not blocked). Never names."""

    counts: list[int]
    answered: int
    students: int


@dataclass(frozen=True)
class PrePost:
    """One question of a pre/post check: % of answers correct (None: no answer) and how many
    students answered, before and after."""

    qid: str
    pre_pct: float | None
    pre_n: int
    post_pct: float | None
    post_n: int
    phases: tuple[str, ...] = ()  # the phases it was asked in ("pre", "post")


class QuizStore:
    """The class questions of one :class:`~services.classroom.ClassStore`'s database.

    Parameters
    ----------
    classes : ClassStore
        The class store whose file, clock, lecturer tokens and students this uses.
    limits : QuizLimits

    Raises
    ------
    ClassroomError
        If the database cannot be opened (as :class:`ClassStore`).
    """

    def __init__(self, classes: ClassStore, limits: QuizLimits = QuizLimits()):
        self.classes = classes
        self.limits = limits
        self._mem = threading.Lock()
        self._last: dict[tuple[str, str], float] = {}  # (code, student) -> last answer time
        # the tables quiz_rounds and quiz_answers are step 3 of classroom.MIGRATIONS, created
        # (or upgraded to) when the ClassStore opened the database

    # -- lecturer ---------------------------------------------------------------------------

    def ask(self, code: str, token: str, qid: str, n_options: int, correct: int,
            phase: str = "") -> Round:
        """Send a question to the class (lecturer only); it replaces the current one, whose
        answers stay stored (closed). Rounds of classes that no longer exist are purged.

        Raises
        ------
        BadClick
            Malformed code, question id, option count, right option or phase.
        ClassNotFound, NotLecturer, ClassExpired
        ClassFull
            The class has sent ``limits.max_rounds`` questions.
        """
        code = normalize_code(code)
        if not isinstance(qid, str) or not _QID.fullmatch(qid):
            raise BadClick(f"a question id is 1-64 characters of a-z 0-9 -; got {str(qid)[:20]!r}")
        if not (isinstance(n_options, int) and 2 <= n_options <= self.limits.max_options):
            raise BadClick(f"a question has 2 to {self.limits.max_options} options")
        if not (isinstance(correct, int) and 0 <= correct < n_options):
            raise BadClick(f"the right option is an index from 0 to {n_options - 1}")
        if phase not in PHASES:
            raise BadClick(f"phase is one of {PHASES}")
        c = self.classes
        with c._tx(write=True) as conn:
            now = c._clock()
            row = c._class_row(conn, code, now, allow_expired=True)
            c._check_token(row, token)
            if now >= row[3]:
                raise ClassExpired(f"class {code} has ended; open a new one")
            for table, col in (("quiz_answers", "round"), ("quiz_rounds", "id")):
                conn.execute(f"DELETE FROM {table} WHERE {col} IN (SELECT id FROM quiz_rounds "
                             "WHERE code NOT IN (SELECT code FROM classes))")
            n = conn.execute("SELECT COUNT(*) FROM quiz_rounds WHERE code = ?",
                             (code,)).fetchone()[0]
            if n >= self.limits.max_rounds:
                raise ClassFull(f"class {code} has sent {self.limits.max_rounds} questions")
            rid = int(conn.execute("INSERT INTO quiz_rounds (code, qid, n_options, correct, "
                                   "phase, asked) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                   (code, qid, n_options, correct, phase, now)).fetchone()[0])
        return Round(rid, code, qid, n_options, phase, now, False, -1, None)

    def reveal(self, code: str, token: str, round_id: int, settings: dict | None = None,
               demo: dict | None = None) -> Round:
        """Close a round's answers and reveal its right option (lecturer only). In the same
        transaction, ``settings`` (when given and different) become the class's map settings,
        its clicks made on the old map are deleted, and ``demo`` is stored as the pick the
        students' maps switch to: the answers and the map change in one step.

        Raises
        ------
        BadClick
            Malformed code or settings, or no such round in this class.
        ClassNotFound, NotLecturer
        """
        code = normalize_code(code)
        js = _settings_json(settings) if settings is not None else None
        demo_js = json.dumps(demo) if demo is not None else None
        if demo_js is not None and len(demo_js) > 200:
            raise BadClick("a demo pick is a small dict")
        c = self.classes
        with c._tx(write=True) as conn:
            now = c._clock()
            row = c._class_row(conn, code, now, allow_expired=True)
            c._check_token(row, token)
            r = self._round_row(conn, code, round_id)
            conn.execute("UPDATE quiz_rounds SET revealed = COALESCE(revealed, ?), demo = ? "
                         "WHERE id = ?", (now, demo_js, r[0]))
            if js is not None and js != row[4]:
                conn.execute("UPDATE classes SET settings = ? WHERE code = ?", (js, code))
                conn.execute("DELETE FROM clicks WHERE code = ?", (code,))
                c._remember(c._maps, code, (now, json.loads(js)))
            r = self._round_row(conn, code, round_id)
        return self._round(r)

    def prepost(self, code: str, token: str) -> list[PrePost]:
        """% correct before and after, per question of the class's pre/post check (lecturer
        only): the last ``"pre"`` and the last ``"post"`` round of each question, in the order
        the questions were first asked. Anonymous: counts only.

        Raises
        ------
        BadClick, ClassNotFound, NotLecturer
        """
        code = normalize_code(code)
        c = self.classes
        with c._tx(write=False) as conn:
            c._check_token(c._class_row(conn, code, c._clock(), allow_expired=True), token)
            rows = conn.execute(
                "SELECT r.qid, r.phase, r.id, COUNT(a.student), "
                "COALESCE(SUM(CASE WHEN a.choice = r.correct THEN 1 ELSE 0 END), 0) "
                "FROM quiz_rounds r "
                "LEFT JOIN quiz_answers a ON a.round = r.id "
                "WHERE r.code = ? AND r.phase IN ('pre', 'post') GROUP BY r.id ORDER BY r.id",
                (code,)).fetchall()
        last: dict[tuple[str, str], tuple[int, int]] = {}
        order: list[str] = []
        for qid, phase, _rid, n, right in rows:
            if qid not in order:
                order.append(qid)
            last[(qid, phase)] = (n, right)  # rows in id order: the last round wins

        def pct(qid, phase):
            n, right = last.get((qid, phase), (0, 0))
            return (100.0 * right / n if n else None), n

        return [PrePost(q, *pct(q, "pre"), *pct(q, "post"),
                        tuple(ph for ph in ("pre", "post") if (q, ph) in last)) for q in order]

    # -- everyone ---------------------------------------------------------------------------

    def current(self, code: str) -> Round | None:
        """The class's latest round (open or revealed), or None before the first question.

        Raises
        ------
        BadClick, ClassNotFound, ClassExpired
        """
        code = normalize_code(code)
        c = self.classes
        with c._tx(write=False) as conn:
            c._class_row(conn, code, c._clock())
            r = conn.execute("SELECT id, code, qid, n_options, correct, phase, asked, revealed, "
                             "demo FROM quiz_rounds WHERE code = ? ORDER BY id DESC LIMIT 1",
                             (code,)).fetchone()
        return self._round(r) if r else None

    def tally(self, code: str, round_id: int) -> Tally:
        """Counts of each option in a round and how many answered (counts only).

        Raises
        ------
        BadClick
            No such round in this class.
        ClassNotFound, ClassExpired
        """
        code = normalize_code(code)
        c = self.classes
        with c._tx(write=False) as conn:
            c._class_row(conn, code, c._clock())
            r = self._round_row(conn, code, round_id)
            counts = [0] * r[3]
            for choice, n in conn.execute("SELECT choice, COUNT(*) FROM quiz_answers WHERE "
                                          "round = ? GROUP BY choice", (r[0],)):
                counts[choice] = n
            m = conn.execute("SELECT COUNT(*) FROM students WHERE code = ? AND blocked = 0",
                             (code,)).fetchone()[0]
        return Tally(counts, sum(counts), m)

    def answer(self, code: str, student: str, round_id: int, choice: int) -> None:
        """Store a student's answer to the current round, replacing their earlier one.

        Raises
        ------
        BadClick
            Malformed code, student or choice, or a round that is not the class's current one.
        ClassNotFound
            The student is not in the class (never joined, or removed): join again.
        NotLecturer
            The lecturer blocked this student.
        AnswersClosed
            The round was revealed.
        RateLimited
            Within ``limits.min_interval_s`` of the student's last answer, or more than
            ``limits.max_changes`` changes to this answer.
        ClassExpired
        """
        code = normalize_code(code)
        _check_student(student)
        if isinstance(choice, bool) or not isinstance(choice, int) or choice < 0:
            raise BadClick(f"a choice is an option's index; got {str(choice)[:20]!r}")
        c = self.classes
        now = c._clock()
        last = self._last.get((code, student))
        if last is not None and now - last < self.limits.min_interval_s:
            wait = self.limits.min_interval_s - (now - last)
            raise RateLimited(f"wait {wait:.1f} s between two answers", retry_after_s=wait)
        with c._tx(write=True) as conn:
            now = c._clock()
            c._class_row(conn, code, now)
            r = conn.execute("SELECT id, n_options, revealed FROM quiz_rounds WHERE code = ? "
                             "ORDER BY id DESC LIMIT 1", (code,)).fetchone()
            if r is None or r[0] != round_id:
                raise AnswersClosed("this question is over; the lecturer sent another one")
            if r[2] is not None:
                raise AnswersClosed("the lecturer revealed the answer: answers are closed")
            if choice >= r[1]:
                raise BadClick(f"this question has {r[1]} options; got choice {choice}")
            s = conn.execute("SELECT blocked FROM students WHERE code = ? AND student = ?",
                             (code, student)).fetchone()
            if s is None:
                raise ClassNotFound(f"you are not in class {code} (any more): join again")
            if s[0]:
                raise NotLecturer("the lecturer removed you from this class")
            had = conn.execute("SELECT changes FROM quiz_answers WHERE round = ? AND "
                               "student = ?", (r[0], student)).fetchone()
            if had is not None and had[0] >= self.limits.max_changes:
                raise RateLimited(f"at most {self.limits.max_changes} changes to one answer",
                                  retry_after_s=60.0)
            conn.execute("INSERT INTO quiz_answers (round, student, choice, t) VALUES "
                         "(?, ?, ?, ?) ON CONFLICT (round, student) DO UPDATE SET "
                         "choice = excluded.choice, t = excluded.t, "
                         "changes = quiz_answers.changes + 1",
                         (r[0], student, choice, now))
        self.classes._remember(self._last, (code, student), now)

    def my_answer(self, code: str, student: str, round_id: int) -> int | None:
        """The choice this student stored for a round, or None."""
        with self.classes._tx(write=False) as conn:
            r = conn.execute("SELECT a.choice FROM quiz_answers a JOIN quiz_rounds r ON "
                             "r.id = a.round WHERE a.round = ? AND a.student = ? AND r.code = ?",
                             (round_id, student, normalize_code(code))).fetchone()
        return r[0] if r else None

    # -- plumbing ---------------------------------------------------------------------------

    @staticmethod
    def _round_row(conn, code: str, round_id) -> tuple:
        if isinstance(round_id, bool) or not isinstance(round_id, int):
            raise BadClick("a round id is an integer")
        r = conn.execute("SELECT id, code, qid, n_options, correct, phase, asked, revealed, demo "
                         "FROM quiz_rounds WHERE id = ? AND code = ?", (round_id, code)).fetchone()
        if r is None:
            raise BadClick(f"class {code} has no question {round_id}")
        return r

    @staticmethod
    def _round(r: tuple) -> Round:
        id_, code, qid, n, correct, phase, asked, revealed, demo = r
        shown = revealed is not None
        return Round(id_, code, qid, n, phase, asked, shown, correct if shown else -1,
                     json.loads(demo) if demo else None)
