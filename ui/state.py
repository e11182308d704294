"""Session-state key names and their defaults (one place, so every page agrees).

Keys are namespaced: ``side.*`` for the shared sidebar, ``map.*`` for the latent map page, and
so on. Widget keys start with ``w.`` and are copied into the persistent key on change, because
Streamlit forgets a widget's key on pages where that widget is not drawn.
"""
from __future__ import annotations

import streamlit as st

DATASET = "side.dataset"
MODEL = "side.model"  # checkpoint path (str)
PROJECTION = "side.projection"
MAP_PICK = "map.pick"  # {"kind": "point", "index": i} or {"kind": "grid", "x": x, "y": y}
MAP_PICK_SEQ = "map.pick_seq"  # counts map clicks (a repeated click on the same spot counts)
MODEL_NAME = "side.model_name"  # checkpoint name of MODEL (what lesson links carry)
PRESENTER = "side.presenter"  # presenter mode on/off
HIDE = "side.hide"  # tuple of hidden controls, from ui.links.HIDEABLE

DEFAULTS: dict[str, object] = {
    DATASET: "digits",
    MODEL: None,
    PROJECTION: None,
    MAP_PICK: None,
    PRESENTER: False,
    HIDE: (),
}


def init() -> None:
    """Fill missing keys with their defaults (never overwrites a user's choice)."""
    for k, v in DEFAULTS.items():
        st.session_state.setdefault(k, v)


def widget_key(key: str) -> str:
    """The widget key that mirrors a persistent key."""
    return "w." + key


def sync_widget(key: str) -> None:
    """Before drawing a widget: give it the persistent value (survives page switches)."""
    st.session_state[widget_key(key)] = st.session_state.get(key)


def hidden(control: str) -> bool:
    """Whether a lesson link (or presenter mode) hid ``control`` (see ``ui.links.HIDEABLE``)."""
    return control in (st.session_state.get(HIDE) or ())


def clamp(key: str, lo, hi) -> None:
    """Keep a numeric session value (e.g. from a lesson link) inside a widget's [lo, hi];
    writes only when it changes, and before the widget is drawn."""
    v = st.session_state.get(key)
    if v is not None and not lo <= v <= hi:
        st.session_state[key] = type(v)(min(max(v, lo), hi))


def store_widget(key: str) -> None:
    """``on_change`` callback: copy the widget's value into the persistent key."""
    st.session_state[key] = st.session_state[widget_key(key)]
