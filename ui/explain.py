"""The maths block under each page's explanation: its formulas (``st.latex``) beside a diagram
of the layers of the model(s) the page uses."""
from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from aecore.checkpoints import CheckpointInfo

from . import cache, figures, present, state, text


def formulas_and_models(formulas: Sequence[str], infos: Sequence[CheckpointInfo | None] = (),
                        *, label: str = "The formulas and the model",
                        expanded: bool = False) -> None:
    """An expander with ``formulas`` (LaTeX strings from :mod:`ui.text`), full width so long
    ones fit, then the layer diagram (:func:`ui.figures.model_diagram`) of each model in
    ``infos`` side by side (at most half the width each)."""
    if state.hidden("formulas"):
        return
    shown = list({i.id: i for i in infos if i is not None}.values())  # drop None, repeats
    with st.expander(label, icon=":material/function:", expanded=expanded):
        for f in formulas:
            st.latex(f)
        for col, info in zip(st.columns(max(2, len(shown))) if shown else [], shown):
            with col:
                model_diagram(info, key=f"explain.diagram.{info.id}")


def model_diagram(info: CheckpointInfo, *, key: str, height: int = 150) -> None:
    """One model's layer diagram with its name and the colour legend as a caption."""
    model = cache.load_model(str(info.path), info.id)
    present.chart(figures.model_diagram(model.layer_sizes(), height=height), key=key,
                    config={"displayModeBar": False, "staticPlot": True})
    st.caption(f"**{info.name}** · {text.DIAGRAM_LEGEND}")
