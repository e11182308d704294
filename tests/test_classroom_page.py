"""The Classroom page (AppTest): a lecturer opens a class, simulated students click, the
lecturer's map and strip show every click; a student joins by link and their clicks are sent."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from starlette.applications import Starlette
from starlette.testclient import TestClient

from aecore import checkpoints
from services import classapi
from services.classroom import ClassStore, default_db
from services.errors import BadClick
from tests import mapspec

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "9_Classroom.py")
AE_Z2 = str(checkpoints.SHIPPED_DIR / "digits_ae_z2.safetensors")


def _lecturer() -> tuple[AppTest, str]:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    start = [b for b in at.button if b.label.startswith("Start a class")]
    assert start, [b.label for b in at.button]
    start[0].click().run()
    assert not at.exception
    code = at.session_state["class.code"]
    assert any(code in m.value and "class-code" in m.value for m in at.markdown)
    return at, code


def _student(code: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["join"] = code
    return at.run()


def _pin(at, pick: dict):
    """Pin the student's map as its JavaScript does: POST the map's ``post`` body with the pick
    to the class API (this process's one store, as the app serves it)."""
    post = mapspec.map_data(at, "map.chart")["post"]
    client = TestClient(Starlette(routes=classapi.routes()))
    return client.post("/" + post["url"], json={**post["body"], "pick": pick})


def _class_traces(at) -> dict:
    """The class's clicks drawn on the lecturer's map, by overlay name: x, y and labels."""
    return {o["name"]: {"x": [p[0] for p in o["xy"]], "y": [p[1] for p in o["xy"]],
                        "text": o.get("text")}
            for o in mapspec.map_data(at, "class.map")["overlays"]}


def _captions(at) -> list[str]:
    """Captions of the page's images (the lecturer's join QR code has none)."""
    return [i.caption for img in at.get("image") for i in img.proto.imgs if i.caption]


def test_lecturer_sees_every_simulated_students_click_on_the_map_and_in_the_strip():
    at, code = _lecturer()
    assert any("Waiting for the first click" in i.value for i in at.info)
    assert sum(len(t["x"]) for t in _class_traces(at).values()) == 0
    students = ClassStore(default_db())  # other server threads: a separate store object
    for k in range(11):
        pick = ({"kind": "point", "index": 3 * k} if k % 2 else
                {"kind": "grid", "x": 0.1 * k, "y": -0.1 * k})
        students.add_click(code, f"s{k}", pick, name=f"Ann{k}")
    at.run()
    assert not at.exception
    tr = _class_traces(at)
    assert len(tr["class clicks"]["x"]) == 3 and len(tr["last clicks"]["x"]) == 8
    assert tr["last clicks"]["text"] == [str(i) for i in range(1, 9)]  # numbered as the strip
    caps = _captions(at)
    assert len(caps) == 8 and caps[0].startswith("1. Ann3") and caps[-1].startswith("8. Ann10")
    assert any("empty space" in c for c in caps) and any("image 27" in c for c in caps)
    assert any("**11** clicks" in m.value and "**11** students" in m.value for m in at.markdown)
    # nothing is fetched twice: a rerun without new clicks shows the same 11
    at.run()
    tr = _class_traces(at)
    assert len(tr["class clicks"]["x"]) + len(tr["last clicks"]["x"]) == 11


def test_student_joins_by_link_sees_the_class_model_and_their_clicks_reach_the_class():
    lect, code = _lecturer()
    at = _student(code)
    assert not at.exception
    assert not [s for s in at.selectbox if s.label in ("Dataset", "Model", "Projection")]
    assert any(code in m.value and "digits_vae_z2" in m.value for m in at.markdown)
    store = ClassStore(default_db())
    data = mapspec.map_data(at, "map.chart")
    assert data["pins"] and data["post"]["url"] == "api/class/click"  # relative to the page
    assert any("pin goes to the lecturer's map" in i.value for i in at.info)
    r = _pin(at, {"kind": "point", "index": 5})
    assert r.status_code == 200 and r.json()["ok"] is True
    assert [(c.kind, c.index) for c in store.clicks(code)] == [("point", 5)]
    at.run()  # a rerun is not a click: nothing is sent again
    assert not at.exception and len(store.clicks(code)) == 1
    r = _pin(at, {"kind": "grid", "x": 0.5, "y": 0.5})  # 0 s later: over the rate limit
    assert r.status_code == 429 and r.json()["retry_after_s"] > 0
    assert len(store.clicks(code)) == 1
    lect.run()
    assert sum(len(t["x"]) for t in _class_traces(lect).values()) == 1
    # "Show this pin in detail" (the map's trigger): the usual panel for that pin, one run,
    # and no second click for the class
    assert data["details"] is True
    at.session_state["class.detail"] = {"map": data["map"][4:],
                                        "pick": {"kind": "point", "index": 5}}
    at.run()
    assert not at.exception
    assert "original x" in _captions(at) and "reconstruction x̂" in _captions(at)
    assert mapspec.map_data(at, "map.chart")["pick"] == {"kind": "point", "index": 5}
    assert len(store.clicks(code)) == 1


def test_student_follows_the_lecturer_and_cannot_change_the_model():
    lect, code = _lecturer()
    stud = _student(code)
    stud.session_state["side.model"] = AE_Z2  # a student's own choice is ignored
    stud.run()
    assert any("digits_vae_z2" in m.value for m in stud.markdown)
    lect.selectbox(key="w.side.model").select(AE_Z2).run()
    assert not lect.exception
    assert ClassStore(default_db()).get(code).settings["name"] == "digits_ae_z2"
    stud.run()
    assert any("digits_ae_z2" in m.value for m in stud.markdown)


def test_bad_or_ended_class_codes_get_a_clear_message():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["join"] = "0OIL1"
    at.run()
    assert not at.exception
    assert any("Cannot join" in e.value for e in at.error)
    lect, code = _lecturer()
    stud = _student(code)
    next(b for b in lect.button if b.label == "End the class").click().run()
    assert not lect.exception and "class.code" not in lect.session_state
    stud.run()
    assert not stud.exception
    assert any("ended" in e.value for e in stud.error)


def test_lecturer_reopens_the_class_after_a_reload_with_the_private_link_only():
    lect, code = _lecturer()
    lect.selectbox(key="w.side.model").select(AE_Z2).run()  # the class now uses the AE
    token = lect.session_state["class.token"]
    ClassStore(default_db()).add_click(code, "s1", {"kind": "point", "index": 4})
    again = AppTest.from_file(PAGE, default_timeout=60)
    again.query_params["teach"] = f"{code}.{token}"
    again.run()  # a new session: the reloaded tab
    assert not again.exception
    assert again.session_state["class.role"] == "lecturer"
    assert "teach" not in again.query_params  # the secret left the address bar
    assert ClassStore(default_db()).get(code).settings["name"] == "digits_ae_z2"  # kept
    assert sum(len(t["x"]) for t in _class_traces(again).values()) == 1
    wrong = AppTest.from_file(PAGE, default_timeout=60)
    wrong.query_params["teach"] = f"{code}.not-the-token"
    wrong.run()
    assert not wrong.exception and "class.role" not in wrong.session_state
    assert any("cannot reopen" in e.value for e in wrong.error)


def test_switching_model_starts_a_fresh_map_and_bad_indices_never_break_it():
    lect, code = _lecturer()
    students = ClassStore(default_db())
    students.add_click(code, "s1", {"kind": "point", "index": 4})
    lect.run()
    assert sum(len(t["x"]) for t in _class_traces(lect).values()) == 1
    lect.selectbox(key="w.side.model").select(AE_Z2).run()  # another map: old clicks go
    assert not lect.exception
    assert sum(len(t["x"]) for t in _class_traces(lect).values()) == 0
    # not on this map, or far outside it: the store refuses both (the class's settings hold
    # the map's extent and size); the lecturer's map would not draw them either
    with pytest.raises(BadClick, match="360 images"):
        students.add_click(code, "s2", {"kind": "point", "index": 9_999_999})
    with pytest.raises(BadClick, match="off the class's map"):
        students.add_click(code, "s3", {"kind": "grid", "x": 1e6, "y": -1e6})
    lect.run()
    assert not lect.exception
    # neither is drawn: one forged spot would otherwise stretch the projector's axes
    assert sum(len(t["x"]) for t in _class_traces(lect).values()) == 0
    assert mapspec.map_data(lect, "class.map")["view"] is None  # the map's own extent
    students.add_click(code, "s4", {"kind": "grid", "x": 0.5, "y": -0.5})  # on the map
    lect.run()
    assert sum(len(t["x"]) for t in _class_traces(lect).values()) == 1


def test_a_student_joining_with_the_form_keeps_their_name_on_every_click():
    _, code = _lecturer()
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.text_input[0].input(code.lower())  # codes are case-insensitive
    at.text_input[1].input("Ada")
    next(b for b in at.button if b.label == "Join").click().run()
    assert not at.exception and at.session_state["class.role"] == "student"
    at.run()  # more runs without the form on the page must not lose the name
    assert _pin(at, {"kind": "point", "index": 7}).status_code == 200
    clicks = ClassStore(default_db()).clicks(code)
    assert [(c.name, c.index) for c in clicks] == [("Ada", 7)]


# -- issue 14 / issue 13 item 10 ---------------------------------------------------------------

HOSTILE = ["![](http://127.0.0.1:9/)", ":red[ALERT] :rocket:", "$\\frac{1}{0}$",
           "http://e.co/x", "<a href='//e.co'>x</a>", "**bold** _it_"]


def _markdown_texts(at) -> list[str]:
    """Every element Streamlit renders as Markdown."""
    out = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "toast",
                 "subheader", "title", "header"):
        out += [e.value for e in at.get(kind)]
    out += [b.label for b in at.button] + [e.label for e in at.expander]
    return out


def test_student_names_reach_the_projector_only_as_plain_text():
    """``![](http://127.0.0.1:9/)`` as a name put an <img> on the lecturer's page."""
    lect, code = _lecturer()
    store = ClassStore(default_db())
    for k, name in enumerate(HOSTILE):
        store.join(code, f"h{k}", name, address="10.1.1.1")
        store.add_click(code, f"h{k}", {"kind": "point", "index": k}, name=name)
    lect.run()
    assert not lect.exception
    caps = _captions(lect)  # image captions are plain text
    for name in HOSTILE:
        assert any(name in c for c in caps), name
        assert not [t for t in _markdown_texts(lect) if name in t], name
    table = lect.dataframe[0].value  # the students table: plain text
    assert sorted(table["name"]) == sorted(HOSTILE)


def test_join_refuses_an_invisible_character_in_the_name_at_the_form():
    _, code = _lecturer()
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.text_input[0].input(code)
    at.text_input[1].input("👩\u200d💻Ada")  # an emoji ZWJ sequence
    next(b for b in at.button if b.label == "Join").click().run()
    assert not at.exception and "class.role" not in at.session_state
    assert any("Cannot join" in e.value and "invisible" in e.value for e in at.error)
    at.text_input[1].input("Zoe\u00a0Cafe\u0301")  # a no-break space and NFD: normalised
    next(b for b in at.button if b.label == "Join").click().run()
    assert at.session_state["class.name"] == "Zoe Café"


def test_lecturer_removes_blocks_clears_and_locks():
    lect, code = _lecturer()
    store = ClassStore(default_db())
    for s in ("a", "b", "c"):
        store.join(code, s, s.upper() + "nn", address="10.2.2.2")
        store.add_click(code, s, {"kind": "point", "index": 1}, name=s.upper() + "nn")
    lect.run()
    assert any("**3** students" in m.value for m in lect.markdown)
    lect.selectbox(key="class.who").select("b")
    lect.button(key="class.block").click().run()
    assert not lect.exception
    with pytest.raises(Exception, match="removed you"):
        store.join(code, "b", address="10.2.2.2")
    assert any("**2** students · **2** clicks" in m.value for m in lect.markdown)
    assert sum(len(t["x"]) for t in _class_traces(lect).values()) == 2
    lect.toggle(key="class.lock").set_value(True).run()
    assert store.get(code).locked
    with pytest.raises(Exception, match="closed joining"):
        store.join(code, "late", address="10.2.2.3")
    lect.button(key="class.clear").click().run()
    assert store.counts(code)["clicks"] == 0
    assert sum(len(t["x"]) for t in _class_traces(lect).values()) == 0


def test_start_a_class_is_folded_away_below_join():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    labels = [b.label for b in at.button]
    start = next(b for b in at.button if b.label.startswith("Start a class"))
    assert labels.index("Join") < labels.index(start.label)
    assert start.proto.type != "primary"  # not the red button under Join any more
    assert any(e.label == "Lecturer: start a class" for e in at.expander)


def test_after_a_model_switch_counts_strip_and_student_address_agree():
    lect, code = _lecturer()
    stud = _student(code)
    assert _pin(stud, {"kind": "point", "index": 5}).status_code == 200
    lect.run()
    assert any("**1** click" in m.value for m in lect.markdown)
    lect.selectbox(key="w.side.model").select(AE_Z2).run()
    # the header said "1 student · 2 clicks" while the strip waited for the first click
    assert any("**1** student · **0** clicks" in m.value for m in lect.markdown)
    assert any("Waiting for the first click" in i.value for i in lect.info)
    stud.run()
    assert stud.query_params["model"] in ("digits_ae_z2", ["digits_ae_z2"])
