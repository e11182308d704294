"""Plotly figures of the bottleneck-size and posterior-collapse lessons: arrays in,
``go.Figure`` out (no Streamlit here, so they are testable without a browser)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = ["sweep_curve", "copy_curve", "kl_bars", "kl_bars_grid"]

_TRAIN, _TEST, _NOISE, _SCORE = "#1f77b4", "#ff7f0e", "#d62728", "#2ca02c"
ACTIVE, INACTIVE = "#1f77b4", "#c7c7c7"  # bar colours of active and collapsed units


def _z_axis(fig: go.Figure, z: Sequence[int], input_dim: int, **where) -> None:
    """A log2 axis with a tick at each z and a dashed line at the input size."""
    fig.update_xaxes(type="log", tickvals=list(z), ticktext=[str(v) for v in z],
                     title="latent size z (log scale)", **where)
    fig.add_vline(x=input_dim, line_dash="dash", line_color="#888", **where)


def sweep_curve(z: Sequence[int], train: Sequence[float], test: Sequence[float], *,
                input_dim: int, unit: str, height: int = 340) -> go.Figure:
    """Train and test reconstruction error (``unit`` per image) against latent size ``z``,
    with a dashed line at ``input_dim`` (left: undercomplete, right: overcomplete)."""
    fig = go.Figure()
    for name, y, color in (("train", train, _TRAIN), ("test", test, _TEST)):
        fig.add_trace(go.Scatter(x=list(z), y=list(y), mode="lines+markers", name=name,
                                 line=dict(color=color, width=2.5), marker=dict(size=8),
                                 hovertemplate="z=%{x}: %{y:.2f}<extra>" + name + "</extra>"))
    _z_axis(fig, z, input_dim)
    fig.add_annotation(x=np.log10(input_dim), y=1, yref="paper", text=f"z = {input_dim} pixels",
                       showarrow=False, xanchor="left", yanchor="top", font=dict(color="#666"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white",
                      yaxis=dict(title=f"reconstruction error ({unit} per image)",
                                 gridcolor="#eee"),
                      legend=dict(orientation="h", y=1.12, x=0))
    return fig


def copy_curve(labels: Sequence[str], digit_err: Sequence[float], noise_err: Sequence[float],
               score: Sequence[float], *, height: int = 340) -> go.Figure:
    """Copy test per model: summed squared error per image on digits and on uniform noise
    (left axis, bars) and the noise-copy score (right axis, line), one x position per label."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    x = list(labels)
    fig.add_trace(go.Bar(x=x, y=list(digit_err), name="error on digits", marker_color=_TRAIN,
                         hovertemplate="%{x}: %{y:.2f}<extra>digits</extra>"))
    fig.add_trace(go.Bar(x=x, y=list(noise_err), name="error on uniform noise",
                         marker_color=_NOISE,
                         hovertemplate="%{x}: %{y:.2f}<extra>noise</extra>"))
    fig.add_trace(go.Scatter(x=x, y=list(score), name="noise-copy score", mode="lines+markers",
                             line=dict(color=_SCORE, width=3), marker=dict(size=9),
                             hovertemplate="%{x}: %{y:.2f}<extra>score</extra>"),
                  secondary_y=True)
    fig.update_yaxes(title="squared error per image", gridcolor="#eee", secondary_y=False)
    lo = min(0.0, float(np.nanmin(score)) if len(score) else 0.0)
    hi = max(1.0, float(np.nanmax(score)) if len(score) else 1.0)
    fig.update_yaxes(title="noise-copy score", range=[lo - 0.05, hi + 0.05], dtick=0.25,
                     showgrid=False, secondary_y=True)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white",
                      barmode="group", legend=dict(orientation="h", y=1.14, x=0))
    return fig


def kl_bars(kl: np.ndarray, active: np.ndarray, *, title: str = "",
            height: int = 260) -> go.Figure:
    """KL of each latent dimension (nats per image) as bars, active units in blue and
    inactive (collapsed) ones in grey."""
    kl, active = np.asarray(kl, float), np.asarray(active, bool)
    fig = go.Figure(go.Bar(
        x=[f"z{j + 1}" for j in range(len(kl))], y=kl,
        marker_color=[ACTIVE if a else INACTIVE for a in active],
        customdata=np.where(active, "active", "inactive"),
        hovertemplate="%{x}: KL %{y:.3f} nats (%{customdata})<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30 if title else 10, b=10),
                      title=dict(text=title, font=dict(size=14)), plot_bgcolor="white",
                      yaxis=dict(title="KL (nats per image)", gridcolor="#eee",
                                 rangemode="tozero"), showlegend=False)
    return fig


def kl_bars_grid(kls: Sequence[np.ndarray], actives: Sequence[np.ndarray],
                 titles: Sequence[str], *, height: int = 460) -> go.Figure:
    """One :func:`kl_bars` panel per model, two per row, on one shared y axis (so the bars
    compare across models; two per row stay readable on a phone)."""
    n = len(kls)
    cols = min(2, n)
    rows = -(-n // cols)
    fig = make_subplots(rows=rows, cols=cols, shared_yaxes="all", subplot_titles=list(titles),
                        horizontal_spacing=0.04, vertical_spacing=0.12)
    for i, (kl, act) in enumerate(zip(kls, actives)):
        fig.add_trace(kl_bars(kl, act).data[0], row=i // cols + 1, col=i % cols + 1)
    for r in range(1, rows + 1):
        fig.update_yaxes(title="KL (nats)", row=r, col=1)
    fig.update_yaxes(gridcolor="#eee", rangemode="tozero")
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), plot_bgcolor="white",
                      showlegend=False)
    return fig
