"""Run every benchmark and print ONE JSON object (the figures the README quotes).

Asserts nothing: speed is measured here, never in tests. Sections:

``training``
    Images per second of the MLP VAE 784-400-20 (batch 128, Adam) on the 10,000 images of the
    official MNIST test set, through ``aecore.train.fit`` and through the bare PyTorch loop of
    ``bench/train_throughput.py``, run alternately in this process; best of ``--repeats``.
``click``
    Server time from a click on the latent map to the finished panel. ``fragment_ms``: the
    on_select callback plus the map fragment's body, in-process, at 2,000 and 10,000 MNIST
    points (``bench/click_latency.py``'s method). ``server_ms``: a real ``streamlit run``
    server on loopback, time from the click message to ``script_finished`` (websocket,
    protobuf and Streamlit's own per-run work included; the browser's drawing excluded), with
    the server's CPU time per click (a figure that other load on the machine does not inflate).
``cold_start``
    A fresh Python process renders the latent map page once (AppTest) with the shipped models:
    wall time from process start (imports included) and of the first run alone, for the
    default digits VAE (2-D latent) and for a 16-D model's UMAP map (read from the shipped
    ``.npz``: no UMAP fit, which is checked).
``umap_fit``
    A quick model (MLP VAE, 16-D latent, 1 epoch on MNIST ``test[:8000]``) encodes all 10,000
    MNIST test images; time to fit its UMAP map and write it to the cache
    (``aecore.atlas.get_atlas``) in a fresh process (numba's compilation included, as a user
    meets it), then a second fit in the same process, then reading the cached map.
``session_memory``
    RSS growth of one streamlit server per extra session: N protocol clients (bench/stclient.py,
    what a browser tab costs the server) each open the map and click once.

Usage::

    python bench/run.py [--quick] [--root ../shared/data] [--only training click ...]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import stclient  # noqa: E402

SECTIONS = ["training", "click", "cold_start", "umap_fit", "session_memory"]


def _ms(a) -> dict:
    """p50/p95 of seconds, in ms."""
    a = np.asarray(a) * 1e3
    return {"p50": round(float(np.median(a)), 1), "p95": round(float(np.percentile(a, 95)), 1),
            "n": int(len(a))}


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _py(script: str, env: dict | None = None, timeout: float = 900) -> dict:
    """Run ``script`` in a fresh interpreter; it prints one JSON line last."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT,
                         env=dict(os.environ, **(env or {})), capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> dict:
    """What the numbers ran on."""
    import streamlit
    import torch

    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                if ln.startswith("model name")), platform.processor())
    return {"cpus": os.cpu_count(), "cpu": cpu, "gpu": torch.cuda.is_available(),
            "ram_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "python": platform.python_version(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "streamlit": streamlit.__version__,
            "load_avg_start": [round(x, 2) for x in os.getloadavg()]}


# --- training throughput ------------------------------------------------------------------

def training(root, epochs: int, repeats: int) -> dict:
    """fit vs the bare loop of bench/train_throughput.py, alternating, best of ``repeats``."""
    import train_throughput as tt

    from aecore.data import load_dataset

    x = load_dataset("mnist", "test", root).x
    x_eval = x[:tt.N_EVAL]
    tt.bare_loop(x[:2048], x_eval, 1, 0)  # warm-up
    tt.fit_loop(x[:2048], x_eval, 1, 0)
    best = {"fit": float("inf"), "bare": float("inf")}
    cpu = {"fit": float("inf"), "bare": float("inf")}
    for r in range(repeats):
        order = [("fit", tt.fit_loop), ("bare", tt.bare_loop)]
        for name, fn in order[::-1] if r % 2 else order:
            c0 = time.process_time()
            best[name] = min(best[name], fn(x, x_eval, epochs, r))
            cpu[name] = min(cpu[name], time.process_time() - c0)
    ips = {k: len(x) * epochs / v for k, v in best.items()}
    return {"model": "MLP VAE 784-400-20, batch 128, Adam", "images": len(x),
            "epochs_per_run": epochs, "runs_each": repeats,
            "fit_images_per_s": round(ips["fit"]), "bare_images_per_s": round(ips["bare"]),
            "fit_over_bare": round(ips["fit"] / ips["bare"], 3),
            # CPU seconds are less disturbed by other processes on a shared machine
            "fit_over_bare_by_cpu_time": round(cpu["bare"] / cpu["fit"], 3)}


# --- click latency --------------------------------------------------------------------------

def click_fragment(sizes, clicks: int) -> dict:
    """In-process fragment time per click (bench/click_latency.py's helpers), identity map."""
    import logging

    import click_latency as cl
    import streamlit as st
    import torch

    from aecore.data import load_dataset
    from ui import state

    logging.disable(logging.WARNING)
    torch.set_num_threads(2)
    mnist = load_dataset("mnist", "test")
    out = {}
    for n in sizes:
        md = cl.map_data("identity", n, mnist)
        rng = np.random.default_rng(0)
        st.session_state[state.MAP_PICK] = None
        cl._click(md, {"kind": "point", "index": 0})  # sends the blobs once
        times = []
        for k in range(clicks):
            if k % 2 == 0:
                i = int(rng.integers(n))
                times.append(cl._click(md, {"kind": "point", "index": i}))
            else:
                gx, gy = md.atlas.grid_xy[int(rng.integers(len(md.atlas.grid_xy)))]
                times.append(cl._click(md, {"kind": "grid", "x": float(gx), "y": float(gy)}))
        out[f"{n}_points"] = _ms(times)
    logging.disable(logging.NOTSET)
    return out


def _user_models(user: Path) -> None:
    """A copy of the shipped 2-D MNIST VAE whose map holds all 10,000 MNIST test images."""
    from aecore import checkpoints

    model, info = checkpoints.load(checkpoints.SHIPPED_DIR / "mnist_vae_z2.safetensors")
    meta = {k: v for k, v in info.meta.items()
            if k not in ("format", "format_version", "model_config")}
    checkpoints.save(model, user / "mnist_vae_z2_10k", meta={**meta, "test_split": "test"})


async def _select(s: stclient.Session, dataset: str, model_prefix: str) -> None:
    """Pick a dataset, then a model, in the shared sidebar (as a user does)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    await s.rerun_with([WidgetState(id=s.widget_id("Dataset"), string_value=dataset)])
    await s.open_page(s.page_name)  # re-read the widgets (the model list changed)
    box = s.widgets[s.widget_id("Model")]
    label = next(o for o in box.options if o.startswith(model_prefix + " "))
    await s.rerun_with([WidgetState(id=s.widget_id("Model"), string_value=label)])
    await s.open_page(s.page_name)


async def _server_clicks(server, clicks: int) -> dict:
    out = {}
    cases = [("360_points", None), ("2000_points", ("mnist", "mnist_vae_z2")),
             ("10000_points", ("mnist", "mnist_vae_z2_10k"))]
    rng = random.Random(0)
    for name, pick in cases:
        s = stclient.Session(server.port)
        await s.connect()
        await s.open_page("Latent_map")
        if pick:
            await _select(s, *pick)
        points = s.chart.n_points
        for _ in range(3):  # warm: the panel's caches
            await s.click_map(rng)
        c0, times, errors = _cpu_s(server.proc.pid), [], 0
        for _ in range(clicks):
            run, ok = await s.click_map(rng)
            times.append(run.seconds)
            errors += not ok
        out[name] = {**_ms(times), "points": points, "errors": errors,
                     "server_cpu_ms_per_click": round(
                         (_cpu_s(server.proc.pid) - c0) / clicks * 1e3, 1)}
        await s.close()
    return out


def click(sizes, clicks: int) -> dict:
    """Both click measurements (see the module docstring)."""
    out = {}
    try:
        out["fragment_ms"] = click_fragment(sizes, clicks)
    except (ImportError, AttributeError) as exc:  # bench/click_latency.py changed or missing
        out["fragment_ms"] = f"not measured: {type(exc).__name__}: {exc}"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "user").mkdir()
        _user_models(Path(tmp) / "user")
        env = {"LATENTLAB_USER_DIR": f"{tmp}/user", "LATENTLAB_CACHE_DIR": f"{tmp}/cache"}
        with stclient.Server(ROOT, env, log=f"{tmp}/server.log") as server:
            out["server_ms"] = asyncio.run(_server_clicks(server, clicks))
    return out


# --- cold start ---------------------------------------------------------------------------

_COLD = """
    import time
    t0 = time.perf_counter()
    import json, sys
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file("pages/1_Latent_map.py", default_timeout=600)
    for k, v in json.loads(sys.argv[1]).items():
        at.session_state[k] = v
    t1 = time.perf_counter()
    at.run()
    t2 = time.perf_counter()
    assert not at.exception, at.exception[0].value
    charts = [c for c in at.get("plotly_chart") if "empty space" in c.proto.spec]
    assert charts, "no map"
    print(json.dumps({"process_s": round(t2 - t0, 2), "first_run_s": round(t2 - t1, 2),
                      "umap_imported": "umap" in sys.modules,
                      "numba_compiled": any(m.startswith("numba.core.") for m in sys.modules)}))
"""


def cold_start() -> dict:
    """First render of the map page in a fresh process, two shipped models."""
    from aecore import checkpoints

    out = {}
    z16 = str(checkpoints.SHIPPED_DIR / "digits_vae_z16.safetensors")
    for name, state in (("digits_vae_z2_identity", {}),
                        ("digits_vae_z16_umap", {"side.model": z16,
                                                 "side.projection": "umap"})):
        with tempfile.TemporaryDirectory() as tmp:
            env = {"LATENTLAB_USER_DIR": f"{tmp}/user", "LATENTLAB_CACHE_DIR": f"{tmp}/cache"}
            script = _COLD.replace('json.loads(sys.argv[1])', repr(state))
            out[name] = _py(script, env)
            out[name]["map_cache_files_written"] = len(list(Path(tmp).rglob("*.npz")))
    return out


# --- UMAP fit of 10,000 codes ---------------------------------------------------------------

_UMAP = """
    import json, sys, time
    sys.path.insert(0, ".")
    import torch
    from aecore import atlas, checkpoints, latent
    from aecore.data import load_dataset
    from aecore.models import VAEConfig, build_model
    from aecore.train import Splits, TrainConfig, fit
    from services import paths
    from ui.cache import GRID_N
    root = ROOT_ARG
    torch.manual_seed(0)
    train, test = load_dataset("mnist", "test[:8000]", root), load_dataset("mnist", "test", root)
    model = build_model(VAEConfig(input_shape=(1, 28, 28), latent_dim=16, hidden=(256,)))
    t = time.perf_counter()
    fit(model, Splits(train, test), TrainConfig(epochs=1, batch_size=128, seed=0, device="cpu"))
    train_s = time.perf_counter() - t
    path = checkpoints.save(model, paths.user_dir() / "quick_vae_z16",
                            meta={"dataset": "mnist", "train_split": "test[:8000]",
                                  "test_split": "test"})
    info = checkpoints.read_info(path)
    model.eval()
    codes = lambda: (latent.encode(model, test.x), latent.encode(model, train.x))
    t = time.perf_counter()
    a, built = atlas.get_atlas(info, "umap", codes, cache_dir=paths.cache_dir(), grid_n=GRID_N)
    first = time.perf_counter() - t
    cached = atlas.atlas_path(info, "umap", paths.cache_dir())
    t = time.perf_counter()
    again = atlas.build_atlas(*codes(), "umap", info.id, grid_n=GRID_N)
    second = time.perf_counter() - t
    t = time.perf_counter()
    loaded = atlas.load_atlas(cached, info.id)
    read = time.perf_counter() - t
    assert built and loaded is not None and len(a.embedding) == len(test) == 10000
    print(json.dumps({"points": len(a.embedding), "quick_model_train_s": round(train_s, 1),
                      "fit_and_cache_first_in_process_s": round(first, 1),
                      "fit_again_same_process_s": round(second, 1),
                      "read_cached_s": round(read, 3),
                      "cache_file_kb": round(cached.stat().st_size / 1024)}))
"""


def umap_fit(root) -> dict:
    """UMAP map of 10,000 MNIST test codes of a quick model, in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"LATENTLAB_USER_DIR": f"{tmp}/user", "LATENTLAB_CACHE_DIR": f"{tmp}/cache"}
        return _py(_UMAP.replace("ROOT_ARG", repr(str(root) if root else None)), env)


# --- memory per session -------------------------------------------------------------------

async def _sessions(server, n: int) -> dict:
    rng = random.Random(0)
    warm = stclient.Session(server.port)
    await warm.connect()
    await warm.open_page("Latent_map")
    await warm.click_map(rng)
    await asyncio.sleep(2)
    before = server.rss_mb
    sessions = []
    for _ in range(n):
        s = stclient.Session(server.port)
        await s.connect()
        await s.open_page("Latent_map")
        await s.click_map(rng)
        sessions.append(s)
    await asyncio.sleep(2)
    after = server.rss_mb
    for s in sessions + [warm]:
        await s.close()
    await asyncio.sleep(3)
    closed = server.rss_mb
    return {"sessions": n, "server_rss_mb_one_session": round(before, 1),
            "server_rss_mb_all_open": round(after, 1),
            "mb_per_extra_session": round((after - before) / n, 2),
            "server_rss_mb_after_closing": round(closed, 1)}


def session_memory(n: int) -> dict:
    """RSS growth of a server per extra session (open the map, click once)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"LATENTLAB_USER_DIR": f"{tmp}/user", "LATENTLAB_CACHE_DIR": f"{tmp}/cache"}
        with stclient.Server(ROOT, env, log=f"{tmp}/server.log") as server:
            return asyncio.run(_sessions(server, n))


def main() -> None:
    """Parse arguments, run the chosen sections, print the JSON."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", default=None, help="folder holding MNIST/raw (default: search)")
    p.add_argument("--quick", action="store_true", help="fewer repeats and clicks")
    p.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS)
    a = p.parse_args()
    stclient.check_version()
    result = {"machine": machine()}
    runs = {
        "training": lambda: training(a.root, 1 if a.quick else 3, 2 if a.quick else 5),
        "click": lambda: click((2000, 10000), 30 if a.quick else 100),
        "cold_start": cold_start,
        "umap_fit": lambda: umap_fit(a.root),
        "session_memory": lambda: session_memory(10 if a.quick else 20),
    }
    for name in a.only:
        t0 = time.perf_counter()
        try:
            result[name] = runs[name]()
        except Exception as exc:  # one broken section must not hide the others' figures
            result[name] = {"error": f"{type(exc).__name__}: {str(exc)[-800:]}"}
        result[name + "_bench_s"] = round(time.perf_counter() - t0, 1)
    result["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
