"""A student's drawing reaches the lecturer's class map, in real browsers (Playwright + Debian
chromium): the lecturer starts a class, a student joins in another context, opens Draw your
own from the sidebar, draws a stroke and presses Send to the class map; the lecturer's map
shows a star where the class model encodes exactly the pixels the pad computed. Hidden by the
lecturer, it goes, and the student's next send is refused with a message.
Screenshots land in test-artifacts/."""
from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from aecore import checkpoints
from tests.e2e import map_eval, open_page, shot, wait_idle, wait_map

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PAD = "window.__latentlab.pads.get('draw')"
STARS = ("(m) => (m.data.overlays.find((o) => o.name === 'class drawings') || {xy: []}).xy")


def _stroke(pg, pts):
    box = pg.locator("canvas.ld-pad").first.bounding_box()
    xy = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in pts]
    pg.mouse.move(*xy[0])
    pg.mouse.down()
    for p in xy[1:]:
        pg.mouse.move(*p, steps=4)
    pg.mouse.up()


def test_a_students_drawing_reaches_the_lecturers_map(server, browser):
    contexts = []
    try:
        lctx = browser.new_context(viewport={"width": 1500, "height": 1000})
        contexts.append(lctx)
        lect = lctx.new_page()
        open_page(lect, server, "Classroom")
        lect.get_by_text("Lecturer: start a class").first.click()
        lect.get_by_role("button", name="Start a class").first.click()
        lect.locator(".class-code").wait_for(timeout=60_000)
        code = lect.locator(".class-code").inner_text().strip()
        wait_map(lect, "class.map")
        assert map_eval(lect, STARS, key="class.map") == []
        lect.get_by_text("0 drawings shown").first.wait_for(timeout=30_000)

        sctx = browser.new_context(viewport={"width": 1200, "height": 1000})
        contexts.append(sctx)
        stud = sctx.new_page()
        open_page(stud, server, f"Classroom?join={code}")
        wait_map(stud)
        # to the pad through the sidebar: the same session, still in the class
        stud.get_by_role("link", name="Draw your own").first.click()
        stud.wait_for_function(f"() => window.__latentlab && window.__latentlab.pads && {PAD} "
                               f"&& {PAD}.map.meta && {PAD}.encoder", timeout=90_000)
        wait_idle(stud)
        send = stud.get_by_role("button", name="Send to the class map")
        assert send.is_disabled()  # nothing drawn yet
        stud.locator("canvas.ld-pad").first.scroll_into_view_if_needed()
        _stroke(stud, [(0.5 + 0.25 * math.cos(t), 0.5 + 0.4 * math.sin(t))
                       for t in np.linspace(0, 2 * math.pi, 24)])
        stud.wait_for_function(f"() => {PAD}.result", timeout=10_000)
        sent_px = stud.evaluate(f"() => {PAD}.modelPixels()")
        assert len(sent_px) == 64 and max(sent_px) == 255  # the 8x8 model input, 0..255
        send.click()
        stud.get_by_text("Sent: your drawing is on the lecturer's map.").first.wait_for(
            timeout=30_000)
        sent_at = time.monotonic()
        shot(stud, "classdraw_student_sent")

        # the lecturer's map (refreshed every 2 s) shows the star at the class model's mu
        lect.wait_for_function(
            "() => { const m = window.__latentlab.maps.get('class.map');"
            " const o = m && m.data.overlays.find((o) => o.name === 'class drawings');"
            " return o && o.xy.length === 1; }", timeout=30_000)
        (x, y), = map_eval(lect, STARS, key="class.map")
        model, _ = checkpoints.load(checkpoints.SHIPPED_DIR / "digits_vae_z2.safetensors")
        xt = torch.tensor(sent_px, dtype=torch.float32).reshape(1, 1, 8, 8) / 255
        with torch.no_grad():
            mu, _ = model.encode(xt)
        assert (x, y) == pytest.approx(mu[0].tolist(), abs=1e-3)  # identity map: (x, y) = mu
        lect.get_by_text("1 drawing shown").first.wait_for(timeout=30_000)
        lect.get_by_text("D1. student").first.wait_for(timeout=30_000)  # the strip, enlarged
        lect.locator('[data-testid="stImage"]').last.scroll_into_view_if_needed()
        shot(lect, "classdraw_lecturer_map")
        # the lecturer hides the drawings: the star goes, and the student's next send (past
        # the 5 s between two drawings) is refused with a message
        lect.get_by_text("Show the class's drawings").first.click()
        lect.get_by_text("Drawings hidden").first.wait_for(timeout=30_000)
        assert map_eval(lect, STARS, key="class.map") == []
        time.sleep(max(0.0, 5.5 - (time.monotonic() - sent_at)))
        wait_idle(stud)
        send.click()
        stud.get_by_text("Not sent: the lecturer has hidden the class's drawings").first.wait_for(
            timeout=30_000)
    finally:
        for ctx in contexts:
            ctx.close()
