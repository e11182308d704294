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
TEXT_COLOR = "#111"  # ticks, axis titles and legends in black, not Plotly's light grey
HEIGHT_SCALE = 1.3  # charts grow with their type
TOOLBAR_PX = 36  # top margin that keeps Plotly's toolbar off a legend or its title

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
    layout["font"] = {**layout.get("font", {}), "size": FONT_SIZE, "color": TEXT_COLOR}
    big = {"size": FONT_SIZE, "color": TEXT_COLOR}
    for name in [k for k in layout if k.startswith(("xaxis", "yaxis"))] or ["xaxis", "yaxis"]:
        ax = dict(layout.get(name, {}))
        title = ax.get("title")
        title = dict(title) if isinstance(title, dict) else ({"text": title} if title else {})
        ax["title"] = {**title, "font": big}
        ax["tickfont"] = {"size": FONT_SIZE - 2, "color": TEXT_COLOR}
        layout[name] = ax
    legend = dict(layout.get("legend", {}))
    ltitle = legend.get("title")
    ltitle = dict(ltitle) if isinstance(ltitle, dict) else ({"text": ltitle} if ltitle else {})
    # a legend beside the plot squeezes it on a projector: put it in one row underneath
    layout["legend"] = {**legend, "orientation": "h", "x": 0, "xanchor": "left", "y": -0.2,
                        "yanchor": "top", "font": {"size": FONT_SIZE - 2, "color": TEXT_COLOR},
                        **({"title": {**ltitle, "font": big}} if ltitle else {})}
    if isinstance(layout.get("height"), (int, float)) and "width" not in layout:
        layout["height"] = int(layout["height"] * HEIGHT_SCALE)
    margin = dict(layout.get("margin", {}))
    margin["b"] = max(margin.get("b", 0), 90)  # room for the legend row and the axis title
    margin["l"] = max(margin.get("l", 0), 60)
    layout["margin"] = margin
    return {**d, "data": data, "layout": layout}


def px(n: int) -> int:
    """An image width in pixels: 1.6 times larger in presenter mode."""
    return int(n * 1.6) if on() else n


def _toolbar_room(fig) -> dict:
    """A copy of ``fig`` (as a dict) whose top margin keeps the toolbar off its legend."""
    d = fig.to_dict() if hasattr(fig, "to_dict") else dict(fig)
    layout = dict(d.get("layout", {}))
    if layout.get("showlegend", True) is not False:
        margin = dict(layout.get("margin", {}))
        margin["t"] = max(margin.get("t", 0), TOOLBAR_PX)
        layout["margin"] = margin
    return {**d, "layout": layout}


def chart(fig, *, where=None, config: dict | None = None, **kwargs):
    """``st.plotly_chart`` (in ``where``, a column or container; default the page) that
    restyles the figure for the projector in presenter mode and keeps the toolbar off the
    legend. Every chart of the app goes through here."""
    fig = for_projector(fig) if on() else fig
    if not (config or {}).get("staticPlot"):
        fig = _toolbar_room(fig)
    return (where or st).plotly_chart(fig, config={"displaylogo": False, **(config or {})},
                                      **kwargs)


def columns(spec, **kwargs) -> list:
    """``st.columns(spec)``; in presenter mode one full-width container per column instead,
    stacked, so that maps and charts fill the projector's width."""
    n = spec if isinstance(spec, int) else len(spec)
    return [st.container() for _ in range(n)] if on() else st.columns(spec, **kwargs)


def table(rows, *, where=None, **kwargs) -> None:
    """``st.dataframe``; in presenter mode ``st.table``, whose text wraps and takes the
    projector's type size (a data frame's grid keeps small type and clips long cells)."""
    if on():
        import pandas as pd

        df = pd.DataFrame(rows)
        for c in df.select_dtypes("float").columns:  # as rounded by the caller, not 4 decimals
            df[c] = df[c].map(lambda v: f"{v:g}")
        (where or st).table(df.set_index(df.columns[0]))  # the first column names the rows
    else:
        (where or st).dataframe(rows, **kwargs)
