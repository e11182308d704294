"""A pin on the class map, measured in headless Chromium: input event -> the changed pixels.

Prints numbers; asserts nothing. Starts ``streamlit run app.py`` on a scratch state folder; a
lecturer tab starts a class; a student tab opens ``Classroom?join=CODE`` and pins isolated
points with the browser's own mouse (``page.mouse.click``), at least 0.4 s apart (the store's
pacing is 0.25 s). For each pin the page records the time from the ``pointerup`` event's
``timeStamp`` (the input event) to the next animation frame after the line under the map says
"✓ Sent to the lecturer's map." (the class API's reply, so the click is stored), and the
websocket bytes the tab sent meanwhile (a class pin goes over HTTP, not the websocket).

Side by side in the same run: the same student pins the Latent map page (a pin through Python:
a fragment rerun draws the panel), timed from ``pointerup`` to the frame after the panel's
heading names the pinned image.

Usage::

    python bench/class_pin_latency.py [--pins 40] [--rounds 2]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import stclient  # noqa: E402
from tests.e2e import CHROMIUM, FLAGS, isolated_point, point_xy, wait_idle, wait_map  # noqa: E402

# in the page: the input event's time, and the frame after the awaited text appeared
PROBE = """() => {
  window.__pin = {t0: 0, lat: []};
  window.addEventListener("pointerup", (e) => { window.__pin.t0 = e.timeStamp; }, true);
}"""
# armed before the click; the Promise resolves on the frame after the awaited change
ARM_SENT = """() => { window.__wait = new Promise((done) => {
  const m = window.__latentlab.maps.get('map.chart');
  const obs = new MutationObserver(() => {
    if (!m.sent.textContent.startsWith('\u2713')) return;  // "Sending..." first
    obs.disconnect();
    requestAnimationFrame(() => done(performance.now() - window.__pin.t0));
  });
  obs.observe(m.sent, {childList: true, characterData: true, subtree: true});
}); }"""
ARM_PANEL = """(i) => { window.__wait = new Promise((done) => {
  const want = `Image ${i} \u00b7`;
  const has = () => [...document.querySelectorAll('h4')]
    .some((h) => h.textContent.startsWith(want));
  const obs = new MutationObserver(() => {
    if (!has()) return;
    obs.disconnect();
    requestAnimationFrame(() => done(performance.now() - window.__pin.t0));
  });
  obs.observe(document.body, {childList: true, subtree: true, characterData: true});
}); }"""


SENT: dict = {}  # page -> its websocket byte counter


def _ws_bytes(pg) -> list[int]:
    """A counter of the bytes this tab sends over its websockets."""
    sent = [0]
    pg.on("websocket", lambda ws: ws.on("framesent", lambda p: sent.__setitem__(
        0, sent[0] + len(p if isinstance(p, (bytes, str)) else b""))))
    return sent


def _pins(pg, n: int, arm_js: str) -> tuple[list[float], list[int]]:
    lat, nbytes, sent = [], [], SENT[pg]
    pg.evaluate(PROBE)
    last = -1
    for _ in range(n):
        i = isolated_point(pg, skip=last)
        last = i
        before = sent[0]
        x, y = point_xy(pg, i)
        pg.evaluate(arm_js, i)
        pg.mouse.click(x, y)
        lat.append(float(pg.evaluate("() => window.__wait")))
        nbytes.append(sent[0] - before)
        time.sleep(0.4)
    return lat, nbytes


def _row(name: str, lat: list[float], nbytes: list[int]) -> str:
    a = np.asarray(lat)
    return (f"{name:<34} p50 {np.median(a):7.1f} ms  p95 {np.percentile(a, 95):7.1f} ms  "
            f"best {a.min():6.1f} ms  n={len(a)}  websocket bytes per pin "
            f"{int(np.median(nbytes))}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pins", type=int, default=40)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    state = tempfile.mkdtemp(prefix="ll_bench_pin_")
    try:
        with stclient.Server(ROOT, env={"LATENTLAB_STATE_DIR": state,
                                        "LATENTLAB_USER_DIR": state + "/user"}) as server, \
                sync_playwright() as pw:
            url = f"http://127.0.0.1:{server.port}"
            b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            lect = b.new_context(viewport={"width": 1500, "height": 1000}).new_page()
            lect.goto(url + "/Classroom")
            wait_idle(lect)
            lect.get_by_text("Lecturer: start a class").first.click()
            lect.get_by_role("button", name="Start a class").first.click()
            lect.locator(".class-code").wait_for(timeout=60_000)
            code = lect.locator(".class-code").inner_text().strip()
            ctx = b.new_context(viewport={"width": 1500, "height": 1000})
            cls, lm = ctx.new_page(), ctx.new_page()
            for pg in (cls, lm):  # count before the pages open their websockets
                SENT[pg] = _ws_bytes(pg)
            cls.goto(f"{url}/Classroom?join={code}")
            wait_map(cls)
            lm.goto(f"{url}/Latent_map")
            wait_map(lm)
            res = {"class": ([], []), "latent": ([], [])}
            for _ in range(args.rounds):  # alternate: both see the same machine load
                for key, pg, arm in (("class", cls, ARM_SENT), ("latent", lm, ARM_PANEL)):
                    pg.bring_to_front()
                    lat, nb = _pins(pg, args.pins // args.rounds, arm)
                    res[key][0].extend(lat)
                    res[key][1].extend(nb)
            print(_row("class pin -> '✓ Sent' on screen", *res["class"]))
            print(_row("Latent map pin -> panel on screen", *res["latent"]))
            b.close()
    finally:
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
