"""The Activations lesson: the same digits AE trained with each hidden-layer activation
(shipped ``digits_act_<activation>_z8``): test-loss curves from the checkpoints' stored history,
reconstructions, and the numbers the page's sentences state (:func:`summary`, :func:`facts`,
also used by the tests)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from aecore.checkpoints import CheckpointInfo
from aecore.models.blocks import ACTIVATIONS

from . import cache, images, links, present, state

MODEL = "digits_act_{}_z8"  # shipped checkpoint of each activation
EARLY = 5  # the epoch at which "how fast does it learn" is read off the curves
SHOW = 8  # test images reconstructed
COLORS = {"relu": "#1f77b4", "leaky_relu": "#17becf", "tanh": "#2ca02c", "sigmoid": "#d62728",
          "gelu": "#9467bd"}


def roughness(x: np.ndarray) -> float:
    """Mean total variation per image: sum of |differences| between horizontally and
    vertically adjacent pixels, ``x`` (N, C, H, W) in [0, 1]. Lower is smoother."""
    x = np.asarray(x, np.float64)
    tv = np.abs(np.diff(x, axis=-1)).sum((1, 2, 3)) + np.abs(np.diff(x, axis=-2)).sum((1, 2, 3))
    return float(tv.mean())


def summary(infos: dict[str, CheckpointInfo], recons: dict[str, np.ndarray],
            ) -> list[dict]:
    """One row per activation: test loss after :data:`EARLY` epochs and at the best epoch
    (nats per image, from the metadata's ``history``), and the roughness of the
    reconstructions ``recons[act]`` (N, 1, 8, 8) of the test images."""
    rows = []
    for act, info in infos.items():
        hist = info.meta["history"]["test_total"]
        rows.append({"activation": act, f"test loss at epoch {EARLY}": round(hist[EARLY - 1], 2),
                     "best test loss": round(min(hist), 2),
                     "best epoch": int(np.argmin(hist)) + 1,
                     "roughness of reconstructions": round(roughness(recons[act]), 2)})
    return rows


def facts(rows: list[dict], data: float) -> str:
    """The sentences under the figures, every number taken from ``rows`` (:func:`summary`)
    and ``data``, the roughness of the test images themselves."""
    acts = rows
    early, rk = f"test loss at epoch {EARLY}", "roughness of reconstructions"
    fast = min(acts, key=lambda r: r[early])
    slow = max(acts, key=lambda r: r[early])
    best = min(acts, key=lambda r: r["best test loss"])
    rough = sorted(acts, key=lambda r: r[rk])
    out = (f"After {EARLY} epochs **{fast['activation']}** is fastest ({fast[early]:.2f} "
           f"nats) and **{slow['activation']}** slowest ({slow[early]:.2f} nats). Best test "
           f"loss: **{best['activation']}**, {best['best test loss']:.2f} nats. "
           f"Reconstructions are smoothest with **{rough[0]['activation']}** (roughness "
           f"{rough[0][rk]:.2f}) and roughest with **{rough[-1]['activation']}** "
           f"({rough[-1][rk]:.2f}); the test images themselves: {data:.2f}.")
    if rough[-1][rk] < data:
        out += " Every model's reconstructions are smoother than the images."
    return out


@st.cache_data(max_entries=8, show_spinner=False)
def _recons(ids: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Reconstructions of the whole test split by each model (cached by checkpoint ids)."""
    out = {}
    for cid in ids:
        info = cache.model_info(cid)
        model = cache.load_model(str(info.path), cid)
        x = cache.model_splits(info)[1].x
        with torch.no_grad():
            out[info.model_config.activation] = model.reconstruct(x).numpy()
    return out


def shipped() -> dict[str, CheckpointInfo]:
    """The lesson's checkpoints that are present, by activation."""
    found = {a: cache.model_named(MODEL.format(a)) for a in ACTIVATIONS}
    return {a: i for a, i in found.items() if i is not None}


def curves(infos: dict[str, CheckpointInfo]) -> go.Figure:
    """Test loss per epoch of each activation (nats per image)."""
    fig = go.Figure()
    for act, info in infos.items():
        h = info.meta["history"]["test_total"]
        fig.add_trace(go.Scatter(x=list(range(1, len(h) + 1)), y=h, name=act, mode="lines",
                                 line=dict(color=COLORS[act], width=3)))
    fig.add_vline(x=EARLY, line_dash="dot", line_color="#888")
    fig.update_xaxes(title="epoch")
    fig.update_yaxes(title="test loss (nats per image)")
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=10, b=10),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def view() -> None:
    """The lesson below its explanation: curves, numbers, reconstructions."""
    infos = shipped()
    if len(infos) < len(ACTIVATIONS):
        missing = [MODEL.format(a) for a in ACTIVATIONS if a not in infos]
        st.error("Shipped models missing: run `python -m aecore rebuild-shipped "
                 + " ".join(missing) + "`.", icon=":material/error:")
        return
    recons = _recons(tuple(i.id for i in infos.values()))
    test = cache.model_splits(next(iter(infos.values())))[1]
    rows, data = summary(infos, recons), roughness(test.x.numpy())
    st.subheader("How fast each activation learns")
    present.chart(curves(infos), key="act.curves")
    st.markdown(facts(rows, data))
    present.table(rows, hide_index=True)
    st.subheader("Reconstructions")
    links.fit_index(state.ACT_IMG, len(test) - SHOW + 1)
    i0 = st.number_input("First test image", 0, len(test) - SHOW, key=state.ACT_IMG)
    shown = [test.x[i0:i0 + SHOW].numpy()] + [recons[a][i0:i0 + SHOW] for a in infos]
    st.image(images.tile(np.concatenate(shown), ncol=SHOW, cell=56),
             caption="Rows: test images, then " + ", ".join(infos) + " (top to bottom).",
             width="content")
