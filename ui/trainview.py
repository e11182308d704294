"""Train page glue: the knobs (-> a Recipe), this session's run and its live view.

Training runs in a ``spawn`` worker process (:func:`services.jobs.run_job`), never in the
Streamlit script thread: a thread would share the server's interpreter and slow every other
user's clicks, and a server shutdown mid-training could crash the process. The page polls the
job's queue from an ``st.fragment(run_every=...)``. The server-wide table of runs is
:class:`services.jobs.Registry`, shared by every session (:func:`ui.cache.job_registry`).
"""
from __future__ import annotations

import math
import shlex
import time

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from aecore.data import image_shape, is_tabular
from aecore.errors import CheckpointError
from aecore.losses import ANNEAL_SCHEDULES, RECON_LOSSES
from aecore.models import MODEL_LABELS, MODELS
from aecore.models.blocks import ACTIVATIONS, NORMS
from aecore.noise import NOISE_KINDS
from aecore.pretrain import PRETRAINABLE
from aecore.recipes import Recipe, cli_args, model_config
from aecore.train import TrainConfig
from services import jobs
from services.jobs import Job

from . import cache, figures, images, present, shell, state, text
from .plaintext import escape_md

LRS = [1e-4, 3e-4, 1e-3, 2e-3, 5e-3, 1e-2, 1e-1, 1.0, 10.0]


def _widths(text: str) -> tuple[int, ...]:
    """"256, 128" -> (256, 128); raises ValueError on anything else."""
    return tuple(int(v) for v in text.replace(" ", "").split(",") if v)


def _slider(label: str, key: state.Key, step=None, **kw):
    """A slider over ``key``'s declared range, starting at its declared default."""
    return st.slider(label, key.lo, key.hi, key.default, step, key=key, **kw)


def controls() -> Recipe | None:
    """Draw every knob and return the Recipe they describe (None with a message if invalid)."""
    ds = st.session_state.get(state.DATASET, state.DATASET.default)
    shape = image_shape(ds)
    input_dim = math.prod(shape)
    tabular = is_tabular(ds)  # standardised features: MLP models, identity output, MSE
    what = (f"{shape[0]} standardised features per case" if tabular else
            f"{shape[1]}×{shape[2]} images")
    st.markdown(f"Training data: **{ds}** ({what}); choose another dataset in the sidebar.")
    c1, c2, c3 = st.columns(3)
    with c1:
        st.markdown("**Model**")
        kinds = [k for k in MODELS if not tabular or not ({"channels", "noise"}
                                                          & set(MODELS[k][0].__dataclass_fields__))]
        if st.session_state.get(state.TRAIN_MODEL, kinds[0]) not in kinds:
            st.session_state[state.TRAIN_MODEL] = state.TRAIN_MODEL.default
        kind = st.selectbox("Model", kinds, format_func=MODEL_LABELS.get,
                            index=kinds.index(state.TRAIN_MODEL.default), key=state.TRAIN_MODEL)
        latent_dim = _slider("Latent size (bottleneck)", state.TRAIN_LATENT)
        st.caption(f"Input {input_dim} values → z of {latent_dim}: **"
                   + ("undercomplete" if latent_dim < input_dim else "overcomplete")
                   + "**" + (" (it must compress)" if latent_dim < input_dim else
                             " (it could simply copy the input)"))
        hidden = st.text_input("Hidden layer widths", state.TRAIN_HIDDEN.default,
                               key=state.TRAIN_HIDDEN,
                               help="Encoder widths, comma-separated; the decoder mirrors them. "
                                    "Conv models use only the first, as their dense layer.")
        conv = "channels" in MODELS[kind][0].__dataclass_fields__
        channels = st.text_input("Conv channels", state.TRAIN_CHANNELS.default,
                                 key=state.TRAIN_CHANNELS, disabled=not conv,
                                 help="Channels of each stride-2 convolution (each halves the "
                                      "image); the decoder mirrors them.")
        act = st.selectbox("Activation", ACTIVATIONS, key=state.TRAIN_ACT,
                           index=ACTIVATIONS.index(state.TRAIN_ACT.default),
                           help="Nonlinearity of every hidden layer (see the Activations page).")
        norm = st.selectbox("Normalisation", NORMS, key=state.TRAIN_NORM,
                            index=NORMS.index(state.TRAIN_NORM.default),
                            help="After each hidden layer, before the activation; conv models: "
                                 "none or batchnorm.")
        if tabular:  # a sigmoid cannot reach standardised values, and BCE needs [0, 1]
            loss = "mse"
            st.caption("Reconstruction loss: **MSE**, with an identity output (no sigmoid): "
                       "the features are standardised, not in [0, 1].")
        else:
            loss = st.radio("Reconstruction loss", RECON_LOSSES, horizontal=True,
                            index=RECON_LOSSES.index(state.TRAIN_LOSS.default),
                            format_func=str.upper, key=state.TRAIN_LOSS)
    with c2:
        st.markdown("**Regularisation**")
        variational = MODELS[kind][1].is_variational
        denoising = "noise" in MODELS[kind][0].__dataclass_fields__
        beta = _slider("β (KL weight)", state.TRAIN_BETA, 0.1, disabled=not variational,
                       help="β = 1: the ELBO. β > 1: β-VAE.")
        anneal = st.selectbox("KL annealing", ANNEAL_SCHEDULES, key=state.TRAIN_ANNEAL,
                              index=ANNEAL_SCHEDULES.index(state.TRAIN_ANNEAL.default),
                              disabled=not variational)
        anneal_len = _slider("Warm-up / cycle length (epochs)", state.TRAIN_ANNEAL_LEN,
                             disabled=not variational or anneal == "none")
        noise = st.selectbox("Input noise (denoising AE)", NOISE_KINDS, key=state.TRAIN_NOISE,
                             index=NOISE_KINDS.index(state.TRAIN_NOISE.default),
                             disabled=not denoising, format_func=text.NOISE_LABELS.get)
        noise_level = _slider("Noise level", state.TRAIN_NOISE_LEVEL, 0.05,
                              disabled=not denoising)
        dropout = _slider("Dropout", state.TRAIN_DROPOUT, 0.05)
        sparse_ok = "sparsity" in MODELS[kind][0].__dataclass_fields__
        sparsity = _slider("Sparsity λ (L1 on z)", state.TRAIN_SPARSITY, 0.01,
                           disabled=not sparse_ok, help=text.TRAIN_SPARSITY_HELP)
        free_bits = _slider("Free bits λ (nats per dimension)", state.TRAIN_FREE_BITS, 0.05,
                            disabled="free_bits" not in MODELS[kind][0].__dataclass_fields__,
                            help=text.TRAIN_FREE_BITS_HELP)
        weight_decay = st.select_slider("Weight decay", [0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1],
                                        state.TRAIN_WD.default, key=state.TRAIN_WD)
    with c3:
        st.markdown("**Optimisation**")
        epochs = _slider("Epochs", state.TRAIN_EPOCHS)
        batch = st.select_slider("Batch size", [16, 32, 64, 128, 256, 512],
                                 state.TRAIN_BATCH.default, key=state.TRAIN_BATCH)
        lr = st.select_slider("Learning rate", LRS, state.TRAIN_LR.default, key=state.TRAIN_LR,
                              format_func=lambda v: f"{v:g}")
        seed = st.number_input("Seed", state.TRAIN_SEED.lo, state.TRAIN_SEED.hi,
                               state.TRAIN_SEED.default, key=state.TRAIN_SEED)
        pretrain = _slider("Layer-wise pretraining (epochs per layer)", state.TRAIN_PRETRAIN,
                           disabled=kind not in PRETRAINABLE,
                           help="Train each layer as a shallow AE on the codes of the layer "
                                "below, then fine-tune end to end (MLP AE and denoising AE; "
                                "see the Deep AE page).")
        splits = ("train", "test")
        if ds != "digits" and not tabular:
            if st.toggle("Use the 8,000 / 2,000 split of the test set",
                         state.TRAIN_SPLIT.default, key=state.TRAIN_SPLIT,
                         help="For a folder holding only the official test set."):
                splits = ("test[:8000]", "test[8000:]")
    try:
        cfg = model_config(kind, input_shape=shape, latent_dim=latent_dim,
                           hidden=_widths(hidden), recon_loss=loss, dropout=dropout,
                           output="identity" if tabular else "sigmoid",
                           beta=beta, noise=noise, noise_level=noise_level,
                           channels=_widths(channels) if conv else None, activation=act,
                           norm=norm, sparsity=sparsity, free_bits=free_bits)
        tcfg = TrainConfig(epochs=epochs, batch_size=batch, lr=lr, weight_decay=weight_decay,
                           seed=int(seed), kl_anneal=anneal if variational else "none",
                           warmup_epochs=anneal_len, cycle_epochs=anneal_len)
    except ValueError as exc:
        st.error(f"These settings are not valid: {escape_md(exc)}", icon=":material/error:")
        return None
    recipe = Recipe(cfg, tcfg, dataset=ds, train_split=splits[0], test_split=splits[1],
                    notes="trained in the app",
                    pretrain_epochs=pretrain if kind in PRETRAINABLE else 0)
    try:  # known before the run starts: parameters x images x epochs
        b = jobs.check_budget(recipe)
    except ValueError as exc:
        st.error(f"Too large for this server: {exc}.", icon=":material/error:")
        return None
    st.caption(f"{b.params:,} parameters × {b.images:,} images × {b.epochs} epochs: at most "
               f"about {max(1, round(b.seconds / 60))} min on this server (a run stops after "
               f"{jobs.MAX_RUN_S // 60} min).")
    return recipe


LECTURE_PACE_S = 0.4  # lecture speed: an epoch lasts at least this long (60 epochs: ~25 s)
POLL_S = 0.25  # the live view's refresh period: every epoch is drawn at lecture speed


def current_job() -> Job | None:
    """The job of this browser session (at most one), with its queue drained."""
    # poll: the run records that its page still looks (a run nobody watches is stopped)
    job = cache.job_registry().poll(st.session_state.get(state.TRAIN_JOB))
    if job is not None:
        job.drain()
    return job


def start(recipe: Recipe) -> str | None:
    """Start a run for this session; returns an error message instead of raising."""
    job = current_job()
    if job is not None and job.active:
        return "This session is already training a model: stop it or wait for it to finish."
    try:
        pace = LECTURE_PACE_S if st.session_state.get(state.TRAIN_PACE, True) else 0.0
        job = cache.job_registry().start(recipe, replaces=st.session_state.get(state.TRAIN_JOB),
                                         client=shell.client_address(), pace_s=pace)
    except (RuntimeError, ValueError) as exc:
        return str(exc)[:1].upper() + str(exc)[1:] + "."
    st.session_state[state.TRAIN_JOB] = job.id
    return None


def stop() -> None:
    """Ask this session's job to stop after its current step (it keeps the best model)."""
    job = current_job()
    if job is not None and job.active:
        job.request_stop()


def eta(job: Job) -> tuple[float, str]:
    """Fraction done in [0, 1] and a progress label with epoch, step and ETA.

    The ETA extrapolates the training time measured by ``fit`` itself (so the seconds spent
    starting the process and loading data do not inflate it).
    """
    total = job.recipe.train.epochs
    if job.step_log is None and not job.epochs:
        return 0.0, "Starting the training process and loading the data…"
    s = job.step_log or {}
    done_epochs = len(job.epochs)
    if s and s["epoch"] > done_epochs:
        frac = (s["epoch"] - 1 + s["step"] / s["steps"]) / total
        where = f"epoch {s['epoch']}/{total}, step {s['step']}/{s['steps']}"
        trained = s["elapsed"]
    else:
        frac = done_epochs / total
        where = f"epoch {done_epochs}/{total}, step {job.steps}/{job.steps}"
        trained = job.epochs[-1]["elapsed"]
    left = trained * (1 - frac) / frac if frac > 0 else float("nan")
    tail = f" · about {left:.0f} s left" if np.isfinite(left) else ""
    return min(1.0, frac), f"{where} · {time.time() - job.started:.0f} s elapsed{tail}"


def start_button(recipe: Recipe | None) -> None:
    """The Start button: disabled while settings are invalid or this session's run trains."""
    job = current_job()
    busy = job is not None and job.active
    cache.job_registry().warm_up()  # a worker waits, imports done, for the next Start
    st.toggle("Lecture speed: show every epoch", key=state.TRAIN_PACE,
              value=state.TRAIN_PACE.default, disabled=busy,
              help=f"Each epoch lasts at least {LECTURE_PACE_S:g} s, so the class sees the "
                   "curves and reconstructions change epoch by epoch; training itself runs at "
                   "full speed in between. Off: as fast as the machine goes.")
    if st.button("Start training", type="primary", icon=":material/play_arrow:",
                 disabled=recipe is None or busy, key="train.start"):
        problem = start(recipe)
        if problem:
            st.warning(problem, icon=":material/hourglass:")
        else:
            st.rerun()  # redraw with this button disabled while the run trains


def live_view() -> None:
    """The session's run: refreshed every :data:`POLL_S` seconds while it trains (a fragment,
    so only this part of the page reruns), then drawn once, with the result and the save
    form."""
    job = current_job()
    if job is None:
        return
    if job.active:
        _live()
        return
    _progress(job)
    if job.status in ("done", "stopped"):
        _finished(job)
    elif job.status == "diverged":
        st.error(text.DIVERGED.format(message=job.message), icon=":material/error:")
    elif job.status == "error":
        st.error(f"Training failed: {job.message}", icon=":material/error:")


@st.fragment(run_every=POLL_S)
def _live() -> None:
    """Poll the worker: progress bar, Stop, curves and reconstructions."""
    job = current_job()
    if job is None:
        return
    if not job.active:
        st.rerun()  # the whole page: results, save form, and the Start button enabled again
    frac, label = eta(job)
    st.progress(frac, text=label)
    if job.stop_requested:
        st.info("Stopping after the current step; the best epoch so far is kept.",
                icon=":material/hourglass:")
    else:
        st.button("Stop", on_click=stop, icon=":material/stop:", key="train.stop",
                  help="Stops after the current step and keeps the best epoch so far.")
    _progress(job)


def _progress(job: Job) -> None:
    """Loss curves and the fixed test batch with its latest reconstructions."""
    if job.epochs:
        unit = text.UNITS[job.recipe.model.recon_loss] + " per image"
        present.chart(figures.loss_curves(job.epochs, unit), key="train.curves")
    if job.recon is not None and job.preview is not None and job.preview.ndim == 4:  # images
        rows = [job.preview] + ([job.noisy] if job.noisy is not None else []) + [job.recon]
        st.image(images.tile(np.concatenate(rows), ncol=len(job.preview), cell=56),
                 caption=text.TRAIN_PREVIEW[job.noisy is not None].format(epoch=len(job.epochs)),
                 width="content")


def _finished(job: Job) -> None:
    """Result summary, a first look at the new latent map, and the save form."""
    m = job.result.metrics
    how = "stopped early; keeping" if job.status == "stopped" else "finished; keeping"
    st.success(f"Training {how} the best epoch ({job.result.best_epoch}): test loss "
               f"{m['test_total']:.2f} = recon {m['test_recon']:.2f} + KL {m['test_kl']:.2f} "
               f"{text.UNITS[job.recipe.model.recon_loss]} per image, in "
               f"{job.result.seconds:.0f} s.", icon=":material/check:")
    mp = job.result.map
    if mp is not None:
        st.markdown(f"**The new model's latent space** ({text.TRAIN_MAP_NOTE[mp['method']]})")
        present.chart(figures.latent_map(mp["xy"], mp["labels"], mp["classes"],
                                           method=mp["method"], height=420), key="train.map")
    st.caption(text.TRAIN_CLI_NOTE)
    st.code(shlex.join(cli_args(job.recipe, out="my_model.safetensors",
                                threads=jobs.WORKER_THREADS)), language="bash", wrap_lines=True)
    if job.saved_as:
        st.info(f"Saved as **{job.saved_as}** and selected in the sidebar's model list: explore "
                "it on any page.", icon=":material/save:")
        try:
            st.page_link("pages/1_Latent_map.py", label="Open its latent map",
                         icon=":material/scatter_plot:")
            st.page_link("pages/18_Watch_it_learn.py", label="Replay its training",
                         icon=":material/animation:")
        except StreamlitPageNotFoundError:
            pass  # the page run on its own (AppTest of one file) has no other pages
        return
    with st.form("train.save"):
        c = job.recipe.model
        name = st.text_input("Save as", f"my_{c.name}_z{c.latent_dim}", max_chars=64,
                             key="train.name",
                             help="Letters, digits, _ . - (up to 64); nothing is overwritten.")
        if st.form_submit_button("Save model", icon=":material/save:"):
            try:
                path = jobs.publish(job.result.pending, name, client=shell.client_address())
            except CheckpointError as exc:
                st.error(escape_md(exc), icon=":material/error:")
            else:
                job.saved_as = path.stem
                # select it in the sidebar picker (the page_setup of the next run lists it)
                st.session_state[state.DATASET] = job.recipe.dataset
                st.session_state[state.MODEL] = str(path)
                st.rerun()  # redraw the whole page so the sidebar lists the new model
