"""Glue for the three short lessons: anomaly detection, denoising, AE vs PCA."""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from aecore import metrics
from aecore.checkpoints import CheckpointInfo
from aecore.noise import NOISE_KINDS, add_noise

from . import cache, figures, images, latentmap, links, present, state, text


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
    state.clamp("anom.threshold", lo, hi)  # a lesson link's value, kept inside the range
    thr = st.slider(f"Threshold ({unit} per image)", lo, hi, float(np.quantile(errs, 0.95)),
                    key="anom.threshold")
    flagged = errs > thr
    c1, c2 = st.columns(2)
    c1.plotly_chart(figures.histogram(errs, thr, unit=unit), key="anom.hist")
    c1.caption(f"{int(flagged.sum())} of {len(errs)} test images ({flagged.mean():.1%}) are "
               "above the threshold.")
    with c2:
        latentmap.show(key="anom.map", checkpoint_id=info.id,
                       model=cache.load_model(str(info.path), info.id), atlas=atlas, test=test,
                       flagged=np.flatnonzero(flagged).tolist(), height=380,
                       presenter=present.on())
        st.caption("Red rings: images above the threshold. Move the pointer to decode any "
                   "spot of the map.")
    worst = np.argsort(-errs)[:16]
    model = cache.load_model(str(info.path), info.id)
    rec = model.reconstruct(test.x[worst]).detach().numpy()
    st.image(images.tile(np.concatenate([test.x[worst].numpy(), rec]), ncol=16, cell=44),
             caption="The 16 most anomalous test images (top) and their reconstructions "
                     "(bottom), worst first; their errors in " + unit + " per image: "
                     + ", ".join(f"{errs[i]:.1f}" for i in worst),
             width="stretch")
    links.sync_url("Anomalies")


@st.cache_data(max_entries=8, show_spinner="Scoring the test set…")
def held_out_roc(path: str, checkpoint_id: str, cls: int):
    """ROC of reconstruction error as the score for "is of class ``cls``" on the test set."""
    info = next(i for i in cache.list_models()[0] if i.id == checkpoint_id)
    errs = cache.recon_errors(path, checkpoint_id)
    y = cache.model_splits(info)[1].y.numpy()
    fpr, tpr, auc = metrics.anomaly_roc(errs, y == cls)
    return fpr, tpr, auc, errs[y == cls], errs[y != cls]


def held_out_view(info: CheckpointInfo) -> None:
    """The held-out-class experiment: error histograms of the class vs the rest, ROC, AUC."""
    cls = int(info.meta["exclude_class"])
    fpr, tpr, auc, e_in, e_out = held_out_roc(str(info.path), info.id, cls)
    st.markdown(text.HELD_OUT.format(cls=cls))
    c1, c2, c3 = st.columns([5, 5, 3])
    unit = text.UNITS[info.model_config.recon_loss]
    c1.plotly_chart(figures.histograms({f"{cls}s (never seen)": e_in, "other digits": e_out},
                                       unit=unit), key="anom.held.hist")
    c1.caption(text.HELD_OUT_HIST.format(cls=cls))
    c2.plotly_chart(figures.roc_curve(fpr, tpr, auc), key="anom.roc")
    c3.metric("ROC-AUC", f"{auc:.3f}", help="0.5 = chance, 1 = perfect separation.")
    c3.markdown(f"Mean reconstruction error: **{e_in.mean():.1f}** {unit} on the {cls}s it "
                f"never saw, **{e_out.mean():.1f}** on the other digits.")


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
    state.clamp("den.index", 0, len(test) - 1)  # a lesson link's image, kept in the test set
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
        col.image(images.enlarge(img[0], present.px(150)), width=present.px(150),
                  caption=lab + ("" if lab == "clean x" else f" · PSNR {p:.1f} dB"))
    a = denoise_scores(str(plain.path), plain.id, str(dae.path), dae.id, kind, float(level))
    st.markdown(f"**Average PSNR over the {len(test)} test images** at this noise: noisy "
                f"{a[0]:.1f} dB → plain AE {a[1]:.1f} dB → denoising AE **{a[2]:.1f} dB**.")
    levels = np.round(np.arange(0.05, 0.81, 0.05), 2)
    curves = np.array([denoise_scores(str(plain.path), plain.id, str(dae.path), dae.id, kind,
                                      float(lv)) for lv in levels])  # (L, 3) dB
    trained = dae.model_config.noise_level if dae.model_config.noise == kind else None
    st.plotly_chart(figures.level_curves(
        levels, {"noisy input": curves[:, 0], "plain AE": curves[:, 1],
                 "denoising AE": curves[:, 2]},
        x_title=f"{kind} noise level", y_title="mean PSNR (dB)", mark_x=trained),
        key="den.curve")
    st.caption(text.DENOISE_CURVE.format(level=dae.model_config.noise_level))
    links.sync_url("Denoising")


@st.cache_data(max_entries=8, show_spinner=False)
def pca_vs_ae(path: str, checkpoint_id: str) -> dict:
    """Test reconstruction errors (BCE nats and summed squared error per image) of a 2-D PCA
    of the pixels and of a 2-D model, PCA's 2-D map, and both reconstructions of 12 images."""
    from sklearn.decomposition import PCA

    info = next(i for i in cache.list_models()[0] if i.id == checkpoint_id)
    train, test = cache.model_splits(info)
    tr, te = train.x.numpy(), test.x.numpy()
    pca = PCA(2, random_state=0).fit(tr.reshape(len(tr), -1))
    emb = pca.transform(te.reshape(len(te), -1))  # (N, 2)
    pca_rec = np.clip(pca.inverse_transform(emb), 0, 1).reshape(te.shape)
    ae_rec = cache.load_model(path, checkpoint_id).reconstruct(test.x).detach().numpy()
    errs = [metrics.image_errors(te, r) for r in (pca_rec, ae_rec)]  # [(bce, sse)] x 2
    return {"bce": (errs[0][0], errs[1][0]), "sse": (errs[0][1], errs[1][1]),
            "embedding": emb, "recs": (pca_rec[:12], ae_rec[:12])}


def pca_view(info: CheckpointInfo) -> None:
    """A 2-D PCA of the pixels beside the model's 2-D latent, with both errors."""
    r = pca_vs_ae(str(info.path), info.id)
    test = cache.model_splits(info)[1]
    atlas = cache.atlas(info, "identity")
    c1, c2 = st.columns(2)
    c1.markdown("**PCA of the pixels: 2 principal components**")
    c1.plotly_chart(figures.latent_map(r["embedding"], test.y.numpy(), test.classes,
                                       method="pca", height=420), key="pca.map")
    c2.markdown(f"**{info.name}: its 2-D latent z**")
    c2.plotly_chart(figures.latent_map(atlas.embedding, test.y.numpy(), test.classes,
                                       height=420), key="pca.ae")
    st.dataframe([{"reconstruction error (test mean, per image)": unit,
                   "PCA, 2 numbers": round(a, 2),
                   f"{info.name}, 2 numbers": round(b, 2)} for unit, (a, b) in
                  (("BCE (nats)", r["bce"]), ("squared error", r["sse"]))],
                 hide_index=True)
    st.image(images.tile(np.concatenate([test.x[:12].numpy(), *r["recs"]]), ncol=12, cell=44),
             caption=text.PCA_RECON)
    (pb, ab), (ps, as_) = r["bce"], r["sse"]
    verdict = ("beats" if ab < pb and as_ < ps else "does not beat")
    st.success(f"Same two numbers per image: the nonlinear {info.name} {verdict} PCA, the best "
               f"linear autoencoder ({ab:.1f} vs {pb:.1f} nats; squared error {as_:.2f} vs "
               f"{ps:.2f}).", icon=":material/insights:")
