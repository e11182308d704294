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

DEFAULTS: dict[str, object] = {
    DATASET: "digits",
    MODEL: None,
    PROJECTION: None,
    MAP_PICK: None,
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


def store_widget(key: str) -> None:
    """``on_change`` callback: copy the widget's value into the persistent key."""
    st.session_state[key] = st.session_state[widget_key(key)]
