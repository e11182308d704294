"""Class questions in real browsers (Playwright + Debian chromium): a lecturer and three
students in separate contexts (one a phone at 390×844); the students' answers appear in the
lecturer's chart, and the reveal switches every student's map to the question's demo state.
Screenshots land in test-artifacts/."""
import pytest

from tests.e2e import open_page, shot, wait_idle, wait_map

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHART_JS = ("() => [...document.querySelectorAll('.js-plotly-plot')]"
            ".filter(d => d.data && d.data[0].orientation === 'h')"
            ".map(d => Array.from(d.data[0].x))")


def test_lecturer_and_three_students_answer_reveal_and_maps_switch(server, browser):
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
        assert lect.get_by_text("Scan to join").count() == 1  # the QR code beside the code
        students = []
        for k in range(3):
            phone = k == 0
            ctx = browser.new_context(
                viewport={"width": 390, "height": 844} if phone else {"width": 1200,
                                                                      "height": 900},
                has_touch=phone, is_mobile=phone)
            contexts.append(ctx)
            s = ctx.new_page()
            open_page(s, server, f"Classroom?join={code}")
            wait_map(s)
            assert s.get_by_text("digits_vae_z2").count() >= 1
            students.append(s)
        # the lecturer sends the hole question (its lesson: the plain AE's map, a gap pinned)
        wait_idle(lect)
        box = lect.get_by_role("combobox", name="Ask the class a question", exact=True)
        box.click()
        box.fill("gap between its clusters")
        lect.keyboard.press("Enter")
        wait_idle(lect)
        lect.get_by_role("button", name="Send").click()
        wait_idle(lect)
        for k, s in enumerate(students):  # answers B, C, C
            s.get_by_text("gap between its clusters").first.wait_for(timeout=30_000)
            # the answer box (ui/web/answerbox.js): sent to the class API, no script run
            s.get_by_role("radio", name="BCC"[k], exact=True).click()
            s.get_by_role("button", name="Send my answer").click()
            s.get_by_text(f"Your answer: {'BCC'[k]}.").first.wait_for(timeout=30_000)
        shot(students[0], "quiz_phone_answered")
        lect.get_by_text("3 of 3 answered").first.wait_for(timeout=30_000)
        lect.wait_for_function(CHART_JS.replace("() =>", "() => JSON.stringify(") + ") === "
                               "JSON.stringify([[0, 1, 2, 0]])", timeout=30_000)
        shot(lect, "quiz_lecturer_answers")
        lect.get_by_role("button", name="Reveal the answer").click()
        lect.get_by_text("answered right").first.wait_for(timeout=30_000)
        shot(lect, "quiz_lecturer_revealed")
        for s in students:  # each student's map: the AE, the gap pinned, its decoded image
            s.get_by_text("Decoded at (-2.00, 6.80)").first.wait_for(timeout=30_000)
            assert s.get_by_text("digits_ae_z2").count() >= 1
        assert students[0].get_by_text("Incorrect").count() >= 1  # B was wrong
        assert students[1].get_by_text("Right").count() >= 1
        shot(students[0], "quiz_phone_revealed")
    finally:
        for ctx in contexts:
            ctx.close()
