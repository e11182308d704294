"""Page glue of the Semi-supervised lesson: accuracy against labels per class for pixels, the
model's codes and PCA (:mod:`aecore.semisup`), and the labelled images on the latent map."""
from __future__ import annotations

import numpy as np
import streamlit as st

from aecore import latent
from aecore.checkpoints import CheckpointInfo
from aecore.semisup import FEATURES, SemiSupResult

from . import cache, figures, latentmap, present, state, text

SEED = 0  # the labelled draws are the same for every visitor (the numbers are cached)
REPEATS = 10  # random draws of the labelled images per n (the plot shows their mean and range)
NAMES = {"pixels": "pixels", "latent": "latent code", "pca": "PCA (same size)"}


def summary(r: SemiSupResult, n: int, name: str, code: str = "μ") -> str:
    """The sentence under the plot for ``n`` labels per class, every number taken from ``r``."""
    acc = {f: r.at(n, f) for f in FEATURES}
    best = max(FEATURES, key=lambda f: acc[f])
    total = r.n_labels[r.labels_per_class.index(n)]
    return text.SEMISUP_SUMMARY.format(n=n, s="" if n == 1 else "s", total=total, name=name,
                                       code=code,
                                       lat=acc["latent"], pix=acc["pixels"], pca=acc["pca"],
                                       k=r.latent_dim, verdict=text.SEMISUP_VERDICT[best])


def view(info: CheckpointInfo, method: str) -> None:
    """The accuracy plot, its summary for the chosen ``n`` and the labelled images on the map."""
    r = cache.semisup(str(info.path), info.id, SEED, REPEATS)
    train, test = cache.model_splits(info)
    ns = [n for n in r.labels_per_class if n is not None]
    k = state.SEMI_N
    if st.session_state.get(k) not in ns:
        st.session_state[k] = 10 if 10 in ns else ns[0]
    xt = [str(n) if n is not None else f"all ({len(train)})" for n in r.labels_per_class]
    left, right = present.columns([1, 1])
    present.chart(where=left, fig=figures.accuracy_curves(xt, r.mean, r.low, r.high, NAMES),
                  key="semi.curves")
    left.caption(f"1-nearest-neighbour test accuracy on the {r.n_test} test images; mean of "
                 f"{r.repeats} random draws of the labelled images (bars: lowest and highest "
                 f"draw), seed {r.seed}. Chance is {1 / len(test.classes):.0%}.")
    with right:
        n = st.segmented_control("Labels per class", ns, key=k) or st.session_state[k]
        code = "μ" if cache.load_model(str(info.path), info.id).is_variational else "z"
        st.markdown(summary(r, n, info.name, code))
        atlas = cache.atlas(info, method)
        note = ""
        if not atlas.inverse_is_exact:
            atlas = cache.atlas(info, "pca")
            note = text.SEMISUP_NOT_EXACT.format(k=info.model_config.latent_dim)
        idx = r.labelled[n]
        model = cache.load_model(str(info.path), info.id)
        z = latent.encode(model, train.x[idx])  # (n * classes, latent_dim): mu for a VAE
        xy, _ = atlas.project(z)
        overlays = [{"name": f"labelled {train.classes[c]}",
                     "xy": np.round(xy[train.y.numpy()[idx] == c], 5).tolist(),
                     "symbol": "diamond", "size": 7, "text": train.classes[c],
                     "color": figures.CLASS_COLORS[c % 10]}
                    for c in range(len(train.classes))]
        latentmap.show(key="semi.map", info=info,
                       model=model, atlas=atlas, test=test,
                       overlays=overlays, height=420, presenter=present.on())
        st.caption(text.SEMISUP_MAP.format(total=len(idx), n=n, placed=note))
