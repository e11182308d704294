"""A student's answer to the class question: the options and a Send button drawn in the
browser (``ui/web/answerbox.js``), the answer sent to the class API
(:mod:`services.classapi`) as one HTTP request. Sending, changing or being refused runs no
script: with 300 students answering within seconds, each answer as a fragment run queued
behind the others (``bench/load_test.py --questions``).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from services import classapi

from .questionbank import Question

__all__ = ["show"]

_BOX = st.components.v2.component(
    "latentlab_answer", js=(Path(__file__).parent / "web" / "answerbox.js").read_text())


def show(q: Question, options: list[str], *, code: str, student: str, key: str, round_id: int,
         mine: int | None) -> None:
    """Mount the answer box of round ``round_id`` of class ``code``.

    ``options`` are the options as the class sees them (``"A. text"``, or the letter of a
    picture); ``mine`` is the student's stored answer (None: not answered yet); ``key`` the
    student's key for the class API (:meth:`services.classroom.ClassStore.student_key`).
    """
    _BOX(data={"options": options, "horizontal": q.kind == "picture", "mine": mine,
               "url": classapi.ANSWER_PATH.lstrip("/"),  # relative: behind a proxy's prefix
               "body": {"code": code, "student": student, "key": key, "round": round_id}},
         key=f"quiz.answer.{round_id}")
