"""Page glue of the three short experiments: anomaly detection, denoising, AE vs PCA.

(A *lesson* in this app is a ready link to a page in a given state: :data:`ui.links.LESSONS`.)
"""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from aecore import metrics
from aecore.checkpoints import CheckpointInfo
from aecore.noise import NOISE_KINDS, add_noise

from . import cache, figures, images, latentmap, links, present, state, text


@st.fragment
def anomaly_view(info: CheckpointInfo, method: str) -> None:
    """Histogram + threshold, gallery of the worst reconstructions, flagged points on the map."""
    errs = cache.recon_errors(str(info.path), info.id)
    test = cache.model_splits(info)[1]
    atlas = cache.atlas(info, method)
    unit = text.UNITS[info.model_config.recon_loss]
    lo, hi = float(errs.min()), float(errs.max())
    state.clamp(state.ANOM_THRESHOLD, lo, hi)  # a lesson link's value, kept inside the range
    thr = st.slider(f"Threshold ({unit} per image)", lo, hi, float(np.quantile(errs, 0.95)),
                    key=state.ANOM_THRESHOLD)
    flagged = errs > thr
    c1, c2 = present.columns(2)
    present.chart(where=c1, fig=figures.histogram(errs, thr, unit=unit), key="anom.hist")
    c1.caption(f"{int(flagged.sum())} of {len(errs)} test images ({flagged.mean():.1%}) are "
               "above the threshold.")
    with c2:
        latentmap.show(key="anom.map", info=info,
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


def held_out_view(info: CheckpointInfo) -> None:
    """The held-out-class experiment: error histograms of the class vs the rest, ROC, AUC."""
    cls = int(info.meta["exclude_class"])
    r = cache.held_out_roc(str(info.path), info.id, cls)
    fpr, tpr, auc, e_in, e_out = r.fpr, r.tpr, r.auc, r.errors_in, r.errors_out
    st.markdown(text.HELD_OUT.format(cls=cls))
    c1, c2, c3 = st.columns([5, 5, 3])
    unit = text.UNITS[info.model_config.recon_loss]
    present.chart(where=c1, fig=figures.histograms(
        {f"{cls}s (never seen)": e_in, "other digits": e_out}, unit=unit), key="anom.held.hist")
    c1.caption(text.HELD_OUT_HIST.format(cls=cls))
    present.chart(where=c2, fig=figures.roc_curve(fpr, tpr, auc), key="anom.roc")
    c3.metric("ROC-AUC", f"{auc:.3f}", help="0.5 = chance, 1 = perfect separation.")
    c3.markdown(f"Mean reconstruction error: **{e_in.mean():.1f}** {unit} on the {cls}s it "
                f"never saw, **{e_out.mean():.1f}** on the other digits.")


@st.fragment
def denoise_view(plain: CheckpointInfo, dae: CheckpointInfo) -> None:
    """One image: noisy -> plain AE -> denoising AE, with PSNR; and test-set averages."""
    test = cache.model_splits(plain)[1]
    c1, c2, c3 = st.columns(3)
    links.fit_index(state.DEN_INDEX, len(test))  # a lesson link's image, in the test set
    i = c1.number_input("Test image", 0, len(test) - 1, state.DEN_INDEX.default,
                        key=state.DEN_INDEX)
    kind = c2.selectbox("Noise", NOISE_KINDS, index=NOISE_KINDS.index(state.DEN_KIND.default),
                        key=state.DEN_KIND, format_func=text.NOISE_LABELS.get)
    k = state.DEN_LEVEL
    level = c3.slider("Level", k.lo, k.hi, k.default, 0.05, key=k)
    x = test.x[[int(i)]]
    noisy = add_noise(x, kind, level, torch.Generator().manual_seed(int(i)))
    outs = [cache.load_model(str(m.path), m.id).reconstruct(noisy).detach().numpy()
            for m in (plain, dae)]
    cols = st.columns(4)
    labels = ["clean x", "noisy input", f"plain AE ({plain.name})", f"denoising AE ({dae.name})"]
    for col, img, lab in zip(cols, [x.numpy(), noisy.numpy(), *outs], labels):
        p = metrics.psnr(x.numpy(), img)[0]
        psnr = f" · PSNR {p:.1f} dB" if np.isfinite(p) else " · untouched by the noise"
        col.image(images.enlarge(img[0], present.px(150)), width=present.px(150),
                  caption=lab + ("" if lab == "clean x" else psnr))
    a = cache.denoise_scores(str(plain.path), plain.id, str(dae.path), dae.id, kind, float(level))
    st.markdown(f"**PSNR over the {len(test)} test images** at this noise: noisy "
                f"{a[0]:.1f} dB → plain AE {a[1]:.1f} dB → denoising AE **{a[2]:.1f} dB**.")
    levels = np.round(np.arange(0.05, 0.81, 0.05), 2)
    curves = np.array([cache.denoise_scores(str(plain.path), plain.id, str(dae.path), dae.id,
                                            kind, float(lv)) for lv in levels])  # (L, 3) dB
    trained = dae.model_config.noise_level if dae.model_config.noise == kind else None
    present.chart(figures.level_curves(
        levels, {"noisy input": curves[:, 0], "plain AE": curves[:, 1],
                 "denoising AE": curves[:, 2]},
        x_title=f"{text.NOISE_LABELS[kind]} noise level ({text.NOISE_UNITS[kind]})",
        y_title="PSNR (dB)", mark_x=trained), key="den.curve")
    st.caption(denoise_caption(levels, curves, kind, dae.model_config))
    links.sync_url("Denoising")


def denoise_caption(levels: np.ndarray, curves: np.ndarray, kind: str, dae_config) -> str:
    """The chart's caption, from the curves it shows: ``curves`` (L, 3) dB of the noisy input,
    the plain AE and the denoising AE at ``levels`` (L,) of ``kind`` noise."""
    t, noise = text.DENOISE_CURVE, text.NOISE_LABELS[kind]
    out = [t["intro"].format(noise=noise)]
    trained = dae_config.noise
    if trained == kind:
        out.append(t["trained_here"].format(level=dae_config.noise_level))
    else:
        out.append(t["trained_other"].format(trained=text.NOISE_LABELS[trained], noise=noise,
                                             unit=text.NOISE_UNITS[trained],
                                             level=dae_config.noise_level))
    input_wins = curves[:, 0:1] > curves[:, 1:]  # (L, 2): the noisy input beats plain / DAE
    beaten = input_wins.any(1)  # (L,)
    lead = len(beaten) if beaten.all() else int(np.argmin(beaten))  # leading levels it wins
    if not beaten.any():
        out.append(t["ae_always"])
    elif lead:
        who = [n for n, w in zip(("the plain AE", "the denoising AE"), input_wins[:lead].all(0))
               if w]  # beaten at every one of those levels
        out.append(t["input_low"].format(upto=float(levels[lead - 1]),
                                         who=" and ".join(who) or "one of the autoencoders"))
    else:
        out.append(t["input_some"].format(at=", ".join(f"{v:g}" for v in levels[beaten])))
    dae_wins = curves[:, 2] > curves[:, 1]
    if dae_wins.all():
        out.append(t["dae_always"])
    elif dae_wins[-1] and dae_wins[np.argmax(dae_wins):].all():
        out.append(t["dae_from"].format(start=float(levels[np.argmax(dae_wins)])))
    elif not dae_wins.any():
        out.append(t["dae_never"])
    return " ".join(out)


def pca_view(info: CheckpointInfo) -> None:
    """A 2-D PCA of the pixels beside the model's 2-D latent, with both errors."""
    r = cache.pca_vs_ae(str(info.path), info.id)
    test = cache.model_splits(info)[1]
    atlas = cache.atlas(info, "identity")
    c1, c2 = present.columns(2)
    c1.markdown("**PCA of the pixels: 2 principal components**")
    present.chart(where=c1, fig=figures.latent_map(r["embedding"], test.y.numpy(), test.classes,
                                       method="pca", height=420), key="pca.map")
    c2.markdown(f"**{info.name}: its 2-D latent z** (move the pointer to decode)")
    with c2:
        latentmap.show(key="pca.ae", info=info,
                       model=cache.load_model(str(info.path), info.id), atlas=atlas, test=test,
                       height=420, presenter=present.on())
    present.table([{"reconstruction error (test mean, per image)": unit,
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
