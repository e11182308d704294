"""Shared state of a class: the lecturer opens a class, students join with its code and click.

Everything lives in one database (``services.db``): by default an embedded SQLite file (WAL
mode) shared by every Streamlit thread and process on the machine; with
``LATENTLAB_DATABASE_URL=postgresql://…`` a PostgreSQL server shared by replicas behind a load
balancer. Either way it survives a server restart, each operation runs in its own transaction,
and writes are serialised: a limit checked inside one cannot be overshot by a concurrent writer,
and click ids are committed in increasing order, so a reader paging with
``clicks(after_id=...)`` never skips a click that another process commits later.

Typical use::

    store = ClassStore()                                   # .state/classroom.sqlite3
    code, token = store.open_class({"dataset": "digits", "extent": [-3, 3, -3, 3],
                                    "n_points": 360})      # lecturer; keep the token secret
    name = store.join(code, "s-42", "Ada", address="10.0.0.5")                 # a student
    store.add_click(code, "s-42", {"kind": "point", "index": 7}, name=name, auto_join=False)
    new = store.clicks(code, after_id=last_seen)           # the lecturer's live view
    store.set_locked(code, token, True)                    # everyone is in: close joining

Refusals a flood would repeat (a join over the address's bucket, a click too soon after the
student's last or off the class's map) are decided in memory before any write lock, so a
hostile client cannot queue the honest students' clicks behind its own.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import numbers
import re
import secrets
import os
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .db import (Database, DatabaseBusy, DatabaseUnusable, SchemaTooNew, is_url,
                 open_database)
from .errors import (BadClick, ClassExpired, ClassFull, ClassNotFound, ClassroomError, NotLecturer,
                     NotThisStudent, RateLimited)
from .paths import state_dir

__all__ = ["CODE_ALPHABET", "CODE_LEN", "SCHEMA_VERSION", "Limits", "ClassInfo", "Click",
           "Student", "ClassStore", "default_db", "normalize_code", "clean_name"]

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O/1/I: easy to read off a projector
CODE_LEN = 5  # 32**5 = 33.5 million codes
DATABASE_URL_ENV = "LATENTLAB_DATABASE_URL"  # postgresql://… : share classes between replicas
MAX_SETTINGS_BYTES = 4096  # settings as UTF-8 JSON
MAX_COORD = 1e6  # |x|, |y| of a click on the map
MAX_INDEX = 10**7  # test-image index of a "point" click is < this
WINDOW_S = 60.0  # the per-minute rate-limit window
_STUDENT_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CODE_SET = frozenset(CODE_ALPHABET)

# The schema as numbered upgrade steps (services.db.Database.migrate): step i turns version i
# into i + 1; {id_pk} and {real} are the backend's auto-increment key and double type.
MIGRATIONS: list[list[str]] = [
    [  # 1: classes and their clicks
        """CREATE TABLE IF NOT EXISTS classes (
            code     TEXT PRIMARY KEY,
            token    TEXT NOT NULL,   -- sha256 hex of the lecturer token (never the token)
            created  {real} NOT NULL, -- epoch seconds
            expires  {real} NOT NULL, -- epoch seconds
            settings TEXT NOT NULL    -- JSON object
        )""",
        """CREATE TABLE IF NOT EXISTS clicks (
            id      {id_pk},          -- never reused, even after a delete
            code    TEXT NOT NULL,
            student TEXT NOT NULL,
            name    TEXT NOT NULL,
            t       {real} NOT NULL,
            kind    TEXT NOT NULL,
            x       {real},           -- NULL: a "point" click sent without map coordinates
            y       {real},
            idx     INTEGER NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS clicks_by_code ON clicks (code, id)",
        "CREATE INDEX IF NOT EXISTS clicks_by_student ON clicks (code, student, t)",
    ],
    [  # 2: students, join buckets, closed joining
        """CREATE TABLE IF NOT EXISTS students (
            code    TEXT NOT NULL,
            student TEXT NOT NULL,
            name    TEXT NOT NULL,
            joined  {real} NOT NULL,
            blocked INTEGER NOT NULL DEFAULT 0,  -- 1: removed by the lecturer for good
            PRIMARY KEY (code, student)
        )""",
        """CREATE TABLE IF NOT EXISTS join_buckets (  -- token bucket of joins per address
            addr   TEXT PRIMARY KEY,
            tokens {real} NOT NULL,
            t      {real} NOT NULL
        )""",
        "CREATE TABLE IF NOT EXISTS locks (code TEXT PRIMARY KEY)  -- joining closed",
    ],
    [  # 3: class questions (services/classquiz.py): one row per question sent, one answer
       # per (round, student), replaced until the reveal
        """CREATE TABLE IF NOT EXISTS quiz_rounds (
            id        {id_pk},
            code      TEXT NOT NULL,
            qid       TEXT NOT NULL,       -- the question bank's id
            n_options INTEGER NOT NULL,
            correct   INTEGER NOT NULL,    -- index of the right option
            phase     TEXT NOT NULL,       -- '' | 'pre' | 'post'
            asked     {real} NOT NULL,     -- epoch seconds
            revealed  {real},              -- epoch seconds, NULL while answers are open
            demo      TEXT                 -- JSON pick the class's map switched to
        )""",
        "CREATE INDEX IF NOT EXISTS quiz_rounds_by_code ON quiz_rounds (code, id)",
        """CREATE TABLE IF NOT EXISTS quiz_answers (
            round   INTEGER NOT NULL,
            student TEXT NOT NULL,
            choice  INTEGER NOT NULL,
            t       {real} NOT NULL,
            changes INTEGER NOT NULL DEFAULT 0,  -- times the student changed the answer
            PRIMARY KEY (round, student)
        )""",
    ],
    [  # 4: students' drawings sent to the class map (services/classdraw.py)
        """CREATE TABLE IF NOT EXISTS drawings (
            id      {id_pk},
            code    TEXT NOT NULL,
            student TEXT NOT NULL,
            name    TEXT NOT NULL,
            t       {real} NOT NULL,   -- epoch seconds
            dataset TEXT NOT NULL,     -- the class's dataset when it was sent
            h       INTEGER NOT NULL,
            w       INTEGER NOT NULL,
            pixels  TEXT NOT NULL      -- base64 of h*w uint8 (0..255), row-major
        )""",
        "CREATE INDEX IF NOT EXISTS drawings_by_code ON drawings (code, id)",
        "CREATE INDEX IF NOT EXISTS drawings_by_student ON drawings (code, student, t)",
        "CREATE TABLE IF NOT EXISTS drawings_hidden (code TEXT PRIMARY KEY)  -- lecturer hid them",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)


def default_db() -> str | Path:
    """The class database: ``$LATENTLAB_DATABASE_URL`` when set (a ``postgresql://`` URL),
    else the SQLite file ``services.paths.state_dir() / "classroom.sqlite3"``.

    Raises
    ------
    ClassroomError
        If ``LATENTLAB_DATABASE_URL`` is set but is not a ``postgresql://`` URL.
    """
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if url:
        if not is_url(url):
            raise ClassroomError(f"{DATABASE_URL_ENV} must be a postgresql:// URL")
        return url
    return state_dir() / "classroom.sqlite3"


def normalize_code(code: str) -> str:
    """A class code as typed by a student, stripped and upper-cased.

    Raises
    ------
    BadClick
        If ``code`` is not a string of ``CODE_LEN`` characters of ``CODE_ALPHABET``.
    """
    if not isinstance(code, str):
        raise BadClick(f"a class code is a string, not {type(code).__name__}")
    c = code.strip().upper()
    if len(c) != CODE_LEN or not set(c) <= _CODE_SET:
        raise BadClick(f"a class code is {CODE_LEN} letters or digits (no 0, O, 1 or I); "
                       f"got {code[:20]!r}")
    return c


def clean_name(name: Any, max_len: int = 24) -> str:
    """A student's display name: NFC-normalised, spaces of any kind made plain and collapsed.

    Raises
    ------
    BadClick
        If ``name`` is not a string, is longer than ``max_len`` characters once normalised, or
        holds an invisible or control character (a zero-width joiner of an emoji sequence, a
        soft hyphen, a line break...): such names look like another student's on the projector.
    """
    if not isinstance(name, str):
        raise BadClick(f"a name is a string, not {type(name).__name__}")
    s = unicodedata.normalize("NFC", name)
    bad = [c for c in s if unicodedata.category(c)[0] == "C" or unicodedata.category(c) in
           ("Zl", "Zp")]
    s = " ".join(s.split())  # any run of spaces (no-break, thin...) -> one plain space
    if bad:
        raise BadClick(f"a name may not contain invisible or control characters such as "
                       f"U+{ord(bad[0]):04X} ({unicodedata.name(bad[0], 'unnamed')}); "
                       "use letters, digits and plain spaces")
    if len(s) > max_len:
        raise BadClick(f"a name is at most {max_len} printable characters; got {len(s)}")
    return s


@dataclass(frozen=True)
class Limits:
    """Limits that protect a class from runaway or malicious clients.

    Attributes
    ----------
    min_interval_s : float
        Per student: seconds between two clicks (0 disables the check).
    per_minute : int
        Per student: clicks in any 60 s window.
    max_clicks : int
        Per class: stored clicks (60,000: 300 students pinning every 3 s for 10 minutes; the
        lecturer's Clear all clicks makes room again).
    max_students : int
        Per class: distinct student ids that clicked.
    ttl_s : float
        Seconds a class lives after it is opened.
    max_name_len : int
        Characters of a student's display name.
    join_burst, join_per_s : float
        Per source address: a token bucket of joins (all classes together), ``join_burst``
        at once and ``join_per_s`` refilled each second. The default (30 at once, then 3 a
        second: 30 per 10 s) lets a 300-student hall behind one NAT address join in under
        two minutes, and slows one client's flood of fake students to the same pace, where the
        lecturer's lock and block controls can catch it.
    """

    min_interval_s: float = 0.25
    per_minute: int = 60
    max_clicks: int = 60000
    max_students: int = 300
    ttl_s: float = 3 * 3600
    max_name_len: int = 24
    join_burst: float = 30
    join_per_s: float = 3.0


@dataclass(frozen=True)
class ClassInfo:
    """A class as everyone may see it (never the lecturer token).

    Attributes
    ----------
    code : str
        The ``CODE_LEN``-character code students type.
    created, expires : float
        Epoch seconds.
    settings : dict
        The JSON object chosen by the lecturer, e.g. ``{"dataset": "digits", "model": ...,
        "model_id": ..., "projection": "identity", "extent": [x0, x1, y0, y1],
        "n_points": n}``; the last two bound the clicks :meth:`ClassStore.add_click` accepts.
    """

    code: str
    created: float
    expires: float
    settings: dict[str, Any] = field(default_factory=dict)
    locked: bool = False  # the lecturer closed joining: only students already in may click


@dataclass(frozen=True)
class Click:
    """One student's click on the latent map.

    Attributes
    ----------
    id : int
        Unique over the whole database, increasing in commit order.
    code, student, name : str
        Class code, student id, display name (may be empty).
    t : float
        Epoch seconds when the click was stored.
    kind : str
        ``"point"`` (a test image) or ``"grid"`` (a free position on the map).
    x, y : float
        Map coordinates of the click; NaN for a ``"point"`` click sent without them.
    index : int
        Test-image index for ``"point"``, -1 for ``"grid"``.
    """

    id: int
    code: str
    student: str
    name: str
    t: float
    kind: str
    x: float
    y: float
    index: int


@dataclass(frozen=True)
class Student:
    """A student of a class as the lecturer sees them.

    Attributes
    ----------
    student, name : str
        Session id and display name (may be empty).
    joined : float
        Epoch seconds.
    blocked : bool
        Removed by the lecturer for good: may neither rejoin nor click.
    clicks : int
        Clicks stored now.
    """

    student: str
    name: str
    joined: float
    blocked: bool
    clicks: int


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _settings_json(settings: Any) -> str:
    if not isinstance(settings, dict) or not all(isinstance(k, str) for k in settings):
        raise BadClick("class settings must be a dict with string keys")
    try:
        s = json.dumps(settings, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        raise BadClick(f"class settings are not JSON-serialisable: {e}") from None
    if len(s.encode("utf-8")) > MAX_SETTINGS_BYTES:
        raise BadClick(f"class settings are over {MAX_SETTINGS_BYTES} bytes as JSON")
    return s


def _coord(pick: dict, key: str) -> float:
    v = pick[key]
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise BadClick(f"click {key!r} must be a number, not {type(v).__name__}")
    f = float(v)
    if not math.isfinite(f) or abs(f) > MAX_COORD:
        raise BadClick(f"click {key!r} must be finite and at most {MAX_COORD:g} in size; got {f}")
    return f


def _check_pick(pick: Any) -> tuple[str, float, float, int]:
    """``(kind, x, y, index)`` of a valid pick; BadClick otherwise."""
    if not isinstance(pick, dict):
        raise BadClick(f"a click is a dict, not {type(pick).__name__}")
    kind = pick.get("kind")
    if kind == "point":
        extra = set(pick) - {"kind", "index", "x", "y"}
        i = pick.get("index")
        if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < MAX_INDEX:
            raise BadClick(f"a point click needs an integer 'index' in [0, {MAX_INDEX}); got {i!r}")
        has = ("x" in pick) + ("y" in pick)
        if has == 1:
            raise BadClick("a point click gives both 'x' and 'y' or neither")
        x, y = (_coord(pick, "x"), _coord(pick, "y")) if has else (math.nan, math.nan)
        idx = int(i)
    elif kind == "grid":
        extra = set(pick) - {"kind", "x", "y"}
        if "x" not in pick or "y" not in pick:
            raise BadClick("a grid click needs 'x' and 'y'")
        x, y, idx = _coord(pick, "x"), _coord(pick, "y"), -1
    else:
        raise BadClick(f"a click's kind is 'point' or 'grid'; got {str(kind)[:20]!r}")
    if extra:
        raise BadClick(f"unknown click fields: {sorted(map(str, extra))[:5]}")
    return kind, x, y, idx


def _check_on_map(settings: dict, kind: str, x: float, y: float, idx: int) -> None:
    """BadClick unless the click lies on the class's current map: ``settings["extent"]``
    ``[x0, x1, y0, y1]`` bounds a grid click's spot, ``settings["n_points"]`` a point click's
    image index (a class opened without them accepts any spot, as before)."""
    ext, n = settings.get("extent"), settings.get("n_points")
    if isinstance(n, int) and idx >= n:
        raise BadClick(f"this map has {n} images; got index {idx}")
    if kind == "grid" and isinstance(ext, list) and len(ext) == 4:  # a point sits at its image
        x0, x1, y0, y1 = ext
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            raise BadClick(f"the spot ({x:.4g}, {y:.4g}) is off the class's map "
                           f"[{x0:.4g}, {x1:.4g}] × [{y0:.4g}, {y1:.4g}]")


def _check_student(student: Any) -> None:
    if not isinstance(student, str) or not _STUDENT_RE.fullmatch(student):
        raise BadClick(f"a student id is 1-64 characters of A-Z a-z 0-9 _ -; "
                       f"got {str(student)[:20]!r}")


def _student_key(token_hash: str, student: str) -> str:
    """HMAC-SHA256 of ``student`` under the class's hashed lecturer token, 32 hex digits."""
    return hmac.new(token_hash.encode(), b"student:" + student.encode(),
                    hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class ClickRequest:
    """One click to store with :meth:`ClassStore.add_clicks` (arguments as
    :meth:`ClassStore.add_click` takes them; checked there, not here)."""

    code: Any
    student: Any
    pick: Any
    name: Any = ""


def _row_to_click(r: tuple) -> Click:
    id_, code, student, name, t, kind, x, y, idx = r
    return Click(id=id_, code=code, student=student, name=name, t=t, kind=kind,
                 x=math.nan if x is None else x, y=math.nan if y is None else y, index=idx)


class ClassStore:
    """The classes and their clicks, in one database shared by threads, processes and replicas.

    Parameters
    ----------
    path : str or Path, optional
        A SQLite file (its folder, the file and the tables are created if missing) or a
        ``postgresql://`` URL (the tables are created if missing); ``default_db()`` when None.
    limits : Limits
        Rate and size limits applied by :meth:`add_click` and :meth:`open_class`.
    clock : callable
        Returns epoch seconds; injectable for tests.

    Raises
    ------
    ClassroomError
        If the target is not a usable database (not SQLite, server unreachable) or was
        written by a newer schema.

    Notes
    -----
    Every method runs its own transaction (SQLite: its own connection; PostgreSQL: a pooled
    one), so one store may be shared by threads and a store per process is fine. A write that
    waits more than ``services.db.BUSY_TIMEOUT_S`` for another writer raises ``RateLimited``.
    """

    def __init__(self, path: str | Path | None = None, limits: Limits = Limits(),
                 clock: Callable[[], float] = time.time):
        target = path if path is not None else default_db()
        self.path = None if is_url(target) else Path(target)  # the SQLite file, if any
        self.limits = limits
        self._clock = clock
        # refusals decided in memory, before any write lock (issue 14: a flood of refused
        # joins and clicks must not queue the honest students' clicks behind it); the checks
        # inside the transactions stay the authority (other processes, replicas, restarts)
        self._mem = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # addr -> (tokens, t) last stored
        self._joined: set[tuple[str, str]] = set()  # (code, student) joined through this store
        self._last: dict[tuple[str, str], float] = {}  # (code, student) -> last click time
        self._hold: dict[tuple[str, str], float] = {}  # (code, student) -> refused until
        self._maps: dict[str, tuple[float, dict]] = {}  # code -> (read at, settings)
        self._hashes: dict[str, tuple[float, str]] = {}  # code -> (read at, token hash)
        self._counted: dict[str, tuple[int, int]] = {}  # code -> (click id, clicks up to it)
        try:
            self.db: Database = open_database(target)
            self.db.migrate(MIGRATIONS)
        except (DatabaseUnusable, SchemaTooNew) as e:
            raise ClassroomError(str(e)) from e

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _tx(self, write: bool) -> Iterator:
        """One transaction of the database (serialised with every other write if ``write``)."""
        try:
            with self.db.transaction(write) as conn:
                yield conn
        except DatabaseBusy as exc:  # another writer held the lock too long
            raise RateLimited(f"the class is busy ({exc}); try again in a second",
                              retry_after_s=1.0) from None
        except DatabaseUnusable as e:
            raise ClassroomError(str(e)) from e

    def _class_row(self, conn, code: str, now: float,
                   allow_expired: bool = False) -> tuple:
        r = conn.execute("SELECT code, token, created, expires, settings FROM classes "
                         "WHERE code = ?", (code,)).fetchone()
        if r is None:
            raise ClassNotFound(f"no class with code {code}")
        if not allow_expired and now >= r[3]:
            raise ClassExpired(f"class {code} has ended; ask the lecturer for a new code")
        return r

    def _check_token(self, row: tuple, token: Any) -> None:
        given = _hash_token(token) if isinstance(token, str) else ""
        if not hmac.compare_digest(row[1], given):
            raise NotLecturer(f"only the lecturer of class {row[0]} may do this")

    @staticmethod
    def _purge(conn, now: float) -> int:
        for table in ("clicks", "students", "locks", "drawings", "drawings_hidden"):
            conn.execute(f"DELETE FROM {table} WHERE code IN "
                         "(SELECT code FROM classes WHERE expires <= ?)", (now,))
        return conn.execute("DELETE FROM classes WHERE expires <= ?", (now,)).rowcount

    def _remember(self, table: dict, key, value) -> None:
        """Store in one of the in-memory tables, forgetting them all past 100,000 entries."""
        with self._mem:
            if len(table) > 100_000:
                table.clear()
            table[key] = value

    def _early_refusal(self, code: str, student: str, kind: str, x: float, y: float,
                       idx: int) -> None:
        """Refuse, without a write transaction, a click this process already knows is
        refused: too soon after the student's last one, or off the class's map."""
        now = self._clock()
        last = self._last.get((code, student))
        wait = self.limits.min_interval_s - (now - last) if last is not None else 0.0
        if wait > 0:
            raise RateLimited(f"wait {wait:.2f} s between two clicks", retry_after_s=wait)
        until = self._hold.get((code, student))
        if until is not None and now < until:
            raise RateLimited(f"at most {self.limits.per_minute} clicks a minute; wait "
                              f"{until - now:.1f} s", retry_after_s=until - now)
        seen = self._maps.get(code)
        if seen is not None and now - seen[0] < 5.0:
            _check_on_map(seen[1], kind, x, y, idx)

    def _count_clicks(self, conn, code: str) -> int:
        """The class's stored clicks, counted inside a write transaction.

        After a click this store wrote, only the clicks after it are counted (writes are
        serialised, so ids follow commit order): an upper bound, since clicks deleted since
        are still in it; a full count settles it whenever that bound reaches
        ``limits.max_clicks``. (A full count per click grew with the class: 1.7 ms of the
        write lock at 20,000 clicks.)
        """
        seen = self._counted.get(code)
        if seen is not None:
            n = seen[1] + conn.execute("SELECT COUNT(*) FROM clicks WHERE code = ? AND id > ?",
                                       (code, seen[0])).fetchone()[0]
            if n < self.limits.max_clicks:
                return n
        return conn.execute("SELECT COUNT(*) FROM clicks WHERE code = ?", (code,)).fetchone()[0]

    # -- students' keys (the class API) ------------------------------------------------------

    def student_key(self, code: str, student: str) -> str:
        """The key a student's page sends with each click and answer through the class API
        (:mod:`services.classapi`), which has no Streamlit session to say who is asking.

        It is HMAC-SHA256 of the student id under the class's stored lecturer-token hash (a
        secret no page ever shows), 32 hex digits: every replica on the same database computes
        the same key, and it cannot be derived from another student's.

        Raises
        ------
        BadClick
            Malformed code or student id.
        ClassNotFound, ClassExpired
        """
        code = normalize_code(code)
        _check_student(student)
        with self._tx(write=False) as conn:
            row = self._class_row(conn, code, self._clock())
        self._remember(self._hashes, code, (self._clock(), row[1]))
        return _student_key(row[1], student)

    def check_student_key(self, code: str, student: str, key: Any) -> None:
        """Refuse a request whose ``key`` is not :meth:`student_key` of this student.

        The class's token hash is read at most every 5 s per class (a flood of forged keys
        costs no write lock and few reads).

        Raises
        ------
        BadClick
            Malformed code or student id.
        NotThisStudent
            ``key`` is not this student's key.
        ClassNotFound, ClassExpired
        """
        code = normalize_code(code)
        _check_student(student)
        now = self._clock()
        seen = self._hashes.get(code)
        if seen is None or now - seen[0] >= 5.0:
            with self._tx(write=False) as conn:
                row = self._class_row(conn, code, now)
            seen = (now, row[1])
            self._remember(self._hashes, code, seen)
        if not isinstance(key, str) or not key.isascii() or not hmac.compare_digest(
                _student_key(seen[1], student), key):
            raise NotThisStudent("this request did not come from that student's page; "
                                 "reload the page and join again")

    # -- lecturer ---------------------------------------------------------------------------

    def open_class(self, settings: dict) -> tuple[str, str]:
        """Open a class; purges expired classes first.

        Parameters
        ----------
        settings : dict
            JSON-serialisable, string keys, at most 4 KB as JSON.

        Returns
        -------
        code : str
            The new class code (unique among the stored classes).
        token : str
            The lecturer token; needed by :meth:`update_settings` and :meth:`close`.

        Raises
        ------
        BadClick
            If ``settings`` is not a small JSON object.
        """
        js = _settings_json(settings)
        token = secrets.token_urlsafe(16)
        with self._tx(write=True) as conn:
            now = self._clock()
            self._purge(conn, now)
            for _ in range(100):
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LEN))
                taken = conn.execute(
                    "INSERT INTO classes (code, token, created, expires, settings) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING RETURNING code",
                    (code, _hash_token(token), now, now + self.limits.ttl_s, js)).fetchone()
                if taken is not None:
                    return code, token
                # else the code is taken: draw another
        raise ClassroomError("could not draw a free class code")  # pragma: no cover

    def update_settings(self, code: str, token: str, settings: dict,
                        clear_clicks: bool = False) -> ClassInfo:
        """Replace the settings of a class (lecturer only); with ``clear_clicks``, delete its
        clicks too (they were made on another map and mean nothing on the new one).

        Raises
        ------
        BadClick
            Malformed code or settings.
        ClassNotFound, NotLecturer, ClassExpired
            In this order of checking.
        """
        code = normalize_code(code)
        js = _settings_json(settings)
        with self._tx(write=True) as conn:
            now = self._clock()
            row = self._class_row(conn, code, now, allow_expired=True)
            self._check_token(row, token)
            if now >= row[3]:
                raise ClassExpired(f"class {code} has ended; open a new one")
            conn.execute("UPDATE classes SET settings = ? WHERE code = ?", (js, code))
            self._remember(self._maps, code, (now, json.loads(js)))
            if clear_clicks:
                conn.execute("DELETE FROM clicks WHERE code = ?", (code,))
            locked = self._locked(conn, code)
        return ClassInfo(code=code, created=row[2], expires=row[3], settings=json.loads(js),
                         locked=locked)

    @staticmethod
    def _locked(conn, code: str) -> bool:
        return conn.execute("SELECT 1 FROM locks WHERE code = ?", (code,)).fetchone() is not None

    def _lecturer_tx(self, code: str, token: str):
        """A write transaction on a live class after the lecturer's token was checked."""
        store = self

        @contextmanager
        def tx() -> Iterator:
            with store._tx(write=True) as conn:
                row = store._class_row(conn, code, store._clock(), allow_expired=True)
                store._check_token(row, token)
                yield conn
        return tx()

    def students(self, code: str, token: str) -> list[Student]:
        """Every student of a class, in joining order, with their click counts (lecturer
        only).

        Raises
        ------
        BadClick, ClassNotFound, NotLecturer
        """
        code = normalize_code(code)
        with self._lecturer_tx(code, token) as conn:
            rows = conn.execute(
                "SELECT s.student, s.name, s.joined, s.blocked, "
                "(SELECT COUNT(*) FROM clicks c WHERE c.code = s.code AND c.student = s.student)"
                " FROM students s WHERE s.code = ? ORDER BY s.joined, s.student",
                (code,)).fetchall()
        return [Student(r[0], r[1], r[2], bool(r[3]), r[4]) for r in rows]

    def remove_student(self, code: str, token: str, student: str, block: bool = False) -> int:
        """Remove a student with their clicks and drawings (lecturer only). With ``block`` the
        student id may neither rejoin nor click again; otherwise it may join again. Returns the
        number of clicks deleted.

        Raises
        ------
        BadClick, ClassNotFound, NotLecturer
        """
        code = normalize_code(code)
        with self._lecturer_tx(code, token) as conn:
            n = conn.execute("DELETE FROM clicks WHERE code = ? AND student = ?",
                             (code, student)).rowcount
            conn.execute("DELETE FROM drawings WHERE code = ? AND student = ?", (code, student))
            if block:
                conn.execute("INSERT INTO students (code, student, name, joined, blocked) "
                             "VALUES (?, ?, '', ?, 1) ON CONFLICT (code, student) "
                             "DO UPDATE SET blocked = 1", (code, student, self._clock()))
            else:
                conn.execute("DELETE FROM students WHERE code = ? AND student = ?",
                             (code, student))
        return n

    def clear_clicks(self, code: str, token: str) -> int:
        """Delete every click of a class (lecturer only); returns how many.

        Raises
        ------
        BadClick, ClassNotFound, NotLecturer
        """
        code = normalize_code(code)
        with self._lecturer_tx(code, token) as conn:
            return conn.execute("DELETE FROM clicks WHERE code = ?", (code,)).rowcount

    def set_locked(self, code: str, token: str, locked: bool) -> None:
        """Close (``locked=True``) or reopen joining (lecturer only): once closed, only the
        students already in may click.

        Raises
        ------
        BadClick, ClassNotFound, NotLecturer
        """
        code = normalize_code(code)
        with self._lecturer_tx(code, token) as conn:
            if locked:
                conn.execute("INSERT INTO locks (code) VALUES (?) ON CONFLICT (code) DO NOTHING",
                             (code,))
            else:
                conn.execute("DELETE FROM locks WHERE code = ?", (code,))

    def close(self, code: str, token: str) -> None:
        """Delete a class with all its clicks, students and drawings (lecturer only; works on an
        expired class too).

        Raises
        ------
        BadClick, ClassNotFound, NotLecturer
        """
        code = normalize_code(code)
        with self._tx(write=True) as conn:
            row = self._class_row(conn, code, self._clock(), allow_expired=True)
            self._check_token(row, token)
            for table in ("clicks", "students", "locks", "drawings", "drawings_hidden",
                          "classes"):
                conn.execute(f"DELETE FROM {table} WHERE code = ?", (code,))

    # -- everyone ---------------------------------------------------------------------------

    def get(self, code: str) -> ClassInfo:
        """The class with this code.

        Raises
        ------
        BadClick, ClassNotFound, ClassExpired
        """
        code = normalize_code(code)
        with self._tx(write=False) as conn:
            r = self._class_row(conn, code, self._clock())
            locked = self._locked(conn, code)
        return ClassInfo(code=r[0], created=r[2], expires=r[3], settings=json.loads(r[4]),
                         locked=locked)

    def join(self, code: str, student: str, name: str = "", address: str | None = None) -> str:
        """Register a student in a class (again: only updates the name); returns the name as
        stored (:func:`clean_name`).

        Parameters
        ----------
        code, student, name : str
            As in :meth:`add_click`.
        address : str, optional
            The client's source address (``st.context.ip_address``); None counts as one shared
            address. A new student spends one token of that address's join bucket
            (``limits.join_burst`` at once, ``limits.join_per_s`` refilled per second).

        Raises
        ------
        BadClick
            Malformed code, student id or name.
        ClassNotFound, ClassExpired
        ClassFull
            The class has ``limits.max_students`` students, or its lecturer closed joining.
        NotLecturer
            The lecturer blocked this student.
        RateLimited
            Too many new students from this address just now; ``retry_after_s`` says when.
        """
        code = normalize_code(code)
        _check_student(student)
        name = clean_name(name, self.limits.max_name_len)
        addr = str(address)[:64] if address else "?"
        lim = self.limits
        b = self._buckets.get(addr)
        if b is not None and (code, student) not in self._joined:
            tokens = min(lim.join_burst, b[0] + max(0.0, self._clock() - b[1]) * lim.join_per_s)
            if tokens < 1:  # refused in memory: a flood never takes the write lock
                wait = (1 - tokens) / lim.join_per_s
                raise RateLimited(f"too many students joined from your network just now; "
                                  f"try again in {wait:.0f} s", retry_after_s=wait)
        with self._tx(write=True) as conn:
            now = self._clock()
            self._class_row(conn, code, now)
            r = conn.execute("SELECT blocked FROM students WHERE code = ? AND student = ?",
                             (code, student)).fetchone()
            if r is not None and r[0]:
                raise NotLecturer("the lecturer removed you from this class")
            if r is not None:
                conn.execute("UPDATE students SET name = ? WHERE code = ? AND student = ?",
                             (name, code, student))
                with self._mem:
                    self._joined.add((code, student))
                return name
            self._admit(conn, code, now)
            b = conn.execute("SELECT tokens, t FROM join_buckets WHERE addr = ?",
                             (addr,)).fetchone()
            tokens = lim.join_burst if b is None else min(
                lim.join_burst, b[0] + max(0.0, now - b[1]) * lim.join_per_s)
            if tokens < 1:
                self._remember(self._buckets, addr, (tokens, now))
                wait = (1 - tokens) / lim.join_per_s
                raise RateLimited(f"too many students joined from your network just now; "
                                  f"try again in {wait:.0f} s", retry_after_s=wait)
            self._remember(self._buckets, addr, (tokens - 1, now))
            conn.execute("INSERT INTO join_buckets (addr, tokens, t) VALUES (?, ?, ?) "
                         "ON CONFLICT (addr) DO UPDATE SET tokens = excluded.tokens, "
                         "t = excluded.t", (addr, tokens - 1, now))
            conn.execute("INSERT INTO students (code, student, name, joined) "
                         "VALUES (?, ?, ?, ?)", (code, student, name, now))
        with self._mem:
            self._joined.add((code, student))
        return name

    def _admit(self, conn, code: str, now: float) -> None:
        """ClassFull unless a new student may enter (joining open, below the cap)."""
        if self._locked(conn, code):
            raise ClassFull(f"the lecturer has closed joining class {code}")
        n = conn.execute("SELECT COUNT(*) FROM students WHERE code = ? AND blocked = 0",
                         (code,)).fetchone()[0]
        if n >= self.limits.max_students:
            raise ClassFull(f"class {code} has reached {self.limits.max_students} students")

    def add_click(self, code: str, student: str, pick: dict, name: str = "",
                  auto_join: bool = True) -> Click:
        """Store one student's click.

        Parameters
        ----------
        code : str
            Class code (normalised with :func:`normalize_code`).
        student : str
            Stable id of the student's session: 1-64 characters of ``[A-Za-z0-9_-]``.
        pick : dict
            ``{"kind": "point", "index": int}`` (0 <= index < 10**7) with optional ``"x"`` and
            ``"y"`` (both or neither), or ``{"kind": "grid", "x": float, "y": float}``;
            coordinates finite, at most 1e6 in size; bools are not numbers; no other keys.
        name : str
            Display name (:func:`clean_name`): at most ``limits.max_name_len`` characters.
        auto_join : bool
            Join a student id seen for the first time (as :meth:`join` without its address
            bucket); False: refuse it with ClassNotFound (the app, which joins students
            first, so that a student the lecturer removed must join again).

        Returns
        -------
        Click
            The stored click, with its id and time.

        Raises
        ------
        BadClick
            Malformed code, student, name or pick, or a spot or image index off the class's
            current map (``settings["extent"]``, ``settings["n_points"]``).
        ClassNotFound, ClassExpired
        NotLecturer
            The lecturer blocked this student.
        ClassFull
            ``limits.max_clicks`` reached, or a student who never joined while joining is
            closed or the class has ``limits.max_students`` (such a student is joined here,
            without :meth:`join`'s per-address bucket: the app always calls :meth:`join`
            first).
        RateLimited
            Closer than ``min_interval_s`` to this student's last click, or ``per_minute``
            clicks already in the last 60 s; ``retry_after_s`` says when to try again.
        """
        got = self.add_clicks([ClickRequest(code, student, pick, name)], auto_join)[0]
        if isinstance(got, ClassroomError):
            raise got
        return got

    def add_clicks(self, requests: list[ClickRequest],
                   auto_join: bool = True) -> list[Click | ClassroomError]:
        """Store many students' clicks in one write transaction (the class API's batches).

        Each request is checked exactly as :meth:`add_click` checks it, in order (a student's
        second click in the batch meets the pacing of their first); a refused request gets
        its error in the result and writes nothing, and does not stop the others. One
        transaction holds the write lock once for the batch, and the class row and click
        count are read once per class: under load the lock is held far less per click.

        Returns
        -------
        list
            Per request, the stored :class:`Click` or the ``ClassroomError`` that refused it
            (the types :meth:`add_click` raises).

        Raises
        ------
        RateLimited, ClassroomError
            Only if the database itself is busy or unusable (then nothing was stored).
        """
        out: list[Click | ClassroomError | None] = [None] * len(requests)
        todo = []  # (position, code, student, name, kind, x, y, idx)
        for k, r in enumerate(requests):
            try:
                code = normalize_code(r.code)
                _check_student(r.student)
                name = clean_name(r.name, self.limits.max_name_len)
                kind, x, y, idx = _check_pick(r.pick)
                self._early_refusal(code, r.student, kind, x, y, idx)
            except ClassroomError as exc:
                out[k] = exc
                continue
            todo.append((k, code, r.student, name, kind, x, y, idx))
        if not todo:
            return out
        stored = []
        with self._tx(write=True) as conn:
            classes: dict[str, tuple[dict, int] | ClassroomError] = {}
            for k, code, student, name, kind, x, y, idx in todo:
                try:
                    click = self._insert_click(conn, classes, code, student, name, kind, x, y,
                                               idx, auto_join)
                except ClassroomError as exc:
                    out[k] = exc
                    continue
                out[k] = click
                stored.append(click)
        for click in stored:  # committed: now the in-memory pacing and count may follow
            self._remember(self._last, (click.code, click.student), click.t)
        for code, c in classes.items():
            if not isinstance(c, ClassroomError) and c[2] is not None:
                self._remember(self._counted, code, (c[2], c[1]))
        return out

    def _insert_click(self, conn, classes: dict, code: str, student: str, name: str,
                      kind: str, x: float, y: float, idx: int, auto_join: bool) -> Click:
        """One click of :meth:`add_clicks` inside its transaction: every check, then the
        insert. ``classes`` caches, per class code in this batch, its settings, click count
        and last click id (or the error that refuses every click of that class)."""
        lim = self.limits
        now = self._clock()  # read under the write lock: t follows the id order
        c = classes.get(code)
        if c is None:
            try:
                row = self._class_row(conn, code, now)
                settings = json.loads(row[4])
                self._remember(self._maps, code, (now, settings))
                c = classes[code] = [settings, self._count_clicks(conn, code), None]
            except ClassroomError as exc:
                c = classes[code] = exc
        if isinstance(c, ClassroomError):
            raise c
        _check_on_map(c[0], kind, x, y, idx)
        # the student's state in one statement: blocked (None: never joined), last click, and
        # the per_minute-th most recent click in the window (once it leaves the window, fewer
        # than per_minute remain and the next click is accepted)
        blocked, last, kth = conn.execute(
            "SELECT (SELECT blocked FROM students WHERE code = ? AND student = ?), "
            "(SELECT MAX(t) FROM clicks WHERE code = ? AND student = ?), "
            "(SELECT t FROM clicks WHERE code = ? AND student = ? AND t > ? "
            "ORDER BY t DESC LIMIT 1 OFFSET ?)",
            (code, student, code, student, code, student, now - WINDOW_S,
             max(lim.per_minute, 1) - 1)).fetchone()
        if blocked:
            raise NotLecturer("the lecturer removed you from this class")
        if c[1] >= lim.max_clicks:
            raise ClassFull(f"class {code} has reached {lim.max_clicks} clicks")
        if last is not None:
            wait = lim.min_interval_s - (now - last)
            if wait > 0:
                raise RateLimited(f"wait {wait:.2f} s between two clicks", retry_after_s=wait)
            if kth is not None:
                wait = max(kth + WINDOW_S - now, 1e-3)
                self._remember(self._hold, (code, student), now + wait)
                raise RateLimited(f"at most {lim.per_minute} clicks a minute; "
                                  f"wait {wait:.1f} s", retry_after_s=wait)
        if blocked is None:  # a student id the server never joined: same rules as join
            if not auto_join:
                raise ClassNotFound(f"you are not in class {code} (any more): join again")
            self._admit(conn, code, now)
            conn.execute("INSERT INTO students (code, student, name, joined) "
                         "VALUES (?, ?, ?, ?)", (code, student, name, now))
        cur = conn.execute("INSERT INTO clicks (code, student, name, t, kind, x, y, idx) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                           (code, student, name, now, kind,
                            None if math.isnan(x) else x, None if math.isnan(y) else y, idx))
        id_ = int(cur.fetchone()[0])
        c[1] += 1
        c[2] = id_
        return Click(id=id_, code=code, student=student, name=name, t=now, kind=kind, x=x,
                     y=y, index=idx)

    def clicks(self, code: str, after_id: int = 0, limit: int = 500) -> list[Click]:
        """Clicks of a class with ``id > after_id``, in id order, at most ``limit`` (1..5000).

        Page with ``after_id = result[-1].id`` until an empty list: because writes are
        serialised, a click committed later always has a larger id than any seen before.

        Raises
        ------
        BadClick, ClassNotFound, ClassExpired
        """
        code = normalize_code(code)
        after_id, limit = int(after_id), min(max(int(limit), 1), 5000)
        with self._tx(write=False) as conn:
            self._class_row(conn, code, self._clock())
            rows = conn.execute("SELECT id, code, student, name, t, kind, x, y, idx FROM clicks "
                                "WHERE code = ? AND id > ? ORDER BY id LIMIT ?",
                                (code, after_id, limit)).fetchall()
        return [_row_to_click(r) for r in rows]

    def counts(self, code: str) -> dict[str, int]:
        """``{"clicks": n, "students": m}`` of a class (students joined and not blocked).

        Raises
        ------
        BadClick, ClassNotFound, ClassExpired
        """
        code = normalize_code(code)
        with self._tx(write=False) as conn:
            self._class_row(conn, code, self._clock())
            n = conn.execute("SELECT COUNT(*) FROM clicks WHERE code = ?", (code,)).fetchone()[0]
            m = conn.execute("SELECT COUNT(*) FROM students WHERE code = ? AND blocked = 0",
                             (code,)).fetchone()[0]
        return {"clicks": n, "students": m}
