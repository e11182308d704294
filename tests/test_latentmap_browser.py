"""The in-browser latent map in a real browser: decoding under the pointer, pins, touch,
keyboard and presenter mode (Playwright + Debian chromium against ``streamlit run app.py``)."""
from __future__ import annotations

import pytest

from tests.e2e import (corner_xy, image_sum, isolated_point, map_eval, open_page, point_xy,
                       screen_xy, shot, wait_idle, wait_map)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_moving_the_pointer_decodes_without_the_server(server, page):
    open_page(page, server, "Latent_map")
    wait_map(page)
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(len(f))))
    g = map_eval(page, "(m) => m.meta.grid")
    seen = set()
    for f in (0.2, 0.4, 0.6, 0.8):
        page.mouse.move(*screen_xy(page, g["x0"] + f * (g["x1"] - g["x0"]), 0.0))
        seen.add(image_sum(page))
    assert len(seen) == 4  # four spots, four different decoded images
    z = map_eval(page, "(m) => m.zText.textContent")
    assert z.startswith("z (2-D) = [")
    page.wait_for_timeout(500)
    assert sum(sent) < 200  # nothing but websocket keep-alives went to the server
    shot(page, "latent_map_pointer")


def test_a_pin_shows_the_panel_and_updates_the_address(server, page):
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
    page.mouse.click(*corner_xy(page))
    page.get_by_text("Decoded at").first.wait_for(timeout=30_000)
    wait_idle(page)
    assert "pick=g" in page.url
    shot(page, "latent_map_pinned")


def test_a_tap_on_a_phone_pins_that_point(server, browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                              is_mobile=True, device_scale_factor=2)
    try:
        pg = ctx.new_page()
        open_page(pg, server, "Latent_map")
        wait_map(pg)
        pg.locator("canvas.ll-over").first.scroll_into_view_if_needed()
        first = isolated_point(pg)
        pg.touchscreen.tap(*point_xy(pg, first))
        pg.get_by_text(f"Image {first} ·").first.wait_for(timeout=30_000)
        wait_idle(pg)
        # the second tap shows the second point at once (not the previous tap's image)
        second = isolated_point(pg, skip=first)
        assert first >= 0 and second >= 0
        pg.touchscreen.tap(*point_xy(pg, second))
        pg.get_by_text(f"Image {second} ·").first.wait_for(timeout=30_000)
        shot(pg, "latent_map_phone")
    finally:
        ctx.close()


def test_arrow_keys_move_a_decoding_cursor_and_enter_pins(server, page):
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
    # Enter pins what the cursor is on: the image under it, else the spot
    on_point = map_eval(page, "(m) => m.nearest(m.px(m.pointer.x), m.py(m.pointer.y), 8, false)")
    page.keyboard.press("Enter")
    want = f"Image {on_point} ·" if on_point >= 0 else "Decoded at"
    page.get_by_text(want).first.wait_for(timeout=30_000)


def test_presenter_mode_restyles_the_map(server, page):
    open_page(page, server, "Latent_map?presenter=1")
    wait_map(page)
    styled = map_eval(page, "(m) => [m.data.presenter, m.root.classList.contains('ll-presenter'),"
                            " m.box.fs]")
    assert styled == [True, True, 17]
    shot(page, "latent_map_presenter")


def test_two_2d_maps_on_ae_vs_vae_decode_the_same_z_under_one_pointer(server, page):
    open_page(page, server, "AE_vs_VAE")
    wait_map(page, "cmp.map.left")
    wait_map(page, "cmp.map.right")
    before = image_sum(page, "cmp.map.right")
    page.locator("canvas.ll-over").first.scroll_into_view_if_needed()
    page.mouse.move(*screen_xy(page, 0.5, -0.5, "cmp.map.left"))
    linked = map_eval(page, "(m) => m.linked", key="cmp.map.right")
    assert linked and abs(linked["x"] - 0.5) < 1e-6 and abs(linked["y"] + 0.5) < 1e-6
    assert image_sum(page, "cmp.map.right") != before
    z_left = map_eval(page, "(m) => m.zText.textContent", key="cmp.map.left")
    assert map_eval(page, "(m) => m.zText.textContent", key="cmp.map.right") == z_left
    shot(page, "ae_vs_vae_linked")


def test_the_pointer_scrubs_along_the_interpolation_path(server, page):
    open_page(page, server, "Interpolate")
    wait_map(page, "interp.chart")
    path = map_eval(page, "(m) => m.data.path.xy", key="interp.chart")
    mid = [(path[5][0] + path[6][0]) / 2, (path[5][1] + path[6][1]) / 2]
    page.locator("canvas.ll-over").first.scroll_into_view_if_needed()
    page.mouse.move(*screen_xy(page, *mid, key="interp.chart"))
    cap = map_eval(page, "(m) => m.imgCap.textContent", key="interp.chart")
    assert cap.startswith("on the path: frame 6.") and cap.endswith(f"of {len(path)}")
