"""Real-browser tests: Playwright drives Debian's chromium against `streamlit run app.py`
(fixtures and map helpers in tests/e2e.py). Screenshots land in test-artifacts/."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import (corner_xy, isolated_point, map_eval, open_page, picked_model, point_xy,
                       shot, wait_idle, wait_map)

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_home_page_loads(server, page):
    open_page(page, server)
    assert page.locator("h1").first.inner_text() == "Latent Lab"
    assert page.get_by_text("Latent map").first.is_visible()
    shot(page, "home")


def test_map_shows_every_test_point_and_clicks_work(server, page):
    open_page(page, server, "Latent_map")
    wait_map(page)
    assert map_eval(page, "(m) => m.n") == 360
    shot(page, "latent_map")
    # click a data point: its image, reconstruction and error appear beside the map
    i = isolated_point(page)
    page.mouse.click(*point_xy(page, i))
    page.get_by_text("reconstruction x̂").first.wait_for(timeout=30_000)
    wait_idle(page)
    assert page.get_by_text(f"Image {i} ·").first.is_visible()
    assert page.get_by_text("Reconstruction error").first.is_visible()
    shot(page, "latent_map_point")
    # click empty space: the decoder draws something there
    page.mouse.click(*corner_xy(page))
    page.get_by_text("decoder(z)").first.wait_for(timeout=30_000)
    wait_idle(page)
    assert page.get_by_text("Decoded at").first.is_visible()
    shot(page, "latent_map_empty")
    # a second click on the same point still works
    page.mouse.click(*point_xy(page, i))
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
    wait_map(page, "prior.map")
    n = map_eval(page, "(m) => m.data.overlays.find(o => o.name === 'samples').xy.length",
                 key="prior.map")
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
    wait_map(page)
    assert "browser_vae" in picked_model(page)
    assert map_eval(page, "(m) => m.n") == 360
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


CLASS_CLICKS_JS = "(m) => m.data.overlays.reduce((s, o) => s + o.xy.length, 0)"


def test_two_browsers_join_one_class_and_a_click_in_one_appears_in_the_other(server, browser):
    """Lecturer and student in separate browser contexts (separate sessions, no shared
    cookies): the student's click on the map shows up on the lecturer's live map."""
    lect_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    stud_ctx = browser.new_context(viewport={"width": 1200, "height": 1000})
    try:
        lect, stud = lect_ctx.new_page(), stud_ctx.new_page()
        open_page(lect, server, "Classroom")
        lect.get_by_text("Lecturer: start a class").first.click()  # folded below Join
        lect.get_by_role("button", name="Start a class").first.click()
        lect.locator(".class-code").wait_for(timeout=60_000)
        code = lect.locator(".class-code").inner_text().strip()
        assert len(code) == 5
        wait_map(lect, "class.map")
        assert map_eval(lect, CLASS_CLICKS_JS, key="class.map") == 0
        shot(lect, "class_lecturer_waiting")
        # the student types the code into the join form
        open_page(stud, server, "Classroom")
        stud.get_by_role("textbox", name="Class code").fill(code.lower())
        stud.get_by_role("button", name="Join").click()
        wait_map(stud)
        assert stud.locator('[data-testid="stSidebar"] input[aria-label="Model"]').count() == 0
        stud.mouse.click(*point_xy(stud, isolated_point(stud)))
        # the pin went to the class API (no script run): the map says it arrived
        stud.get_by_text("✓ Sent to the lecturer's map.").first.wait_for(timeout=30_000)
        shot(stud, "class_student_clicked")
        stud.get_by_role("button", name="Show this pin in detail").click()  # one script run
        stud.get_by_text("reconstruction x̂").first.wait_for(timeout=30_000)
        shot(stud, "class_student_detail")
        # within a few refreshes (every 2 s) the lecturer's map shows the click and its image
        lect.wait_for_function(
            "() => { const m = window.__latentlab.maps.get('class.map');"
            " return m && m.data.overlays.reduce((s, o) => s + o.xy.length, 0) >= 1; }",
            timeout=30_000)
        lect.get_by_text("1. student").first.wait_for(timeout=30_000)
        shot(lect, "class_lecturer_sees_click")
    finally:
        lect_ctx.close()
        stud_ctx.close()
