"""Presenter mode at 1280x720 (a common projector) in a real browser: maps fill the width,
nothing spills over the right edge; screenshots of the touched pages at 1280x720 presenter,
1500x1000 and 390x844 land in test-artifacts/ to be looked at."""
import pytest

from tests.e2e import open_page, shot, wait_map

pytestmark = pytest.mark.e2e

PAGES = [("Interpolate", "interp.chart"), ("Anomalies", "anom.map"), ("AE_vs_PCA", "pca.ae"),
         ("AE_vs_VAE", "cmp.map.left"), ("Denoising", None), ("Train", None),
         ("Latent_map", "map.chart")]
FULL = {"Interpolate", "Anomalies", "AE_vs_PCA"}  # maps that had half the width before


def _shots(pg, name: str, n: int = 4) -> None:
    """``n`` screenshots down the page (Streamlit scrolls its main block, not the window),
    once the widgets have replaced their loading placeholders."""
    try:
        pg.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')",
                             timeout=20_000)
    except Exception:  # a placeholder left on the page: the screenshots will show it
        pass
    pg.wait_for_timeout(1000)
    for i in range(n):
        pg.evaluate("""(i) => { const m = document.querySelector('[data-testid="stMain"]');
          m.scrollTop = i * 0.85 * window.innerHeight; }""", i)
        pg.wait_for_timeout(300)
        shot(pg, f"{name}_{i}")


def _widths(pg, key):
    """(width of the map's element or None, width of the main block, page scroll width)."""
    return pg.evaluate("""(k) => {
      const main = document.querySelector('[data-testid="stMainBlockContainer"]');
      const m = k && window.__latentlab && window.__latentlab.maps.get(k);
      const el = m && (m.body || m.plot);
      return [el ? el.getBoundingClientRect().width : null,
              main.getBoundingClientRect().width, document.documentElement.scrollWidth];
    }""", key)


@pytest.mark.parametrize("path,key", PAGES)
def test_presenter_at_1280x720_fills_the_width_and_cuts_nothing_off(server, browser, path, key):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = ctx.new_page()
    try:
        open_page(pg, server, path + "?presenter=1")
        if key:
            wait_map(pg, key)
        _shots(pg, f"presenter_1280_{path}")
        map_w, main_w, scroll_w = _widths(pg, key)
        assert scroll_w <= 1280, (path, scroll_w)  # no horizontal overflow
        if path in FULL:
            assert map_w >= 0.8 * main_w, (path, map_w, main_w)  # was ~0.4 in two columns
    finally:
        ctx.close()


@pytest.mark.parametrize("size", [(1500, 1000), (390, 844)])
@pytest.mark.parametrize("path,key", PAGES)
def test_touched_pages_render_at_desktop_and_phone_sizes(server, browser, path, key, size):
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    pg = ctx.new_page()
    try:
        open_page(pg, server, path)
        if key:
            wait_map(pg, key)
        _shots(pg, f"{path}_{size[0]}x{size[1]}", n=3)
        assert pg.locator('[data-testid="stException"]').count() == 0
    finally:
        ctx.close()
