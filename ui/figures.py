"""Plotly figure builders: arrays in, ``go.Figure`` out. No Streamlit here, so they are
testable without a browser."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

__all__ = ["CLASS_COLORS", "AXIS_TITLES", "latent_map", "frames_animation", "loss_curves",
           "model_diagram", "histogram", "roc_curve", "histograms", "level_curves",
           "feature_bars", "accuracy_curves"]

# Plotly's D3 category palette: 10 distinguishable hues, one per class
CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
AXIS_TITLES = {"identity": ("z₁", "z₂"), "pca": ("PC 1", "PC 2"),
               "umap": ("UMAP 1", "UMAP 2"), "tsne": ("t-SNE 1", "t-SNE 2")}


def latent_map(embedding: np.ndarray, labels: np.ndarray, classes: list[str], *,
               method: str = "identity", height: int = 560) -> go.Figure:
    """A static scatter of 2-D positions coloured by class (the maps that cannot decode:
    PCA of raw pixels, the Train page's preview of an unsaved model). Maps of a saved model
    are drawn in the browser by :mod:`ui.latentmap`, which also decodes under the pointer.

    Parameters
    ----------
    embedding : ndarray of shape (N, 2)
        Map coordinates of each image.
    labels : ndarray of shape (N,), int
        Class index of each image (one legend entry per class).
    classes : list of str
        Class names.
    method : str
        Projection id, for the axis titles.

    Returns
    -------
    go.Figure
        One trace per class present; each carries its points' row indices in ``customdata``.
    """
    emb = np.asarray(embedding, dtype=float)
    labels = np.asarray(labels)
    fig = go.Figure()
    idx = np.arange(len(emb))
    for k, name in enumerate(classes):
        m = labels == k
        if not m.any():
            continue
        fig.add_trace(go.Scattergl(
            x=emb[m, 0], y=emb[m, 1], mode="markers", name=str(name),
            marker=dict(size=7, color=CLASS_COLORS[k % 10], line=dict(width=0)),
            customdata=idx[m],
            hovertemplate=f"image %{{customdata}}<br>label {name}<extra></extra>"))
    xt, yt = AXIS_TITLES.get(method, ("1", "2"))
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=10, b=10), dragmode="pan",
        hovermode="closest", legend=dict(title="class", itemsizing="constant"),
        xaxis=dict(title=xt, zeroline=False), yaxis=dict(title=yt, zeroline=False),
        plot_bgcolor="white")
    fig.update_xaxes(showgrid=True, gridcolor="#eee")
    fig.update_yaxes(showgrid=True, gridcolor="#eee")
    return fig


def frames_animation(frames: np.ndarray, *, size: int = 196, ms: int = 120) -> go.Figure:
    """Plotly animation (play/pause buttons and a slider) of decoded frames.

    Parameters
    ----------
    frames : ndarray of shape (K, C, H, W), float in [0, 1]
    size : int
        Edge in pixels each frame is enlarged to (nearest neighbour, so pixels stay crisp).
    ms : int
        Milliseconds per frame when playing.

    Returns
    -------
    go.Figure with K animation frames (``px.imshow(..., animation_frame=0,
    binary_string=True)``: each frame is a small PNG, so the figure stays light).
    """
    import plotly.express as px

    from .images import enlarge

    stack = np.stack([enlarge(f, size) for f in frames])  # (K, size, size) uint8
    fig = px.imshow(stack, animation_frame=0, binary_string=True,
                    labels={"animation_frame": "step"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=size + 170, width=size + 120, margin=dict(l=10, r=10, t=10, b=10))
    if fig.layout.updatemenus:
        btn = fig.layout.updatemenus[0].buttons[0]
        btn.args[1]["frame"]["duration"] = ms
        btn.args[1]["transition"]["duration"] = 0
    return fig


def loss_curves(epochs: list[dict], unit: str = "nats per image") -> go.Figure:
    """Training curves: total loss (train and test) on the left; the reconstruction and KL
    terms on the right, train dashed and test solid.

    Parameters
    ----------
    epochs : list of dict
        ``EpochLog.to_dict()`` of each finished epoch (at least one).
    unit : str
        Axis title, e.g. ``"nats per image"``.

    Returns
    -------
    go.Figure with two subplots.
    """
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("total loss", "reconstruction and KL"))
    ep = [e["epoch"] for e in epochs]
    for key, name, color, dash in (("train_total", "train total", "#1f77b4", "solid"),
                                   ("test_total", "test total", "#ff7f0e", "solid")):
        fig.add_trace(go.Scatter(x=ep, y=[e[key] for e in epochs], name=name, mode="lines+markers",
                                 line=dict(color=color, dash=dash)), row=1, col=1)
    # right: each term on train (dashed) and test (solid); train KL is unweighted by beta
    for key, name, color, dash in (("train_recon", "train recon", "#2ca02c", "dash"),
                                   ("test_recon", "test recon", "#2ca02c", "solid"),
                                   ("train_kl", "train KL", "#d62728", "dash"),
                                   ("test_kl", "test KL", "#d62728", "solid")):
        if key not in epochs[0]:
            continue
        fig.add_trace(go.Scatter(x=ep, y=[e[key] for e in epochs], name=name, mode="lines+markers",
                                 line=dict(color=color, dash=dash)), row=1, col=2)
    fig.update_xaxes(title="epoch")
    fig.update_yaxes(title=unit, row=1, col=1)
    fig.update_yaxes(title=unit, row=1, col=2)
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def model_diagram(layers: list[tuple[str, int]], height: int = 190) -> go.Figure:
    """Hourglass diagram of a model: one bar per layer, its height growing with the layer's
    width (square root scale), encoder blue, bottleneck z red, decoder green.

    Parameters
    ----------
    layers : list of (label, width)
        From ``Autoencoder.layer_sizes()``, input to output.
    """
    z_at = next(i for i, (lab, _) in enumerate(layers) if lab == "z")
    h = np.sqrt([w for _, w in layers], dtype=float)
    colors = ["#1f77b4" if i < z_at else "#d62728" if i == z_at else "#2ca02c"
              for i in range(len(layers))]
    x = [f"{lab}<br>{w}" for lab, w in layers]
    fig = go.Figure(go.Bar(x=x, y=h, base=-h / 2, marker_color=colors, width=0.6,
                           hovertemplate="%{x}<extra></extra>"))
    fig.update_yaxes(visible=False)
    fig.update_xaxes(tickfont=dict(size=11))
    fig.update_layout(height=height, margin=dict(l=5, r=5, t=5, b=5), plot_bgcolor="white",
                      showlegend=False, bargap=0.3)
    return fig


def histogram(values: np.ndarray, threshold: float | None = None, *, unit: str = "nats",
              height: int = 300) -> go.Figure:
    """Histogram of per-image scores with an optional vertical threshold line."""
    fig = go.Figure(go.Histogram(x=values, nbinsx=50, marker_color="#1f77b4"))
    if threshold is not None:
        fig.add_vline(x=threshold, line=dict(color="#d62728", width=2, dash="dash"),
                      annotation_text="threshold")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis_title=f"reconstruction error ({unit} per image)",
                      yaxis_title="test images", bargap=0.05)
    return fig


def roc_curve(fpr: np.ndarray, tpr: np.ndarray, auc: float, height: int = 320) -> go.Figure:
    """ROC curve with the chance diagonal and the AUC in the legend."""
    fig = go.Figure([go.Scatter(x=fpr, y=tpr, mode="lines", name=f"ROC (AUC {auc:.3f})",
                                line=dict(color="#1f77b4", width=3)),
                     go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance",
                                line=dict(color="#999", dash="dash"))])
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis_title="false positive rate", yaxis_title="true positive rate",
                      legend=dict(x=0.5, y=0.1))
    return fig


def histograms(groups: dict[str, np.ndarray], *, unit: str = "nats",
               height: int = 300) -> go.Figure:
    """Overlaid, normalised histograms of per-image scores, one per named group (e.g. the
    held-out class against the rest), sharing the same bins."""
    allv = np.concatenate([np.asarray(v, float) for v in groups.values()])
    size = (allv.max() - allv.min()) / 30 or 1.0
    fig = go.Figure([go.Histogram(x=v, name=name, histnorm="probability", opacity=0.6,
                                  xbins=dict(start=allv.min(), end=allv.max() + size, size=size),
                                  marker_color=CLASS_COLORS[k % 10])
                     for k, (name, v) in enumerate(groups.items())])
    fig.update_layout(barmode="overlay", height=height, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis_title=f"reconstruction error ({unit} per image)",
                      yaxis_title="share of images", legend=dict(x=0.7, y=0.95))
    return fig


def level_curves(x: np.ndarray, series: dict[str, np.ndarray], *, x_title: str, y_title: str,
                 mark_x: float | None = None, height: int = 300) -> go.Figure:
    """One line per named series against a shared x (e.g. PSNR against noise level), with an
    optional dotted vertical line at ``mark_x``."""
    fig = go.Figure([go.Scatter(x=x, y=y, name=name, mode="lines+markers",
                                line=dict(color=CLASS_COLORS[k % 10], width=3))
                     for k, (name, y) in enumerate(series.items())])
    if mark_x is not None:
        fig.add_vline(x=mark_x, line=dict(color="#555", width=1, dash="dot"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), xaxis_title=x_title,
                      yaxis_title=y_title, legend=dict(orientation="h", y=-0.25))
    return fig


def feature_bars(names: list[str], x: np.ndarray, x_hat: np.ndarray, *, top: int = 10,
                 height: int = 360) -> go.Figure:
    """One case's ``top`` worst-reconstructed features: its value and the reconstruction side
    by side (standardised units), worst at the top.

    Parameters
    ----------
    names : list of str, length D
    x, x_hat : ndarray of shape (D,)
        Standardised feature values and their reconstruction.
    """
    x, x_hat = np.asarray(x, float), np.asarray(x_hat, float)
    order = np.argsort(-(x - x_hat) ** 2)[:top][::-1]  # worst last: drawn at the top
    labels = [names[j] for j in order]
    fig = go.Figure([go.Bar(y=labels, x=x[order], orientation="h", name="case x",
                            marker_color=CLASS_COLORS[0]),
                     go.Bar(y=labels, x=x_hat[order], orientation="h",
                            name="reconstruction x̂", marker_color=CLASS_COLORS[1])])
    fig.update_layout(barmode="group", height=height, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis_title="standardised value",
                      legend=dict(orientation="h", y=-0.2))
    return fig


def accuracy_curves(ticks: list[str], mean: dict[str, np.ndarray], low: dict[str, np.ndarray],
                    high: dict[str, np.ndarray], names: dict[str, str],
                    height: int = 340) -> go.Figure:
    """Test accuracy against labels per class, one line per representation, with bars from
    the lowest to the highest draw.

    Parameters
    ----------
    ticks : list of str
        The x categories ("1", "5", ..., "all").
    mean, low, high : dict of str -> ndarray of shape (len(ticks),), accuracies in [0, 1]
    names : dict of str -> str
        Legend name of each key of ``mean``.
    """
    fig = go.Figure([go.Scatter(
        x=ticks, y=mean[k], name=names[k], mode="lines+markers",
        line=dict(color=CLASS_COLORS[i % 10], width=3),
        error_y=dict(type="data", symmetric=False, array=high[k] - mean[k],
                     arrayminus=mean[k] - low[k], thickness=1))
        for i, k in enumerate(mean)])
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(title="labelled training images per class", type="category"),
                      yaxis=dict(title="test accuracy", tickformat=".0%"),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def answers_figure(labels: list[str], counts: list[int], correct: int = -1) -> go.Figure:
    """Horizontal bars of a class question's answers (counts only, never names).

    Parameters
    ----------
    labels : list of str
        One short label per option (``"A"``, ``"B"``...), top to bottom.
    counts : list of int
        Students who chose each option.
    correct : int
        Index of the right option, drawn green once revealed; -1 (before the reveal): every
        bar the same grey-blue, so the chart gives nothing away.
    """
    colors = ["#2e7d32" if k == correct else ("#9e9e9e" if correct >= 0 else "#4a6fa5")
              for k in range(len(labels))]
    fig = go.Figure(go.Bar(x=counts, y=labels, orientation="h", marker_color=colors,
                           text=[str(c) for c in counts], textposition="outside",
                           hovertemplate="%{y}: %{x}<extra></extra>"))
    fig.update_layout(height=60 + 48 * len(labels), margin=dict(l=10, r=30, t=10, b=30),
                      xaxis=dict(title="students", rangemode="tozero", dtick=max(1, max(counts,
                                 default=0) // 5 or 1)),
                      yaxis=dict(autorange="reversed", type="category"), showlegend=False)
    return fig
