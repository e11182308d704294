"""Shared pieces of the real-browser tests: a `streamlit run app.py` server, Debian's chromium
through Playwright, and helpers that find positions on the in-browser latent map from its own
axes (``window.__latentlab.maps``), never from fixed pixels. Screenshots land in
test-artifacts/. ``tests/conftest.py`` registers the fixtures once for every test module."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def _unavailable(reason: str):
    if os.environ.get("LATENTLAB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests are required here but cannot run: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """A streamlit server on a free loopback port, with its own user and cache folders."""
    port = _free_port()
    base = tmp_path_factory.mktemp("e2e")
    env = dict(os.environ, LATENTLAB_USER_DIR=str(base / "user"),
               LATENTLAB_CACHE_DIR=str(base / "cache"), LATENTLAB_STATE_DIR=str(base / "state"))
    log = open(base / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + (base / "server.log").read_text())
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _unavailable("Debian's chromium is not installed (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    yield pg
    ctx.close()


def wait_idle(pg, timeout: float = 60.0) -> None:
    """Wait until no script run is in progress (Streamlit's running indicator is gone)."""
    deadline = time.time() + timeout
    quiet_since = None
    while time.time() < deadline:
        running = pg.locator('[data-testid="stStatusWidget"]').count() > 0
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.time()
        elif time.time() - quiet_since > 0.6:
            return
        time.sleep(0.1)
    raise AssertionError("the app kept running for too long")


def open_page(pg, url: str, path: str = "") -> None:
    pg.goto(url + "/" + path)
    pg.wait_for_selector("h1", timeout=60_000)
    wait_idle(pg)


def picked_model(pg) -> str:
    """Text of the sidebar's model picker (the selected model's label)."""
    box = pg.locator('[data-testid="stSidebar"] input[role="combobox"][aria-label="Model"]')
    return box.first.input_value()


def shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"))




MAP = "window.__latentlab && window.__latentlab.maps.get('{key}')"


def wait_map(pg, key: str = "map.chart") -> None:
    """Wait until the in-browser map ``key`` has its data and is drawn."""
    pg.wait_for_function(
        f"() => {{ const m = {MAP.format(key=key)}; return m && m.meta && m.box && m.n > 0; }}",
        timeout=90_000)


def map_eval(pg, js: str, arg=None, key: str = "map.chart"):
    """Evaluate ``js`` (a function of the map ``m`` and ``arg``) against the map ``key``."""
    return pg.evaluate(f"([k, a]) => ({js})(window.__latentlab.maps.get(k), a)", [key, arg])


def screen_xy(pg, x: float, y: float, key: str = "map.chart") -> tuple[float, float]:
    """Page coordinates of map position (x, y)."""
    return tuple(map_eval(pg, "(m, p) => { const r = m.over.getBoundingClientRect();"
                              " return [r.left + m.px(p[0]), r.top + m.py(p[1])]; }", [x, y], key))


def point_xy(pg, i: int, key: str = "map.chart") -> tuple[float, float]:
    """Page coordinates of data point ``i``."""
    x, y = map_eval(pg, "(m, i) => [m.xy[2 * i], m.xy[2 * i + 1]]", i, key)
    return screen_xy(pg, x, y, key)


def isolated_point(pg, key: str = "map.chart", skip: int = -1) -> int:
    """A data point that a click hits (no other point within 12 px), other than ``skip``."""
    return map_eval(pg, """(m, skip) => {
      for (let i = 0; i < m.n; i++) {
        if (i === skip) continue;
        const X = m.px(m.xy[2 * i]), Y = m.py(m.xy[2 * i + 1]);
        let ok = m.inside(X, Y);
        for (let j = 0; ok && j < m.n; j++) {
          const d = Math.hypot(m.px(m.xy[2 * j]) - X, m.py(m.xy[2 * j + 1]) - Y);
          if (j !== i && d < 12) ok = false;
        }
        if (ok) return i;
      }
      return -1; }""", skip, key)


def corner_xy(pg, key: str = "map.chart") -> tuple[float, float]:
    """Page coordinates of a spot in the map's top-left corner (empty space)."""
    g = map_eval(pg, "(m) => m.meta.grid", None, key)
    return screen_xy(pg, g["x0"] + 0.02 * (g["x1"] - g["x0"]),
                     g["y1"] - 0.02 * (g["y1"] - g["y0"]), key)


def image_sum(pg, key: str = "map.chart") -> str:
    """A checksum of the decoded image beside the map (changes when the image does)."""
    return map_eval(pg, "(m) => m.img.dataset.sum || ''", None, key)
