"""Lesson links (state <-> URL) and presenter mode, through AppTest on the real pages."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from aecore import checkpoints
from tests import mapspec
from ui import links, present
from ui.plaintext import escape_md

ROOT = Path(__file__).resolve().parents[1]
PAGE = {name: str(ROOT / "pages" / f) for name, f in (
    ("map", "1_Latent_map.py"), ("interp", "2_Interpolate.py"), ("prior", "3_Sample_prior.py"),
    ("cmp", "5_AE_vs_VAE.py"), ("anom", "6_Anomalies.py"), ("den", "7_Denoising.py"))}
AE_Z2 = str(checkpoints.SHIPPED_DIR / "digits_ae_z2.safetensors")


def _open(page: str, query: dict | None = None, timeout: float = 60) -> AppTest:
    at = AppTest.from_file(PAGE[page], default_timeout=timeout)
    at.query_params.update(query or {})
    return at.run()


def _reopen(at: AppTest, page: str) -> AppTest:
    """A fresh session (a student opening the link) with ``at``'s address."""
    q = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert q, "the page wrote no lesson link into its address"
    return _open(page, q)


def _state(at: AppTest, keys) -> dict:
    return {k: at.session_state[k] for k in keys}


def test_pick_text_round_trip_and_bad_values():
    for pick in ({"kind": "point", "index": 12}, {"kind": "grid", "x": 1.5, "y": -0.25}):
        assert links.parse_pick(links.format_pick(pick)) == pick
    for bad in ("", "p-1", "pabc", "g1", "gnan,0", "ginf,1", "g1e9,0", "x12"):
        with pytest.raises(ValueError):
            links.parse_pick(bad)


def test_latent_map_link_round_trip_restores_model_pick_and_presenter():
    at = _open("map")
    at.selectbox(key="w.side.model").select(AE_Z2).run()
    at.session_state["map.pick"] = {"kind": "grid", "x": -2.0, "y": 6.8}  # a hole of this AE
    at.toggle(key="w.side.presenter").set_value(True).run()
    assert not at.exception
    q = at.query_params
    assert q["model"] in ("digits_ae_z2", ["digits_ae_z2"]) and "presenter" in q and "pick" in q
    at2 = _reopen(at, "map")
    assert not at2.exception
    keys = ("side.model", "side.dataset", "side.projection", "map.pick", "side.presenter")
    assert _state(at2, keys) == _state(at, keys)
    # the same thing on the page: the decoded image at the same spot, with the hole warning
    assert any("Decoded at (-2.00, 6.80)" in m.value for m in at2.markdown)
    assert any("hole" in w.value for w in at2.warning)


def test_interpolation_link_round_trip():
    at = _open("interp", {"a": "5", "b": "40", "path": "slerp", "steps": "20"})
    assert not at.exception
    assert _state(at, ("interp.a", "interp.b", "interp.method", "interp.steps")) == {
        "interp.a": 5, "interp.b": 40, "interp.method": "slerp", "interp.steps": 20}
    at.number_input(key="interp.b").set_value(77).run()
    at2 = _reopen(at, "interp")
    assert at2.session_state["interp.b"] == 77 and at2.session_state["interp.method"] == "slerp"


def test_denoising_and_beta_and_prior_links_restore_their_controls():
    at = _open("den", {"img": "7", "noise": "masking", "level": "0.5"})
    assert not at.exception
    assert at.selectbox(key="den.kind").value == "masking"
    assert at.slider(key="den.level").value == 0.5
    assert at.number_input(key="den.index").value == 7
    at = _open("cmp", {"beta": "4"}, timeout=120)
    assert not at.exception and at.select_slider(key="cmp.beta").value == 4.0
    at = _open("prior", {"temp": "2.5", "seed": "9"})
    assert not at.exception
    assert at.slider(key="prior.temperature").value == 2.5
    assert at.number_input(key="prior.seed").value == 9


def test_bad_link_values_are_reported_and_skipped_not_raised():
    at = _open("interp", {"steps": "999", "path": "zigzag", "a": "100000", "bogus": "1",
                          "model": "../../etc/passwd"})
    assert not at.exception
    msgs = " ".join(w.value for w in at.warning)
    for name in ("steps", "path", "bogus", "model"):
        assert f"{name}=" in msgs or f"{name} is not" in msgs, name
    assert at.session_state["interp.steps"] == 12  # the widget's default, untouched
    assert at.session_state["interp.a"] == 359  # clamped to the last of 360 test images
    at = _open("map", {"model": "no_such_model"})
    assert not at.exception
    assert any(escape_md("no_such_model") in w.value for w in at.warning)


def test_presenter_mode_enlarges_recolours_and_hides_advanced_controls():
    plain = _open("map")
    pres = _open("map", {"presenter": "1"})
    assert not pres.exception
    labels = {s.label for s in pres.selectbox}
    assert "Projection" not in labels and "Model" in labels
    assert "Projection" in {s.label for s in plain.selectbox}
    assert not [e for e in pres.expander if e.label == "About this model"]
    assert any("font-size" in h.proto.body for h in pres.get("html"))

    # the in-browser map is told to restyle itself (the browser tests check the drawing)
    assert mapspec.map_data(pres)["presenter"] is True
    assert mapspec.map_data(plain)["presenter"] is False


def test_hidden_controls_come_from_the_link_and_can_be_shown_again():
    at = _open("map", {"hide": "dataset,model,formulas", "model": "digits_ae_z2"})
    assert not at.exception
    assert {s.label for s in at.sidebar.selectbox} == {"Projection"}
    assert any("digits_ae_z2" in c.value for c in at.sidebar.caption)
    assert not [e for e in at.expander if "formulas" in e.label]
    at.button(key="side.show_all").click().run()
    assert {"Dataset", "Model"} <= {s.label for s in at.selectbox}


def test_home_page_lessons_open_their_pages_in_the_intended_state():
    home = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not home.exception
    lesson_links = [p for p in home.get("page_link") if p.proto.query_string]
    assert len(lesson_links) == len(links.LESSONS) >= 3
    for lesson in links.LESSONS:
        at = AppTest.from_file(str(ROOT / lesson.page), default_timeout=120)
        at.query_params.update(lesson.params)
        at.run()
        assert not at.exception, lesson.title
        assert not at.warning or lesson.page.endswith("Latent_map.py"), (
            lesson.title, [w.value for w in at.warning])
        for k, v in lesson.expect.items():
            assert at.session_state[k] == v, (lesson.title, k)


def test_copy_lesson_link_button_shows_the_current_link():
    at = _open("den", {"noise": "masking"})
    at.button(key="side.link").click().run()
    assert not at.exception
    codes = [c.value for c in at.code]
    assert any("noise=masking" in c and "presenter" not in c for c in codes), codes


def test_presenter_px_and_restyle_leave_the_cached_figure_alone(monkeypatch):
    monkeypatch.setattr(present, "on", lambda: True)
    assert present.px(150) == 240
    monkeypatch.setattr(present, "on", lambda: False)
    assert present.px(150) == 150
    fig = {"data": [{"type": "scatter", "name": "3", "marker": {"size": 7, "color": "#d62728"}},
                    {"type": "scatter", "name": "no data nearby",
                     "marker": {"size": 3, "color": "#dadada"}}], "layout": {}}
    out = present.for_projector(fig)
    assert out["data"][0]["marker"] == {"size": 7 * present.MARKER_SCALE,
                                        "color": present.SAFE_COLORS[3],
                                        "symbol": present.SYMBOLS[3],
                                        "line": {"width": 0.5, "color": "#222"}}
    assert out["data"][1]["marker"]["size"] == 3  # the grey grid keeps its size
    assert fig["data"][0]["marker"] == {"size": 7, "color": "#d62728"}  # input untouched
    assert out["layout"]["font"]["size"] == present.FONT_SIZE


@pytest.mark.parametrize("page", ["map", "interp", "prior", "den"])
def test_hide_formulas_hides_every_pages_formulas(page):
    shown, hidden = _open(page), _open(page, {"hide": "formulas"})
    assert not hidden.exception
    assert [e for e in shown.expander if "formulas" in e.label]
    assert not [e for e in hidden.expander if "formulas" in e.label]


# -- issue 14: echoed values are plain text; changed values are reported ----------------------

INJECTIONS = ["1`![i](http://127.0.0.1:9/v.png)`", "x`[Reset password](http://e.co)`",
              ":red[ALERT] :rocket:", "$\\frac{1}{0}$", "<img src=//e.co/x>", "www.e.co",
              "http://e.co/a", "**bold** _it_", "1\n# heading"]


def _unescaped(md: str) -> list[str]:
    """Markdown-active text left in ``md`` (one line): punctuation without its backslash, or a
    ``:`` or ``.`` an autolink or emoji shortcode could use."""
    bad, i = [], 0
    while i < len(md):
        c = md[i]
        if c == "\\":
            i += 2
            if md[i - 1] in ":." and md[i:i + 1] != "\u200b":
                bad.append(md[i - 2:i + 1])
            continue
        if c in "!\"#$%&'()*+,-./:;<>?@[]^_`{|}~":  # "=" in one line is inert
            bad.append(c)
        i += 1
    return bad


@pytest.mark.parametrize("value", INJECTIONS)
def test_escape_md_leaves_nothing_markdown_can_use(value):
    md = escape_md(value)
    assert _unescaped(md) == [], md
    assert "\n" not in md
    # reading the escapes back gives the text itself (zero-width spaces aside)
    import re
    assert re.sub(r"\\(.)", r"\1", md).replace("\u200b", "") == value.replace("\n", " ")


@pytest.mark.parametrize("value", INJECTIONS)
def test_echoed_link_values_cannot_inject_markdown(value):
    """``/AE_vs_VAE?beta=1`![i](http://127.0.0.1:9/v.png)`` `` rendered an image inside the
    app's own warning (the value sat between backticks, and Python's float error repeats it)."""
    at = _open("cmp", {"beta": value, value[:20]: "1"})
    assert not at.exception
    msgs = [w.value for w in at.warning if "Lesson link" in w.value]
    assert len(msgs) == 2, msgs
    for m in msgs:
        body = m.split("Lesson link: ", 1)[1]
        assert _unescaped(body.split(" was ignored")[0].split(" is not a setting")[0]) == [], m


@pytest.mark.parametrize("img", ["360", "10000000"])
def test_ae_vs_vae_image_out_of_range_is_reported_not_a_crash(img):
    at = _open("cmp", {"img": img})
    assert not at.exception, at.exception
    assert any("images 0 to 359" in w.value for w in at.warning)
    assert at.session_state["cmp.pick"] == 359


def test_a_projection_the_model_lacks_is_reported():
    at = _open("map", {"model": "digits_vae_z2", "proj": "umap"})
    assert not at.exception
    assert any("no umap map" in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.session_state["side.projection"] == "identity"
