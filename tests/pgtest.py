"""PostgreSQL for the store tests: a scratch schema per test on ``LATENTLAB_TEST_DATABASE_URL``.

Without that variable the PostgreSQL cases are skipped, unless ``LATENTLAB_REQUIRE_POSTGRES=1``
(set by ``.ci/run``, which installs and starts the server): then they fail, as a missing browser
does.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

URL_ENV = "LATENTLAB_TEST_DATABASE_URL"
REQUIRE_ENV = "LATENTLAB_REQUIRE_POSTGRES"


def base_url() -> str:
    """The test server's URL, or skip (fail under ``LATENTLAB_REQUIRE_POSTGRES=1``)."""
    url = os.environ.get(URL_ENV, "").strip()
    if not url:
        msg = f"{URL_ENV} is not set: no PostgreSQL server to test against"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return url


@contextmanager
def scratch_url() -> Iterator[str]:
    """A URL whose ``search_path`` is a fresh schema, dropped (with its pool) afterwards."""
    import psycopg

    from services.db import close_database

    base = base_url()
    schema = "t_" + secrets.token_hex(6)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = base + ("&" if "?" in base else "?") + "options=" + quote(f"-csearch_path={schema}")
    try:
        yield url
    finally:
        close_database(url)
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def raw(url: str, sql: str, params=()) -> list[tuple]:
    """Rows of ``sql`` run directly on the scratch schema (what is really stored)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []
