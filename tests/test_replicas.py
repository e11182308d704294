"""Two replicas behind nginx on one PostgreSQL class store (issue 18), in real browsers.

The stack is deploy/stack.py's: two ``streamlit run app.py`` replicas on loopback ports, nginx
in front with sticky sessions, one scratch PostgreSQL schema, one shared user-model folder.
Needs nginx and the PostgreSQL test server (``.ci/run`` installs and starts both; elsewhere the
test is skipped, or fails under ``LATENTLAB_REQUIRE_POSTGRES=1``).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import time
from pathlib import Path

import pytest

from aecore.checkpoints import SHIPPED_DIR
from services.classroom import ClassStore
from tests import pgtest
from tests.e2e import (isolated_point, map_eval, open_page, picked_model, point_xy, shot,
                       wait_idle, wait_map)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]
CLICKS_JS = "(m) => m.data.overlays.reduce((s, o) => s + o.xy.length, 0)"


def _stack_module():
    spec = importlib.util.spec_from_file_location("stack", ROOT / "deploy" / "stack.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def stack(tmp_path):
    if shutil.which("nginx") is None:
        msg = "nginx is not installed"
        if os.environ.get(pgtest.REQUIRE_ENV) == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    with pgtest.scratch_url() as url:
        with _stack_module().Stack(url, 2, run_dir=tmp_path / "stack") as s:
            yield s


def _join_and_click(browser, url: str, code: str, name: str):
    """A student opens ``url``'s Classroom with ``?join=CODE`` and pins an isolated point;
    returns (context, page, replica port that served the page) once the map says the pin
    arrived (the class API answered after the store wrote it)."""
    ctx = browser.new_context(viewport={"width": 1200, "height": 1000})
    pg = ctx.new_page()
    resp = pg.goto(f"{url}/Classroom?join={code}")
    served_by = resp.headers.get("x-latentlab-replica", url).rsplit(":", 1)[-1]
    pg.wait_for_selector("h1", timeout=60_000)
    wait_idle(pg)
    wait_map(pg)
    pg.mouse.click(*point_xy(pg, isolated_point(pg)))
    pg.get_by_text("Sent to the lecturer's map").first.wait_for(timeout=30_000)
    shot(pg, f"replicas_{name}")
    return ctx, pg, int(served_by)


def _lecturer_sees(lect, n: int) -> None:
    lect.wait_for_function(
        "(n) => { const m = window.__latentlab.maps.get('class.map');"
        " return m && m.data.overlays.reduce((s, o) => s + o.xy.length, 0) >= n; }",
        arg=n, timeout=30_000)


def test_a_class_spans_replicas_and_survives_a_killed_one(stack, browser):
    """Lecturer on replica A, students through nginx and on the other replica: every click
    reaches the lecturer's map. Then the replica of the student who came through nginx is
    SIGKILLed: no acknowledged click is lost, and that student's browser reconnects through
    nginx to the other replica and clicks again. The killed replica, restarted, serves the
    class again. A model saved into the shared user folder appears on both replicas."""
    ctxs = []
    try:
        lect_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        ctxs.append(lect_ctx)
        lect = lect_ctx.new_page()
        open_page(lect, stack.replica_url(0), "Classroom")
        lect.get_by_text("Lecturer: start a class").first.click()
        lect.get_by_role("button", name="Start a class").first.click()
        lect.locator(".class-code").wait_for(timeout=60_000)
        code = lect.locator(".class-code").inner_text().strip()
        wait_map(lect, "class.map")

        ctx, via, port = _join_and_click(browser, stack.url, code, "student_via_nginx")
        ctxs.append(ctx)
        hit = stack.replica_ports.index(port)  # the replica nginx chose for this browser
        other = 1 - hit
        ctx, _, _ = _join_and_click(browser, stack.replica_url(other), code, "student_direct")
        ctxs.append(ctx)
        _lecturer_sees(lect, 2)
        store = ClassStore(stack.database_url)
        assert store.counts(code) == {"clicks": 2, "students": 2}

        if hit == 0:  # the lecturer is on the replica about to die: reopen on the other one
            lect.get_by_text("Reopen this class after a reload").first.click()
            link = lect.locator("code", has_text="teach=").first.inner_text()
            lect.close()
            lect = lect_ctx.new_page()
            open_page(lect, stack.replica_url(1), "Classroom?" + link.split("?", 1)[1].strip())
            wait_map(lect, "class.map")
            _lecturer_sees(lect, 2)
        stack.kill_replica(hit)  # a crash of the replica the nginx student is on
        assert store.counts(code)["clicks"] == 2  # acknowledged clicks are in PostgreSQL
        # that student's browser reconnects through nginx (to the surviving replica), rejoins
        # from ?join=CODE and clicks again
        for _ in range(30):
            via.mouse.click(*point_xy(via, isolated_point(via)))
            time.sleep(2)
            if store.counts(code)["clicks"] >= 3:
                break
        assert store.counts(code)["clicks"] == 3
        shot(via, "replicas_student_after_kill")

        stack.start_replica(hit)  # restarted: it serves the class again
        ctx, _, _ = _join_and_click(browser, stack.replica_url(hit), code, "student_restarted")
        ctxs.append(ctx)
        assert store.counts(code)["clicks"] == 4
        _lecturer_sees(lect, 4)
        assert map_eval(lect, CLICKS_JS, key="class.map") == 4
        shot(lect, "replicas_lecturer_sees_all")

        # a model saved on one replica (here: into the shared folder) is listed on both
        shutil.copy(SHIPPED_DIR / "digits_ae_z2.safetensors",
                    stack.user_dir / "shared_ae.safetensors")
        for i in range(2):
            pg = ctx.new_page()
            open_page(pg, stack.replica_url(i), "Latent_map?model=shared_ae")
            wait_map(pg)
            assert "shared_ae" in picked_model(pg)
            assert map_eval(pg, "(m) => m.n") == 360
    finally:
        for c in ctxs:
            c.close()
