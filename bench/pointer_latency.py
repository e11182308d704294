"""What a student feels on the in-browser latent map, measured in headless Chromium.

Prints numbers; asserts nothing. For each (model, projection) it starts ``streamlit run
bench/pointer_app.py`` (the Latent map page's own view on N MNIST test images) and reports:

- ``first draw``: from the map's data arriving in the page (parse included) to the drawn map;
- ``move (in page)``: a ``pointermove`` dispatched in the page -> decoded image drawn
  (``performance.now()`` from the event's creation to the end of ``putImageData``);
- ``move (input)``: a real mouse move sent through the browser's input pipeline
  (``page.mouse.move``), from the event's ``timeStamp`` to the image drawn; this includes the
  wait for the browser to deliver the event at its next frame;
- ``pin -> panel``: a click (alternately on a data point and on empty space) until the pinned
  panel beside the map shows that pick, in the browser (``performance.now()`` from the click's
  ``pointerup`` handler to the first animation frame with the new panel text);
- ``bytes/pin``: websocket bytes received per pin (images in the panel come over HTTP as
  small JPEGs, not over the websocket).

Targets (issue "Decode under the pointer"): move p95 <= 16 ms at 10,000 points, pin -> panel
p95 <= 250 ms, first draw <= 1 s, <= 10 KB per pin.

Usage::

    python bench/pointer_latency.py [--moves 300] [--pins 30] [--n 10000]
"""
from __future__ import annotations

import argparse
import json
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
CASES = [("mnist_vae_z16", "pca"), ("mnist_convvae_z16", "pca"), ("mnist_vae_z2", "identity"),
         ("mnist_vae_z16", "umap")]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(model: str, method: str, n: int):
    port = _port()
    env = dict(os.environ, LL_BENCH_MODEL=model, LL_BENCH_METHOD=method, LL_BENCH_N=str(n))
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "bench/pointer_app.py",
                             "--server.port", str(port), "--server.headless", "true"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("streamlit did not start")


MAP = "window.__latentlab.maps.get('map.chart')"
SCREEN_JS = "([x, y]) => { const m = " + MAP + """, r = m.over.getBoundingClientRect();
  return [r.left + m.px(x), r.top + m.py(y)]; }"""


def _pct(a) -> str:
    a = np.asarray(a, float)
    return f"p50 {np.median(a):6.1f}  p95 {np.percentile(a, 95):6.1f}  best {a.min():5.1f}"


def measure(browser, url: str, moves: int, pins: int) -> dict:
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    frames: list[int] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(len(f))))
    page.goto(url)
    page.wait_for_function(f"() => window.__latentlab && {MAP} && {MAP}.meta", timeout=180_000)
    page.wait_for_timeout(1500)
    first = page.evaluate("window.__latentlab.firstDraw.slice(-1)[0]")
    # in-page: synthetic pointer moves along a sweep of the plot
    in_page = page.evaluate("""(k) => {
      const m = """ + MAP + """, r = m.over.getBoundingClientRect(), b = m.box;
      const LL = window.__latentlab; LL.lat.length = 0;
      for (let i = 0; i < k; i++) {
        const f = (i % 100) / 100, g = 0.2 + 0.6 * ((i * 37) % 100) / 100;
        m.over.dispatchEvent(new PointerEvent('pointermove', {
          bubbles: true, pointerType: 'mouse',
          clientX: r.left + b.L + f * (r.width - b.L - b.R),
          clientY: r.top + b.T + g * (r.height - b.T - b.B)}));
      }
      return LL.lat.slice(); }""", moves)
    # real input: the browser's own mouse events
    box = page.locator("canvas.ll-over").first.bounding_box()
    page.evaluate("window.__latentlab.lat.length = 0")
    for i in range(moves):
        f = (i % 100) / 100
        page.mouse.move(box["x"] + 60 + f * (box["width"] - 80),
                        box["y"] + 20 + (0.2 + 0.6 * ((i * 37) % 100) / 100) * (box["height"] - 60))
    real = page.evaluate("window.__latentlab.lat.slice()")
    # pins: alternate a data point and an empty spot; time until the panel shows it
    m = page.evaluate("(() => { const m = " + MAP + "; return {n: m.n, g: m.meta.grid}; })()")
    rng = np.random.default_rng(0)
    pin_ms, pin_bytes = [], []
    for k in range(pins):
        if k % 2 == 0:
            i = int(rng.integers(m["n"]))
            xy = page.evaluate(f"(() => {{ const m = {MAP}; "
                               f"return [m.xy[2*{i}], m.xy[2*{i}+1]]; }})()")
            expect = f"Image {i} "
        else:
            g = m["g"]
            xy = [g["x0"] + (g["x1"] - g["x0"]) * 0.03, g["y1"] - (g["y1"] - g["y0"]) * 0.03]
            xy[0] += (g["x1"] - g["x0"]) * 0.001 * k  # a new spot each time
            expect = f"Decoded at ({xy[0]:.2f}"
        sx, sy = page.evaluate(SCREEN_JS, xy)
        frames.clear()
        page.mouse.click(sx, sy)
        ms = page.wait_for_function(
            "(t) => document.body.innerText.includes(t) && "
            "(performance.now() - window.__latentlab.lastPin)", arg=expect, polling="raf",
            timeout=15_000).json_value()
        page.wait_for_timeout(400)  # let the rest of the rerun's messages arrive
        if k % 2 == 0 and f"Image {i} " not in page.inner_text("body"):
            continue  # the click landed on a neighbour drawn on top: not this pick
        pin_ms.append(ms)
        pin_bytes.append(sum(frames))
    page.close()
    return {"first_draw_ms": first["ms"], "points": first["n"], "move_in_page_ms": in_page,
            "move_input_ms": real, "pin_ms": pin_ms, "pin_bytes": pin_bytes}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--moves", type=int, default=300)
    ap.add_argument("--pins", type=int, default=30)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for model, method in CASES:
            proc, url = _serve(model, method, args.n)
            try:
                r = measure(browser, url, args.moves, args.pins)
            finally:
                proc.terminate()
                proc.wait(10)
            out[f"{model}/{method}"] = r
            print(f"{model} / {method}: {r['points']} points, first draw "
                  f"{r['first_draw_ms']:.0f} ms", flush=True)
            print(f"  move (in page)  {_pct(r['move_in_page_ms'])} ms")
            print(f"  move (input)    {_pct(r['move_input_ms'])} ms")
            print(f"  pin -> panel    {_pct(r['pin_ms'])} ms  ({len(r['pin_ms'])} pins)")
            print(f"  bytes/pin       median {np.median(r['pin_bytes']):.0f}, "
                  f"max {max(r['pin_bytes'])}", flush=True)
        browser.close()
    if args.json:
        args.json.write_text(json.dumps(out))


if __name__ == "__main__":
    main()
