"""Plotly figure builders: arrays in, ``go.Figure`` out. No Streamlit here, so they are
testable without a browser."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

__all__ = ["CLASS_COLORS", "AXIS_TITLES", "latent_map", "GRID_CUSTOMDATA", "frames_animation",
           "points_overlay", "pick_markers", "loss_curves", "model_diagram", "histogram",
           "roc_curve", "histograms", "level_curves"]

# Plotly's D3 category palette: 10 distinguishable hues, one per class
CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
AXIS_TITLES = {"identity": ("z₁", "z₂"), "pca": ("PC 1", "PC 2"),
               "umap": ("UMAP 1", "UMAP 2"), "tsne": ("t-SNE 1", "t-SNE 2")}
GRID_CUSTOMDATA = -1  # customdata of click-grid nodes; data points carry their row index >= 0
_KEEP = dict(marker=dict(opacity=1))  # "unselected" style: Plotly fades other traces on a click


def latent_map(embedding: np.ndarray, labels: np.ndarray, classes: list[str], *,
               method: str = "identity", grid_xy: np.ndarray | None = None,
               selected: int | None = None, clicked_xy: tuple[float, float] | None = None,
               flagged: np.ndarray | None = None, path_xy: np.ndarray | None = None,
               height: int = 560, far_xy: np.ndarray | None = None) -> go.Figure:
    """Scatter of 2-D latent positions coloured by class, with an invisible click grid.

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
    grid_xy : ndarray of shape (G, 2), optional
        Click-grid nodes: drawn first (under the data) with transparent markers so that a click
        on empty space selects the nearest node and returns its x/y.
    selected : int, optional
        Row index of the selected image: drawn as a black ring.
    clicked_xy : (float, float), optional
        A clicked empty location: drawn as a black cross.
    flagged : ndarray of shape (N,), bool, optional
        Images to emphasise (e.g. anomalies): drawn with a red outline.
    path_xy : ndarray of shape (K, 2), optional
        A path (e.g. an interpolation) drawn as a line with markers.
    far_xy : ndarray of shape (F, 2), optional
        Click-grid nodes far from every data point: drawn as small grey dots (legend entry
        "no data nearby") that take no clicks or hovers, so the grid under them still does.

    Returns
    -------
    go.Figure
        Data traces carry the global row index in ``customdata``; grid nodes carry
        ``GRID_CUSTOMDATA``. Unselected points keep full opacity.
    """
    emb = np.asarray(embedding, dtype=float)
    labels = np.asarray(labels)
    fig = go.Figure()
    if grid_xy is not None:
        fig.add_trace(go.Scattergl(
            x=grid_xy[:, 0], y=grid_xy[:, 1], mode="markers", name="empty space",
            marker=dict(size=10, color="rgba(0,0,0,0)"), hoverinfo="none", showlegend=False,
            customdata=np.full(len(grid_xy), GRID_CUSTOMDATA),
            selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0))))
    idx = np.arange(len(emb))
    for k, name in enumerate(classes):
        m = labels == k
        if not m.any():
            continue
        fig.add_trace(go.Scattergl(
            x=emb[m, 0], y=emb[m, 1], mode="markers", name=str(name),
            marker=dict(size=7, color=CLASS_COLORS[k % 10], line=dict(width=0)),
            customdata=idx[m],
            hovertemplate=f"image %{{customdata}}<br>label {name}<extra></extra>",
            selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1))))
    if flagged is not None and np.any(flagged):
        f = np.asarray(flagged, bool)
        fig.add_trace(go.Scattergl(
            x=emb[f, 0], y=emb[f, 1], mode="markers", name="flagged", customdata=idx[f],
            marker=dict(size=11, color="rgba(0,0,0,0)", line=dict(width=2, color="#d62728")),
            hovertemplate="flagged image %{customdata}<extra></extra>",
            unselected=dict(marker=dict(opacity=1))))
    if far_xy is not None and len(far_xy):
        fig.add_trace(go.Scattergl(
            x=far_xy[:, 0], y=far_xy[:, 1], mode="markers", name="no data nearby",
            marker=dict(size=3, color="#dadada"), hoverinfo="skip",
            selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1))))
    if path_xy is not None and len(path_xy):
        fig.add_trace(go.Scatter(
            x=path_xy[:, 0], y=path_xy[:, 1], mode="lines+markers", name="path",
            line=dict(color="black", width=2), marker=dict(size=5, color="black"),
            hoverinfo="skip", unselected=_KEEP))
    sel = (selected, emb[selected]) if selected is not None and 0 <= selected < len(emb) else None
    fig.add_traces(pick_markers(sel, clicked_xy))
    xt, yt = AXIS_TITLES.get(method, ("1", "2"))
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=10, b=10), clickmode="event+select",
        dragmode="pan", hovermode="closest", legend=dict(title="class", itemsizing="constant"),
        xaxis=dict(title=xt, zeroline=False), yaxis=dict(title=yt, zeroline=False),
        plot_bgcolor="white")
    fig.update_xaxes(showgrid=True, gridcolor="#eee")
    fig.update_yaxes(showgrid=True, gridcolor="#eee")
    return fig


def pick_markers(selected: tuple[int, np.ndarray] | None = None,
                 clicked_xy: tuple[float, float] | None = None) -> list[go.Scatter]:
    """The marks of a pick on a latent map: a black ring on the selected image and a black
    cross on a clicked empty location (used by :func:`latent_map`; pages that cache the rest
    of the map add them per click).

    Parameters
    ----------
    selected : (int, ndarray of shape (2,)), optional
        Row index of the selected image and its map position.
    clicked_xy : (float, float), optional
    """
    out = []
    if selected is not None:
        i, xy = selected
        out.append(go.Scatter(
            x=[xy[0]], y=[xy[1]], mode="markers", name="selected",
            marker=dict(size=18, symbol="circle-open", color="black", line=dict(width=3)),
            hoverinfo="skip", customdata=[i], unselected=_KEEP))
    if clicked_xy is not None:
        out.append(go.Scatter(
            x=[clicked_xy[0]], y=[clicked_xy[1]], mode="markers", name="clicked",
            marker=dict(size=16, symbol="x-thin-open", color="black", line=dict(width=3)),
            hoverinfo="skip", customdata=[GRID_CUSTOMDATA], unselected=_KEEP))
    return out


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


def points_overlay(fig: go.Figure, xy: np.ndarray, *, name: str = "samples",
                   color: str = "black", symbol: str = "diamond-open") -> go.Figure:
    """Add extra points (e.g. prior samples placed on the map) on top of a latent map."""
    fig.add_trace(go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="markers", name=name,
                             marker=dict(size=10, color=color, symbol=symbol,
                                         line=dict(width=2)), hoverinfo="skip",
                             unselected=_KEEP))
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
