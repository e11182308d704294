"""300 hostile sessions and one honest student against one class store (issue 14).

Prints one JSON object; asserts nothing (``tests/test_classroom.py`` runs a short version with
an assertion). Every session is a thread calling :class:`services.classroom.ClassStore` exactly
as the Classroom page does for a browser session (``join`` with the source address, then
``add_click(..., auto_join=False)``), on one SQLite file shared with the lecturer, who
refreshes the class's clicks every 2 s. The hostile sessions all come from one address (one
client opening websocket sessions from devtools): each tries to join, then clicks a random
spot, on or off the map, as fast as the store lets it (``--pause`` between calls). The honest
student joined before the flood from another address and clicks every ``--interval`` s.

This measures the server-side cost the flood can impose on the store (the join bucket, the
per-student click limits, the write lock), not Streamlit's websocket handling: the latency is
that of ``add_click``, the call a student's click makes.

Usage::

    python bench/hostile_class.py [--hostile 300] [--duration 60] [--interval 0.5]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.classroom import ClassStore  # noqa: E402
from services.errors import ClassroomError, RateLimited  # noqa: E402

EXTENT = [-4.0, 4.0, -4.0, 4.0]


def run(db: Path, hostile: int = 300, duration: float = 60.0, interval: float = 1.0,
        pause: float = 0.05) -> dict:
    """Run the scenario on the database ``db``; returns the measurements."""
    store = ClassStore(db)
    code, token = store.open_class({"extent": EXTENT, "n_points": 360})
    store.join(code, "honest", "Ada", address="10.0.0.7")
    t_end = time.perf_counter() + duration
    stats = {"joined": 0, "join_refused": 0, "hostile_clicks": 0, "hostile_refused": 0}
    honest_s, honest_errors, lecturer_s = [], [], []
    lock = threading.Lock()

    def sybil(k: int) -> None:
        rng, me, inside = random.Random(k), f"sybil{k:03d}", False
        while time.perf_counter() < t_end:
            try:
                if not inside:
                    store.join(code, me, f"![](http://e.co/{k})", address="6.6.6.6")
                    inside = True
                    with lock:
                        stats["joined"] += 1
                else:
                    far = rng.random() < 0.5  # half of them forged: far off the map
                    x = 1e6 if far else rng.uniform(-4, 4)
                    store.add_click(code, me, {"kind": "grid", "x": x, "y": -x},
                                    auto_join=False)
                    with lock:
                        stats["hostile_clicks"] += 1
            except ClassroomError:
                with lock:
                    stats["join_refused" if not inside else "hostile_refused"] += 1
            time.sleep(pause)

    def honest() -> None:
        rng = random.Random(-1)
        while time.perf_counter() < t_end:
            t = time.perf_counter()
            try:
                store.add_click(code, "honest", {"kind": "point", "index": rng.randrange(360)},
                                name="Ada", auto_join=False)
                honest_s.append(time.perf_counter() - t)
            except RateLimited as exc:
                honest_errors.append(f"rate limited: {exc}")
            except ClassroomError as exc:
                honest_errors.append(f"{type(exc).__name__}: {exc}")
            # a person clicks again a moment after seeing the result, never at once
            time.sleep(max(0.3, interval - (time.perf_counter() - t)))

    def lecturer() -> None:
        last = 0
        while time.perf_counter() < t_end:
            t = time.perf_counter()
            new = store.clicks(code, after_id=last, limit=5000)
            last = new[-1].id if new else last
            store.counts(code)
            lecturer_s.append(time.perf_counter() - t)
            time.sleep(2.0)

    threads = [threading.Thread(target=sybil, args=(k,)) for k in range(hostile)]
    threads += [threading.Thread(target=honest), threading.Thread(target=lecturer)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    ms = np.array(honest_s) * 1e3
    honest_stored, last = 0, 0
    while page := store.clicks(code, after_id=last, limit=5000):
        honest_stored += sum(c.student == "honest" for c in page)
        last = page[-1].id
    counts = store.counts(code)
    return {
        "hostile_sessions": hostile, "hostile_pause_s": pause, "duration_s": round(wall, 1),
        "hostile": {**stats, "students_in_class_at_end": counts["students"],
                    "clicks_in_class_at_end": counts["clicks"]},
        "honest": {"sent": len(honest_s), "stored": honest_stored, "errors": len(honest_errors),
                   "error_examples": honest_errors[:3],
                   "click_ms": {"p50": round(float(np.percentile(ms, 50)), 1),
                                "p95": round(float(np.percentile(ms, 95)), 1),
                                "max": round(float(ms.max()), 1)} if len(ms) else None},
        "lecturer_refresh_ms_p95": round(float(np.percentile(lecturer_s, 95)) * 1e3, 1)
        if lecturer_s else None,
    }


def main() -> None:
    """Parse arguments, run in a temporary folder, print the JSON."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--hostile", type=int, default=300)
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--interval", type=float, default=1.0, help="honest student's click period")
    p.add_argument("--pause", type=float, default=0.05, help="each hostile session's pause")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(Path(tmp) / "classroom.sqlite3", a.hostile, a.duration,
                             a.interval, a.pause), indent=1))


if __name__ == "__main__":
    main()
