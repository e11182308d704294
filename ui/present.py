"""Presenter mode: larger type, images and markers for a projector, a colour-blind-safe palette,
and the sidebar's advanced controls hidden.

Turned on by the sidebar toggle or the URL parameter ``presenter=1`` (see :mod:`ui.links`).
Figures go through :func:`chart`, which restyles a copy for the projector when the mode is on;
the cached figures themselves are never changed.
"""
from __future__ import annotations

import streamlit as st

from . import figures, state

# Paul Tol's colour-blind-safe qualitative scheme (Plotly's ``qualitative.Safe``), first 10:
# distinguishable with protanopia, deuteranopia and tritanopia, and dark enough for a projector
SAFE_COLORS = ["#88CCEE", "#CC6677", "#DDCC77", "#117733", "#332288",
               "#AA4499", "#44AA99", "#999933", "#882255", "#661100"]
# a second cue besides colour: one marker shape per class
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "x", "star", "hexagon",
           "triangle-down", "pentagon"]
_RECOLOR = {c.lower(): k for k, c in enumerate(figures.CLASS_COLORS)}
MARKER_SCALE = 1.7  # class points (the in-browser maps apply the same factor themselves)
FONT_SIZE = 20

CSS = """
<style>
html { font-size: 20px; }
[data-testid="stMarkdownContainer"] p,
[data-testid="stMarkdownContainer"] li { font-size: 1.15rem; }
[data-testid="stCaptionContainer"] { font-size: 1rem; }
[data-testid="stMetricValue"] { font-size: 2.6rem; }
[data-testid="stImage"] img { image-rendering: pixelated; }
</style>
"""


def on() -> bool:
    """Whether this session is in presenter mode."""
    return bool(st.session_state.get(state.PRESENTER, False))


def inject_css() -> None:
    """Larger type for the whole page (call once per run, only in presenter mode)."""
    st.html(CSS)


def for_projector(fig) -> dict:
    """A restyled copy of a Plotly figure (``go.Figure`` or dict) for a projector.

    Marker sizes grow by :data:`MARKER_SCALE`, class colours (:data:`ui.figures.CLASS_COLORS`)
    become :data:`SAFE_COLORS` with one marker symbol per class, and all text grows to
    :data:`FONT_SIZE` px. Data arrays are shared with the input, not copied.
    """
    d = fig.to_dict() if hasattr(fig, "to_dict") else fig
    data = []
    for tr in d.get("data", []):
        tr = dict(tr)
        m = tr.get("marker")
        if isinstance(m, dict):
            m = dict(m)
            c = m.get("color")
            k = _RECOLOR.get(c.lower()) if isinstance(c, str) else None
            if isinstance(m.get("size"), (int, float)) and k is not None:
                m["size"] = m["size"] * MARKER_SCALE
            if k is not None:
                m["color"] = SAFE_COLORS[k]
                if tr.get("type", "scatter") in ("scatter", "scattergl") and "symbol" not in m:
                    m["symbol"] = SYMBOLS[k]
                    m["line"] = dict(width=0.5, color="#222")
            tr["marker"] = m
        line = tr.get("line")
        if isinstance(line, dict):
            line = dict(line)
            if isinstance(line.get("color"), str) and line["color"].lower() in _RECOLOR:
                line["color"] = SAFE_COLORS[_RECOLOR[line["color"].lower()]]
            if isinstance(line.get("width"), (int, float)):
                line["width"] = line["width"] * 1.5
            tr["line"] = line
        data.append(tr)
    layout = dict(d.get("layout", {}))
    layout["font"] = {**layout.get("font", {}), "size": FONT_SIZE}
    layout["legend"] = {**layout.get("legend", {}), "font": {"size": FONT_SIZE - 2}}
    return {**d, "data": data, "layout": layout}


def px(n: int) -> int:
    """An image width in pixels: 1.6 times larger in presenter mode."""
    return int(n * 1.6) if on() else n


def chart(fig, **kwargs):
    """``st.plotly_chart`` that restyles the figure in presenter mode."""
    return st.plotly_chart(for_projector(fig) if on() else fig, **kwargs)
