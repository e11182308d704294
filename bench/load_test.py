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

``--classroom`` runs the same load as a class (issue 7): a lecturer session starts a class on
the Classroom page and answers its map's 2 s refresh; the students open ``Classroom?join=CODE``,
pin the class's map and fetch the class's state file every 3 s (±25 %) as the page's
watcher does (``ui/classwatch.py``; a fragment run only when the state changed). A class pin
is what the page's JavaScript sends: one POST to the class API (``services/classapi.py``, no
script run); its latency is the time from sending it to the reply, and it is an error unless
the reply says it was stored. It also reports how long a click takes to appear on the
lecturer's map (the refresh that first shows it).

Usage::

    python bench/load_test.py [--sessions 40] [--interval 3] [--duration 300]
                              [--train-epochs 300 | --no-train] [--classroom]
                              [--replicas 2 --database-url postgresql://…]
    python bench/load_test.py --questions --sessions 300 --ramp 100 [--clickers 30]
                              [--map-users 5]    (bench/quiz_mode.py)

``--replicas N`` (issue 18) starts deploy/stack.py's N replicas behind nginx on the given
PostgreSQL database and sends every session through the balancer; memory and CPU are then the
replicas' sums.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))  # stclient reads the map's blobs with ui.blob

import stclient  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402


async def student(k: int, port: int, args, t_end: float, out: dict) -> None:
    """One student: open the map, then click every ``interval`` s until ``t_end``. In
    ``--classroom`` mode the map is the class's (Classroom page, ``?join=CODE``) and the
    student also answers the page's ``run_every`` check like a browser."""
    rng = random.Random(k)
    await asyncio.sleep(rng.uniform(0, args.ramp))  # students arrive over the first seconds
    s = stclient.Session(port)
    try:
        await s.connect()
        if args.classroom:
            run = await s.open_page("Classroom", query=f"join={out['class_code']}")
        else:
            run = await s.open_page("Latent_map")
        out["page_load_s"].append(run.seconds)
        out["loaded_at"].append(time.perf_counter())
        if not run.ok or s.chart is None:
            out["errors"].append(f"session {k}: the map page did not load ({run.exceptions})")
            return
        out["points"] = s.chart.n_points
        next_click = time.perf_counter() + rng.uniform(0, args.interval)
        watcher = s.watcher  # the classroom page's check for the lecturer's changes
        next_follow = time.perf_counter() + watcher.period_s * rng.random() if watcher \
            else float("inf")
        while True:
            await asyncio.sleep(max(0.0, min(next_click, next_follow) - time.perf_counter()))
            if time.perf_counter() >= t_end:
                break
            if next_follow < next_click:
                fetch_s, run = await s.poll_watcher()
                out["watch_fetch_s"].append(fetch_s)
                if run is not None and not run.ok:
                    out["errors"].append(f"session {k}: follow run failed: {run.exceptions[:1]}")
                next_follow += watcher.period_s * rng.uniform(0.75, 1.25)
                continue
            secs, started, ok, why = await s.pin(rng)  # a class map: one POST
            if ok:
                out["sent_at"].append(time.perf_counter())
            out["click_s"].append(secs)
            out["click_at"].append(time.perf_counter())
            out["click_start_s"].append(started)
            if not ok:
                out["errors"].append(f"session {k}: click failed: {why}")
            next_click += args.interval
            if next_click < time.perf_counter():  # a slow click: keep the rhythm, skip no time,
                # but leave the store's pacing (0.25 s) after the answer, as a person's next
                # tap does; sent at once, the catch-up pins were refused as "too soon"
                next_click = time.perf_counter() + 0.3
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


async def lecturer(port: int, t_end: float, out: dict) -> None:
    """The lecturer of ``--classroom`` mode: the class's map refreshes every 2 s (the page's
    ``run_every``); each refresh records the class's click count it shows."""
    s = out["lecturer"]
    try:
        while time.perf_counter() < t_end + 3:
            await asyncio.sleep(s.auto_rerun[1])
            run = await s.auto_rerun_once()
            if run is None:
                out["errors"].append("lecturer: the class map stopped refreshing")
                return
            out["lecturer_refresh_s"].append(run.seconds)
            m = re.search(r"\*\*(\d+)\*\* click", run.texts())
            if not run.ok or not m:
                out["errors"].append(f"lecturer: refresh failed: {run.exceptions[:1]}")
                continue
            out["lecturer_counts"].append((time.perf_counter(), int(m.group(1))))
    except Exception as exc:
        out["errors"].append(f"lecturer: {type(exc).__name__}: {exc}")
    finally:
        await s.close()


async def open_class(port: int, out: dict) -> None:
    """The lecturer opens the Classroom page and starts a class; keeps the session."""
    s = stclient.Session(port)
    await s.connect()
    await s.open_page("Classroom")
    start = next(w for w, p in s.widgets.items()
                 if getattr(p, "label", "").startswith("Start a class"))
    run = await s.rerun_with([WidgetState(id=start, trigger_value=True)])
    m = re.search(r"class-code[^>]*>([A-Z0-9]{5})<", run.texts())
    if not run.ok or not m or s.auto_rerun is None:
        raise RuntimeError(f"the class did not start: {run.texts()[-300:]}")
    out["class_code"], out["lecturer"] = m.group(1), s


def _seen_ms(sent_at: list[float], counts: list[tuple[float, int]]) -> dict | None:
    """Click -> on the lecturer's map: for the k-th click sent (in time order), the first
    lecturer refresh that shows k or more clicks."""
    if not sent_at or not counts:
        return None
    lat = []
    for k, t in enumerate(sorted(sent_at), 1):
        shown = next((tc for tc, n in counts if n >= k and tc >= t), None)
        if shown is not None:
            lat.append(shown - t)
    return {**_ms(lat), "clicks_seen": len(lat), "clicks_sent": len(sent_at)}


def _ms(seconds: list) -> dict | None:
    """p50/p95 in ms."""
    if not seconds:
        return None
    a = np.asarray(seconds) * 1e3
    return {"p50": round(float(np.median(a)), 1), "p95": round(float(np.percentile(a, 95)), 1)}


def _busy_cpu_s() -> float:
    """CPU seconds all processes on this machine have used since boot (``/proc/stat``)."""
    f = open("/proc/stat").readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, f[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process, its reaped children and its live children (the training
    workers are children of the server)."""
    tck = os.sysconf("SC_CLK_TCK")

    def own(p, reaped=True):
        f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12]) + (int(f[13]) + int(f[14]) if reaped else 0)) / tck

    total = own(pid)
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            kids = open(f"/proc/{pid}/task/{task}/children").read().split()
        except OSError:
            continue
        for kid in kids:
            try:
                total += own(int(kid))
            except OSError:
                pass
    return total


def _server_cpu_s(server) -> float:
    """CPU seconds of the server's process tree (all replicas' behind a balancer)."""
    return sum(_tree_cpu_s(pid) for pid in getattr(server, "pids", None) or [server.proc.pid])


class Balanced:
    """deploy/stack.py's replicas behind nginx, seen by this test as one server: ``port`` is
    nginx's (each session's websocket lands on a replica by nginx's hash), memory and CPU are
    the replicas' sums (nginx's own few MB are not counted)."""

    def __init__(self, stack):
        self.stack, self.port = stack, stack.port
        self.replica_ports = stack.replica_ports  # the warm-up visits each one directly

    @property
    def pids(self) -> list[int]:
        """The live replicas' process ids."""
        return [p.pid for p in self.stack.replicas if p is not None]

    @property
    def rss_mb(self) -> float:
        """The replicas' resident memory together, MiB."""
        return sum(stclient.rss_mb(pid) for pid in self.pids)


async def sample_rss(server: stclient.Server, t0: float, t_end: float, out: dict) -> None:
    """Server RSS every second; per minute, the cores used by other processes."""
    minute, busy0, ours0 = -1, 0.0, 0.0
    while time.perf_counter() < t_end:
        out["rss_mb"].append(server.rss_mb)
        m = int((time.perf_counter() - t0) // 60)
        if m != minute:
            busy, ours = _busy_cpu_s(), _server_cpu_s(server) + time.process_time()
            if minute >= 0:
                out["other_cores_per_minute"][minute] = round((busy - busy0 - ours + ours0) / 60, 2)
            minute, busy0, ours0 = m, busy, ours
        await asyncio.sleep(1.0)


async def main_async(args, server: stclient.Server) -> dict:
    out = {"page_load_s": [], "click_s": [], "errors": [], "train_poll_s": [],
           "click_at": [], "loaded_at": [], "other_cores_per_minute": {},
           "click_start_s": [], "sent_at": [], "lecturer_refresh_s": [],
           "lecturer_counts": [], "watch_fetch_s": [],
           "train_started": 0, "train_finished": 0, "rss_mb": [], "points": None}
    rss_idle = server.rss_mb
    # one warm-up visit loads the shared caches (model, map, data), as the lecturer's own tab
    for port in getattr(server, "replica_ports", [server.port]):  # each replica once
        warm = stclient.Session(port)
        await warm.connect()
        await warm.open_page("Latent_map")
        await warm.click_map(random.Random(-1))
        await warm.close()
    await asyncio.sleep(2)
    rss_warm = server.rss_mb
    if args.classroom:
        await open_class(server.port, out)
    t0 = time.perf_counter()
    t_end = t0 + args.ramp + args.duration
    tasks = [student(k, server.port, args, t_end, out) for k in range(args.sessions)]
    if args.classroom:
        tasks.append(lecturer(server.port, t_end, out))
    if args.train_epochs:
        tasks.append(trainer(server.port, args, t_end, out))
    tasks.append(sample_rss(server, t0, t_end + 5, out))
    load0 = os.getloadavg()
    busy0, server0, client0 = _busy_cpu_s(), _server_cpu_s(server), time.process_time()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    busy = _busy_cpu_s() - busy0
    server_cpu = _server_cpu_s(server) - server0
    client_cpu = time.process_time() - client0
    await asyncio.sleep(5)  # sessions closed: what stays
    rss_end = server.rss_mb
    clicks = np.array(out["click_s"]) * 1e3
    pct = (lambda q: round(float(np.percentile(clicks, q)), 1)) if len(clicks) else (
        lambda q: None)
    # once every session has loaded its page: the steady state of a class at work
    all_in = max(out["loaded_at"]) if out["loaded_at"] else t0
    steady = clicks[np.array(out["click_at"]) - clicks / 1e3 > all_in] if len(clicks) else clicks
    minutes = {}
    for t, c in zip(out["click_at"], clicks):
        minutes.setdefault(int((t - t0) // 60), []).append(c)
    return {
        "sessions": args.sessions, "interval_s": args.interval, "duration_s": args.duration,
        "map_points": out["points"], "clicks": len(clicks), "errors": len(out["errors"]),
        "error_examples": out["errors"][:5],
        "click_ms": {"p50": pct(50), "p95": pct(95), "p99": pct(99),
                     "max": round(float(clicks.max()), 1) if len(clicks) else None},
        "click_ms_after_all_pages_loaded": {
            "after_s": round(all_in - t0, 1), "clicks": int(len(steady)),
            "p50": round(float(np.median(steady)), 1) if len(steady) else None,
            "p95": round(float(np.percentile(steady, 95)), 1) if len(steady) else None},
        "click_ms_p50_p95_per_minute": {
            m: [round(float(np.median(v)), 1), round(float(np.percentile(v, 95)), 1)]
            for m, v in sorted(minutes.items())},
        "other_processes_cores_per_minute": out["other_cores_per_minute"],
        # click -> the server starts the fragment run (queueing before the script runs)
        "click_to_run_start_ms": _ms(out["click_start_s"]),
        "class_state_fetch_ms": _ms(out["watch_fetch_s"]),
        "clicks_per_s": round(len(clicks) / wall, 2),
        # a resent pin whose first copy was stored is refused by the store's pacing (an error)
        "pins_resent_after_a_broken_connection": stclient.HttpConnection.post_resends,
        "page_load_s": {"p50": round(float(np.median(out["page_load_s"])), 2),
                        "max": round(float(max(out["page_load_s"])), 2)}
        if out["page_load_s"] else None,
        "classroom": {
            "class_code": out.get("class_code"),
            "click_to_lecturers_map_ms": _seen_ms(out["sent_at"], out["lecturer_counts"]),
            "lecturer_refresh_ms": _ms(out["lecturer_refresh_s"]),
            "clicks_on_lecturers_map_at_end": out["lecturer_counts"][-1][1]
            if out["lecturer_counts"] else None} if args.classroom else None,
        "training": {"epochs_per_run": args.train_epochs, "runs_started": out["train_started"],
                     "runs_finished": out["train_finished"],
                     "live_view_ms_p50": round(float(np.median(out["train_poll_s"])) * 1e3, 1)
                     if out["train_poll_s"] else None} if args.train_epochs else None,
        "server_rss_mb": {"idle": round(rss_idle, 1), "after_first_session": round(rss_warm, 1),
                          "max_during": round(max(out["rss_mb"]), 1),
                          "after_sessions_closed": round(rss_end, 1),
                          "growth_under_load": round(max(out["rss_mb"]) - rss_warm, 1),
                          "growth_kept": round(rss_end - rss_warm, 1)},
        # where the machine's CPU went during the test, in cores (2 = all of it): the
        # server with its training worker, these 41 clients, and everything else running here
        "cpu_cores_used": {"server_and_training_worker": round(server_cpu / wall, 2),
                           "load_test_clients": round(client_cpu / wall, 2),
                           "other_processes": round((busy - server_cpu - client_cpu) / wall, 2),
                           "idle": round((os.cpu_count() * wall - busy) / wall, 2)},
        "nice": args.nice,
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
    p.add_argument("--classroom", action="store_true",
                   help="students join a class on the Classroom page (a lecturer session "
                        "starts it and watches the class map refresh every 2 s)")
    p.add_argument("--replicas", type=int, default=0,
                   help="run N replicas behind nginx on PostgreSQL (deploy/stack.py) and "
                        "send every session through the balancer (issue 18)")
    p.add_argument("--database-url", default=os.environ.get("LATENTLAB_DATABASE_URL"),
                   help="postgresql://… for --replicas (default: $LATENTLAB_DATABASE_URL)")
    p.add_argument("--questions", action="store_true",
                   help="question mode (bench/quiz_mode.py): every session joins a class and "
                        "answers one question within 10 s while CLICKERS of them and MAP_USERS "
                        "more sessions use the map")
    p.add_argument("--clickers", type=int, default=30)
    p.add_argument("--map-users", type=int, default=5)
    p.add_argument("--nice", type=int, default=0,
                   help="run the server, its training workers and the clients at this nice "
                        "value (negative: ahead of other work on a shared machine; needs root)")
    p.add_argument("--app-dir", default=str(ROOT),
                   help="checkout to serve (e.g. a clean clone, so edits made meanwhile in "
                        "this tree cannot reload modules under the running server)")
    args = p.parse_args()
    stclient.check_version()
    if args.nice:
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)  # the server inherits it
    if args.replicas:
        if not args.database_url:
            p.error("--replicas needs --database-url postgresql://… (a scratch database)")
        import importlib.util
        spec = importlib.util.spec_from_file_location("stack", ROOT / "deploy" / "stack.py")
        stack_mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(stack_mod)
        with tempfile.TemporaryDirectory() as tmp:
            with stack_mod.Stack(args.database_url, args.replicas, run_dir=Path(tmp)) as stack:
                if args.questions:
                    import quiz_mode

                    result = asyncio.run(quiz_mode.run(args, Balanced(stack), args.database_url))
                else:
                    result = asyncio.run(main_async(args, Balanced(stack)))
            logs = [Path(tmp, f"replica-{i}", "server.log").read_text()
                    for i in range(args.replicas)]
        result["replicas"] = args.replicas
        result["server_log_tracebacks"] = sum(log.count("Traceback") for log in logs)
        first = next((log for log in logs if "Traceback" in log), "")
        result["first_traceback"] = first[first.find("Traceback"):][:1500] if first else None
        print(json.dumps(result, indent=1))
        return
    with tempfile.TemporaryDirectory() as tmp:
        env = {"LATENTLAB_USER_DIR": f"{tmp}/user", "LATENTLAB_CACHE_DIR": f"{tmp}/cache",
               "LATENTLAB_STATE_DIR": f"{tmp}/state"}
        with stclient.Server(args.app_dir, env, log=f"{tmp}/server.log") as server:
            if args.questions:
                import quiz_mode

                result = asyncio.run(quiz_mode.run(
                    args, server, Path(env["LATENTLAB_STATE_DIR"]) / "classroom.sqlite3"))
            else:
                result = asyncio.run(main_async(args, server))
            log = Path(f"{tmp}/server.log").read_text()
        result["server_log_tracebacks"] = log.count("Traceback")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
