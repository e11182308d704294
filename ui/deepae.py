"""The Deep AE lesson: 8 sigmoid hidden layers trained end to end, after greedy layer-wise
pretraining, and the modern fix (ReLU + BatchNorm), from shipped checkpoints that recorded the
per-layer gradient norms of every epoch (:class:`aecore.pretrain.GradNormRecorder`). The numbers
the page's sentences state come from :func:`summary` / :func:`facts` (also used by the tests)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from aecore.checkpoints import CheckpointInfo

from . import cache, images, links, present, state

MODELS = {"end to end": "digits_deep_sigmoid_z8",
          "layer-wise pretrained": "digits_deep_sigmoid_pre_z8",
          "ReLU + BatchNorm": "digits_deep_relu_bn_z8"}
COLORS = {"end to end": "#d62728", "layer-wise pretrained": "#2ca02c",
          "ReLU + BatchNorm": "#1f77b4"}
SHOW = 8


def layer_labels(n: int) -> list[str]:
    """Labels of the ``n`` Linear layers, input to output (as
    :func:`aecore.pretrain.linear_labels`)."""
    k = (n - 2) // 2
    return ([f"enc {i + 1}" for i in range(k)] + ["to z"] + [f"dec {i + 1}" for i in range(k)]
            + ["to x̂"])


def summary(infos: dict[str, CheckpointInfo]) -> list[dict]:
    """One row per model: epoch-1 gradient norms of the first and the last Linear layer,
    their ratio, and the test loss after 1 epoch and at the best epoch (nats per image)."""
    rows = []
    for name, info in infos.items():
        g = info.meta["grad_norms"][0]
        h = info.meta["history"]["test_total"]
        rows.append({"model": name, "first layer |grad| (epoch 1)": float(f"{g[0]:.2g}"),
                     "output layer |grad| (epoch 1)": float(f"{g[-1]:.2g}"),
                     "output / first": round(g[-1] / g[0], 1),
                     "test loss, epoch 1": round(h[0], 2), "best test loss": round(min(h), 2),
                     "end-to-end epochs": len(h),
                     "pretraining epochs per layer": int(info.meta.get("pretrain_epochs", 0))})
    return rows


def facts(rows: list[dict]) -> str:
    """The sentences under the figures, every number from ``rows`` (:func:`summary`)."""
    r = {row["model"]: row for row in rows}
    e2e, pre, fix = r["end to end"], r["layer-wise pretrained"], r["ReLU + BatchNorm"]
    ratio = "output / first"
    return (f"In the first epoch the end-to-end sigmoid model's first layer gets a gradient "
            f"**{e2e[ratio]:,.0f} times** smaller than its output layer "
            f"({e2e['first layer |grad| (epoch 1)']:.1e} vs "
            f"{e2e['output layer |grad| (epoch 1)']:.1e}): the vanishing gradient. After "
            f"layer-wise pretraining the factor is {pre[ratio]:,.1f}; with ReLU + BatchNorm "
            f"{fix[ratio]:,.1f}. Best test loss: end to end **{e2e['best test loss']:.2f}**, "
            f"pretrained **{pre['best test loss']:.2f}** (the end-to-end loss is "
            f"{e2e['best test loss'] / pre['best test loss']:.2f} times the pretrained one, "
            f"after the same {e2e['end-to-end epochs']} end-to-end epochs), ReLU + BatchNorm "
            f"**{fix['best test loss']:.2f}** nats per image.")


def shipped() -> dict[str, CheckpointInfo]:
    """The lesson's checkpoints that are present, by name."""
    found = {k: cache.model_named(v) for k, v in MODELS.items()}
    return {k: i for k, i in found.items() if i is not None}


def grad_figure(infos: dict[str, CheckpointInfo]) -> go.Figure:
    """Mean gradient norm of each Linear layer's weights (log scale), input to output, in the
    first epoch (solid) and the last (dotted)."""
    fig = go.Figure()
    for name, info in infos.items():
        g = info.meta["grad_norms"]
        labels = layer_labels(len(g[0]))
        for ep, dash in ((0, "solid"), (len(g) - 1, "dot")):
            fig.add_trace(go.Scatter(x=labels, y=g[ep], mode="lines+markers",
                                     name=f"{name}, epoch {ep + 1}",
                                     line=dict(color=COLORS[name], dash=dash, width=3)))
    fig.update_yaxes(type="log", title="‖∂L/∂W‖ (epoch mean)",
                     exponentformat="power")
    fig.update_xaxes(title="layer (input → output)")
    fig.update_layout(height=400, margin=dict(l=10, r=10, t=10, b=10),
                      legend=dict(orientation="h", y=-0.3))
    return fig


def loss_figure(infos: dict[str, CheckpointInfo]) -> go.Figure:
    """Test loss per end-to-end epoch of the three models (nats per image)."""
    fig = go.Figure()
    for name, info in infos.items():
        h = info.meta["history"]["test_total"]
        fig.add_trace(go.Scatter(x=list(range(1, len(h) + 1)), y=h, name=name, mode="lines",
                                 line=dict(color=COLORS[name], width=3)))
    fig.update_xaxes(title="end-to-end epoch (the pretrained model was pretrained first)")
    fig.update_yaxes(title="test loss (nats per image)")
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=10, b=10),
                      legend=dict(orientation="h", y=-0.3))
    return fig


@st.cache_data(max_entries=8, show_spinner=False)
def _recons(ids: tuple[str, ...], i0: int) -> list[np.ndarray]:
    """Reconstructions of test images i0 .. i0 + SHOW by each model."""
    out = []
    for cid in ids:
        info = cache.model_info(cid)
        model = cache.load_model(str(info.path), cid)
        with torch.no_grad():
            out.append(model.reconstruct(cache.model_splits(info)[1].x[i0:i0 + SHOW]).numpy())
    return out


def view() -> None:
    """The lesson below its explanation."""
    infos = shipped()
    if len(infos) < len(MODELS):
        st.error("Shipped models missing: run `python -m aecore rebuild-shipped "
                 + " ".join(MODELS.values()) + "`.", icon=":material/error:")
        return
    rows = summary(infos)
    st.subheader("The vanishing gradient, layer by layer")
    present.chart(grad_figure(infos), key="deep.grads")
    st.markdown(facts(rows))
    sci = st.column_config.NumberColumn(format="%.1e")
    present.table(rows, hide_index=True, column_config={
        "first layer |grad| (epoch 1)": sci, "output layer |grad| (epoch 1)": sci})
    st.subheader("Loss curves")
    present.chart(loss_figure(infos), key="deep.loss")
    st.subheader("Reconstructions")
    test = cache.model_splits(next(iter(infos.values())))[1]
    links.fit_index(state.DEEP_IMG, len(test) - SHOW + 1)
    i0 = st.number_input("First test image", 0, len(test) - SHOW, key=state.DEEP_IMG)
    rec = _recons(tuple(i.id for i in infos.values()), int(i0))
    st.image(images.tile(np.concatenate([test.x[i0:i0 + SHOW].numpy(), *rec]), ncol=SHOW,
                         cell=56),
             caption="Rows: test images, then " + ", ".join(infos) + " (top to bottom).",
             width="content")
