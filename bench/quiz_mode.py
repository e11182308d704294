"""``load_test.py --questions``: a whole class answers one question while the map is in use.

A lecturer session opens a class; ``--sessions`` students open ``Classroom?join=CODE`` over the
first ``--ramp`` seconds (joins from one address are paced by the class store's bucket: 30 at
once, then 3 a second). ``--clickers`` of them keep clicking the class's map every
``--interval`` s for the whole run. Every student's page fetches the class's state file every
3 s (±25 %) for the whole visit, as its watcher's JavaScript does (``ui/classwatch.py``), and
a changed state reruns the question's fragment. Once every student is in, the lecturer sends a
predict-the-picture question (through the class store, as the Send button does); each student
sees it at its next fetch (the "shown" time), waits a random 0.5-6 s, then picks an option and
presses "Send my answer": as the answer box's JavaScript does (``ui/web/answerbox.js``), one
POST to the class API (``services/classapi.py``, no script run); the time to its reply is the
answer's latency. It stays until the 10-s window ends. An answer is an error unless the reply
says it was stored with the chosen option. At the end the store's tally must hold every
student's answer once, with the options they chose, and the lecturer's page must say "N of N
answered".
"""
from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import stclient  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

QUESTION = "hole-picture"  # 4 pictures, options A-D
WINDOW_S = 10.0


def _answer_box(run: stclient.Run) -> dict | None:
    """The data of the answer box (``ui/answerbox.py``) a run drew, if it drew one."""
    for m in run.elements("bidi_component"):
        data = json.loads(m.delta.new_element.bidi_component.json)
        if isinstance(data, dict) and "options" in data and "url" in data:
            return data
    return None


def _code_texts(run: stclient.Run) -> str:
    return "\n".join(m.delta.new_element.code.code_text for m in run.elements("code"))


async def open_class(port: int, out: dict) -> None:
    """The lecturer starts a class; keeps the session, the code and the token (from the
    private "reopen" link the page shows the lecturer)."""
    s = stclient.Session(port)
    await s.connect()
    await s.open_page("Classroom")
    start = next(w for w, p in s.widgets.items()
                 if getattr(p, "label", "").startswith("Start a class"))
    run = await s.rerun_with([WidgetState(id=start, trigger_value=True)])
    m = re.search(r"teach=([A-Z0-9]{5})\.([A-Za-z0-9_-]+)", _code_texts(run))
    if not run.ok or not m:
        raise RuntimeError(f"the class did not start: {run.texts()[-300:]}")
    out["class_code"], out["token"], out["lecturer"] = m.group(1), m.group(2), s


async def watch(k: int, s: stclient.Session, rng: random.Random, out: dict,
                shown: asyncio.Future) -> None:
    """The page's class watcher, as its JavaScript does for the whole visit: fetch the state
    file every 3 s (±25 %, random phase); on a change the trigger reruns the question's
    fragment, and the first run that shows the question resolves ``shown``."""
    await asyncio.sleep(s.watcher.period_s * rng.random())
    while True:
        try:
            fetch_s, run = await s.poll_watcher()
        except Exception as exc:  # a refused fetch is an error, and the watcher keeps going
            out["errors"].append(f"student {k}: state fetch failed: {exc}")
            run, fetch_s = None, 0.0
        out["fetch_s"].append(fetch_s)
        if run is not None:
            out["poll_s"].append(run.seconds)
            if not run.ok:
                out["errors"].append(f"student {k}: watcher run failed {run.exceptions[:1]}")
            elif not shown.done() and _answer_box(run) is not None:
                shown.set_result(run)
        await asyncio.sleep(s.watcher.period_s * rng.uniform(0.75, 1.25))


async def student(k: int, port: int, args, out: dict, asked: asyncio.Event) -> None:
    """One student: join, click the map if a clicker, answer the question in the window."""
    rng = random.Random(k)
    await asyncio.sleep(rng.uniform(0, args.ramp))
    s = stclient.Session(port)
    watcher = None
    try:
        await s.connect()
        run = await s.open_page("Classroom", query=f"join={out['class_code']}")
        out["page_load_s"].append(run.seconds)
        if not run.ok or s.chart is None:
            out["errors"].append(f"student {k}: the class page did not load {run.exceptions}")
            return
        out["joined"] += 1
        if s.watcher is None:
            out["errors"].append(f"student {k}: no class watcher on the page")
            return
        shown = asyncio.get_running_loop().create_future()
        watcher = asyncio.create_task(watch(k, s, rng, out, shown))
        clicker = k < args.clickers
        if clicker:
            out["clickers_running"] += 1
            next_click = time.perf_counter() + rng.uniform(0, args.interval)
            while not asked.is_set():
                await asyncio.sleep(max(0.0, next_click - time.perf_counter()))
                if asked.is_set():
                    break
                secs, _, ok, why = await s.pin(rng)  # the class API, as the page sends it
                out["click_s"].append(secs)
                if not ok:
                    out["errors"].append(f"student {k}: click failed {why}")
                next_click = max(next_click + args.interval, time.perf_counter())
        else:
            await asked.wait()
        t_q = out["asked_at"]
        try:
            run = await asyncio.wait_for(shown, WINDOW_S + 30)
        except TimeoutError:
            out["errors"].append(f"student {k}: the question was not shown within "
                                 f"{WINDOW_S + 30:.0f} s")
            return
        out["shown_at"].append(time.perf_counter() - t_q)
        box = _answer_box(run)
        await asyncio.sleep(rng.uniform(0.5, 6.0))  # thinking
        choice = k % 4
        secs, status, reply = await s.post_json(box["url"], {**box["body"], "choice": choice})
        out["answer_s"].append(secs)
        out["answered_at"].append(time.perf_counter() - t_q)
        if status == 200 and reply == {"ok": True, "choice": choice}:
            out["answers_ok"] += 1
        else:
            out["errors"].append(f"student {k}: answer refused: status {status}, {reply}")
        await asyncio.sleep(max(0.0, t_q + WINDOW_S - time.perf_counter()))
        if clicker:  # the map stays in use during the window too
            secs, _, ok, why = await s.pin(rng)
            out["click_s"].append(secs)
            if not ok:
                out["errors"].append(f"student {k}: click failed {why}")
    except Exception as exc:  # a dropped connection or a protocol error is an error too
        out["errors"].append(f"student {k}: {type(exc).__name__}: {exc}")
    finally:
        if watcher is not None:
            watcher.cancel()
        await s.close()


async def clicks_during_window(port: int, args, out: dict, asked: asyncio.Event) -> None:
    """Map clicks while the class answers: a few extra sessions on the Latent map page."""
    async def one(k):
        rng = random.Random(10_000 + k)
        s = stclient.Session(port)
        try:
            await s.connect()
            await s.open_page("Latent_map")
            await asked.wait()
            while time.perf_counter() < out["asked_at"] + WINDOW_S:
                run, ok = await s.click_map(rng)
                out["window_click_s"].append(run.seconds)
                if not ok:
                    out["errors"].append(f"map user {k}: click failed {run.exceptions[:1]}")
                await asyncio.sleep(rng.uniform(0.5, 1.5))
        finally:
            await s.close()
    await asyncio.gather(*(one(k) for k in range(args.map_users)))


def _ms(seconds: list) -> dict | None:
    if not seconds:
        return None
    a = np.asarray(seconds) * 1e3
    return {"n": len(a), "p50": round(float(np.median(a)), 1),
            "p95": round(float(np.percentile(a, 95)), 1), "max": round(float(a.max()), 1)}


async def run(args, server: stclient.Server, db) -> dict:
    """The question mode's whole run on ``server`` (one server, or load_test's ``Balanced``
    replicas), whose class database is ``db`` (a SQLite path or a ``postgresql://`` URL);
    returns its results (see the module docstring)."""
    from services.classquiz import QuizStore
    from services.classroom import ClassStore

    t_start = time.perf_counter()
    out = {"page_load_s": [], "click_s": [], "window_click_s": [], "poll_s": [], "answer_s": [],
           "answered_at": [], "shown_at": [], "fetch_s": [], "errors": [], "joined": 0,
           "answers_ok": 0,
           "clickers_running": 0}
    for port in getattr(server, "replica_ports", [server.port]):  # each replica once
        warm = stclient.Session(port)
        await warm.connect()
        await warm.open_page("Latent_map")
        await warm.close()
    await open_class(server.port, out)
    asked = asyncio.Event()
    tasks = [asyncio.create_task(student(k, server.port, args, out, asked))
             for k in range(args.sessions)]
    tasks.append(asyncio.create_task(clicks_during_window(server.port, args, out, asked)))
    deadline = time.perf_counter() + args.ramp + 240
    while out["joined"] + len([e for e in out["errors"] if "did not load" in e]) \
            < args.sessions and time.perf_counter() < deadline:
        await asyncio.sleep(1.0)
    load_done = time.perf_counter()
    quiz = QuizStore(ClassStore(db))
    r = quiz.ask(out["class_code"], out["token"], QUESTION, n_options=4, correct=2)
    out["asked_at"] = time.perf_counter()
    asked.set()
    await asyncio.gather(*tasks)
    tally = quiz.tally(out["class_code"], r.id)
    lect = out["lecturer"]
    page = await lect.open_page("Classroom")  # the lecturer's tab, reloaded: the live chart
    await lect.close()
    m = re.search(r"\*\*(\d+)\*\* of \*\*(\d+)\*\* answered", page.texts())
    expect = [sum(1 for k in range(out["joined"]) if k % 4 == c) for c in range(4)]
    return {
        "mode": "questions", "students": args.sessions, "joined": out["joined"],
        "clickers": args.clickers, "map_users_in_window": args.map_users,
        "join_phase_s": round(load_done - t_start, 1),
        "answers_sent": len(out["answer_s"]), "answers_ok": out["answers_ok"],
        "errors": len(out["errors"]), "error_examples": out["errors"][:5],
        "answer_ms": _ms(out["answer_s"]),
        "last_answer_after_question_s": round(max(out["answered_at"]), 2)
        if out["answered_at"] else None,
        "question_shown_after_s": _ms(out["shown_at"]) and {
            k: (v / 1e3 if k != "n" else v) for k, v in _ms(out["shown_at"]).items()},
        "watcher_runs_ms": _ms(out["poll_s"]),
        "state_file_fetch_ms": _ms(out["fetch_s"]),
        "map_click_ms_before_question": _ms(out["click_s"]),
        "map_click_ms_during_answers": _ms(out["window_click_s"]),
        "page_load_s": _ms(out["page_load_s"]),
        "tally": {"counts": tally.counts, "answered": tally.answered,
                  "students_in_class": tally.students, "expected_counts": expect,
                  "every_answer_counted_once": tally.counts == expect},
        "lecturer_page_says": m.group(0).replace("*", "") if m else None,
    }
