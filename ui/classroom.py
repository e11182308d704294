"""Classroom page glue: a lecturer opens a class, students join with its code, every student's
click on the map shows up live on the lecturer's map with the decoded images of the last clicks.

Shared state (classes, their settings, the clicks) lives in :class:`services.classroom.ClassStore`
(SQLite in WAL mode under the state folder, so it survives a server restart); what a user is
(lecturer of class X, student Y of class X) lives in ``st.session_state``. Students never see
the model pickers: their map follows the class's settings, which only the lecturer's token can
change.
"""
from __future__ import annotations

import secrets
import time

import numpy as np
import streamlit as st

from aecore.checkpoints import CheckpointInfo
from services import classapi, classroom
from services.errors import ClassroomError

from . import cache, images, latentmap, links, mapview, present, shell, state, text
from .plaintext import escape_md

# session keys (declared in ui.state)
CODE, TOKEN, ROLE = state.CLASS_CODE, state.CLASS_TOKEN, state.CLASS_ROLE
STUDENT, NAME, KEY = state.CLASS_STUDENT, state.CLASS_NAME, state.CLASS_KEY
SEEN, LAST, NEW_MAP = state.CLASS_SEEN, state.CLASS_LAST, state.CLASS_NEW_MAP
STRIP = 8  # decoded images of the last clicks shown to the lecturer
MAX_DRAWN = 2000  # newest class clicks drawn on the lecturer's map (its data stays < 60 kB)
POLL_S = 2.0  # lecturer's map refresh


def settings_of(info: CheckpointInfo, method: str) -> dict:
    """What a class shares: dataset, model (path and id) and projection, and the map's extent
    and number of images, so the class store refuses a click off this map (a forged one)."""
    md = mapview.load_map_data(info, method)
    return {"dataset": info.dataset, "model": str(info.path), "model_id": info.id,
            "name": info.name, "projection": method,
            "extent": [float(v) for v in latentmap.extent(md.atlas)], "n_points": len(md.test)}


def class_model(settings: dict) -> CheckpointInfo | None:
    """The checkpoint a class's settings name, if it is still on this server."""
    try:
        return cache.model_info(str(settings.get("model_id")))
    except KeyError:
        return None


def leave() -> None:
    """Forget this session's class (a lecturer's class stays open for its students)."""
    for k in (CODE, TOKEN, ROLE, SEEN, LAST, NEW_MAP, KEY, state.CLASS_DETAIL):
        st.session_state.pop(k, None)
    st.query_params.pop("join", None)


def start(info: CheckpointInfo, method: str) -> None:
    """Button callback: open a class with the sidebar's model; this session is its lecturer."""
    code, token = cache.class_store().open_class(settings_of(info, method))
    st.session_state.update({CODE: code, TOKEN: token, ROLE: "lecturer", SEEN: []})


def join(code: str) -> str | None:
    """Join class ``code`` as a student. Returns an error message, or None on success."""
    try:
        code = classroom.normalize_code(code)
        cache.class_store().get(code)
    except ClassroomError as exc:
        return str(exc)
    st.session_state.setdefault(STUDENT, secrets.token_hex(6))
    try:  # the name is checked and normalised here, not at the first click
        name = cache.class_store().join(code, st.session_state[STUDENT],
                                        st.session_state.get(state.widget_key(NAME)) or "",
                                        address=shell.client_address())
        key = cache.class_store().student_key(code, st.session_state[STUDENT])
    except ClassroomError as exc:
        return str(exc)
    # a pick made before joining (e.g. on the Latent map page) is not the class map's pin
    st.session_state.update({NAME: name, KEY: key, CODE: code, ROLE: "student",
                             state.MAP_PICK: None, state.CLASS_DETAIL: None})
    st.query_params["join"] = code
    return None


def resume(link: str) -> str | None:
    """Become the lecturer of a running class again (after a reload) from the private
    ``teach=<code>.<token>`` link. Returns an error message, or None on success.

    The sidebar is set to the class's dataset, model and projection first, so the class keeps
    its settings.
    """
    code, _, token = link.partition(".")
    try:
        code = classroom.normalize_code(code)
        cls = cache.class_store().get(code)
        # raises NotLecturer on a bad token
        cache.class_store().update_settings(code, token, cls.settings)
    except ClassroomError as exc:
        return str(exc)
    st.session_state.update({CODE: code, TOKEN: token, ROLE: "lecturer", SEEN: [],
                             state.DATASET: cls.settings["dataset"],
                             state.MODEL: cls.settings["model"],
                             state.PROJECTION: cls.settings["projection"]})
    return None


def join_form(info: CheckpointInfo | None, method: str | None) -> None:
    """Join a class (students: first, and the only prominent button), then, folded away
    below it, start one (lecturer): on a phone a Start button under Join was pressed by
    mistake."""
    st.subheader("Student: join a class")
    with st.form("class.join"):
        code = st.text_input("Class code", max_chars=classroom.CODE_LEN + 2,
                             placeholder="e.g. K7QX2")
        st.text_input("Your name (optional, shown to the lecturer)",
                      max_chars=classroom.Limits().max_name_len,
                      key=state.widget_key(NAME))
        if st.form_submit_button("Join", icon=":material/login:"):
            if (msg := join(code)) is None:
                st.rerun()
            st.error(f"Cannot join: {escape_md(msg)}", icon=":material/error:")
    with st.expander("Lecturer: start a class", icon=":material/co_present:"):
        st.markdown(text.CLASS_START)
        if info is not None:
            st.button(f"Start a class with {info.name}", icon=":material/co_present:",
                      on_click=start, args=(info, method))


def lecturer_controls(info: CheckpointInfo | None, method: str | None) -> None:
    """The code in large type, the join link, and the class following the sidebar's model."""
    code, token = st.session_state[CODE], st.session_state[TOKEN]
    try:
        cls = cache.class_store().get(code)
        if info is not None and settings_of(info, method) != cls.settings:
            new = settings_of(info, method)
            # clicks on the previous map mean nothing on this one: the store forgets them, so
            # the header's counts and the strip agree
            cls = cache.class_store().update_settings(code, token, new, clear_clicks=True)
            st.session_state[NEW_MAP] = True
            cache.live_board().poke()  # this server's students follow at their next fetch
    except ClassroomError as exc:
        st.error(f"This class has ended: {exc}", icon=":material/error:")
        st.button("Start again", on_click=leave)
        st.stop()
    c1, cq, c2 = st.columns([5, 3, 5])
    with cq:  # the join link as a QR code beside the code (issue 15)
        from .classquiz import join_qr
        join_qr(code)
    with c1:  # as large as fits the column, on one line (also at presenter-mode type sizes)
        st.markdown(f"<div class='class-code' style='font-size:min(5.5rem, 7vw);"
                    f"font-weight:800;letter-spacing:0.4rem;line-height:1.1;"
                    f"white-space:nowrap'>{code}</div>",
                    unsafe_allow_html=True)
        st.caption("Class code: students open the Classroom page and type it.")
    with c2:
        base = links.page_url()
        st.markdown("Or they open this link:")
        st.code(f"{base}?join={code}", language=None, wrap_lines=True)
        minutes = max(0, int((cls.expires - time.time()) / 60))
        st.caption(f"The class follows the model and projection in your sidebar. It ends in "
                   f"{minutes // 60} h {minutes % 60:02d} min, or now:")
        st.button("End the class", on_click=_end, icon=":material/stop_circle:")
    manage(code, token)
    runs()
    with st.expander("Reopen this class after a reload", icon=":material/key:"):
        st.markdown("Reloading the page forgets that you are the lecturer. This private link "
                    "makes you the lecturer of this class again; keep it off the projector.")
        st.code(f"{links.page_url()}?teach={code}.{token}", language=None, wrap_lines=True)


@st.fragment(run_every=POLL_S)
def manage(code: str, token: str) -> None:
    """The lecturer's controls: who is in (names as plain text), remove or block a student,
    clear the clicks, close joining once everyone is in. Refreshed with the class's map, so
    the student count agrees with the map's header."""
    store = cache.class_store()
    try:
        people = store.students(code, token)
        locked = store.get(code).locked
    except ClassroomError:
        return
    active = [p for p in people if not p.blocked]
    with st.expander(f"Students ({len(active)}) · "
                     + ("joining closed" if locked else "joining open"),
                     icon=":material/group:"):
        st.toggle("Close joining (students already in can go on clicking)", value=locked,
                  key="class.lock", on_change=_lock, args=(code, token))
        if active:  # a table renders names as plain text, never as Markdown
            st.dataframe([{"name": p.name or "(no name)", "id": p.student[:6],
                           "clicks": p.clicks} for p in active], hide_index=True,
                         width="stretch", height=min(300, 36 * (len(active) + 1)))
            ids = [p.student for p in active]
            label = {p.student: f"{p.name or '(no name)'} · {p.student[:6]}" for p in active}
            who = st.selectbox("Student", ids, format_func=label.get, key="class.who")
            c1, c2, c3 = st.columns(3)
            c1.button(f"Remove {escape_md(label[who], 16)}", key="class.remove", on_click=_remove,
                      args=(code, token), help="Deletes their clicks; they may join again.")
            c2.button(f"Block {escape_md(label[who], 16)}", key="class.block", on_click=_remove,
                      args=(code, token, True),
                      help="Deletes their clicks; they may not join again.")
            c3.button("Clear all clicks", key="class.clear", on_click=_clear,
                      args=(code, token))


def runs() -> None:
    """Every training run on this server, with a Stop button each (the lecturer's view)."""
    active = cache.job_registry().active()
    with st.expander(f"Training runs on this server ({len(active)})",
                     icon=":material/model_training:"):
        if not active:
            st.caption("No model is training now.")
        for job in active:
            c = job.recipe.model
            done = len(job.epochs)
            c1, c2 = st.columns([4, 1])
            c1.text(f"{c.name} z={c.latent_dim} hidden={','.join(map(str, c.hidden))} on "
                    f"{job.recipe.dataset}: epoch {done}/{job.recipe.train.epochs}, "
                    f"{time.time() - job.started:.0f} s, from {job.client}"
                    + (" (stopping)" if job.stop_requested else ""))
            c2.button("Stop", key=f"class.stop.{job.id}", disabled=job.stop_requested,
                      on_click=cache.job_registry().stop, args=(job.id,))


def _lock(code: str, token: str) -> None:
    _quiet(lambda: cache.class_store().set_locked(code, token,
                                                 bool(st.session_state["class.lock"])))


def _remove(code: str, token: str, block: bool = False) -> None:
    student = st.session_state.get("class.who")  # read now: the selection made just before
    if student:
        _quiet(lambda: cache.class_store().remove_student(code, token, student, block))
    st.session_state[NEW_MAP] = True  # redraw the map from the store's clicks


def _clear(code: str, token: str) -> None:
    _quiet(lambda: cache.class_store().clear_clicks(code, token))
    st.session_state[NEW_MAP] = True


def _quiet(action) -> None:
    try:
        action()
    except ClassroomError:
        pass  # the class ended meanwhile: the next run says so


def _end() -> None:
    try:
        cache.class_store().close(st.session_state[CODE], st.session_state[TOKEN])
        cache.live_board().poke()
    except ClassroomError:
        pass
    leave()


@st.fragment(run_every=POLL_S)
def lecturer_view(info: CheckpointInfo, method: str) -> None:
    """The class's map: every student's click as a mark, the last ones numbered, and the
    decoded images of the last :data:`STRIP` clicks; the students' drawings as red stars
    (:mod:`ui.classdraw`). Refreshes every :data:`POLL_S` seconds."""
    code = st.session_state[CODE]
    seen = st.session_state.setdefault(SEEN, [])
    if st.session_state.pop(NEW_MAP, False):  # model switched, students removed, clicks
        seen.clear()                          # cleared: read the store's clicks afresh
        st.session_state[LAST] = 0
        st.session_state.pop(state.CLASS_DRAWN, None)  # the drawings too (issue 19)
    try:
        while True:  # fetch everything new (pages of 500)
            new = cache.class_store().clicks(code, after_id=st.session_state.get(LAST, 0),
                                             limit=500)
            seen.extend(new)
            if new:
                st.session_state[LAST] = new[-1].id
            if len(new) < 500:
                break
        del seen[:-MAX_DRAWN]  # the map draws no more: the session keeps no more
        counts = cache.class_store().counts(code)
    except ClassroomError as exc:
        st.error(f"This class has ended: {exc}", icon=":material/error:")
        return
    md = mapview.load_map_data(info, method)
    x0, x1, y0, y1 = latentmap.extent(md.atlas)  # a click off this map (forged, or from
    seen = [c for c in seen if (c.kind == "point" and 0 <= c.index < len(md.test)) or  # another
            (c.kind == "grid" and x0 <= c.x <= x1 and y0 <= c.y <= y1)]  # model) is not drawn
    n, k = counts["students"], counts["clicks"]
    st.markdown(f"**{n}** student{'s' * (n != 1)} · **{k}** click{'s' * (k != 1)}")
    from . import classdraw  # students' drawings from Draw your own (issue 19)
    try:
        drawn = classdraw.lecturer_bar(md, code, st.session_state[TOKEN])
    except ClassroomError as exc:
        st.error(f"This class has ended: {exc}", icon=":material/error:")
        return
    latentmap.show(key="class.map", info=info, model=md.model, atlas=md.atlas,
                   test=md.test, overlays=class_overlays(md, seen) + classdraw.overlays(drawn),
                   presenter=present.on())
    if k > MAX_DRAWN:
        st.caption(f"The map shows the last {MAX_DRAWN:,} of {k:,} clicks.")
    strip(md, seen[-STRIP:])
    classdraw.strip(drawn)


def class_overlays(md: mapview.MapData, clicks: list) -> list[dict]:
    """The class's clicks as map overlays: grey crosses, and the last :data:`STRIP` as black
    rings numbered as in the strip. At most :data:`MAX_DRAWN` clicks (the newest) are drawn,
    so the map's data stays small however long the class runs. Names are never drawn."""
    clicks = clicks[-MAX_DRAWN:]
    xy = np.array([_click_xy(md, c) for c in clicks] or np.zeros((0, 2)), float).reshape(-1, 2)
    xy = np.round(xy, 4)
    cut = max(0, len(clicks) - STRIP)
    return [{"name": "class clicks", "xy": xy[:cut].tolist(), "symbol": "x", "size": 4,
             "color": "#444"},
            {"name": "last clicks", "xy": xy[cut:].tolist(), "symbol": "circle", "size": 9,
             "color": "#000", "text": [str(k + 1) for k in range(len(clicks) - cut)]}]


def _click_xy(md: mapview.MapData, c) -> tuple[float, float]:
    """Where a click sits on this map: its image's position, or the clicked spot."""
    if c.kind == "point":
        return tuple(md.atlas.embedding[c.index])
    return (c.x, c.y)


def strip(md: mapview.MapData, last: list) -> None:
    """Decoded images of the last clicks, numbered as on the map."""
    if not last:
        st.info("Waiting for the first click…", icon=":material/hourglass_empty:")
        return
    cols = st.columns(STRIP)
    for k, (col, c) in enumerate(zip(cols, last)):
        if c.kind == "point" and 0 <= c.index < len(md.test):
            img = cache.reconstruct_one(md.model, md.test.x[c.index])
            what = f"image {c.index} ({md.test.classes[int(md.test.y[c.index])]})"
        else:
            z, _ = md.atlas.code_at(c.x, c.y)
            img = cache.decode_one(md.model, np.asarray(z, np.float32))
            what = "empty space"
        col.image(images.enlarge(img), width="stretch",
                  caption=f"{k + 1}. {c.name or 'student ' + c.student[:4]} · {what}")


@st.fragment
def student_view(info: CheckpointInfo, method: str) -> None:
    """The class's map: moving over it decodes in the browser, and a pin goes straight to the
    class through the class API (:mod:`services.classapi`, one HTTP request, no script run);
    the map says under it whether it arrived."""
    md = mapview.load_map_data(info, method)
    post = {"url": classapi.CLICK_PATH.lstrip("/"),  # relative: behind a proxy's prefix too
            "body": {"code": st.session_state[CODE], "student": st.session_state[STUDENT],
                     "key": st.session_state.get(KEY, ""),
                     "name": st.session_state.get(NAME) or ""}}
    detail = st.session_state.get(state.CLASS_DETAIL) or {}
    detail = detail.get("pick") if detail.get("map") == md.key else None
    demo = st.session_state.get(state.MAP_PICK)  # set by the reveal of a class question
    if demo and demo["kind"] == "point" and not 0 <= demo["index"] < len(md.test):
        demo = None
    with mapview.map_beside_panel(md, pick=detail or demo, post=post,
                                  on_pin=lambda p: st.session_state.update(
                                      {state.CLASS_DETAIL: {"map": md.key, "pick": p}})):
        if detail:  # asked for with "Show this pin in detail"
            st.caption("Your pin (ringed on the map), in detail; after a new pin, press Show "
                       "this pin in detail again:")
            mapview.panel(md, detail)
        elif demo:
            st.caption("The spot of the question the lecturer revealed:")
            mapview.panel(md, demo)
        else:
            st.info(text.CLASS_PIN, icon=":material/touch_app:")


def student_page() -> None:
    """A student's view: the class's model and map (no pickers), clicks sent to the class."""
    try:  # the server's latest read of the class (twice a second), not a query per run
        snap = cache.live_board().watch(st.session_state[CODE])
    except ClassroomError:
        snap = None
    cls = snap.settings if snap is not None and not snap.ended else None
    info = class_model(cls) if cls else None
    if info is None:
        st.error("This class has ended, or its model is not on this server any more.",
                 icon=":material/error:")
        st.button("Leave the class", on_click=leave)
        return
    # the address bar shows the class's model, not the one this browser had before
    st.session_state.update({state.DATASET: info.dataset, state.MODEL: str(info.path),
                             state.MODEL_NAME: info.name, state.PROJECTION: cls["projection"]})
    links.sync_url("Classroom")
    # a model name is letters, digits and _ . - (checkpoints.validate_name): nothing to escape
    st.markdown(text.CLASS_STUDENT.format(code=st.session_state[CODE], model=info.name))
    from .classquiz import student_panel  # the class's question, above the map (issue 15)
    student_panel(snap.settings_key)  # also reruns the page when the lecturer switches model
    student_view(info, cls["projection"])
    st.button("Leave the class", on_click=leave, icon=":material/logout:")
