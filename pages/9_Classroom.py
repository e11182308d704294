"""Classroom: a lecturer opens a class; students join with its code and their clicks appear
live on the lecturer's map."""
import streamlit as st

from aecore.errors import LatentLabError
from ui import classquiz, classroom, shell, text
from ui.plaintext import escape_md

role = st.session_state.get(classroom.ROLE)
if (teach := st.query_params.get("teach")) is not None:
    del st.query_params["teach"]  # the lecturer's secret does not stay in the address bar
    if role is None and (msg := classroom.resume(teach)):
        st.session_state["class.error"] = f"This link cannot reopen the class: {msg}"
    role = st.session_state.get(classroom.ROLE)
if role is None and (code := st.query_params.get("join")):
    if msg := classroom.join(code):
        st.session_state["class.error"] = f"Cannot join: {msg}"
    role = st.session_state.get(classroom.ROLE)
# students follow the class's settings: no model pickers for them
sel = shell.page_setup("Classroom", icon=":material/groups:", sidebar=role != "student")
st.title("Classroom")
if msg := st.session_state.pop("class.error", None):
    st.error(escape_md(msg), icon=":material/error:")
try:
    if role is None:
        st.markdown(text.CLASSROOM)
        classroom.join_form(sel.info, sel.method)
    elif role == "lecturer":
        classroom.lecturer_controls(sel.info, sel.method)
        classquiz.lecturer_panel(st.session_state[classroom.CODE],
                                 st.session_state[classroom.TOKEN])
        if sel.info is not None:
            classroom.lecturer_view(sel.info, sel.method)
    else:
        classroom.student_page()
except LatentLabError as exc:
    st.error(f"The class map cannot be shown: {exc}", icon=":material/error:")
