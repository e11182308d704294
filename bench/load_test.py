"""A classroom under load: many sessions click the latent map of one server while one trains.

Prints one JSON object; asserts nothing (not part of the test suite). Targets (issue 6):
0 errors, p95 click latency under 500 ms, server memory growth under 150 MB.

Each session is a :class:`stclient.Session`, a small client speaking Streamlit 1.67's websocket
protocol on loopback (a headless browser per student would not fit 40 times in 2 cores).
A session opens the latent map page, then clicks every ``--interval`` seconds (random phase)
for ``--duration`` seconds: a random data point (70 %) or a random empty grid node (30 %).
A click's latency is the time from sending the click to Streamlit's ``script_finished`` for the
map fragment; a click is an error unless that run finished successfully, drew no exception,
and drew the expected image (the reconstruction, or ``decoder(z)`` for empty space).
Meanwhile one more session opens the Train page and presses Start (``--train-epochs`` epochs of
the default digits VAE; restarted whenever it finishes) and answers the live view's
``run_every`` timer like a browser does. Server memory is the streamlit process's RSS, sampled
every second (the training worker process is not counted; it is separate and short-lived).

Usage::

    python bench/load_test.py [--sessions 40] [--interval 3] [--duration 300]
                              [--train-epochs 300 | --no-train]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import stclient  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402


async def student(k: int, port: int, args, t_end: float, out: dict) -> None:
    """One student: open the map, then click every ``interval`` s until ``t_end``."""
    rng = random.Random(k)
    await asyncio.sleep(rng.uniform(0, args.ramp))  # students arrive over the first seconds
    s = stclient.Session(port)
    try:
        await s.connect()
        run = await s.open_page("Latent_map")
        out["page_load_s"].append(run.seconds)
        if not run.ok or s.chart is None:
            out["errors"].append(f"session {k}: the map page did not load ({run.exceptions})")
            return
        out["points"] = s.chart.n_points
        next_click = time.perf_counter() + rng.uniform(0, args.interval)
        while True:
            await asyncio.sleep(max(0.0, next_click - time.perf_counter()))
            if time.perf_counter() >= t_end:
                break
            run, ok = await s.click_map(rng)
            out["click_s"].append(run.seconds)
            if not ok:
                out["errors"].append(f"session {k}: click failed: status {run.status}, "
                                     f"exceptions {run.exceptions[:1]}, captions {run.captions}")
            next_click += args.interval
            if next_click < time.perf_counter():  # a slow click: keep the rhythm, skip no time
                next_click = time.perf_counter()
    except Exception as exc:  # a dropped connection or a protocol error is an error too
        out["errors"].append(f"session {k}: {type(exc).__name__}: {exc}")
    finally:
        await s.close()


async def trainer(port: int, args, t_end: float, out: dict) -> None:
    """One lecturer: start training on the Train page, follow it live, restart when done."""
    s = stclient.Session(port)
    try:
        await s.connect()
        run = await s.open_page("Train")
        if not run.ok:
            out["errors"].append(f"trainer: the Train page did not load ({run.exceptions})")
            return
        epochs, start = s.widget_id("Epochs"), s.widget_id("Start training")
        while time.perf_counter() < t_end:
            ws = [WidgetState(id=epochs), WidgetState(id=start, trigger_value=True)]
            ws[0].double_array_value.data.append(args.train_epochs)
            run = await s.rerun_with(ws)
            if not run.ok or s.auto_rerun is None:
                out["errors"].append(f"trainer: training did not start: {run.texts()[-300:]}")
                return
            out["train_started"] += 1
            while time.perf_counter() < t_end:
                await asyncio.sleep(s.auto_rerun[1])
                run = await s.auto_rerun_once()
                if run is None:
                    break
                out["train_poll_s"].append(run.seconds)
                if not run.ok:
                    out["errors"].append(f"trainer: live view failed: {run.exceptions[:1]}")
                if "Training finished" in run.texts():
                    out["train_finished"] += 1
                    break
        # leave no worker behind: press Stop if it still trains
        if s.auto_rerun is not None:
            try:
                stop = next(w for w, p in s.widgets.items() if getattr(p, "label", "") == "Stop")
                await s.rerun_with([WidgetState(id=stop, trigger_value=True)])
            except StopIteration:
                pass
    except Exception as exc:
        out["errors"].append(f"trainer: {type(exc).__name__}: {exc}")
    finally:
        await s.close()


async def sample_rss(server: stclient.Server, t_end: float, out: dict) -> None:
    """Server RSS every second."""
    while time.perf_counter() < t_end:
        out["rss_mb"].append(server.rss_mb)
        await asyncio.sleep(1.0)


async def main_async(args, server: stclient.Server) -> dict:
    out = {"page_load_s": [], "click_s": [], "errors": [], "train_poll_s": [],
           "train_started": 0, "train_finished": 0, "rss_mb": [], "points": None}
    rss_idle = server.rss_mb
    # one warm-up visit loads the shared caches (model, map, data), as the lecturer's own tab
    warm = stclient.Session(server.port)
    await warm.connect()
    await warm.open_page("Latent_map")
    await warm.click_map(random.Random(-1))
    await warm.close()
    await asyncio.sleep(2)
    rss_warm = server.rss_mb
    t0 = time.perf_counter()
    t_end = t0 + args.ramp + args.duration
    tasks = [student(k, server.port, args, t_end, out) for k in range(args.sessions)]
    if args.train_epochs:
        tasks.append(trainer(server.port, args, t_end, out))
    tasks.append(sample_rss(server, t_end + 5, out))
    load0 = os.getloadavg()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    await asyncio.sleep(5)  # sessions closed: what stays
    rss_end = server.rss_mb
    clicks = np.array(out["click_s"]) * 1e3
    pct = (lambda q: round(float(np.percentile(clicks, q)), 1)) if len(clicks) else (
        lambda q: None)
    return {
        "sessions": args.sessions, "interval_s": args.interval, "duration_s": args.duration,
        "map_points": out["points"], "clicks": len(clicks), "errors": len(out["errors"]),
        "error_examples": out["errors"][:5],
        "click_ms": {"p50": pct(50), "p95": pct(95), "p99": pct(99),
                     "max": round(float(clicks.max()), 1) if len(clicks) else None},
        "clicks_per_s": round(len(clicks) / wall, 2),
        "page_load_s": {"p50": round(float(np.median(out["page_load_s"])), 2),
                        "max": round(float(max(out["page_load_s"])), 2)}
        if out["page_load_s"] else None,
        "training": {"epochs_per_run": args.train_epochs, "runs_started": out["train_started"],
                     "runs_finished": out["train_finished"],
                     "live_view_ms_p50": round(float(np.median(out["train_poll_s"])) * 1e3, 1)
                     if out["train_poll_s"] else None} if args.train_epochs else None,
        "server_rss_mb": {"idle": round(rss_idle, 1), "after_first_session": round(rss_warm, 1),
                          "max_during": round(max(out["rss_mb"]), 1),
                          "after_sessions_closed": round(rss_end, 1),
                          "growth_under_load": round(max(out["rss_mb"]) - rss_warm, 1),
                          "growth_kept": round(rss_end - rss_warm, 1)},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_avg_before": [round(x, 2) for x in load0],
                    "load_avg_after": [round(x, 2) for x in os.getloadavg()]},
    }


def main() -> None:
    """Parse arguments, start a server with its own user/cache folders, print the JSON."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sessions", type=int, default=40)
    p.add_argument("--interval", type=float, default=3.0, help="seconds between clicks")
    p.add_argument("--duration", type=float, default=300.0, help="seconds of clicking")
    p.add_argument("--ramp", type=float, default=15.0,
                   help="sessions open their page at random times in the first RAMP seconds")
    p.add_argument("--train-epochs", type=int, default=300,
                   help="epochs of the live training run (0 or --no-train: none)")
    p.add_argument("--no-train", dest="train_epochs", action="store_const", const=0)
    args = p.parse_args()
    stclient.check_version()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"LATENTLAB_USER_DIR": f"{tmp}/user", "LATENTLAB_CACHE_DIR": f"{tmp}/cache"}
        with stclient.Server(ROOT, env, log=f"{tmp}/server.log") as server:
            result = asyncio.run(main_async(args, server))
            log = Path(f"{tmp}/server.log").read_text()
        result["server_log_tracebacks"] = log.count("Traceback")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
