"""The class database behind one small interface, with two backends.

- **SQLite** (the embedded default): one file in WAL mode, a fresh connection per transaction,
  ``BEGIN IMMEDIATE`` for writes, the schema version in ``PRAGMA user_version``.
- **PostgreSQL** (``LATENTLAB_DATABASE_URL=postgresql://…``, through psycopg 3 and a small
  connection pool): for replicas behind a load balancer that must share one class state. Writes
  take one transaction-scoped advisory lock, so they are serialised exactly as SQLite's are (a
  limit checked inside a write cannot be overshot, and ids commit in increasing order); the
  schema version lives in the table ``latentlab_schema``.

Callers write portable SQL with ``?`` placeholders (translated to ``%s`` for psycopg) and the
dialect words ``{id_pk}`` (an auto-increment integer primary key, never reused) and ``{real}``
(a double-precision float) in DDL. Upgrades are explicit: :meth:`Database.migrate` applies a list
of numbered steps, each at most once, inside one write transaction.
"""
from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["Database", "SQLiteDatabase", "PostgresDatabase", "open_database", "DatabaseBusy",
           "DatabaseUnusable", "SchemaTooNew", "BUSY_TIMEOUT_S", "is_url", "close_database"]

BUSY_TIMEOUT_S = 5.0  # how long a transaction waits for another writer's lock
_WRITE_LOCK_KEY = 0x1A7E47  # the advisory lock every PostgreSQL write transaction takes
_PG_URL = re.compile(r"postgres(ql)?://", re.I)


class DatabaseBusy(Exception):
    """Another writer held the lock for more than ``BUSY_TIMEOUT_S``."""


class DatabaseUnusable(Exception):
    """The target is not a database this code can use (not SQLite, unreachable server…)."""


class SchemaTooNew(Exception):
    """The database was written by a newer schema than this code knows."""


def is_url(target: str | Path) -> bool:
    """Whether ``target`` names a PostgreSQL server (``postgresql://…`` or ``postgres://…``)."""
    return isinstance(target, str) and bool(_PG_URL.match(target))


class Database:
    """Transactions on one class database. Subclasses: :class:`SQLiteDatabase`,
    :class:`PostgresDatabase`.

    ``transaction(write)`` yields a connection object whose ``execute(sql, params)`` returns a
    DB-API cursor (``fetchone``, ``fetchall``, ``rowcount``); it commits when the block ends and
    rolls back on any exception. ``integrity_errors`` is the tuple of exceptions raised when a
    unique or primary-key constraint is violated.
    """

    name: str = "base"
    integrity_errors: tuple[type[Exception], ...] = ()

    def transaction(self, write: bool):  # pragma: no cover - interface
        """A context manager: one transaction, serialised with other writes if ``write``."""
        raise NotImplementedError

    def version(self) -> int:  # pragma: no cover - interface
        """The schema version stored in the database (0: a new database)."""
        raise NotImplementedError

    def _set_version(self, conn, version: int) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def _current(self, conn) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def ddl(self, stmt: str) -> str:  # pragma: no cover - interface
        """``stmt`` with the dialect words ``{id_pk}`` and ``{real}`` filled in."""
        raise NotImplementedError

    def describe(self) -> str:
        """Where the data lives, for messages (never a password)."""
        return self.name

    def migrate(self, steps: Sequence[Sequence[str]]) -> int:
        """Bring the schema up to version ``len(steps)``: step ``i`` (0-based) holds the DDL that
        turns version ``i`` into ``i + 1``; steps already applied are skipped. Returns the
        version reached.

        Raises
        ------
        SchemaTooNew
            If the stored version is above ``len(steps)``.
        """
        with self.transaction(write=True) as conn:
            v = self._current(conn)
            if v > len(steps):
                raise SchemaTooNew(f"{self.describe()} has schema version {v}; this code knows "
                                   f"up to {len(steps)}")
            for step in steps[v:]:
                for stmt in step:
                    conn.execute(self.ddl(stmt))
            if v != len(steps):
                self._set_version(conn, len(steps))
        return len(steps)


_WRITERS: dict[str, threading.Lock] = {}  # resolved SQLite path -> its writers' lock
_WRITERS_LOCK = threading.Lock()


def _writer_lock(path: Path) -> threading.Lock:
    """The one lock of this process's write transactions on the SQLite file ``path`` (every
    ``SQLiteDatabase`` of that file shares it; other processes still meet SQLite's own lock)."""
    key = str(path.resolve())
    with _WRITERS_LOCK:
        return _WRITERS.setdefault(key, threading.Lock())


class SQLiteDatabase(Database):
    """One SQLite file in WAL mode; a fresh connection per transaction, so threads and
    processes may share it (``path``: the file; its folder is created).

    Raises
    ------
    DatabaseUnusable
        If the file exists but is not a SQLite database.
    """

    name = "sqlite"
    integrity_errors = (sqlite3.IntegrityError,)

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = _writer_lock(self.path)
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")  # persistent: stored in the file
            finally:
                conn.close()
        except sqlite3.DatabaseError as e:
            raise DatabaseUnusable(f"{self.path} is not a usable class database: {e}") from e

    def describe(self) -> str:
        """The file's path."""
        return str(self.path)

    @contextmanager
    def transaction(self, write: bool) -> Iterator[sqlite3.Connection]:
        """A fresh connection inside one transaction (IMMEDIATE for writes), then closed.

        Raises
        ------
        DatabaseBusy
            If another writer held the lock for more than ``BUSY_TIMEOUT_S``.
        """
        # this process's writers queue on a lock and are woken in turn; without it each one
        # polls SQLite's file lock with growing sleeps, and 100 clicks a second through the
        # class API waited seconds for a lock that was free most of the time
        if write and not self._writer.acquire(timeout=BUSY_TIMEOUT_S):
            raise DatabaseBusy(f"another writer of this process held {self.path} for "
                               f"{BUSY_TIMEOUT_S:.0f} s")
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            try:
                conn.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across app crashes
                try:
                    conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                except sqlite3.OperationalError as exc:
                    raise DatabaseBusy(str(exc)) from None
                with conn:  # commit on success, roll back on any exception
                    yield conn
            except sqlite3.DatabaseError as e:
                if isinstance(e, (sqlite3.IntegrityError, sqlite3.OperationalError)):
                    raise
                raise DatabaseUnusable(f"{self.path} is not a usable class database: "
                                       f"{e}") from e
            finally:
                conn.close()
        finally:
            if write:
                self._writer.release()

    def _current(self, conn) -> int:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def _set_version(self, conn, version: int) -> None:
        conn.execute(f"PRAGMA user_version={int(version)}")

    def version(self) -> int:
        """The schema version in ``PRAGMA user_version``."""
        with self.transaction(write=False) as conn:
            return self._current(conn)

    def ddl(self, stmt: str) -> str:
        """SQLite's words: ``INTEGER PRIMARY KEY AUTOINCREMENT`` and ``REAL`` (8 bytes)."""
        return stmt.format(id_pk="INTEGER PRIMARY KEY AUTOINCREMENT", real="REAL")


class _PgConn:
    """A psycopg connection that takes the portable SQL (``?`` placeholders)."""

    def __init__(self, conn):
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()):
        return self._conn.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(params))


class PostgresDatabase(Database):
    """A PostgreSQL database (``url``: ``postgresql://user:password@host:port/dbname``, libpq
    query parameters allowed), reached through a per-process psycopg connection pool.

    Raises
    ------
    DatabaseUnusable
        If psycopg is not installed or the server cannot be reached within 10 s.
    """

    name = "postgresql"

    def __init__(self, url: str, max_connections: int = 10):
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError as e:  # pragma: no cover - requirements.txt installs both
            raise DatabaseUnusable(f"PostgreSQL needs psycopg and psycopg-pool: {e}") from e
        self._psycopg = psycopg
        self.url = url
        self.integrity_errors = (psycopg.errors.IntegrityError,)
        self._pool_lock = threading.Lock()
        self._pid = os.getpid()
        try:  # fail fast (a refused connection) before the pool starts retrying
            psycopg.connect(url, connect_timeout=10).close()
        except psycopg.Error as e:
            raise DatabaseUnusable(f"cannot reach the class database {self.describe()}: "
                                   f"{e}") from e
        self._pool = ConnectionPool(url, min_size=1, max_size=max_connections, open=False,
                                    kwargs={"autocommit": True}, name="latentlab-classes")
        self._pool.open(wait=True, timeout=10.0)

    def describe(self) -> str:
        """The URL with its password masked."""
        return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", self.url)

    def _pool_here(self):
        """The pool of this process (a forked child opens its own)."""
        if os.getpid() != self._pid:
            from psycopg_pool import ConnectionPool
            with self._pool_lock:
                if os.getpid() != self._pid:
                    self._pool = ConnectionPool(self.url, min_size=1, max_size=4,
                                                kwargs={"autocommit": True})
                    self._pid = os.getpid()
        return self._pool

    @contextmanager
    def transaction(self, write: bool) -> Iterator[_PgConn]:
        """One transaction on a pooled connection; writes first take the advisory write lock.

        Raises
        ------
        DatabaseBusy
            If another writer held the lock for more than ``BUSY_TIMEOUT_S``.
        """
        errors = self._psycopg.errors
        with self._pool_here().connection(timeout=BUSY_TIMEOUT_S) as conn:
            try:
                with conn.transaction():
                    conn.execute(f"SET LOCAL lock_timeout = '{int(BUSY_TIMEOUT_S * 1000)}ms'")
                    if write:
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK_KEY,))
                    yield _PgConn(conn)
            except errors.LockNotAvailable as exc:
                raise DatabaseBusy(str(exc)) from None
            except (errors.OperationalError, errors.ProgrammingError) as e:  # server gone,
                raise DatabaseUnusable(f"the class database {self.describe()} "  # bad schema
                                       f"failed: {e}") from e

    def _current(self, conn) -> int:
        conn.execute("CREATE TABLE IF NOT EXISTS latentlab_schema (version INTEGER NOT NULL)")
        r = conn.execute("SELECT MAX(version) FROM latentlab_schema").fetchone()
        return int(r[0] or 0)

    def _set_version(self, conn, version: int) -> None:
        conn.execute("DELETE FROM latentlab_schema")
        conn.execute("INSERT INTO latentlab_schema (version) VALUES (?)", (int(version),))

    def version(self) -> int:
        """The schema version in the table ``latentlab_schema``."""
        with self.transaction(write=True) as conn:
            return self._current(conn)

    def ddl(self, stmt: str) -> str:
        """PostgreSQL's words: ``BIGSERIAL PRIMARY KEY`` and ``DOUBLE PRECISION``."""
        return stmt.format(id_pk="BIGSERIAL PRIMARY KEY", real="DOUBLE PRECISION")

    def close(self) -> None:
        """Close this process's pool (tests; a server keeps it for its lifetime)."""
        self._pool.close()


_SERVERS: dict[str, PostgresDatabase] = {}  # one pool per URL and process
_SERVERS_LOCK = threading.Lock()


def open_database(target: str | Path) -> Database:
    """A :class:`PostgresDatabase` for a ``postgresql://`` URL (one per URL in a process, so
    its connection pool is shared by every store), else a :class:`SQLiteDatabase` on the file
    ``target``.

    Raises
    ------
    DatabaseUnusable
        If the target cannot be used (see the two classes).
    """
    if not is_url(target):
        return SQLiteDatabase(target)
    url = str(target)
    with _SERVERS_LOCK:
        if url not in _SERVERS:
            _SERVERS[url] = PostgresDatabase(url)
        return _SERVERS[url]


def close_database(url: str) -> None:
    """Close the pool of ``url`` opened by :func:`open_database` in this process (tests drop
    their scratch schemas; a server keeps its pool for its lifetime)."""
    with _SERVERS_LOCK:
        db = _SERVERS.pop(url, None)
    if db is not None:
        db.close()
