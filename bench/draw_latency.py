"""Stroke -> ellipse on the Draw your own page, measured in headless Chromium.

Prints numbers; asserts nothing. For each model it starts ``streamlit run app.py``, opens
``Draw_your_own?dataset=DATA&model=NAME`` and draws strokes with the browser's own mouse events
(``page.mouse``: down, a few moves, up). For each finished stroke the page records:

- ``stroke -> drawn``: from the ``pointerup`` event's ``timeStamp`` (the input event) to the
  end of drawing the code / posterior ellipse and samples on the map's canvas (normalise,
  encoder, ellipse, samples decoded, reconstruction, error: the whole pipeline);
- ``stroke -> frame``: the same start to the next animation frame, when those pixels are on
  screen;
- ``ws bytes``: websocket bytes sent per stroke (0 + keep-alives: encoding runs in the page).

Target (issue 19): stroke -> ellipse p95 <= 150 ms. The server alternative would pay a rerun
per stroke: p50 167 ms / p95 235 ms on this machine before any work
(``shared/notes/components-v2.md``).

Usage::

    python bench/draw_latency.py [--strokes 60] [--models digits_vae_z2 digits_ae_z2 ...]
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-sync"]
MODELS = ["digits_vae_z2", "digits_ae_z2", "digits_vae_z16", "mnist_vae_z2", "mnist_vae_z16"]
PAD = "window.__latentlab.pads.get('draw')"


def _serve():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, LATENTLAB_USER_DIR=f"/tmp/ll_bench_draw_{port}")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port",
                             str(port), "--server.headless", "true"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("streamlit did not start")


def _pct(a) -> str:
    a = np.asarray(a, float)
    return f"p50 {np.median(a):6.1f}  p95 {np.percentile(a, 95):6.1f}  max {a.max():6.1f}"


def measure(browser, url: str, model: str, strokes: int) -> dict:
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    sent: list[int] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(len(f))))
    dataset = model.split("_")[0]  # shipped names start with their dataset: digits_, mnist_
    page.goto(f"{url}/Draw_your_own?dataset={dataset}&model={model}")
    page.wait_for_function(f"() => window.__latentlab && window.__latentlab.pads && {PAD} && "
                           f"{PAD}.map.meta && {PAD}.encoder", timeout=180_000)
    if f"model={model}" not in page.url:  # the page fell back to another model
        raise RuntimeError(f"the page shows another model than {model}: {page.url}")
    page.locator("canvas.ld-pad").first.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    box = page.locator("canvas.ld-pad").first.bounding_box()
    page.evaluate("() => { const L = window.__latentlab; L.drawLat.length = 0; "
                  "L.drawFrame.length = 0; }")
    sent.clear()
    rng = np.random.default_rng(0)
    for k in range(strokes):
        if k % 6 == 0:
            page.evaluate(f"() => {PAD}.clear()")
        a = rng.uniform(0, 2 * math.pi)
        pts = [(0.5 + 0.35 * math.cos(a + t), 0.5 + 0.35 * math.sin(a + 1.3 * t))
               for t in np.linspace(0, 2.5, 8)]
        page.mouse.move(box["x"] + pts[0][0] * box["width"], box["y"] + pts[0][1] * box["height"])
        page.mouse.down()
        for x, y in pts[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.up()
        page.wait_for_timeout(60)
    page.wait_for_timeout(300)
    lat = page.evaluate("window.__latentlab.drawLat.slice()")
    frame = page.evaluate("window.__latentlab.drawFrame.slice()")
    page.close()
    return {"drawn": lat, "frame": frame, "bytes_per_stroke": sum(sent) / max(1, strokes)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strokes", type=int, default=60)
    ap.add_argument("--models", nargs="*", default=MODELS)
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    proc, url = _serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for model in a.models:
                r = measure(browser, url, model, a.strokes)
                print(f"{model:16s} strokes {len(r['drawn']):3d} | stroke -> drawn (ms) "
                      f"{_pct(r['drawn'])} | stroke -> frame (ms) {_pct(r['frame'])} | "
                      f"ws bytes/stroke {r['bytes_per_stroke']:.0f}", flush=True)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
