"""Glue for the three short lessons: anomaly detection, denoising, AE vs PCA."""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from aecore import metrics
from aecore.checkpoints import CheckpointInfo
from aecore.noise import NOISE_KINDS, add_noise

from . import cache, figures, images, text


def shipped(name: str) -> CheckpointInfo | None:
    """The checkpoint info of a model by name (shipped or the user's), or None."""
    return next((i for i in cache.list_models()[0] if i.name == name), None)


@st.fragment
def anomaly_view(info: CheckpointInfo, method: str) -> None:
    """Histogram + threshold, gallery of the worst reconstructions, flagged points on the map."""
    errs = cache.recon_errors(str(info.path), info.id)
    test = cache.model_splits(info)[1]
    atlas = cache.atlas(info, method)
    unit = text.UNITS[info.model_config.recon_loss]
    lo, hi = float(errs.min()), float(errs.max())
    thr = st.slider(f"Threshold ({unit} per image)", lo, hi, float(np.quantile(errs, 0.95)),
                    key="anom.threshold")
    flagged = errs > thr
    c1, c2 = st.columns(2)
    c1.plotly_chart(figures.histogram(errs, thr, unit=unit), key="anom.hist")
    c1.caption(f"{int(flagged.sum())} of {len(errs)} test images ({flagged.mean():.1%}) are "
               "above the threshold.")
    fig = figures.latent_map(atlas.embedding, test.y.numpy(), test.classes, method=method,
                             flagged=flagged, height=380)
    c2.plotly_chart(fig, key="anom.map")
    worst = np.argsort(-errs)[:16]
    model = cache.load_model(str(info.path), info.id)
    rec = model.reconstruct(test.x[worst]).detach().numpy()
    st.image(images.tile(np.concatenate([test.x[worst].numpy(), rec]), ncol=16, cell=44),
             caption="The 16 most anomalous test images (top) and their reconstructions "
                     "(bottom), worst first: " + ", ".join(f"{errs[i]:.0f}" for i in worst),
             width="stretch")


@st.cache_data(max_entries=8, show_spinner="Scoring the test set…")
def held_out_roc(path: str, checkpoint_id: str, cls: int):
    """ROC of reconstruction error as the score for "is of class ``cls``" on the test set."""
    info = next(i for i in cache.list_models()[0] if i.id == checkpoint_id)
    errs = cache.recon_errors(path, checkpoint_id)
    y = cache.model_splits(info)[1].y.numpy()
    fpr, tpr, auc = metrics.anomaly_roc(errs, y == cls)
    return fpr, tpr, auc, float(errs[y == cls].mean()), float(errs[y != cls].mean())


def held_out_view(info: CheckpointInfo) -> None:
    """The held-out-class experiment: ROC curve and AUC."""
    cls = info.meta.get("exclude_class")
    fpr, tpr, auc, m_in, m_out = held_out_roc(str(info.path), info.id, int(cls))
    c1, c2 = st.columns([3, 2])
    c1.plotly_chart(figures.roc_curve(fpr, tpr, auc), key="anom.roc")
    c2.metric("ROC-AUC", f"{auc:.3f}", help="0.5 = chance, 1 = perfect separation.")
    c2.markdown(f"Mean reconstruction error: **{m_in:.1f}** nats on the {cls}s it never saw, "
                f"**{m_out:.1f}** on the other digits.")


@st.cache_data(max_entries=16, show_spinner="Denoising the test set…")
def denoise_scores(plain: str, plain_id: str, dae: str, dae_id: str, kind: str, level: float):
    """Mean PSNR (dB) over the test set: noisy input, plain AE output, denoising AE output."""
    info = next(i for i in cache.list_models()[0] if i.id == plain_id)
    x = cache.model_splits(info)[1].x
    noisy = add_noise(x, kind, level, torch.Generator().manual_seed(0))
    out = []
    for path, cid in ((plain, plain_id), (dae, dae_id)):
        out.append(cache.load_model(path, cid).reconstruct(noisy).detach().numpy())
    return tuple(float(np.mean(metrics.psnr(x.numpy(), y))) for y in (noisy.numpy(), *out))


@st.fragment
def denoise_view(plain: CheckpointInfo, dae: CheckpointInfo) -> None:
    """One image: noisy -> plain AE -> denoising AE, with PSNR; and test-set averages."""
    test = cache.model_splits(plain)[1]
    c1, c2, c3 = st.columns(3)
    i = c1.number_input("Test image", 0, len(test) - 1, 0, key="den.index")
    kind = c2.selectbox("Noise", NOISE_KINDS, key="den.kind")
    level = c3.slider("Level", 0.0, 0.8, 0.3, 0.05, key="den.level")
    x = test.x[[int(i)]]
    noisy = add_noise(x, kind, level, torch.Generator().manual_seed(int(i)))
    outs = [cache.load_model(str(m.path), m.id).reconstruct(noisy).detach().numpy()
            for m in (plain, dae)]
    cols = st.columns(4)
    labels = ["clean x", "noisy input", f"plain AE ({plain.name})", f"denoising AE ({dae.name})"]
    for col, img, lab in zip(cols, [x.numpy(), noisy.numpy(), *outs], labels):
        p = metrics.psnr(x.numpy(), img)[0]
        col.image(images.enlarge(img[0], 150),
                  caption=lab + ("" if lab == "clean x" else f" · PSNR {p:.1f} dB"))
    a = denoise_scores(str(plain.path), plain.id, str(dae.path), dae.id, kind, float(level))
    st.markdown(f"**Average PSNR over the {len(test)} test images** at this noise: noisy "
                f"{a[0]:.1f} dB → plain AE {a[1]:.1f} dB → denoising AE **{a[2]:.1f} dB**.")


@st.cache_data(max_entries=8, show_spinner=False)
def pca_vs_ae(path: str, checkpoint_id: str) -> tuple[float, float, np.ndarray]:
    """Test reconstruction error of 2-D PCA and of a 2-D model, and PCA's 2-D map."""
    from sklearn.decomposition import PCA

    info = next(i for i in cache.list_models()[0] if i.id == checkpoint_id)
    train, test = cache.model_splits(info)
    kind = info.model_config.recon_loss
    pca_err = metrics.pca_reconstruction_error(train.x.numpy(), test.x.numpy(), 2, kind)
    ae_err = float(cache.recon_errors(path, checkpoint_id).mean())
    emb = PCA(2, random_state=0).fit(train.x.flatten(1).numpy()).transform(
        test.x.flatten(1).numpy())
    return pca_err, ae_err, emb


def pca_view(info: CheckpointInfo) -> None:
    """A 2-D PCA of the pixels beside the model's 2-D latent, with both errors."""
    pca_err, ae_err, emb = pca_vs_ae(str(info.path), info.id)
    test = cache.model_splits(info)[1]
    atlas = cache.atlas(info, "identity")
    c1, c2 = st.columns(2)
    c1.markdown(f"**PCA of the pixels, 2 components** · reconstruction error "
                f"**{pca_err:.1f}** nats/image")
    c1.plotly_chart(figures.latent_map(emb, test.y.numpy(), test.classes, method="pca",
                                       height=420), key="pca.map")
    c2.markdown(f"**{info.name}, 2-D latent** · reconstruction error **{ae_err:.1f}** "
                "nats/image")
    c2.plotly_chart(figures.latent_map(atlas.embedding, test.y.numpy(), test.classes,
                                       height=420), key="pca.ae")
    st.success(f"Same two numbers per image: the nonlinear {info.name} reconstructs with "
               f"{pca_err - ae_err:.1f} nats less error than PCA, the best linear "
               "autoencoder.", icon=":material/insights:")
