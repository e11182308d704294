"""Page glue of the "IWAE bound" lesson: the precomputed L_k curves of the shipped VAEs
(``checkpoints/iwae_curves.json``, written by ``bench/iwae_bound.py --write``), their figure
and the sentence that reads the numbers out."""
from __future__ import annotations

import json
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from . import present, text

CURVES = Path(__file__).resolve().parents[1] / "checkpoints" / "iwae_curves.json"


@st.cache_data(max_entries=4, show_spinner=False)
def _read(path: str, mtime_ns: int) -> dict:
    """The curves file's ``curves`` dict (model name -> curve); {} if absent or unreadable."""
    try:
        return json.loads(Path(path).read_text())["curves"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def curves() -> dict[str, dict]:
    """Model name -> curve dict (keys ``ks``, ``L`` in nats per image, ``images``, ``k``,
    ``dataset``, ``split``, ``seed``); cached until the file changes."""
    try:
        mtime = CURVES.stat().st_mtime_ns
    except OSError:
        return {}
    return _read(str(CURVES), mtime)


def numbers(curve: dict) -> dict[str, float]:
    """The figures the sentence states: L_1 (the ELBO), L_K, their gap and K."""
    l1, lk = float(curve["L"][0]), float(curve["L"][-1])
    return {"l1": l1, "lk": lk, "gap": lk - l1, "k": int(curve["ks"][-1])}


def figure(name: str, curve: dict) -> go.Figure:
    """L_k against k (log axis) for one model, with the ELBO (k = 1) as a dashed line."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=curve["ks"], y=curve["L"], mode="lines+markers", name=name,
                             hovertemplate="k = %{x}<br>L_k = %{y:.2f} nats<extra></extra>"))
    fig.add_hline(y=curve["L"][0], line_dash="dash", line_color="grey",
                  annotation_text="ELBO (k = 1)", annotation_position="bottom right")
    fig.update_layout(xaxis=dict(type="log", title="k (importance samples per image)"),
                      yaxis=dict(title="L_k (nats per image; higher = tighter)"),
                      height=380, margin=dict(l=10, r=10, t=30, b=10), showlegend=False)
    return fig


def view(name: str) -> None:
    """The curve of shipped VAE ``name``, the sentence about it and the table of all models."""
    all_curves = curves()
    curve = all_curves.get(name)
    if curve is None:
        st.info(text.IWAE_NO_CURVE.format(name=name), icon=":material/info:")
        return
    n = numbers(curve)
    c1, c2 = present.columns([3, 2])
    present.chart(where=c1, fig=figure(name, curve), key="iwae.chart")
    c2.markdown(text.IWAE_VERDICT.format(name=name, dataset=curve["dataset"],
                                         split=curve["split"], images=curve["images"],
                                         seed=curve["seed"], **n))
    rows = [{"model": m, "data": c["dataset"], "images": c["images"],
             "L_1 = ELBO": round(c["L"][0], text.DIGITS),
             f"L_{c['ks'][-1]}": round(c["L"][-1], text.DIGITS),
             "gap": round(c["L"][-1] - c["L"][0], text.DIGITS)}
            for m, c in sorted(all_curves.items())]
    st.caption(text.IWAE_TABLE)
    present.table(rows, hide_index=True)
