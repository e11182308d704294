"""AppTest of "Check your understanding": the student commits before the explanation shows, and
"Show me" applies the question's page state."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui import questionbank

ROOT = Path(__file__).resolve().parents[1]
MAP_PAGE = str(ROOT / "pages" / "1_Latent_map.py")


def _select(at, tag: str, qid: str):
    """Show question ``qid`` in the section of page ``tag``."""
    qs = questionbank.for_page(tag)
    k = [q.id for q in qs].index(qid)
    at.selectbox(key=f"checks.pick.{tag}").set_value(k).run()
    assert not at.exception
    return qs[k]


def test_commit_then_reveal_and_show_me_applies_the_questions_state():
    at = AppTest.from_file(MAP_PAGE, default_timeout=60).run()
    assert not at.exception
    assert any(e.label == "Check your understanding" for e in at.expander)
    q = _select(at, "Latent_map", "hole-picture")
    assert q.kind == "picture" and q.answer == 2
    # four candidate images labelled A-D; before committing: no explanation, no "Show me"
    assert [c for img in at.get("image") for c in (i.caption for i in img.proto.imgs)] \
        == ["A", "B", "C", "D"]
    texts = lambda: " ".join(e.value for e in [*at.markdown, *at.success, *at.error])  # noqa: E731
    assert q.explain[:30] not in texts() and "Incorrect" not in texts()
    assert not [b for b in at.button if b.label == "Show me"]
    commit = at.button(key=f"checks.commit.{q.id}")
    assert commit.disabled  # nothing chosen yet
    at.radio(key=f"checks.choice.{q.id}").set_value(0).run()  # a wrong answer: the nearest image
    at.button(key=f"checks.commit.{q.id}").click().run()
    assert not at.exception
    assert at.session_state["checks.progress"][q.id] == {"choice": 0, "correct": False}
    assert any("Incorrect" in e.value for e in at.error)  # why A is wrong ...
    assert at.radio(key=f"checks.choice.{q.id}").disabled  # committed: no changing it now
    assert "The answer" in texts()  # ... and which is right
    assert at.session_state["map.pick"] is None
    at.button(key=f"checks.show.{q.id}").click().run()
    assert not at.exception
    # the question's lesson link: the AE's identity map with the gap pinned
    assert at.session_state["map.pick"] == {"kind": "grid", "x": -2.0, "y": 6.8}
    assert at.session_state["side.model_name"] == "digits_ae_z2"
    assert any(m.value.startswith("#### Decoded at (-2.00, 6.80)") for m in at.markdown)


def test_flashcard_reveals_only_after_the_student_asks_then_self_grades():
    at = AppTest.from_file(MAP_PAGE, default_timeout=60).run()
    q = _select(at, "Latent_map", "vae-logvar")
    assert not [i for i in at.info if q.back[:20] in i.value.replace("\\", "")]
    at.button(key=f"checks.reveal.{q.id}").click().run()
    assert any("log σ² can be any real number" in i.value.replace("\\", "").replace("\u200b", "")
               for i in at.info)
    at.button(key=f"checks.grade.knew.{q.id}").click().run()
    assert not at.exception
    assert at.session_state["checks.progress"][q.id] == {"grade": "knew"}


def test_section_is_hidden_in_presenter_mode():
    at = AppTest.from_file(MAP_PAGE, default_timeout=60)
    at.query_params["presenter"] = "1"
    at.run()
    assert not at.exception
    assert not any(e.label == "Check your understanding" for e in at.expander)
