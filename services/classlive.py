"""The live state of the classes a server's students are in, as tiny static files.

A student's page must notice when the lecturer sends a question, reveals it, switches the model
or ends the class. Asking the server through a Streamlit script run costs a run per student
per poll: with 300 students every few seconds that alone fills the server's one Python
process (``bench/load_test.py --questions``). Instead, one thread per server process reads the
watched classes from the class database every ``period_s`` seconds and writes each one's state
to a file of about 60 bytes in the app's static folder (served by Streamlit's
``server.enableStaticServing`` without running any script). The student's page fetches that
file (``ui/web/classwatch.js``) and reruns only when it changed.

A file's name is an HMAC of the class code under a key drawn once per process, so the files
cannot be used to find which class codes exist. Every replica reads the shared database, so a
question sent on one replica reaches the students of another within ``period_s`` seconds.

Typical use::

    board = LiveBoard(ClassStore(...), QuizStore(...), Path("static/live"))
    snap = board.watch("K7QX2")      # snap.name: the file (under static/live/), snap.state
    board.poke()                     # after this server's own send or reveal: refresh now
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from aecore.files import atomic_write

from .classquiz import QuizStore, Round
from .classroom import ClassStore, normalize_code
from .errors import ClassExpired, ClassNotFound, ClassroomError

__all__ = ["Snapshot", "LiveBoard"]

log = logging.getLogger(__name__)
TOUCH_S = 3600.0  # a live board rewrites its files this often; older ones are a dead process's


@dataclass(frozen=True)
class Snapshot:
    """What a class looked like at the board's last read.

    ``state`` is the file's text (``"s<settings hash>.r<round id>.v<0|1>.e<0|1>"``; round id 0
    before the first question, ``v1`` once revealed, ``e1`` once the class ended or expired);
    a page compares the text it was drawn with to the file's to know whether to rerun.
    ``settings`` are the class settings (``{}`` once ended), ``round`` the current question
    round or None, ``read_at`` the time of the read (epoch seconds).
    """

    name: str | None  # the state file's name; None when the board writes no files
    state: str
    settings: dict
    round: Round | None
    ended: bool
    read_at: float

    @property
    def settings_key(self) -> str:
        """The settings part of ``state``: it changes when the lecturer switches the model or
        the projection (or the class ends)."""
        return self.state.split(".", 1)[0] + (".e1" if self.ended else "")


class LiveBoard:
    """Per server process: reads the watched classes every ``period_s`` seconds and keeps
    their state files current (one daemon thread, started by the first :meth:`watch`).

    Parameters
    ----------
    classes, quiz : ClassStore, QuizStore
        The class database.
    directory : Path or None
        Where the state files go (created if missing): the app's ``static/live`` folder.
        None: no files (the snapshots only; pages then poll by rerunning).
    period_s : float
        Seconds between two reads of the database (each read is 2 queries per watched class).
    max_classes : int
        Classes watched at once; the one watched longest ago is dropped first.
    keep_ended_s : float
        Seconds an ended class's file stays (saying ``e1``) before it is deleted.

    Raises
    ------
    OSError
        If ``directory`` cannot be created.
    """

    def __init__(self, classes: ClassStore, quiz: QuizStore, directory: Path | None,
                 period_s: float = 0.5, max_classes: int = 500, keep_ended_s: float = 120.0):
        self.classes, self.quiz = classes, quiz
        self.directory = None if directory is None else Path(directory)
        self.period_s, self.max_classes, self.keep_ended_s = period_s, max_classes, keep_ended_s
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._snaps: dict[str, Snapshot] = {}  # code -> last snapshot
        self._watched: dict[str, float] = {}  # code -> last watch() time
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stop = False
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._sweep(3 * TOUCH_S)

    def name(self, code: str) -> str | None:
        """The state file's name for a class code (``<24 hex>.txt``); None without files."""
        if self.directory is None:
            return None
        return hmac.new(self._key, code.encode(), hashlib.sha256).hexdigest()[:24] + ".txt"

    def watch(self, code: str) -> Snapshot:
        """Keep this class's file current from now on; returns its latest snapshot (read now
        if the board has none yet).

        Raises
        ------
        BadClick
            If ``code`` is not a class code.
        """
        code = normalize_code(code)
        with self._lock:
            self._watched[code] = time.time()
            while len(self._watched) > self.max_classes:
                oldest = min(self._watched, key=self._watched.get)
                self._forget(oldest)
            snap = self._snaps.get(code)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="latentlab-liveboard",
                                                daemon=True)
                self._thread.start()
        return snap if snap is not None else self._refresh(code)

    def snapshot(self, code: str) -> Snapshot | None:
        """The board's latest snapshot of a watched class, or None."""
        with self._lock:
            return self._snaps.get(normalize_code(code))

    def poke(self) -> None:
        """Read the database now instead of at the next tick (after this server's own change),
        and wait for that read so a page drawn next sees it."""
        for code in list(self._watched):
            self._refresh(code)

    def close(self) -> None:
        """Stop the thread and delete this board's files."""
        self._stop = True
        self._wake.set()
        with self._lock:
            for code in list(self._snaps):
                self._forget(code)

    # -- plumbing ---------------------------------------------------------------------------

    def _loop(self) -> None:
        touched = time.time()
        while not self._stop:
            self._wake.wait(self.period_s)
            self._wake.clear()
            if self.directory is not None and time.time() - touched > TOUCH_S:
                touched = time.time()
                with self._lock:
                    for snap in self._snaps.values():
                        (self.directory / snap.name).touch()
            for code in list(self._watched):
                try:
                    self._refresh(code)
                except Exception:  # a database hiccup must not kill the thread
                    log.exception("live board: reading class %s failed", code)

    def _read(self, code: str) -> Snapshot:
        now = time.time()
        try:
            settings = self.classes.get(code).settings
            rnd = self.quiz.current(code)
            ended = False
        except (ClassNotFound, ClassExpired):
            settings, rnd, ended = {}, None, True
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
        state = (f"s{digest}.r{rnd.id if rnd else 0}.v{int(bool(rnd and rnd.revealed))}"
                 f".e{int(ended)}")
        return Snapshot(self.name(code), state, settings, rnd, ended, now)

    def _refresh(self, code: str) -> Snapshot:
        """Read one class; rewrite its file if its state changed. An unchanged state keeps
        the snapshot (and the time) of the read that first saw it."""
        try:
            snap = self._read(code)
        except ClassroomError:  # the database is busy or gone: keep the last snapshot
            with self._lock:
                old = self._snaps.get(code)
            if old is None:
                raise
            return old
        with self._lock:
            if code not in self._watched:  # forgotten meanwhile: leave no file behind
                return snap
            old = self._snaps.get(code)
            if old is not None and old.state == snap.state:
                if old.ended and snap.read_at - old.read_at > self.keep_ended_s:
                    self._forget(code)
                return old
            if self.directory is not None:
                atomic_write(self.directory / snap.name, snap.state.encode())
            self._snaps[code] = snap
            return snap

    def _sweep(self, max_age_s: float) -> None:
        """Delete state files nobody rewrote for ``max_age_s`` seconds (left by a process that
        died; a live board touches its files every :data:`TOUCH_S` seconds)."""
        cutoff = time.time() - max_age_s
        for f in self.directory.glob("*.txt"):
            try:
                if f.stat().st_mtime < cutoff:
                    f.unlink()
            except OSError:
                pass

    def _forget(self, code: str) -> None:
        """Stop watching a class and delete its file (call with ``_lock`` held)."""
        self._watched.pop(code, None)
        snap = self._snaps.pop(code, None)
        if snap is not None and snap.name is not None:
            (self.directory / snap.name).unlink(missing_ok=True)
