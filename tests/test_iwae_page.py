"""The IWAE bound lesson: its curves file, and its words against the chart it draws."""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import iwae, links, state, text

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "16_IWAE_bound.py")
SHIPPED_VAES = ["digits_vae_z2", "digits_vae_z16", "digits_bvae_b0.1_z2", "digits_bvae_b2_z2",
                "digits_bvae_b4_z2", "mnist_vae_z2", "mnist_vae_z16", "mnist_convvae_z16"]


def test_every_shipped_vae_has_a_curve_that_rises_to_k_5000():
    curves = json.loads(iwae.CURVES.read_text())["curves"]
    assert sorted(curves) == sorted(SHIPPED_VAES)
    for name, c in curves.items():
        assert c["ks"][0] == 1 and c["ks"][-1] == 5000 == c["k"], name
        assert len(c["L"]) == len(c["ks"])
        assert c["L"][-1] > c["L"][0], name  # the bound tightened (gaps measured 0.4 to 6 nats)
        assert all(b >= a - 0.02 for a, b in zip(c["L"], c["L"][1:])), name  # rises with k


def _chart(at) -> dict:
    """The L_k figure (the page's only chart with a log x axis; the others are layer diagrams)."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return next(s for s in specs if s["layout"].get("xaxis", {}).get("type") == "log")


def _run(**params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update(params)
    return at.run()


@pytest.mark.parametrize("model", ["digits_vae_z16", "digits_bvae_b0.1_z2"])
def test_the_sentence_states_the_numbers_the_chart_shows(model):
    at = _run(dataset="digits", model=model)
    assert not at.exception
    assert at.session_state[state.MODEL_NAME] == model
    trace = _chart(at)["data"][0]
    ks, ls = trace["x"], trace["y"]
    assert ks[0] == 1 and ks[-1] == 5000
    words = next(m.value for m in at.markdown if m.value.startswith(f"**{model}**"))
    assert f"L_1 (the ELBO) is **{ls[0]:.2f}**" in words
    assert f"L_5000 is **{ls[-1]:.2f}**" in words
    assert f"by **{ls[-1] - ls[0]:.2f}** nats" in words
    assert ls[-1] - ls[0] > 0.3  # "raised the bound": measured 0.38 (z16) and 1.53 (beta 0.1)
    rows = at.dataframe[0].value
    assert set(rows["model"]) == set(SHIPPED_VAES)


def test_a_plain_ae_falls_back_to_a_shipped_vae():
    at = _run(dataset="digits", model="digits_ae_z2")
    assert not at.exception
    assert any(text.IWAE_FALLBACK.format(name="digits_vae_z16") == c.value for c in at.caption)
    assert _chart(at)["data"][0]["name"] == "digits_vae_z16"


def test_the_lesson_link_opens_its_model():
    lesson = next(les for les in links.LESSONS if les.page.endswith("16_IWAE_bound.py"))
    at = _run(**lesson.params)
    assert not at.exception
    for key, want in lesson.expect.items():
        assert at.session_state[key] == want
