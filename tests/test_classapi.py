"""The class API (services/classapi.py): a student's pin as one HTTP request, on both
backends, with every refusal a hostile page could provoke."""
from __future__ import annotations

import json

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from services import classapi
from services.classroom import ClassStore, Limits

URL = classapi.CLICK_PATH
SETTINGS = {"dataset": "digits", "extent": [-3, 3, -3, 3], "n_points": 360}


@pytest.fixture
def klass(db):
    """A class with one joined student: (store, API client, code, lecturer token, body)."""
    store = ClassStore(db, Limits(min_interval_s=0.25))
    code, token = store.open_class(SETTINGS)
    store.join(code, "stu_1", "Ada", address="10.0.0.1")
    body = {"code": code, "student": "stu_1", "key": store.student_key(code, "stu_1"),
            "name": "Ada"}
    client = TestClient(Starlette(routes=classapi.routes(lambda: store)))
    return store, client, code, token, body


def test_a_pin_is_stored_with_the_students_name_and_paced(klass):
    store, client, code, _, body = klass
    r = client.post(URL, json={**body, "pick": {"kind": "point", "index": 7}})
    assert r.status_code == 200 and r.json()["ok"] is True
    r2 = client.post(URL, json={**body, "pick": {"kind": "grid", "x": 0.5, "y": -1.0}})
    assert r2.status_code == 429 and 0 < r2.json()["retry_after_s"] <= 0.25
    assert r2.headers["retry-after"] == "1"
    clicks = store.clicks(code)
    assert [(c.student, c.name, c.kind, c.index, c.id) for c in clicks] == \
        [("stu_1", "Ada", "point", 7, r.json()["id"])]


def test_keys_differ_per_student_and_class_and_agree_across_store_objects(klass, db):
    store, _, code, _, body = klass
    other = ClassStore(db)  # another replica on the same database
    assert other.student_key(code, "stu_1") == body["key"]
    assert len(body["key"]) == 32 and store.student_key(code, "stu_2") != body["key"]
    code2, _ = store.open_class(SETTINGS)
    assert store.student_key(code2, "stu_1") != body["key"]


@pytest.mark.parametrize("change, status, words", [
    ({"key": "0" * 32}, 403, "did not come from"),
    ({"key": "é" * 32}, 403, "did not come from"),       # non-ASCII: no TypeError
    ({"key": None}, 403, "did not come from"),
    ({"student": "stu_2"}, 403, "did not come from"),    # my key, another student's id
    ({"code": "ZZZZZ"}, 404, "no class"),
    ({"code": "0OIL1"}, 400, "letters or digits"),
    ({"student": "<b>x</b>"}, 400, ""),
    ({"pick": {"kind": "point", "index": 360}}, 400, "360 images"),
    ({"pick": {"kind": "grid", "x": 1e6, "y": 0}}, 400, "off the class's map"),
    ({"pick": {"kind": "point", "index": 1, "evil": 1}}, 400, ""),
    ({"pick": "point"}, 400, ""),
    ({"name": ["Ada"]}, 400, ""),
])
def test_forged_or_malformed_pins_are_refused_and_nothing_is_stored(klass, change, status,
                                                                    words):
    store, client, code, _, body = klass
    req = {**body, "pick": {"kind": "point", "index": 1}, **change}
    r = client.post(URL, json=req)
    assert r.status_code == status, r.json()
    assert r.json()["ok"] is False and words in r.json()["error"]
    assert store.counts(code)["clicks"] == 0


def test_oversized_non_json_and_non_object_bodies_are_refused(klass):
    store, client, code, _, body = klass
    big = json.dumps({**body, "pick": {"kind": "point", "index": 1}, "pad": "x" * 5000})
    assert client.post(URL, content=big).status_code == 413
    assert client.post(URL, content=b"\xff\xfe").status_code == 400
    assert client.post(URL, content=b"[1, 2]").json()["error"] == \
        "the request is not a JSON object"
    assert client.get(URL).status_code == 405
    assert store.counts(code)["clicks"] == 0


def test_a_removed_student_or_an_ended_class_gets_a_clear_refusal(klass):
    store, client, code, token, body = klass
    pick = {"kind": "point", "index": 1}
    store.remove_student(code, token, "stu_1", block=True)
    r = client.post(URL, json={**body, "pick": pick})
    assert r.status_code == 403 and "removed you" in r.json()["error"]
    store.close(code, token)
    r = client.post(URL, json={**body, "pick": pick})
    assert r.status_code == 404 and "no class" in r.json()["error"]


def test_a_burst_of_pins_is_stored_in_batches_each_checked_on_its_own(db):
    """300 students pin at once (the batch writer takes them together): every honest pin is
    stored once, a student's second pin in the same batch meets the pacing, a forged key and
    an off-map pin are refused without costing the others theirs."""
    from concurrent.futures import wait

    from services.clickbatch import ClickBatcher
    from services.errors import BadClick, NotThisStudent, RateLimited

    store = ClassStore(db, Limits(min_interval_s=0.25))
    code, _ = store.open_class(SETTINGS)
    bodies = []
    for k in range(300):
        store.join(code, f"s{k}", f"N{k}", address=f"10.{k // 200}.{k % 200}.1")
        bodies.append({"code": code, "student": f"s{k}", "key": store.student_key(code, f"s{k}"),
                       "name": f"N{k}", "pick": {"kind": "point", "index": k % 360}})
    batcher = ClickBatcher(lambda: store)
    off = batcher.submit({**bodies.pop(), "pick": {"kind": "grid", "x": 99.0, "y": 0.0}})
    futs = [batcher.submit(b) for b in bodies]
    again = batcher.submit(bodies[0])  # the same student at once: too soon
    forged = batcher.submit({**bodies[1], "key": store.student_key(code, "s2")})
    wait(futs + [again, forged, off], timeout=60)
    ids = [f.result().id for f in futs]
    assert len(set(ids)) == 299
    assert isinstance(again.exception(), RateLimited)
    assert isinstance(forged.exception(), NotThisStudent)
    assert isinstance(off.exception(), BadClick)
    clicks = store.clicks(code, limit=5000)
    assert sorted((c.student, c.index, c.name) for c in clicks) == \
        sorted((f"s{k}", k % 360, f"N{k}") for k in range(299))
    assert store.counts(code)["clicks"] == 299
