"""Real-browser tests: Playwright drives Debian's chromium against `streamlit run app.py`.

Click positions come from the chart's own axes (``_fullLayout.xaxis.d2p`` plus the axis offset
and the element's position), never from fixed pixels. Screenshots land in test-artifacts/.
"""
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
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


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


def wait_chart(pg, n_traces: int = 5) -> None:
    """Wait until the latent map (the chart with the click grid) is drawn."""
    pg.wait_for_function(
        f"() => {{ const g = {MAP};"
        f" return g && g._fullLayout && g._fullData.length >= {n_traces}; }}",
        timeout=60_000)


MAP = ("[...document.querySelectorAll('.js-plotly-plot')].find(g => g._fullData &&"
       " g._fullData.some(t => t.name === 'empty space'))")

POINT_JS = """([trace, idx]) => {
  const gd = """ + MAP + """;
  const t = gd._fullData[trace], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const r = gd.getBoundingClientRect();
  return [r.left + xa._offset + xa.d2p(t.x[idx]), r.top + ya._offset + ya.d2p(t.y[idx])];
}"""

EMPTY_JS = """() => {
  // the grid node farthest from every data point: surely empty space
  const gd = """ + MAP + """;
  const grid = gd._fullData.find(t => t.name === 'empty space');
  const pts = gd._fullData.filter(t => t.name !== 'empty space' && t.customdata);
  let best = -1, bi = 0;
  for (let i = 0; i < grid.x.length; i += 7) {
    let d = Infinity;
    for (const t of pts) for (let j = 0; j < t.x.length; j++) {
      d = Math.min(d, (t.x[j] - grid.x[i]) ** 2 + (t.y[j] - grid.y[i]) ** 2);
    }
    if (d > best) { best = d; bi = i; }
  }
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
  return [r.left + xa._offset + xa.d2p(grid.x[bi]), r.top + ya._offset + ya.d2p(grid.y[bi])];
}"""


def count_points(pg) -> int:
    """Number of data points on the latent map (all traces except the click grid)."""
    return pg.evaluate("() => " + MAP + """._fullData
        .filter(t => t.name !== 'empty space' && t.customdata)
        .reduce((s, t) => s + t.x.length, 0)""")


def picked_model(pg) -> str:
    """Text of the sidebar's model picker (the selected model's label)."""
    box = pg.locator('[data-testid="stSidebar"] input[role="combobox"][aria-label="Model"]')
    return box.first.input_value()


def shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_home_page_loads(server, page):
    open_page(page, server)
    assert page.locator("h1").first.inner_text() == "Latent Lab"
    assert page.get_by_text("Latent map").first.is_visible()
    shot(page, "home")


def test_map_shows_every_test_point_and_clicks_work(server, page):
    open_page(page, server, "Latent_map")
    wait_chart(page)
    assert count_points(page) == 360
    shot(page, "latent_map")
    # click a data point: the first image of class 3 (trace 4: grid is trace 0)
    x, y = page.evaluate(POINT_JS, [4, 0])
    idx = page.evaluate("() => " + MAP + "._fullData[4].customdata[0]")
    page.mouse.click(x, y)
    page.get_by_text("reconstruction x̂").first.wait_for(timeout=30_000)
    wait_idle(page)
    assert page.get_by_text(f"Image {idx}").first.is_visible()
    assert page.get_by_text("Reconstruction error").first.is_visible()
    shot(page, "latent_map_point")
    # click empty space: the decoder draws something there
    wait_chart(page)
    x, y = page.evaluate(EMPTY_JS)
    page.mouse.click(x, y)
    page.get_by_text("decoder(z)").first.wait_for(timeout=30_000)
    wait_idle(page)
    assert page.get_by_text("Decoded at").first.is_visible()
    shot(page, "latent_map_empty")
    # a second click on the same point still works after the figure changed
    wait_chart(page)
    x, y = page.evaluate(POINT_JS, [4, 0])
    page.mouse.click(x, y)
    page.get_by_text("reconstruction x̂").first.wait_for(timeout=30_000)


ANIM = ("[...document.querySelectorAll('.js-plotly-plot')].find(g => g._fullLayout &&"
        " g._fullLayout.sliders && g._fullLayout.sliders.length)")
FRAME_JS = ("() => { const im = " + ANIM + ".querySelector('image');"
            " return im && (im.getAttribute('href') || im.getAttribute('xlink:href')); }")


def test_interpolation_plays(server, page):
    open_page(page, server, "Interpolate")
    page.wait_for_function(f"() => !!{ANIM}", timeout=60_000)
    shot(page, "interpolate")
    n_frames = page.evaluate(f"() => {ANIM}._transitionData._frames.length")
    assert n_frames == 12  # the page's default: 12 steps from A to B
    first = page.evaluate(FRAME_JS)
    assert first and first.startswith("data:image/png")  # frame 0 is drawn
    page.locator(".updatemenu-button").first.click()  # ▶ play
    page.wait_for_function(f"() => {ANIM}._fullLayout.sliders[0].active > 2", timeout=20_000)
    later = page.evaluate(FRAME_JS)
    assert later and later.startswith("data:image/png") and later != first  # the image changed


IMAGES_JS = """() => [...document.querySelectorAll('img')]
  .filter(i => i.complete && i.naturalWidth >= 400)
  .map(i => {
    const c = document.createElement('canvas');
    c.width = i.naturalWidth; c.height = i.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(i, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const levels = new Set();
    for (let k = 0; k < d.length; k += 4 * 7) levels.add(d[k]);
    return [c.width, c.height, levels.size];
  })"""


def test_sample_prior_page_renders(server, page):
    open_page(page, server, "Sample_prior")
    page.get_by_text("samples: z drawn from").first.wait_for(timeout=60_000)
    shot(page, "sample_prior")
    # the tile of 32 decoded samples (8 x 4 cells of 64 px) is drawn, with real grey levels
    tiles = page.evaluate(IMAGES_JS)
    assert any(w >= 8 * 64 and h >= 4 * 64 and levels >= 20 for w, h, levels in tiles), tiles
    # and the samples are placed on the latent map beside it
    n = page.evaluate("() => { const g = [...document.querySelectorAll('.js-plotly-plot')]"
                      ".find(g => g._fullData && g._fullData.some(t => t.name === 'samples'));"
                      " return g ? g._fullData.find(t => t.name === 'samples').x.length : 0; }")
    assert n == 32


def test_one_epoch_training_run_appears_in_the_picker(server, page):
    open_page(page, server, "Train")
    slider = page.locator('input[type="range"][aria-label="Epochs"]')
    slider.focus()
    page.keyboard.press("Home")  # epochs = 1
    wait_idle(page)
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Training finished").first.wait_for(timeout=120_000)
    shot(page, "train_finished")
    page.get_by_role("textbox", name="Save as").fill("browser_vae")
    page.get_by_role("button", name="Save model").click()
    page.get_by_text("Saved as").first.wait_for(timeout=30_000)
    wait_idle(page)
    # the sidebar's model picker now shows (and has selected) the new model
    shot(page, "train_saved_in_picker")
    assert "browser_vae" in picked_model(page)
    # ... and every page can use it: its latent map shows all 360 test images
    page.get_by_role("link", name="Open its latent map").click()
    page.wait_for_selector("h1", timeout=60_000)
    wait_idle(page)
    wait_chart(page)
    assert "browser_vae" in picked_model(page)
    assert count_points(page) == 360
    shot(page, "train_model_on_map")


def _page_files() -> list[str]:
    return sorted(p.name for p in (ROOT / "pages").glob("[0-9]*_*.py"))


@pytest.mark.parametrize("filename", _page_files())
def test_every_page_renders_without_an_exception(server, page, filename):
    """Each page (also ones added later) opens, draws its title and raises nothing."""
    url_path = filename.split("_", 1)[1].removesuffix(".py")
    open_page(page, server, url_path)
    page.wait_for_timeout(500)
    wait_idle(page, timeout=120)
    shot(page, "page_" + filename.removesuffix(".py"))
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()
    assert page.locator("h1").first.is_visible()


CLASS_CLICKS_JS = """() => {
  const gd = """ + MAP + """;
  if (!gd) return -1;
  return gd._fullData.filter(t => t.name === 'class clicks' || t.name === 'last clicks')
    .reduce((s, t) => s + (t.x ? t.x.length : 0), 0);
}"""


def test_two_browsers_join_one_class_and_a_click_in_one_appears_in_the_other(server, browser):
    """Lecturer and student in separate browser contexts (separate sessions, no shared
    cookies): the student's click on the map shows up on the lecturer's live map."""
    lect_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    stud_ctx = browser.new_context(viewport={"width": 1200, "height": 1000})
    try:
        lect, stud = lect_ctx.new_page(), stud_ctx.new_page()
        open_page(lect, server, "Classroom")
        lect.get_by_role("button", name="Start a class").first.click()
        lect.locator(".class-code").wait_for(timeout=60_000)
        code = lect.locator(".class-code").inner_text().strip()
        assert len(code) == 5
        wait_chart(lect)
        assert lect.evaluate(CLASS_CLICKS_JS) == 0
        shot(lect, "class_lecturer_waiting")
        # the student types the code into the join form
        open_page(stud, server, "Classroom")
        stud.get_by_role("textbox", name="Class code").fill(code.lower())
        stud.get_by_role("button", name="Join").click()
        wait_chart(stud)
        assert stud.locator('[data-testid="stSidebar"] input[aria-label="Model"]').count() == 0
        x, y = stud.evaluate(POINT_JS, [4, 0])
        stud.mouse.click(x, y)
        stud.get_by_text("reconstruction x̂").first.wait_for(timeout=30_000)
        shot(stud, "class_student_clicked")
        # within a few refreshes (every 2 s) the lecturer's map shows the click and its image
        lect.wait_for_function("(" + CLASS_CLICKS_JS + ")() >= 1", timeout=30_000)
        lect.get_by_text("1. student").first.wait_for(timeout=30_000)
        shot(lect, "class_lecturer_sees_click")
    finally:
        lect_ctx.close()
        stud_ctx.close()
