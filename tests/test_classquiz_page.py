"""The Classroom page's class questions (AppTest): the lecturer sends a question, the students'
answers appear as counts in the lecturer's chart, the reveal shows the answer and switches the
class's map (the lecturer's sidebar and every student's map) in the same step; the join QR code;
the pre/post CSV."""
import csv
import io
import json
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from services import classapi
from services.classquiz import PrePost
from services.classroom import ClassStore, default_db
from ui import classquiz

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "9_Classroom.py")


def _lecturer() -> tuple[AppTest, str]:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    next(b for b in at.button if b.label.startswith("Start a class")).click().run()
    assert not at.exception
    return at, at.session_state["class.code"]


def _student(code: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["join"] = code
    return at.run()


def _answer_box(at) -> dict:
    """The data the student's answer box (ui/answerbox.py) was mounted with."""
    box = next(c for c in at.get("bidi_component") if c.key.startswith("quiz.answer."))
    return json.loads(box.proto.json)


def _answer(at, choice: int):
    """Answer as the box's JavaScript does: POST its body with the choice to the class API."""
    box = _answer_box(at)
    client = TestClient(Starlette(routes=classapi.routes()))
    return client.post("/" + box["url"], json={**box["body"], "choice": choice})


def _chart_counts(at) -> list[int]:
    """The bars of the lecturer's answers chart."""
    chart = next(c for c in at.get("plotly_chart") if "quiz.chart" in c.proto.id)
    return list(json.loads(chart.proto.spec)["data"][0]["x"])


def test_answers_reach_the_chart_and_the_reveal_switches_the_class_map():
    lect, code = _lecturer()
    assert any("Scan to join" in c.value for c in lect.caption)
    stud = _student(code)
    assert not stud.exception and stud.session_state["class.role"] == "student"
    # the lecturer sends the hole question (the plain AE's map, a gap pinned)
    qs = classquiz.class_questions()
    k = [q.id for q in qs].index("hole-picture")
    lect.selectbox(key="quiz.pick").set_value(k).run()
    lect.button(key="quiz.send").click().run()
    assert not lect.exception
    assert _chart_counts(lect) == [0, 0, 0, 0]
    # the student sees it (pictures A-D) and answers B, then changes to C before the reveal
    stud.run()
    assert not stud.exception
    assert any("gap between its clusters" in m.value.replace("\\", "") for m in stud.markdown)
    box = _answer_box(stud)
    assert box["options"] == ["A", "B", "C", "D"] and box["horizontal"] and box["mine"] is None
    assert box["url"] == "api/class/answer"
    r = _answer(stud, 1)
    assert r.status_code == 200 and r.json() == {"ok": True, "choice": 1}
    lect.run()
    assert _chart_counts(lect) == [0, 1, 0, 0]
    assert any("**1** of **1** answered" in m.value for m in lect.markdown)
    assert _answer(stud, 2).status_code == 429  # the store's answer pacing
    time.sleep(0.35)
    assert _answer(stud, 2).status_code == 200
    stud.run()  # a reload shows the stored answer
    assert _answer_box(stud)["mine"] == 2
    forged = {**_answer_box(stud)["body"], "student": "someone-else", "choice": 0}
    client = TestClient(Starlette(routes=classapi.routes()))
    assert client.post("/api/class/answer", json=forged).status_code == 403
    lect.run()
    assert _chart_counts(lect) == [0, 0, 1, 0]  # one answer per student, changed
    # reveal: answer shown, the class's map switches to the AE with the gap pinned
    lect.button(key="quiz.reveal").click().run()
    assert not lect.exception
    assert any("Answer" in s.value and "C" in s.value for s in lect.success)
    settings = ClassStore(default_db()).get(code).settings
    assert settings["name"] == "digits_ae_z2" and settings["projection"] == "identity"
    assert lect.session_state["side.model_name"] == "digits_ae_z2"  # the class keeps it
    stud.run()
    assert not stud.exception
    assert stud.session_state["map.pick"] == {"kind": "grid", "x": -2.0, "y": 6.8}
    assert any(m.value.startswith("#### Decoded at (-2.00, 6.80)") for m in stud.markdown)
    assert any("digits_ae_z2" in m.value for m in stud.markdown)
    assert any(s.value.startswith("Right") for s in stud.success)
    assert not ClassStore(default_db()).clicks(code)  # the demo pick is not a student's click
    assert not [c for c in stud.get("bidi_component") if c.key.startswith("quiz.answer.")]
    time.sleep(0.35)  # past the answer pacing: what refuses it now is the reveal
    late = client.post("/api/class/answer", json={**forged, "student": box["body"]["student"]})
    assert late.status_code == 409 and "revealed" in late.json()["error"]  # answers closed


def test_pre_post_csv_has_one_row_per_question():
    rows = [PrePost("dae-target", 25.0, 4, 75.0, 4, ("pre", "post")),
            PrePost("kl-zero", None, 0, 50.0, 2, ("post",))]
    got = list(csv.reader(io.StringIO(classquiz.csv_bytes(rows).decode())))
    assert got[0][0] == "question_id" and len(got) == 3
    assert got[1][0] == "dae-target" and got[1][2:] == ["25.0", "4", "75.0", "4"]
    assert got[2][2:] == ["", "0", "50.0", "2"]


def test_join_qr_code_encodes_the_join_link():
    import numpy as np
    import segno
    from PIL import Image

    url = "http://lab.example:8501/Classroom?join=K7QX2"
    img = np.asarray(Image.open(io.BytesIO(classquiz.qr_png(url, scale=8))).convert("L"))
    modules = img[::8, ::8] < 128  # one sample per module (8 px each), dark = True
    want = np.array([[bool(v) for v in row] for row in segno.make(url, error="m").matrix])
    assert modules.shape == (want.shape[0] + 4, want.shape[1] + 4)  # a 2-module quiet zone
    assert (modules[2:-2, 2:-2] == want).all() and not modules[:2].any()
    other = segno.make(url.replace("K7QX2", "K7QX3"), error="m").matrix
    assert not (np.array([[bool(v) for v in r] for r in other]) == want).all()
