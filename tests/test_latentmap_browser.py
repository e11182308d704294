"""The in-browser latent map in a real browser: decoding under the pointer, pins, touch,
keyboard and presenter mode (Playwright + Debian chromium against ``streamlit run app.py``)."""
from __future__ import annotations

import pytest

from tests.test_browser import browser, open_page, page, server, shot, wait_idle  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MAP = "window.__latentlab && window.__latentlab.maps.get('{key}')"


def wait_map(pg, key: str = "map.chart") -> None:
    """Wait until the map ``key`` has its data and is drawn."""
    pg.wait_for_function(f"() => {{ const m = {MAP.format(key=key)}; return m && m.meta && m.box; }}",
                         timeout=90_000)


def screen_xy(pg, x: float, y: float, key: str = "map.chart") -> tuple[float, float]:
    """Page coordinates of map position (x, y)."""
    return pg.evaluate("([x, y, k]) => { const m = window.__latentlab.maps.get(k), "
                       "r = m.over.getBoundingClientRect(); return [r.left + m.px(x), r.top + m.py(y)]; }",
                       [x, y, key])


def point_xy(pg, i: int, key: str = "map.chart") -> tuple[float, float]:
    """Page coordinates of data point ``i``."""
    x, y = pg.evaluate(f"(i) => {{ const m = {MAP.format(key=key)}; return [m.xy[2*i], m.xy[2*i+1]]; }}", i)
    return screen_xy(pg, x, y, key)


def image_sum(pg, key: str = "map.chart") -> str:
    return pg.evaluate(f"() => {MAP.format(key=key)}.img.dataset.sum || ''")


def isolated_point(pg, key: str = "map.chart") -> int:
    """A data point with no other point within 12 px (so a click on it cannot hit another)."""
    return pg.evaluate(f"""() => {{ const m = {MAP.format(key=key)};
      for (let i = 0; i < m.n; i++) {{
        const X = m.px(m.xy[2*i]), Y = m.py(m.xy[2*i+1]); let ok = m.inside(X, Y);
        for (let j = 0; ok && j < m.n; j++) if (j !== i && Math.hypot(m.px(m.xy[2*j]) - X, m.py(m.xy[2*j+1]) - Y) < 12) ok = false;
        if (ok) return i;
      }} return -1; }}""")


def test_moving_the_pointer_decodes_without_the_server(server, page):  # noqa: F811
    open_page(page, server, "Latent_map")
    wait_map(page)
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(len(f))))
    g = page.evaluate(f"() => {MAP.format(key='map.chart')}.meta.grid")
    seen = set()
    for f in (0.2, 0.4, 0.6, 0.8):
        page.mouse.move(*screen_xy(page, g["x0"] + f * (g["x1"] - g["x0"]), 0.0))
        seen.add(image_sum(page))
    assert len(seen) == 4  # four spots, four different decoded images
    z = page.evaluate(f"() => {MAP.format(key='map.chart')}.zText.textContent")
    assert z.startswith("z (2-D) = [")
    page.wait_for_timeout(500)
    assert sum(sent) < 200  # nothing but websocket keep-alives went to the server
    shot(page, "latent_map_pointer")


def test_a_pin_shows_the_panel_and_updates_the_address(server, page):  # noqa: F811
    open_page(page, server, "Latent_map")
    wait_map(page)
    i = isolated_point(page)
    assert i >= 0
    page.mouse.click(*point_xy(page, i))
    page.get_by_text(f"Image {i} ·").first.wait_for(timeout=30_000)
    page.get_by_text("reconstruction x̂").first.wait_for(timeout=30_000)
    wait_idle(page)
    assert f"pick=p{i}" in page.url
    # an empty corner: the decoder's image there, and a cross in the URL's grid pick
    g = page.evaluate(f"() => {MAP.format(key='map.chart')}.meta.grid")
    page.mouse.click(*screen_xy(page, g["x0"] + 0.02 * (g["x1"] - g["x0"]),
                                g["y1"] - 0.02 * (g["y1"] - g["y0"])))
    page.get_by_text("Decoded at").first.wait_for(timeout=30_000)
    wait_idle(page)
    assert "pick=g" in page.url
    shot(page, "latent_map_pinned")


def test_a_tap_on_a_phone_pins_that_point(server, browser):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                              is_mobile=True, device_scale_factor=2)
    try:
        pg = ctx.new_page()
        open_page(pg, server, "Latent_map")
        wait_map(pg)
        pg.locator("canvas.ll-over").first.scroll_into_view_if_needed()
        first, second = isolated_point(pg), None
        pg.touchscreen.tap(*point_xy(pg, first))
        pg.get_by_text(f"Image {first} ·").first.wait_for(timeout=30_000)
        wait_idle(pg)
        # the second tap shows the second point at once (not the previous tap's image)
        second = pg.evaluate(f"""(a) => {{ const m = {MAP.format(key='map.chart')};
          for (let i = m.n - 1; i >= 0; i--) if (i !== a && m.labels[i] !== m.labels[a] &&
            m.nearest(m.px(m.xy[2*i]), m.py(m.xy[2*i+1]), 14, false) === i) return i; return -1; }}""", first)
        pg.touchscreen.tap(*point_xy(pg, second))
        pg.get_by_text(f"Image {second} ·").first.wait_for(timeout=30_000)
        shot(pg, "latent_map_phone")
    finally:
        ctx.close()


def test_arrow_keys_move_a_decoding_cursor_and_enter_pins(server, page):  # noqa: F811
    open_page(page, server, "Latent_map")
    wait_map(page)
    page.locator("canvas.ll-over").first.focus()
    before = image_sum(page)
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    after = image_sum(page)
    assert after and after != before
    page.keyboard.press("ArrowUp")
    assert image_sum(page) != after
    page.keyboard.press("Enter")
    page.get_by_text("Decoded at").first.wait_for(timeout=30_000)


def test_presenter_mode_restyles_the_map(server, page):  # noqa: F811
    open_page(page, server, "Latent_map?presenter=1")
    wait_map(page)
    styled = page.evaluate(f"""() => {{ const m = {MAP.format(key='map.chart')};
      return [m.data.presenter, m.root.classList.contains('ll-presenter'), m.box.fs]; }}""")
    assert styled == [True, True, 17]
    shot(page, "latent_map_presenter")
