"""Side by side in one run: the Plotly map of an older checkout (click -> panel) against this
checkout's in-browser map (pin -> panel), both on the app's default digits map, in headless
Chromium; clicks alternate between the two apps so both see the same machine load.

Prints numbers; asserts nothing. The old app is a checkout of a revision before the in-browser
map, e.g.::

    git worktree add ../latentlab-plotly 2c9ef9e
    python bench/plotly_baseline.py --old ../latentlab-plotly [--clicks 20]

Time is from Playwright's mouse click to the first animation frame whose panel heading names
the clicked image; bytes are websocket bytes received per click.
"""
import argparse
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--old", required=True, help="checkout of the Plotly-map version")
ap.add_argument("--clicks", type=int, default=20)
args = ap.parse_args()


def port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(d):
    p = port()
    pr = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port",
                           str(p), "--server.headless", "true"], cwd=d,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    u = f"http://127.0.0.1:{p}"
    for _ in range(300):
        try:
            urllib.request.urlopen(u + "/_stcore/health")
            return pr, u
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{d}: streamlit did not start")


OLD_MAP = ("[...document.querySelectorAll('.js-plotly-plot')].find(g => g._fullData &&"
           " g._fullData.some(t => t.name === 'empty space'))")
OLD_READY = "() => { const g = " + OLD_MAP + "; return g && g._fullData.length > 5; }"
OLD_POINT = ("([tr, i]) => { const gd = " + OLD_MAP + "; const t = gd._fullData[tr],"
             " xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis,"
             " r = gd.getBoundingClientRect(); return [r.left + xa._offset + xa.d2p(t.x[i]),"
             " r.top + ya._offset + ya.d2p(t.y[i]), t.customdata[i]]; }")
NEW_MAP = "window.__latentlab && window.__latentlab.maps.get('map.chart')"
NEW_READY = f"() => {{ const m = {NEW_MAP}; return m && m.meta; }}"
NEW_INDEX = ("([k, i]) => { const m = " + NEW_MAP + "; let c = 0;"
             " for (let j = 0; j < m.n; j++) if (m.labels[j] === k && c++ === i) return j;"
             " return -1; }")
NEW_POINT = ("(i) => { const m = " + NEW_MAP + ", r = m.over.getBoundingClientRect();"
             " return [r.left + m.px(m.xy[2*i]), r.top + m.py(m.xy[2*i+1])]; }")
HEADING = ("(t) => [...document.querySelectorAll('h4')].map(e => e.innerText).join(' ')"
           ".includes(t)")


def main() -> None:
    res = {"old": [], "new": [], "old_bytes": [], "new_bytes": []}
    old, ou = serve(args.old)
    new, nu = serve(ROOT)
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium",
                                  args=["--no-sandbox", "--disable-gpu"])
            pages = {}
            for k, u in (("old", ou), ("new", nu)):
                pg = b.new_page(viewport={"width": 1500, "height": 1000})
                fr: list[int] = []
                pg.on("websocket", lambda ws, fr=fr: ws.on("framereceived",
                                                           lambda f: fr.append(len(f))))
                pg.goto(u + "/Latent_map")
                pg.wait_for_function(OLD_READY if k == "old" else NEW_READY, timeout=120_000)
                pg.wait_for_timeout(2000)
                pages[k] = (pg, fr)
            for c in range(args.clicks):
                cls, nth = c % 10, c // 10  # the nth image of each class in turn
                for k in ("old", "new"):
                    pg, fr = pages[k]
                    if k == "old":
                        pg.wait_for_function(OLD_READY)
                        x, y, idx = pg.evaluate(OLD_POINT, [1 + cls, nth])
                    else:
                        idx = pg.evaluate(NEW_INDEX, [cls, nth])
                        x, y = pg.evaluate(NEW_POINT, idx)
                    pg.wait_for_timeout(800)
                    fr.clear()
                    t0 = time.perf_counter()
                    pg.mouse.click(x, y)
                    try:
                        pg.wait_for_function(HEADING, arg=f"Image {idx} ", polling="raf",
                                             timeout=15_000)
                        res[k].append((time.perf_counter() - t0) * 1000)
                    except Exception:  # a click that hit a neighbour: not counted
                        pass
                    pg.wait_for_timeout(600)
                    res[k + "_bytes"].append(sum(fr))
            b.close()
    finally:
        old.terminate()
        new.terminate()
    for k in ("old", "new"):
        v = sorted(res[k])
        print(f"{k}: {len(v)} clicks, p50 {statistics.median(v):.0f} ms, "
              f"p95 {v[int(0.95 * (len(v) - 1))]:.0f} ms, best {v[0]:.0f} ms; websocket bytes "
              f"per click, median {statistics.median(res[k + '_bytes']):.0f}")


if __name__ == "__main__":
    main()
