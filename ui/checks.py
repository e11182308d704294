""""Check your understanding": the question bank's questions for one page, at its bottom.

Predict, then see: the student commits to an answer first; only then does the section show
whether it was right, the explanation of every option, and a "Show me" button that applies the
question's page state (its lesson link: :func:`ui.links.apply_params` on this page, or
``st.switch_page`` with the link's parameters to another page). Flashcards: recall, reveal,
grade yourself. Progress is kept per browser session (``state.CHECKS_PROGRESS``). Hidden in
presenter mode: on a projector the class answers on the Classroom page instead.

Each page calls :func:`section` once, with its tag (the page file's name without its number).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from . import cache, links, present, state, text
from .plaintext import escape_md
from .questionbank import Question, for_page

HOME = "app.py"


def page_file(tag: str) -> str:
    """The file of the page tagged ``tag`` (``"Latent_map"`` -> ``pages/1_Latent_map.py``;
    ``"Home"`` -> ``app.py``), or ``""`` for a page this app does not have (yet)."""
    if tag == "Home":
        return HOME
    return next((p for p in text.PAGES if Path(p).stem.split("_", 1)[-1] == tag), "")


def page_title(path: str) -> str:
    """The title a page passes to ``page_setup`` (its lesson-link parameters' page name)."""
    return "Home" if path == HOME else text.PAGES[path][0]


def progress() -> dict:
    """The answers of this browser session, by question id: ``{"choice": i, "correct": bool}``, or
    ``{"grade": "knew" | "again"}`` for a flashcard."""
    return st.session_state.setdefault(state.CHECKS_PROGRESS, {})


def section(tag: str) -> None:
    """The page's "Check your understanding" expander (nothing in presenter mode or when the
    bank has no question for ``tag``)."""
    qs = for_page(tag)
    if not qs or present.on():
        return
    # a fixed label: a changing one would fold the expander on the rerun after an answer
    with st.expander("Check your understanding", icon=":material/quiz:"):
        _body(tag, qs, page_file(tag))


@st.fragment
def _body(tag: str, qs: list[Question], here: str) -> None:
    """One question at a time (a fragment: answering reruns only this section); ``here`` is
    this page's file."""
    at = st.session_state.setdefault(state.CHECKS_AT, {})
    done = sum(q.id in progress() for q in qs)
    st.caption(f"Predict first, then see. {done} of {len(qs)} answered in this session.")
    k = st.selectbox("Question", range(len(qs)), index=min(at.get(tag, 0), len(qs) - 1),
                     format_func=lambda i: f"{i + 1}. {qs[i].prompt[:70]}",
                     key=f"checks.pick.{tag}", label_visibility="collapsed")
    at[tag] = k
    q = qs[k]
    prompt(q)
    if q.kind == "card":
        _card(q, here)
    else:
        _choice(q, here)


def prompt(q: Question) -> None:
    """The question's text and, for a picture question, its candidate images (A, B, C, D)."""
    prompt_text(q)
    if q.kind == "picture":
        pictures(q, width=120)


def prompt_text(q: Question) -> None:
    """The question's text in bold (the bank's own text, shown literally)."""
    st.markdown(f"**{escape_md(q.prompt)}**")


def pictures(q: Question, width: int) -> None:
    """A picture question's candidates in one row of ``width``-px images captioned A, B, C, D
    (the row wraps on a narrow screen)."""
    try:
        pics = cache.question_pngs(q.id, width)
    except KeyError as exc:
        st.info(f"This question needs a model this server does not have ({escape_md(exc)}).",
                icon=":material/info:")
        return
    st.image(pics, caption=q.option_labels(), width=width)


def _choice(q: Question, here: str) -> None:
    """Multiple choice or picture: choose, commit, then see."""
    got = progress().get(q.id)
    labels = q.option_labels()
    pick = st.radio("Your answer", range(len(labels)), index=None if got is None else
                    got["choice"], format_func=lambda i: labels[i], key=f"checks.choice.{q.id}",
                    disabled=got is not None, horizontal=q.kind == "picture")
    if got is None:
        st.button("Commit to this answer", key=f"checks.commit.{q.id}",
                  icon=":material/how_to_vote:", disabled=pick is None, on_click=_commit,
                  args=(q,), help="Predict first: the explanation shows once you have committed.")
        return
    if got["correct"]:
        st.success(escape_md(q.why[q.answer]), icon=":material/check_circle:")
    else:
        st.error(escape_md(q.why[got["choice"]]), icon=":material/cancel:")
        st.markdown(f"The answer: **{escape_md(labels[q.answer])}**. "
                    f"{escape_md(q.why[q.answer])}")
    _settle(q, here)
    st.button("Try again", key=f"checks.again.{q.id}", icon=":material/replay:",
              on_click=_forget, args=(q,))


def _commit(q: Question) -> None:
    """Button callback: record the chosen answer (before the section redraws)."""
    pick = st.session_state.get(f"checks.choice.{q.id}")
    if pick is not None:
        progress()[q.id] = {"choice": int(pick), "correct": int(pick) == q.answer}


def _forget(q: Question) -> None:
    """Button callback: forget the answer to ``q`` so it can be tried again."""
    progress().pop(q.id, None)
    st.session_state.pop(f"checks.choice.{q.id}", None)
    st.session_state.pop(f"checks.flip.{q.id}", None)


def _card(q: Question, here: str) -> None:
    """A flashcard: recall, reveal, grade yourself."""
    got = progress().get(q.id)
    shown = st.session_state.get(f"checks.flip.{q.id}") or got is not None
    if not shown:
        st.button("Reveal the answer", key=f"checks.reveal.{q.id}", icon=":material/flip:",
                  help="Say your answer first, then reveal.",
                  on_click=lambda: st.session_state.update({f"checks.flip.{q.id}": True}))
        return
    st.info(escape_md(q.back), icon=":material/lightbulb:")
    if got is None:
        c1, c2 = st.columns(2)
        for col, grade, label in ((c1, "knew", "I knew it"), (c2, "again", "Not yet")):
            col.button(label, key=f"checks.grade.{grade}.{q.id}",
                       on_click=lambda g=grade: progress().update({q.id: {"grade": g}}))
    else:
        st.caption("You knew it." if got["grade"] == "knew" else "Marked to review again.")
        st.button("Again", key=f"checks.again.{q.id}", icon=":material/replay:",
                  on_click=_forget, args=(q,))
    _settle(q, here)


def _settle(q: Question, here: str) -> None:
    """What settles the question, and "Show me" (applies its lesson link)."""
    st.markdown(escape_md(q.explain))
    if st.button("Show me", key=f"checks.show.{q.id}", icon=":material/visibility:",
                 help="Opens the page in the state that settles this question."):
        show_me(q, here)


def show_me(q: Question, here: str) -> None:
    """Apply the question's page state: on this page (file ``here``), copy its lesson-link
    parameters into the session and rerun; on another page, switch there with them in the
    address (where :func:`ui.links.apply` applies them)."""
    if q.link.page == here:
        links.apply_params(page_title(here), q.link.params)
        st.rerun(scope="app")
    st.switch_page(q.link.page, query_params=q.link.params)
