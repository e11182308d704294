"""Watch it learn in a real browser: Play steps through the recorded frames in the page (no
rerun per frame), the slider scrubs, and the pointer still decodes on the animated map."""
from __future__ import annotations

import pytest

from tests.e2e import image_sum, open_page, screen_xy, shot

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PLAYER = "window.__latentlab.players.get('learn')"
PIXELS = f"() => {PLAYER}.map.base.toDataURL()"


def test_play_changes_the_frames_without_the_server(server, page):
    open_page(page, server, "Watch_it_learn?model=digits_vae_z2")
    page.wait_for_function(f"() => window.__latentlab && window.__latentlab.players && "
                           f"{PLAYER} && {PLAYER}.frames && {PLAYER}.map.meta", timeout=90_000)
    page.locator("button.lf-play").first.scroll_into_view_if_needed()
    assert page.evaluate(f"() => {PLAYER}.frame") == 0  # opens on the untrained encoder
    first = page.evaluate(PIXELS)
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(len(f))))
    page.locator("button.lf-play").first.click()
    page.wait_for_function(f"() => {PLAYER}.frame >= 5", timeout=30_000)
    assert page.evaluate(PIXELS) != first  # the points moved
    label = page.evaluate(f"() => {PLAYER}.label.textContent")
    assert label.startswith("epoch ") and "test loss" in label
    page.locator("button.lf-play").first.click()  # pause
    assert sum(sent) < 200  # frames are played in the page: nothing but keep-alives sent
    # the slider scrubs to any frame; the last is the end of training
    last = page.evaluate(f"""() => {{ const p = {PLAYER}; p.slider.value = p.slider.max;
        p.slider.dispatchEvent(new Event('input')); return p.frame; }}""")
    assert last == page.evaluate(f"() => {PLAYER}.frames.header.epochs.length - 1")
    end = page.evaluate(f"() => {PLAYER}.frames.header.epochs.slice(-1)[0]")
    assert f"epoch {end} of {end}" in page.evaluate(f"() => {PLAYER}.label.textContent")
    before = image_sum(page, "learn.map")
    page.mouse.move(*screen_xy(page, 1.0, -1.0, "learn.map"))
    assert image_sum(page, "learn.map") != before  # the pointer decodes as on the static map
    shot(page, "watch_it_learn")
