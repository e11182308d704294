"""Class questions on the Classroom page: the lecturer sends a question from the bank, students
answer on their devices, the projector shows a live bar chart (counts only) and how many have
answered, and the reveal shows the answer and switches the class's map to the question's demo
state in the same step. Also the pre/post check (a chosen set asked at the start and at the
end; % correct before and after, as a table and a CSV) and the join QR code.

Shared state lives in :class:`services.classquiz.QuizStore` (the class database); what this
browser is (lecturer, student) in ``st.session_state``, as in :mod:`ui.classroom`.
"""
from __future__ import annotations

import csv
import io

import streamlit as st

from aecore.project import methods_for
from services.errors import ClassroomError

from . import answerbox, cache, checks, classroom, classwatch, figures, links, present, state
from .plaintext import escape_md
from .questionbank import Question, bank, by_id

POLL_S = 2.0  # the lecturer's chart refresh (a student's page reruns on a change only)
STUDENT_PICTURE_PX = (72, 150)  # a picture option's size on a student's page; in presenter mode
PHASE_LABELS = {"": "Question", "pre": "Pre-check", "post": "Post-check"}
LETTERS = "ABCDEF"


def class_questions() -> list[Question]:
    """The bank's questions a class can vote on (multiple choice and pictures)."""
    return [q for q in bank() if q.kind != "card"]


def option_text(q: Question, k: int) -> str:
    """Option ``k`` as a class sees it: ``"A. text"`` (a picture's option is its letter)."""
    return LETTERS[k] if q.kind == "picture" else f"{LETTERS[k]}. {q.choices[k]}"


def qr_png(url: str, scale: int = 8) -> bytes:
    """The join link as a QR code (PNG bytes; error correction M, 2-module quiet zone)."""
    import segno

    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=scale, border=2)
    return buf.getvalue()


def join_qr(code: str) -> None:
    """The class's join link as a large QR code, for the projector beside the class code."""
    url = f"{links.page_url()}?join={code}"
    st.image(qr_png(url), width=260 if present.on() else 200)
    st.caption("Scan to join")  # not an image caption: the strip's captions are the clicks


def demo_state(q: Question) -> tuple[dict | None, dict | None, tuple | None]:
    """What the class's map switches to when ``q`` is revealed: ``(settings, pick, sidebar)``
    where ``settings`` are the class settings of the model (and projection) its lesson link
    names, ``pick`` the spot or image it pins (Latent map links only) and ``sidebar`` the
    lecturer's (info, method); all None when the link names no model on this server."""
    name = q.link.params.get("model")
    info = cache.model_named(name) if name else None
    if info is None:
        return None, None, None
    methods = methods_for(info.model_config.latent_dim)
    method = q.link.params.get("proj")
    method = method if method in methods else methods[0]
    pick = None
    if q.link.page == "pages/1_Latent_map.py" and "pick" in q.link.params:
        pick = links.parse_pick(q.link.params["pick"])
    return classroom.settings_of(info, method), pick, (info, method)


def show_prompt(q: Question) -> None:
    """The question (the bank's text, shown literally) and, for a picture, its candidates in
    one row of small images (they wrap on a phone)."""
    checks.prompt_text(q)
    if q.kind == "picture":
        checks.pictures(q, width=_student_width())  # 4 in a row on a phone


def _student_width() -> int:
    return STUDENT_PICTURE_PX[1] if present.on() else STUDENT_PICTURE_PX[0]


@st.cache_resource(show_spinner=False)
def warm_pictures() -> int:
    """Encode every class question's pictures at the students' sizes once per server, before
    any is sent; returns how many sets. Otherwise the first student to see a picture question
    encodes them while the rest of the class's question runs wait on that cache entry."""
    n = 0
    for q in class_questions():
        if q.kind == "picture":
            for px in STUDENT_PICTURE_PX:
                try:
                    cache.question_pngs(q.id, px)
                    n += 1
                except KeyError:  # a model this server does not have: the question says so
                    pass
    return n


# -- lecturer -------------------------------------------------------------------------------

def lecturer_panel(code: str, token: str) -> None:
    """Send a question (or the next of the pre/post set), then the live answers."""
    qs = class_questions()
    live(code, token)
    with st.container(border=True):
        c1, c2, c3 = st.columns([3, 3, 1], vertical_alignment="bottom")
        k = c1.selectbox("Ask the class a question", range(len(qs)), key="quiz.pick",
                         format_func=lambda i: f"{qs[i].page} · {qs[i].prompt[:80]}")
        phase = c2.segmented_control("Counts as", list(PHASE_LABELS), default="",
                                     format_func=PHASE_LABELS.get, key="quiz.phase") or ""
        c3.button("Send", icon=":material/send:", key="quiz.send", on_click=_send,
                  args=(code, token, qs[k], phase))
    with st.expander("Pre/post check", icon=":material/checklist:"):
        prepost(code, token)


def _send(code: str, token: str, q: Question, phase: str) -> None:
    try:
        cache.quiz_store().ask(code, token, q.id, q.n_options, q.answer, phase)
    except ClassroomError as exc:
        st.session_state["quiz.error"] = str(exc)
    cache.live_board().poke()  # this server's students see it at their next fetch


@st.fragment(run_every=POLL_S)
def live(code: str, token: str) -> None:
    """The current question with its live answer counts; Reveal shows the answer and switches
    the class's map (and this lecturer's sidebar) to the question's demo state."""
    if msg := st.session_state.pop("quiz.error", None):
        st.error(escape_md(msg), icon=":material/error:")
    try:
        r = cache.quiz_store().current(code)
        tally = cache.quiz_store().tally(code, r.id) if r else None
    except ClassroomError:
        return
    if r is None:
        return
    q = by_id(r.qid)
    st.markdown(f"#### {PHASE_LABELS[r.phase]}: {escape_md(q.prompt)}")
    if q.kind == "picture":
        checks.pictures(q, width=150 if present.on() else 110)
    else:
        st.markdown("  \n".join(escape_md(option_text(q, k)) for k in range(q.n_options)))
    c1, c2 = st.columns([3, 2])
    present.chart(figures.answers_figure(list(LETTERS[:q.n_options]), tally.counts,
                                         r.correct), where=c1, key="quiz.chart",
                  config={"staticPlot": True})
    c2.markdown(f"**{tally.answered}** of **{tally.students}** answered")
    if not r.revealed:
        if c2.button("Reveal the answer", icon=":material/visibility:", key="quiz.reveal",
                     type="primary"):
            _reveal(code, token, r.id, q)
        return
    c2.success(f"Answer: **{escape_md(option_text(q, r.correct))}**",
               icon=":material/check_circle:")
    if tally.answered:
        right = tally.counts[r.correct]
        c2.markdown(f"{100 * right / tally.answered:.0f} % answered right.")
    c2.markdown(escape_md(q.explain))


def _reveal(code: str, token: str, round_id: int, q: Question) -> None:
    """Reveal and switch the class's map in one store transaction, then this lecturer's
    sidebar to the same model, so the class keeps the new settings."""
    settings, pick, sidebar = demo_state(q)
    try:
        cache.quiz_store().reveal(code, token, round_id, settings=settings, demo=pick)
    except ClassroomError as exc:
        st.session_state["quiz.error"] = str(exc)
        return
    finally:
        cache.live_board().poke()
    if sidebar is not None:
        info, method = sidebar
        st.session_state.update({state.DATASET: info.dataset, state.MODEL: str(info.path),
                                 state.MODEL_NAME: info.name, state.PROJECTION: method,
                                 classroom.NEW_MAP: True})
    st.rerun(scope="app")


def prepost(code: str, token: str) -> None:
    """The pre/post check: the chosen set, the next question of it to send, the results."""
    qs = {q.id: q for q in class_questions()}
    st.markdown("Choose a set, ask it at the start (Pre-check) and again at the end "
                "(Post-check); the class's % correct shows below, anonymous.")
    chosen = st.multiselect("Questions of the pre/post check", list(qs), key=state.QUIZ_SET,
                            format_func=lambda i: qs[i].prompt[:70], max_selections=10)
    try:
        rows = cache.quiz_store().prepost(code, token)
    except ClassroomError:
        return
    asked = {(p.qid, ph) for p in rows for ph in p.phases}
    for phase in ("pre", "post"):
        todo = [i for i in chosen if (i, phase) not in asked]
        if chosen:
            st.button(f"Send the next {PHASE_LABELS[phase].lower()} question "
                      f"({len(chosen) - len(todo)} of {len(chosen)} sent)",
                      key=f"quiz.next.{phase}", disabled=not todo, on_click=_send,
                      args=(code, token, qs[todo[0]] if todo else None, phase))
    if rows:
        table = [{"question": qs[p.qid].prompt[:80] if p.qid in qs else p.qid,
                  "before, % correct": _pct(p.pre_pct), "answers before": p.pre_n,
                  "after, % correct": _pct(p.post_pct), "answers after": p.post_n}
                 for p in rows]
        present.table(table, hide_index=True)  # a table shows text as text, never Markdown
        st.download_button("Download as CSV", csv_bytes(rows), file_name=f"prepost_{code}.csv",
                           mime="text/csv", icon=":material/download:", key="quiz.csv")


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.0f}"


def csv_bytes(rows) -> bytes:
    """The pre/post results as CSV: question id, question, % correct and answers before and
    after (empty where not asked)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["question_id", "question", "pre_pct_correct", "pre_answers",
                "post_pct_correct", "post_answers"])
    for p in rows:
        try:
            text = by_id(p.qid).prompt
        except KeyError:
            text = ""
        w.writerow([p.qid, text, "" if p.pre_pct is None else f"{p.pre_pct:.1f}", p.pre_n,
                    "" if p.post_pct is None else f"{p.post_pct:.1f}", p.post_n])
    return buf.getvalue().encode("utf-8")


# -- students -------------------------------------------------------------------------------

@st.fragment
def student_panel(drawn: str) -> None:
    """The class's current question: answer (changeable until the reveal); after the reveal,
    the answer, the explanation, and the class's map switched to the demo pick.

    Reruns when the class watcher (:mod:`ui.classwatch`) sees the class's state change, not
    on a timer; a change of model, projection or an ended class (the snapshot's settings key
    differs from ``drawn``, the key the page was drawn with) reruns the whole page."""
    code, me = st.session_state[classroom.CODE], st.session_state[classroom.STUDENT]
    quiz = cache.quiz_store()
    warm_pictures()
    try:
        snap = classwatch.watch(code)
    except ClassroomError:
        return
    if snap.settings_key != drawn:
        st.rerun(scope="app")
    r = snap.round
    if r is None:
        return
    q = by_id(r.qid)
    if r.revealed and st.session_state.get(state.QUIZ_APPLIED) != r.id:
        st.session_state[state.QUIZ_APPLIED] = r.id
        if r.demo is not None:  # the class's map shows the demo spot (not sent as a click)
            st.session_state[state.MAP_PICK] = r.demo
        st.rerun(scope="app")
    with st.container(border=True):
        st.caption(f"{PHASE_LABELS[r.phase]} from the lecturer")
        show_prompt(q)
        # the stored answer: answers go through the class API, not through this session
        mine = quiz.my_answer(code, me, r.id)
        if r.revealed:
            _student_result(q, r.correct, mine)
        else:
            answerbox.show(q, [option_text(q, k) for k in range(q.n_options)], code=code,
                           student=me, key=st.session_state.get(classroom.KEY, ""),
                           round_id=r.id, mine=mine)


def _student_result(q: Question, correct: int, mine: int | None) -> None:
    """After the reveal: right or wrong, why, and what the map now shows."""
    if mine is None:
        st.info(f"Answer: **{escape_md(option_text(q, correct))}**", icon=":material/info:")
    elif mine == correct:
        st.success(f"Right: **{escape_md(option_text(q, correct))}**. "
                   f"{escape_md(q.why[correct])}", icon=":material/check_circle:")
    else:
        st.error(f"You chose {escape_md(LETTERS[mine])}: {escape_md(q.why[mine])}",
                 icon=":material/cancel:")
        st.markdown(f"Answer: **{escape_md(option_text(q, correct))}**")
    st.markdown(escape_md(q.explain))
