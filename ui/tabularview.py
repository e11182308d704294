"""Page glue for tabular models: the Tabular lesson (anomaly detection on the breast cancer
set) and the latent map of a tabular model, which shows no images (:mod:`aecore.tabular`)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from aecore.checkpoints import CheckpointInfo
from aecore.tabular import feature_names

from . import cache, figures, present, state, text

TOP = 3  # worst features named in the words under a case


def _names(info: CheckpointInfo, d: int) -> list[str]:
    """The dataset's column names, or "feature j" when it has none."""
    return feature_names(info.dataset) or [f"feature {j}" for j in range(d)]


def scores_text(s: cache.TabularScores, classes: list[str]) -> str:
    """The sentence under the lesson's figures, every number taken from ``s``."""
    bad = s.y == s.anomaly
    flagged = s.errors > s.threshold
    return text.TABULAR_SCORES.format(
        n=len(s.y), n_mal=int(bad.sum()), n_ben=int((~bad).sum()), auc=s.auc,
        auc_pct=100 * s.auc, thr=s.threshold, tp=int((flagged & bad).sum()),
        fp=int((flagged & ~bad).sum()))


def case_text(s: cache.TabularScores, i: int, names: list[str], classes: list[str]) -> str:
    """What makes case ``i`` anomalous: its ``TOP`` worst-reconstructed features by name."""
    fe = s.feature_errors[i]
    worst = np.argsort(-fe)[:TOP]
    return text.TABULAR_CASE.format(
        i=i, label=classes[int(s.y[i])], err=float(s.errors[i]),
        worst=", ".join(f"**{names[j]}** ({fe[j]:.1f})" for j in worst),
        share=100 * float(fe[worst].sum() / max(fe.sum(), 1e-12)))


def lesson_view(info: CheckpointInfo) -> None:
    """Histogram of both classes, ROC and AUC, then the features a flagged case gets wrong."""
    s = cache.tabular_scores(str(info.path), info.id)
    test = cache.model_splits(info)[1]
    names = _names(info, s.feature_errors.shape[1])
    classes = test.classes
    unit = text.UNITS[info.model_config.recon_loss]
    bad = s.y == s.anomaly
    st.markdown(scores_text(s, classes))
    c1, c2, c3 = present.columns([5, 5, 2])
    other = classes[1 - s.anomaly] if len(classes) == 2 else "others"
    # errors span two decades (about 2 to 240): bins of log10(error), ticks in error units
    log = {f"{classes[s.anomaly]} (never trained on)": np.log10(s.errors[bad]),
           other: np.log10(s.errors[~bad])}
    fig = figures.histograms(log, unit=unit)
    fig.add_vline(x=float(np.log10(s.threshold)), line=dict(color="#333", width=2, dash="dash"))
    ticks = [v for v in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
             if s.errors.min() / 2 <= v <= s.errors.max() * 2]
    fig.update_layout(yaxis_title="share of the class's cases",
                      legend=dict(orientation="h", x=0, y=-0.3),
                      xaxis=dict(title=f"reconstruction error ({unit}, log scale)",
                                 tickvals=np.log10(ticks).tolist(),
                                 ticktext=[str(v) for v in ticks]))
    present.chart(where=c1, fig=fig, key="tab.hist")
    c1.caption(text.TABULAR_HIST)
    present.chart(where=c2, fig=figures.roc_curve(s.fpr, s.tpr, s.auc), key="tab.roc")
    c3.metric("ROC-AUC", f"{s.auc:.3f}", help="0.5 = chance, 1 = perfect separation.")
    flagged = np.flatnonzero(s.errors > s.threshold)
    order = flagged[np.argsort(-s.errors[flagged])] if len(flagged) else np.argsort(-s.errors)
    st.subheader("Which features give a flagged case away")
    if st.session_state.get(state.TAB_CASE) not in set(order.tolist()):
        st.session_state[state.TAB_CASE] = int(order[0])  # default: the worst flagged case
    i = st.selectbox("Flagged test case (worst first)", order.tolist(), key=state.TAB_CASE,
                     format_func=lambda j: f"case {j} · {classes[int(s.y[j])]} · error "
                                           f"{s.errors[j]:.1f}")
    st.markdown(case_text(s, int(i), names, classes))
    model = cache.load_model(str(info.path), info.id)
    x = test.x[int(i)].numpy()
    x_hat = cache.reconstruct_one(model, test.x[int(i)])
    present.chart(figures.feature_bars(names, x, x_hat), key="tab.features")
    st.caption("The case's ten worst-reconstructed features, worst at the top: its value and "
               "what the AE, which only knows benign cases, rebuilds.")


def map_view(info: CheckpointInfo, method: str) -> None:
    """The latent map of a tabular model: a scatter of the test cases (no images, no decoder
    under the pointer) and, beside it, one case's features against their reconstruction."""
    model = cache.load_model(str(info.path), info.id)
    test = cache.model_splits(info)[1]
    atlas = cache.atlas(info, method)
    names = _names(info, test.x.shape[1])
    st.info(text.TABULAR_MAP, icon=":material/table_chart:")
    left, right = present.columns([3, 2])
    fig = figures.latent_map(atlas.embedding, test.y.numpy(), test.classes, method=method,
                             height=460)
    fig.update_traces(hovertemplate="case %{customdata}<extra></extra>")
    present.chart(where=left, fig=fig, key="map.tab.chart")
    with right:
        k = state.MAP_TAB_CASE
        st.session_state[k] = min(int(st.session_state.get(k, 0)), len(test) - 1)
        i = int(st.number_input("Case (test index; hover a point to read its index)", 0,
                                len(test) - 1, key=k))
        x_hat = cache.reconstruct_one(model, test.x[i])
        err = float(((test.x[i].numpy() - x_hat) ** 2).sum())
        st.markdown(f"#### Case {i} · label **{test.classes[int(test.y[i])]}**")
        st.metric("Reconstruction error", f"{err:.2f} {text.UNITS[model.config.recon_loss]}",
                  help="Squared error summed over the 30 standardised features.")
        present.chart(figures.feature_bars(names, test.x[i].numpy(), x_hat, height=320),
                      key="map.tab.features")
