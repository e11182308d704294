"""The shared class store: codes, lecturer token, expiry, limits, bad input, concurrent writers."""
from __future__ import annotations

import math
import sqlite3
import threading

import pytest

from aecore.errors import LatentLabError
from services.classroom import (CODE_ALPHABET, CODE_LEN, SCHEMA_VERSION, ClassStore, Click, Limits,
                                default_db, normalize_code)
from services.errors import (BadClick, ClassExpired, ClassFull, ClassNotFound, ClassroomError,
                             NotLecturer, RateLimited)
from services.paths import state_dir

from . import pgtest
from .procs import spawning

FAST = Limits(min_interval_s=0, per_minute=10**6)  # no rate limit: concurrency tests
SETTINGS = {"dataset": "digits", "model": "/x/digits_vae_z2.safetensors", "model_id": "abc",
            "projection": "identity"}


class FakeClock:
    def __init__(self, t: float = 1_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def _is_pg(db) -> bool:
    return isinstance(db, str)


def _rows(db, sql: str, params=()) -> list[tuple]:
    """What is really stored: ``sql`` (``?`` placeholders) run outside the store."""
    if _is_pg(db):
        return pgtest.raw(db, sql.replace("?", "%s"), params)
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _point(i, **kw):
    return {"kind": "point", "index": i, **kw}


# -- open / get / persistence -----------------------------------------------------------------

def test_open_get_round_trip_and_code_format(db):
    store = ClassStore(db)
    code, token = store.open_class(SETTINGS)
    assert len(code) == CODE_LEN and set(code) <= set(CODE_ALPHABET)
    assert isinstance(token, str) and len(token) >= 20
    info = store.get(code)
    assert (info.code, info.settings) == (code, SETTINGS)
    assert info.expires == pytest.approx(info.created + Limits().ttl_s)
    assert store.get(f"  {code.lower()} ").code == code  # typed by a student
    assert store.counts(code) == {"clicks": 0, "students": 0}
    codes = {store.open_class({})[0] for _ in range(40)}
    assert len(codes) == 40 and code not in codes


def test_settings_survive_a_restart_and_token_is_not_stored(db):
    s1 = ClassStore(db)
    code, token = s1.open_class(SETTINGS)
    s1.add_click(code, "stu_1", _point(3), name="Ada")
    s2 = ClassStore(db)  # a new server process on the same file
    assert s2.get(code).settings == SETTINGS
    assert [(c.student, c.name, c.index) for c in s2.clicks(code)] == [("stu_1", "Ada", 3)]
    assert s2.update_settings(code, token, {"dataset": "mnist"}).settings == {"dataset": "mnist"}
    assert s1.get(code).settings == {"dataset": "mnist"}
    if _is_pg(db):
        assert pgtest.raw(db, "SELECT token FROM classes") != [(token,)]
        assert pgtest.raw(db, "SELECT COUNT(*) FROM classes WHERE token = %s", (token,)) == [(0,)]
        return
    assert token.encode() not in db.read_bytes()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT token FROM classes").fetchone()[0] != token


def test_wal_mode_and_schema_version(db):
    store = ClassStore(db)
    assert store.db.version() == SCHEMA_VERSION
    if _is_pg(db):
        pgtest.raw(db, "UPDATE latentlab_schema SET version = %s", (SCHEMA_VERSION + 1,))
        with pytest.raises(ClassroomError, match="schema version"):
            ClassStore(db)
        return
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
        conn.commit()
    finally:
        conn.close()
    with pytest.raises(ClassroomError, match="schema version"):
        ClassStore(db)


def test_not_a_database(tmp_path):
    bad = tmp_path / "x.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ClassroomError, match="not a usable"):
        ClassStore(bad)


def test_unreachable_server_is_a_typed_error():
    with pytest.raises(ClassroomError, match="cannot reach"):
        ClassStore("postgresql://nobody:x@127.0.0.1:1/none")


def test_database_url_env_selects_postgresql(monkeypatch, tmp_path):
    monkeypatch.setenv("LATENTLAB_STATE_DIR", str(tmp_path / "st"))
    monkeypatch.setenv("LATENTLAB_DATABASE_URL", "postgresql://u:p@db.example:5432/classes")
    assert default_db() == "postgresql://u:p@db.example:5432/classes"
    monkeypatch.setenv("LATENTLAB_DATABASE_URL", "mysql://u:p@db.example/classes")
    with pytest.raises(ClassroomError, match="postgresql://"):
        default_db()
    monkeypatch.setenv("LATENTLAB_DATABASE_URL", "")
    assert default_db() == tmp_path / "st" / "classroom.sqlite3"


def test_default_location_follows_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTLAB_STATE_DIR", str(tmp_path / "st"))
    assert state_dir() == tmp_path / "st" and state_dir().is_dir()
    assert default_db() == tmp_path / "st" / "classroom.sqlite3"
    store = ClassStore()
    assert store.path == default_db() and store.path.is_file()


def test_errors_are_typed():
    for e in (ClassNotFound, ClassExpired, NotLecturer, RateLimited, ClassFull, BadClick):
        assert issubclass(e, ClassroomError)
    assert issubclass(ClassroomError, LatentLabError) and issubclass(ClassroomError, ValueError)
    import pickle
    e = pickle.loads(pickle.dumps(RateLimited("slow down", retry_after_s=1.5)))
    assert (str(e), e.retry_after_s) == ("slow down", 1.5)


# -- lecturer token --------------------------------------------------------------------------

def test_settings_and_close_need_the_lecturer_token(db):
    store = ClassStore(db)
    code, token = store.open_class(SETTINGS)
    other_code, other_token = store.open_class({})
    for wrong in ("", "x" * 22, other_token, None, 123):
        with pytest.raises(NotLecturer):
            store.update_settings(code, wrong, {"dataset": "evil"})
        with pytest.raises(NotLecturer):
            store.close(code, wrong)
    assert store.get(code).settings == SETTINGS  # unchanged, still open
    info = store.update_settings(code.lower(), token, {"dataset": "fashion"})
    assert info.settings == {"dataset": "fashion"} == store.get(code).settings
    store.add_click(code, "s1", _point(1))
    store.close(code, token)
    for f in (store.get, store.counts, store.clicks):
        with pytest.raises(ClassNotFound):
            f(code)
    with pytest.raises(ClassNotFound):
        store.close(code, token)
    assert _rows(db, "SELECT COUNT(*) FROM clicks WHERE code = ?", (code,)) == [(0,)]
    assert store.get(other_code).settings == {}  # other classes untouched


# -- expiry ----------------------------------------------------------------------------------

def test_expiry_then_purge(db):
    clock = FakeClock()
    store = ClassStore(db, Limits(ttl_s=100), clock=clock)
    code, token = store.open_class(SETTINGS)
    store.add_click(code, "s1", _point(0))
    clock.t += 99.9
    assert store.get(code).code == code
    clock.t += 0.1
    with pytest.raises(ClassExpired):
        store.get(code)
    with pytest.raises(ClassExpired):
        store.add_click(code, "s2", _point(1))
    with pytest.raises(ClassExpired):
        store.clicks(code)
    with pytest.raises(ClassExpired):
        store.update_settings(code, token, {})
    store.open_class({})  # opening a class purges the expired ones
    with pytest.raises(ClassNotFound):
        store.get(code)
    assert _rows(db, "SELECT COUNT(*) FROM clicks") == [(0,)]


def test_open_class_purges_expired_and_close_works_when_expired(db):
    clock = FakeClock()
    store = ClassStore(db, Limits(ttl_s=10), clock=clock)
    old, _ = store.open_class({})
    old2, token2 = store.open_class({})
    clock.t += 10
    store.close(old2, token2)  # an expired class can still be closed by its lecturer
    new, _ = store.open_class({})
    with pytest.raises(ClassNotFound):
        store.get(old)
    assert store.get(new).code == new


# -- rate limits and sizes -------------------------------------------------------------------

def test_min_interval(db):
    clock = FakeClock()
    store = ClassStore(db, Limits(min_interval_s=0.25), clock=clock)
    code, _ = store.open_class({})
    store.add_click(code, "s1", _point(0))
    clock.t += 0.1
    with pytest.raises(RateLimited) as ei:
        store.add_click(code, "s1", _point(1))
    assert ei.value.retry_after_s == pytest.approx(0.15)
    store.add_click(code, "s2", _point(1))  # other students are not slowed down
    clock.t += 0.15
    store.add_click(code, "s1", _point(1))
    assert store.counts(code) == {"clicks": 3, "students": 2}


def test_per_minute(db):
    clock = FakeClock(0.0)
    store = ClassStore(db, Limits(min_interval_s=0, per_minute=3), clock=clock)
    code, _ = store.open_class({})
    for t in (0.0, 1.0, 2.0):
        clock.t = t
        store.add_click(code, "s1", _point(0))
    clock.t = 3.0
    with pytest.raises(RateLimited) as ei:
        store.add_click(code, "s1", _point(0))
    assert ei.value.retry_after_s == pytest.approx(57.0) and ei.value.retry_after_s > 0
    clock.t = 59.9
    with pytest.raises(RateLimited):
        store.add_click(code, "s1", _point(0))
    clock.t = 60.0  # the click at t=0 has left the window
    store.add_click(code, "s1", _point(0))
    with pytest.raises(RateLimited):
        store.add_click(code, "s1", _point(0))
    assert store.counts(code)["clicks"] == 4


def test_class_full_clicks_and_students(db):
    store = ClassStore(db, Limits(min_interval_s=0, per_minute=100, max_clicks=5,
                                  max_students=2))
    code, _ = store.open_class({})
    store.add_click(code, "a", _point(0))
    store.add_click(code, "b", _point(0))
    with pytest.raises(ClassFull, match="students"):
        store.add_click(code, "c", _point(0))
    for _ in range(3):
        store.add_click(code, "a", _point(0))  # known students may go on
    with pytest.raises(ClassFull, match="clicks"):
        store.add_click(code, "b", _point(0))
    assert store.counts(code) == {"clicks": 5, "students": 2}


# -- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["AB0CD", "ABOCD", "AB1CD", "ABICD", "ABCD", "ABCDEF", "", "AB CD",
                                  None, 12345, "ÄBCDE"])
def test_bad_codes(code):
    with pytest.raises(BadClick):
        normalize_code(code)


def test_normalize_code_accepts_lowercase_and_spaces():
    assert normalize_code(" ab2cz\n") == "AB2CZ"


@pytest.mark.parametrize("student", ["", "a/b", "a b", "x" * 65, "é", "a\nb", None, 7])
def test_bad_student(db, student):
    store = ClassStore(db)
    code, _ = store.open_class({})
    with pytest.raises(BadClick):
        store.add_click(code, student, _point(0))


@pytest.mark.parametrize("name", ["A\x07da", "A\nB", "x" * 25, "\u200bzero", 5, None])
def test_bad_name(db, name):
    store = ClassStore(db)
    code, _ = store.open_class({})
    with pytest.raises(BadClick):
        store.add_click(code, "s1", _point(0), name=name)


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("pick", [
    None, [], "point", {}, {"kind": "line", "x": 0, "y": 0}, {"kind": "point"},
    {"kind": "point", "index": True}, {"kind": "point", "index": -1},
    {"kind": "point", "index": 10**7}, {"kind": "point", "index": 1.0},
    {"kind": "point", "index": "3"}, {"kind": "point", "index": 1, "x": 0.5},
    {"kind": "point", "index": 1, "x": NAN, "y": 0}, {"kind": "point", "index": 1, "extra": 1},
    {"kind": "grid", "x": 0.0}, {"kind": "grid", "x": NAN, "y": 0}, {"kind": "grid", "x": 0,
                                                                   "y": INF},
    {"kind": "grid", "x": -INF, "y": 0}, {"kind": "grid", "x": 2e6, "y": 0},
    {"kind": "grid", "x": True, "y": 0}, {"kind": "grid", "x": "1", "y": 0},
    {"kind": "grid", "x": 0, "y": 0, "index": 3},
])
def test_bad_picks(db, pick):
    store = ClassStore(db)
    code, _ = store.open_class({})
    with pytest.raises(BadClick):
        store.add_click(code, "s1", pick)
    assert store.counts(code)["clicks"] == 0


@pytest.mark.parametrize("settings", [
    None, [1, 2], "digits", {"big": "x" * 5000}, {"f": float("nan")}, {"o": object()}, {1: "a"},
])
def test_bad_settings(db, settings):
    store = ClassStore(db)
    with pytest.raises(BadClick):
        store.open_class(settings)
    code, token = store.open_class({})
    with pytest.raises(BadClick):
        store.update_settings(code, token, settings)


def test_valid_picks_and_names_round_trip(db):
    import numpy as np

    store = ClassStore(db, FAST)
    code, _ = store.open_class({})
    a = store.add_click(code, "s-1", _point(7, x=0.5, y=-1.5), name="  Ada Lovelace ")
    b = store.add_click(code, "s_2", {"kind": "grid", "x": np.float32(1.25), "y": -3})
    c = store.add_click(code, "S3", {"kind": "point", "index": np.int64(9)}, name="Zoë ✓")
    assert (a.name, a.kind, a.index, a.x, a.y) == ("Ada Lovelace", "point", 7, 0.5, -1.5)
    assert (b.kind, b.x, b.y, b.index) == ("grid", 1.25, -3.0, -1)
    assert c.index == 9 and type(c.index) is int and math.isnan(c.x) and math.isnan(c.y)
    got = store.clicks(code)
    assert [g.id for g in got] == [a.id, b.id, c.id]
    assert got[0] == a and got[1] == b
    assert math.isnan(got[2].x) and got[2].name == "Zoë ✓" and got[2].index == c.index
    assert all(isinstance(g, Click) and g.code == code for g in got)


def test_clicks_pagination_in_order(db):
    store = ClassStore(db, FAST)
    code, _ = store.open_class({})
    other, _ = store.open_class({})
    for i in range(23):
        store.add_click(code, f"s{i % 4}", _point(i))
        store.add_click(other, "x", _point(i))  # interleaved ids of another class
    seen, after = [], 0
    while batch := store.clicks(code, after_id=after, limit=5):
        assert len(batch) <= 5
        seen += batch
        after = batch[-1].id
    assert [c.index for c in seen] == list(range(23))
    assert [c.id for c in seen] == sorted({c.id for c in seen})
    assert len(store.clicks(code, limit=0)) == 1  # clamped to 1..5000
    assert len(store.clicks(code, limit=10**9)) == 23
    assert store.clicks(code, after_id=seen[-1].id) == []


# -- concurrency -----------------------------------------------------------------------------

N_PROCS, N_CLICKS = 6, 40


def _student_proc(db, code, student, n, limits, start, out):
    """A student in its own process: its own ClassStore, n clicks as fast as it can."""
    store = ClassStore(db, limits)
    start.wait(30)
    ok = full = 0
    for seq in range(n):
        try:
            store.add_click(code, student, _point(seq), name=student)
            ok += 1
        except ClassFull:
            full += 1
    out.put((student, ok, full))


def _lecturer_reads(store, code, alive):
    """Read with clicks(after_id) while ``alive()``, then drain; every click seen once."""
    seen, after = [], 0
    while True:
        running = alive()
        batch = store.clicks(code, after_id=after, limit=17)
        seen += batch
        if batch:
            after = batch[-1].id
        elif not running:
            return seen


def _run_procs(db, code, limits, store):
    with spawning() as ctx:  # tests/procs.py: why spawn, and a plain __main__
        start, out = ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_student_proc,
                             args=(str(db), code, f"p{k}", N_CLICKS, limits, start, out))
                 for k in range(N_PROCS)]
        for p in procs:
            p.start()
    start.set()
    seen = _lecturer_reads(store, code, lambda: any(p.is_alive() for p in procs))
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    return seen, results


def test_concurrent_processes_lecturer_sees_every_click_once(db):
    store = ClassStore(db, FAST)
    code, _ = store.open_class(SETTINGS)
    seen, results = _run_procs(db, code, FAST, store)
    assert sorted(r[1] for r in results) == [N_CLICKS] * N_PROCS
    ids = [c.id for c in seen]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # in order, no duplicates
    assert len(seen) == N_PROCS * N_CLICKS
    assert {(c.student, c.index) for c in seen} == {
        (f"p{k}", s) for k in range(N_PROCS) for s in range(N_CLICKS)}
    for k in range(N_PROCS):  # each student's own clicks in its order
        assert [c.index for c in seen if c.student == f"p{k}"] == list(range(N_CLICKS))
    assert store.counts(code) == {"clicks": N_PROCS * N_CLICKS, "students": N_PROCS}


def test_concurrent_processes_cannot_overshoot_max_clicks(db):
    limits = Limits(min_interval_s=0, per_minute=10**6, max_clicks=100)
    store = ClassStore(db, limits)
    code, _ = store.open_class({})
    seen, results = _run_procs(db, code, limits, store)
    assert sum(r[1] for r in results) == 100 == len(seen) == store.counts(code)["clicks"]
    assert sum(r[2] for r in results) == N_PROCS * N_CLICKS - 100


def test_concurrent_threads(db):
    limits = Limits(min_interval_s=0, per_minute=10**6, max_students=5)
    store = ClassStore(db, limits)  # one store shared by every thread, as in a Streamlit server
    code, _ = store.open_class({})
    n_threads, n = 8, 30
    start = threading.Barrier(n_threads + 1)
    accepted, errors = {}, []

    def student(k):
        try:
            start.wait(30)
            ok = 0
            for seq in range(n):
                try:
                    store.add_click(code, f"t{k}", _point(seq))
                    ok += 1
                except ClassFull:
                    pass
            accepted[f"t{k}"] = ok
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=student, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    start.wait(30)
    seen = _lecturer_reads(store, code, lambda: any(t.is_alive() for t in threads))
    for t in threads:
        t.join(60)
    assert not errors
    winners = {s for s, ok in accepted.items() if ok}
    assert len(winners) == 5 and all(accepted[s] == n for s in winners)
    ids = [c.id for c in seen]
    assert ids == sorted(set(ids)) and len(seen) == 5 * n
    assert {(c.student, c.index) for c in seen} == {(s, i) for s in winners for i in range(n)}
    assert store.counts(code) == {"clicks": 5 * n, "students": 5}


# -- issue 14: names, joins, lecturer controls, clicks on the map only ------------------------

@pytest.mark.parametrize("name", ["👩\u200d💻 Ada", "Ada\u00adLovelace", "A\u200bda", "A\nB",
                                  "x" * 25, "\u202eevil"])
def test_join_refuses_invisible_characters_with_a_message(db, name):
    store = ClassStore(db)
    code, _ = store.open_class({})
    with pytest.raises(BadClick, match="name"):
        store.join(code, "s1", name)
    assert store.counts(code)["students"] == 0


def test_join_normalises_names_so_later_clicks_accept_them(db):
    store = ClassStore(db, FAST)
    code, _ = store.open_class({})
    # a no-break space (accepted at join, then every click failed), NFD é -> NFC é
    name = store.join(code, "s1", " Zoe\u00a0Cafe\u0301 ")
    assert name == "Zoe Café" and len(name) == 8
    assert store.add_click(code, "s1", _point(0), name=name).name == "Zoe Café"
    assert store.add_click(code, "s1", _point(0), name=" Zoe\u00a0Cafe\u0301").name == name


def test_join_rate_is_bounded_per_address_but_a_hall_behind_one_nat_fits(db):
    clock = FakeClock()
    store = ClassStore(db, Limits(), clock=clock)
    code, _ = store.open_class({})
    for k in range(30):  # a burst of 30 from one address
        store.join(code, f"nat{k}", address="10.0.0.1")
    with pytest.raises(RateLimited) as e:
        store.join(code, "nat30", address="10.0.0.1")
    assert 0 < e.value.retry_after_s <= 1
    store.join(code, "other", address="10.0.0.2")  # another address is not slowed down
    store.join(code, "nat0", "renamed", address="10.0.0.1")  # a known student: no token
    # 299 students behind one NAT (and one elsewhere), joining over 90 s, all get in
    for k in range(30, 299):
        clock.t += 1 / 3
        store.join(code, f"nat{k}", address="10.0.0.1")
    assert store.counts(code)["students"] == 300
    with pytest.raises(ClassFull, match="300 students"):
        clock.t += 100
        store.join(code, "late", address="10.0.0.3")


def test_hostile_flood_from_one_address_is_contained(db):
    """300 fake joins from one client in a few seconds: at most the burst gets in; the
    lecturer removes and blocks them and locks joining; the honest student goes on clicking."""
    clock = FakeClock()
    store = ClassStore(db, Limits(), clock=clock)
    code, token = store.open_class({})
    store.join(code, "honest", "Ada", address="10.0.0.7")
    got_in, refused = 0, 0
    for k in range(300):
        clock.t += 0.01
        try:
            store.join(code, f"sybil{k:03d}", f"sybil{k:03d}", address="6.6.6.6")
            got_in += 1
        except RateLimited:
            refused += 1
    assert got_in <= 30 + 3 * 3 + 1 and refused >= 260  # burst + 3 s of refill
    store.set_locked(code, token, True)
    assert store.get(code).locked
    for s in store.students(code, token):
        if s.student.startswith("sybil"):
            store.remove_student(code, token, s.student, block=True)
    assert store.counts(code)["students"] == 1
    with pytest.raises(ClassFull, match="closed joining"):
        clock.t += 100
        store.join(code, "late", address="10.0.0.8")
    with pytest.raises(NotLecturer):
        store.join(code, "sybil000", address="6.6.6.6")
    with pytest.raises(NotLecturer):
        store.add_click(code, "sybil001", _point(0))
    clock.t += 1
    assert store.add_click(code, "honest", _point(1), name="Ada").student == "honest"


def test_lecturer_controls_need_the_token(db):
    store = ClassStore(db, FAST)
    code, token = store.open_class({})
    store.join(code, "a", "Ann")
    store.add_click(code, "a", _point(0), name="Ann")
    store.add_click(code, "b", _point(1))
    for call in (lambda t: store.students(code, t), lambda t: store.clear_clicks(code, t),
                 lambda t: store.set_locked(code, t, True),
                 lambda t: store.remove_student(code, t, "a")):
        with pytest.raises(NotLecturer):
            call("forged")
    assert [(s.student, s.name, s.clicks) for s in store.students(code, token)] == [
        ("a", "Ann", 1), ("b", "", 1)]
    assert store.remove_student(code, token, "a") == 1
    assert store.counts(code) == {"clicks": 1, "students": 1}
    with pytest.raises(ClassNotFound, match="join again"):
        store.add_click(code, "a", _point(0), auto_join=False)
    store.join(code, "a", "Ann")  # removed, not blocked: may come back
    store.add_click(code, "a", _point(0), auto_join=False)
    assert store.clear_clicks(code, token) == 2
    assert store.counts(code) == {"clicks": 0, "students": 2}


def test_clicks_off_the_class_map_are_refused(db):
    """A forged grid click at (1e6, -1e6) used to be stored and stretch the lecturer's map."""
    store = ClassStore(db, FAST)
    code, _ = store.open_class({**SETTINGS, "extent": [-3.0, 3.0, -2.0, 2.0], "n_points": 360})
    for pick in ({"kind": "grid", "x": 1e6, "y": -1e6}, {"kind": "grid", "x": 3.5, "y": 0},
                 {"kind": "point", "index": 360}, {"kind": "point", "index": 10**6}):
        with pytest.raises(BadClick):
            store.add_click(code, "s1", pick)
    store.add_click(code, "s1", {"kind": "grid", "x": 3.0, "y": -2.0})
    store.add_click(code, "s1", {"kind": "point", "index": 359})
    assert store.counts(code)["clicks"] == 2


def test_model_switch_can_clear_the_clicks(db):
    store = ClassStore(db, FAST)
    code, token = store.open_class(SETTINGS)
    store.add_click(code, "s1", _point(0))
    store.update_settings(code, token, {**SETTINGS, "model_id": "new"}, clear_clicks=True)
    assert store.counts(code) == {"clicks": 0, "students": 1}


def test_300_hostile_sessions_and_one_honest_student(tmp_path):
    """The issue's flood (300 sessions from one address joining and clicking as fast as they
    can, half of their clicks forged far off the map) beside one honest student clicking every
    0.5 s: every honest click arrives, p95 under 500 ms (measured 10.4 ms over 60 s)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "hostile_class.py"
    spec = importlib.util.spec_from_file_location("hostile_class", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    r = bench.run(tmp_path / "c.sqlite3", hostile=300, duration=6.0, interval=0.5)
    h = r["honest"]
    assert h["errors"] == 0 and h["sent"] >= 10 and h["stored"] == h["sent"], h
    assert h["click_ms"]["p95"] < 500, h
    assert r["hostile"]["joined"] <= 30 + 3 * 7  # the burst and 7 s of refill, not 300
