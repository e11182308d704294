"""AppTest of the bottleneck-size and posterior-collapse lessons: each renders from its lesson
link, and its sentences state the numbers computed here, independently, from the same shipped
checkpoints and data (and the numbers its charts draw)."""
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from aecore import capacity, checkpoints, load_dataset
from aecore.collapse import collapse_report
from aecore.recipes import CAPACITY_SWEEP
from ui import bottleneck, collapseview, links

ROOT = Path(__file__).resolve().parents[1]


def _lesson(page: str) -> links.Lesson:
    return next(les for les in links.LESSONS if les.page.endswith(page))


def _run(lesson: links.Lesson) -> AppTest:
    at = AppTest.from_file(str(ROOT / lesson.page), default_timeout=180)
    at.query_params.update(lesson.params)
    return at.run()


def _load(name: str):
    return checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")[0]


def _chart(at, key: str) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart") if c.proto.id and key in
                           c.proto.id).proto.spec)


def _row(name: str, train, test) -> bottleneck.Row:
    """The numbers of one model, computed here as the page's cache computes them."""
    m = _load(name)
    probes = capacity.probe_inputs(test.x[:bottleneck.N_SHOWN], n=bottleneck.N_SHOWN, seed=0)
    r = capacity.copy_test(m, probes, seed=0, score_on=test.x)
    tr, te = capacity.sweep_errors(m, train, test)
    return bottleneck.Row(name, m.config.latent_dim, tr, te, r.errors["digits"],
                          r.errors["uniform noise"], r.errors["letter stroke"], r.score,
                          r.outputs)


def test_bottleneck_lesson_says_what_its_charts_show():
    at = _run(_lesson("10_Bottleneck.py"))
    assert not at.exception, at.exception
    train, test = load_dataset("digits", "train"), load_dataset("digits", "test")
    rs = [_row(bottleneck.SWEEP[z], train, test) for z in CAPACITY_SWEEP]
    said = [m.value for m in at.markdown]
    assert bottleneck.sweep_sentence(rs) in said
    assert bottleneck.copy_sentence(rs) in said
    sweep = _chart(at, "cap.sweep")
    test_trace = next(t for t in sweep["data"] if t["name"] == "test")
    assert np.allclose(test_trace["y"], [r.test for r in rs], atol=1e-6)
    copy = _chart(at, "cap.copy")
    score = next(t for t in copy["data"] if t["name"] == "noise-copy score")
    assert np.allclose(score["y"], [r.score for r in rs], atol=1e-6)
    # the lesson switched on denoising and sparsity: one verdict each, against z = 128
    for key in ("denoise", "sparse"):
        assert bottleneck.fix_sentence(key, _row(bottleneck.FIXES[key], train, test),
                                       rs[-1]) in said
    assert not any(m.startswith("Dropout") or m.startswith("Weight decay") for m in said)
    mine = at.session_state["side.model_name"]  # the sidebar's model: its own copy test
    assert mine == "digits_ae_z16"
    assert bottleneck.mine_sentence(_row(mine, train, test), 64) in said


def test_collapse_lesson_counts_the_active_units_its_bars_show():
    lesson = _lesson("11_Posterior_collapse.py")
    at = _run(lesson)
    assert not at.exception, at.exception
    test = load_dataset("digits", "test")
    reps = {k: collapse_report(_load(n), test) for k, n in collapseview.LESSON.items()}
    said = [m.value for m in at.markdown]
    assert collapseview.lesson_sentence(reps) in said
    bars = _chart(at, "pc.lesson")["data"]
    for trace, rep in zip(bars, reps.values()):  # blue bars = the active units counted
        assert sum(c == "#1f77b4" for c in trace["marker"]["color"]) == rep.active
    # the home page's blurb of this lesson states these counts
    assert "all 16 latent dimensions off" in lesson.blurb and "keep all 16 active" in lesson.blurb
    assert (reps["plain"].active, reps["cyc"].active, reps["fb"].active) == (0, 0, 16)
    mine = reps["plain"]  # the lesson link selects digits_vae_z16_b4 in the sidebar
    assert any(f"**{mine.active}** of 16 units active" in s and
               f"**{mine.total_kl:.2f}** nats" in s for s in said)


def test_collapse_page_says_a_plain_ae_has_no_posterior():
    at = AppTest.from_file(str(ROOT / "pages" / "11_Posterior_collapse.py"), default_timeout=180)
    at.query_params.update({"dataset": "digits", "model": "digits_ae_z2"})
    at.run()
    assert not at.exception
    assert any("is not a VAE" in i.value for i in at.info)
