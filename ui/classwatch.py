"""The student page's class watcher: a component with no pixels that fetches the class's
state file (:mod:`services.classlive`) and reruns its fragment only when the state changed:
the lecturer sent or revealed a question, switched the model or the projection, or ended the
class. A 300-student class then costs the server a static file read per poll, not a script
run (``bench/load_test.py --questions``).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from services.classlive import Snapshot

from . import cache

__all__ = ["PERIOD_S", "watch"]

PERIOD_S = 3.0  # a student's page fetches the state file this often (±25 % jitter): 100 fetches
# a second for 300 students, ~0.4 s of a direct server's Python per second (1.5 s cost it 0.8 s
# and made every map click wait, bench/load_test.py --classroom); behind nginx they cost nothing
_WATCH = st.components.v2.component(
    "latentlab_classwatch", js=(Path(__file__).parent / "web" / "classwatch.js").read_text())


def watch(code: str) -> Snapshot:
    """Mount the watcher for class ``code`` (inside the fragment to rerun on a change) and
    return the class's latest snapshot, which the fragment draws.

    Raises
    ------
    ClassroomError
        If ``code`` is not a class code, or the database cannot be read on a first watch.
    """
    snap = cache.live_board().watch(code)
    url = None if snap.name is None else f"app/static/live/{snap.name}"  # relative: base path
    _WATCH(data={"url": url, "state": snap.state, "period_ms": int(PERIOD_S * 1000)},
           key="classwatch", on_changed_change=lambda: None)
    return snap
