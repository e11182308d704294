"""Every cache of the app: cached access to aecore and to the services for the pages.

What is shared by all users (models, datasets, maps, the job registry, the class store) is
cached once per server with ``st.cache_resource`` and treated as read-only: models are in
``eval()`` mode with gradients off, and the arrays are never written to. ``st.cache_data``
would copy these objects on every call (it pickles them), which costs more than the 35 ms
click budget at 10,000 points.
Small derived results keyed by checkpoint ids (scoreboards, ROC curves, PSNR averages) use
``st.cache_data``. (The latent map's base figure is cached in :mod:`ui.mapview`, beside the
drawing code it belongs to.)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from aecore import checkpoints, latent, metrics
from aecore.atlas import Atlas, atlas_path, get_atlas, load_atlas
from aecore.checkpoints import CheckpointInfo
from aecore.data import Dataset, load_dataset, missing_files, parse_split
from aecore.errors import DataError
from aecore.models.base import Autoencoder
from aecore.noise import add_noise
from services import classroom, paths, stores
from services.classdraw import DrawStore
from services.classlive import LiveBoard
from services.classquiz import QuizStore
from services.jobs import Registry

# One torch thread for inference in the server. With 2, each layer of a click's forward pass
# ends at an OpenMP barrier that waits for both threads; when a training worker keeps one core
# busy, the second thread waits for a time slice and clicks queue up behind it. Measured with
# bench/load_test.py (40 sessions clicking every 3 s, one training run, 2 cores): click p50
# 403 ms / p95 987 ms with 2 threads, 17 ms / 59 ms with 1.
INFERENCE_THREADS = 1
GRID_N = 64  # map grid nodes per axis: the browser interpolates codes between them (UMAP)
#              and shades the cells far from every point


def _folder_signature() -> tuple:
    """(path, mtime, size) of every checkpoint file: changes whenever one is added or saved."""
    sig = []
    for folder in (checkpoints.SHIPPED_DIR, paths.user_dir()):
        if folder.is_dir():
            for p in sorted(folder.glob("*.safetensors")):
                s = p.stat()
                sig.append((str(p), s.st_mtime_ns, s.st_size))
    return tuple(sig)


@st.cache_data(max_entries=8, show_spinner=False)
def _list_models(sig: tuple) -> tuple[list[CheckpointInfo], list[str]]:
    """Read every checkpoint header once per folder state ``sig`` (the cache key).

    A user's file whose header reads fine can still hold weights that do not fit its config
    or are NaN: such files are loaded once and listed as problems, so no picker on any page
    can select a model that fails later. That check is cached per file version
    (:func:`_weights_problem`), so saving one model loads only that model, not every one.
    """
    infos, problems = checkpoints.list_checkpoints(checkpoints.SHIPPED_DIR, paths.user_dir())
    usable = []
    for info in infos:
        st_ = info.path.stat()
        msg = None if info.shipped else _weights_problem(str(info.path), st_.st_mtime_ns,
                                                          st_.st_size)
        if msg:
            problems.append(msg)
        else:
            usable.append(info)
    return usable, problems


@st.cache_data(max_entries=1024, show_spinner=False)
def _weights_problem(path: str, mtime_ns: int, size: int) -> str | None:
    """Why a user's checkpoint cannot be loaded (None: it loads); once per file version."""
    try:
        checkpoints.load(path)
    except checkpoints.CheckpointError as exc:
        return str(exc)
    return None


def list_models() -> tuple[list[CheckpointInfo], list[str]]:
    """All checkpoints (shipped first, then the user's) and messages for unreadable files.

    New files show up at once: the cache key is the folders' (path, mtime, size) list.
    """
    return _list_models(_folder_signature())


def model_named(name: str) -> CheckpointInfo | None:
    """The listed checkpoint named ``name`` (e.g. ``"digits_ae_z16"``), or None. Shipped
    models are listed first, and saving refuses shipped names, so a shipped name finds the
    shipped model."""
    return next((i for i in list_models()[0] if i.name == name), None)


def model_info(checkpoint_id: str) -> CheckpointInfo:
    """The listed checkpoint with this id (a cached function's arguments carry ids, not infos).

    Raises
    ------
    KeyError
        No listed checkpoint has this id (the file changed or was removed).
    """
    for info in list_models()[0]:
        if info.id == checkpoint_id:
            return info
    raise KeyError(f"no model with id {checkpoint_id!r}")


@st.cache_resource(max_entries=16, show_spinner="Loading model…")
def load_model(path: str, checkpoint_id: str) -> Autoencoder:
    """A checkpoint's model on the CPU, ``eval()``, gradients off: shared and read-only.

    ``checkpoint_id`` (which holds the file hash) is part of the cache key so a rewritten file
    is reloaded. Raises :class:`aecore.CheckpointError`.
    """
    torch.set_num_threads(INFERENCE_THREADS)
    model, info = checkpoints.load(path)
    if info.id != checkpoint_id:
        raise checkpoints.CheckpointError(f"{path} changed while it was being loaded; reload")
    for p in model.parameters():
        p.requires_grad_(False)
    return model


@st.cache_resource(max_entries=16, show_spinner="Loading data…")
def _data_or_problem(name: str, base: str, root: str | None) -> Dataset | str:
    """The whole split ``base`` ("train", "test", "all"), or the message of the DataError that
    loading it raised. The failure is cached too: a download that failed (9-11 s offline) is
    tried once per server and split, not on every page, slice and rerun."""
    try:
        return load_dataset(name, base, root)
    except DataError as exc:
        return str(exc)


def load_data(name: str, split: str, root: str | None = None) -> Dataset:
    """A dataset split (``"test[:8000]"``: a slice of the cached whole split), shared
    read-only. Raises :class:`aecore.DataError`: the same one on every call until the files
    appear, then the split is loaded again."""
    base, sl = parse_split(split)
    r = _data_or_problem(name, base, root)
    if isinstance(r, str) and missing_files(name, base, root) is None:  # files put in place
        _data_or_problem.clear()
        r = _data_or_problem(name, base, root)
    if isinstance(r, str):
        raise DataError(r)
    return r if split == base else Dataset(r.x[sl], r.y[sl], r.classes, r.name, split)


def data_problem(info: CheckpointInfo) -> str | None:
    """Why the data ``info`` was trained on cannot be loaded here (None when it can)."""
    try:
        model_splits(info)
    except DataError as exc:
        return str(exc)
    return None


def needs_files(info: CheckpointInfo) -> str | None:
    """What to do so that ``info``'s data is on this machine (None: it is), without trying
    a download (cheap enough for a picker label)."""
    for split in (info.meta.get("train_split", "train"), info.meta.get("test_split", "test")):
        todo = missing_files(info.dataset, split)
        if todo:
            return todo
    return None


def model_splits(info: CheckpointInfo) -> tuple[Dataset, Dataset]:
    """(train, test) data a checkpoint was trained and evaluated on."""
    return (load_data(info.dataset, info.meta.get("train_split", "train")),
            load_data(info.dataset, info.meta.get("test_split", "test")))


@st.cache_resource(max_entries=32, show_spinner=False)
def _atlas(path: str, checkpoint_id: str, method: str) -> Atlas:
    """Build-or-load the atlas (see :func:`atlas`)."""
    info = checkpoints.read_info(path)
    model = load_model(path, checkpoint_id)

    def codes():
        train, test = model_splits(info)
        return latent.encode(model, test.x), latent.encode(model, train.x)

    return get_atlas(info, method, codes, cache_dir=paths.cache_dir(), grid_n=GRID_N)[0]


@st.cache_data(max_entries=64, show_spinner=False)
def _stored(path: str, mtime_ns: int, checkpoint_id: str) -> bool:
    """Whether the atlas file at ``path`` is current (read once per file version: reading a
    10,000-point atlas costs ~10-50 ms, too much to repeat on every click)."""
    return load_atlas(Path(path), checkpoint_id) is not None


def atlas(info: CheckpointInfo, method: str) -> Atlas:
    """The latent map of a model: read from disk when it was computed before (always for the
    shipped models); otherwise fitted once, with a spinner, and stored keyed by the file hash."""
    path = atlas_path(info, method, paths.cache_dir())
    if path.exists() and _stored(str(path), path.stat().st_mtime_ns, info.id):
        return _atlas(str(info.path), info.id, method)
    with st.spinner(f"Fitting the {method.upper()} map once for this model (UMAP: up to a "
                    "minute the first time, while numba compiles)…"):
        return _atlas(str(info.path), info.id, method)


@st.cache_data(max_entries=32, show_spinner=False)
def recon_errors(path: str, checkpoint_id: str) -> np.ndarray:
    """Per-image reconstruction error on the model's test split, shape (N,), in the model's
    loss unit (nats per image for BCE)."""
    info = checkpoints.read_info(path)
    model = load_model(path, checkpoint_id)
    return latent.reconstruction_errors(model, model_splits(info)[1].x)


@torch.no_grad()
def decode_one(model: Autoencoder, z: np.ndarray) -> np.ndarray:
    """Decode a single code (latent_dim,) -> (C, H, W) float32 in [0, 1]."""
    return latent.decode(model, z[None])[0]


@torch.no_grad()
def reconstruct_one(model: Autoencoder, x: torch.Tensor) -> np.ndarray:
    """Deterministic reconstruction of one image (C, H, W) -> (C, H, W) in [0, 1]."""
    return model.reconstruct(x[None])[0].numpy()


# -- server-wide services ----------------------------------------------------------------------

@st.cache_resource
def job_registry() -> Registry:
    """The one registry of training jobs of this server process (shared by every session)."""
    return Registry()


def class_store() -> classroom.ClassStore:
    """The server's one class store (:func:`services.stores.class_store`, shared with the class
    API; it opens a connection per call, so threads may share it)."""
    return stores.class_store()


# -- per-page computations (keyed by checkpoint ids) -------------------------------------------

@st.cache_data(max_entries=32, show_spinner="Computing the scoreboard…")
def scores(path: str, checkpoint_id: str, method: str, seed: int = 0) -> dict[str, float]:
    """Scoreboard of one model (cached per checkpoint id, map and seed)."""
    info = model_info(checkpoint_id)
    model = load_model(path, checkpoint_id)
    train, test = model_splits(info)
    emb = atlas(info, method).embedding
    return metrics.scoreboard(model, train, test, emb, seed=seed).to_dict()


@dataclass(frozen=True)
class HeldOut:
    """Reconstruction error as the score for "is of the held-out class" on the test set.

    ``fpr``, ``tpr``: the ROC curve; ``auc`` its area; ``errors_in`` / ``errors_out``: the
    per-image errors of the class's images and of the others, in the model's loss unit.
    """

    fpr: np.ndarray
    tpr: np.ndarray
    auc: float
    errors_in: np.ndarray
    errors_out: np.ndarray


@st.cache_data(max_entries=8, show_spinner="Scoring the test set…")
def held_out_roc(path: str, checkpoint_id: str, cls: int) -> HeldOut:
    """ROC of reconstruction error as the score for "is of class ``cls``" on the test set."""
    info = model_info(checkpoint_id)
    errs = recon_errors(path, checkpoint_id)
    y = model_splits(info)[1].y.numpy()
    fpr, tpr, auc = metrics.anomaly_roc(errs, y == cls)
    return HeldOut(fpr, tpr, float(auc), errs[y == cls], errs[y != cls])


@st.cache_data(max_entries=16, show_spinner="Denoising the test set…")
def denoise_scores(plain: str, plain_id: str, dae: str, dae_id: str, kind: str, level: float):
    """PSNR (dB) over the test set of the noisy input, the plain AE's and the denoising AE's
    output: ``10 log10(1 / MSE)`` with the MSE averaged over every test pixel (a mean of
    per-image PSNRs is infinite as soon as one image escapes the noise, as many do at low
    salt-and-pepper or masking levels)."""
    info = model_info(plain_id)
    x = model_splits(info)[1].x
    noisy = add_noise(x, kind, level, torch.Generator().manual_seed(0))
    out = []
    for path, cid in ((plain, plain_id), (dae, dae_id)):
        out.append(load_model(path, cid).reconstruct(noisy).detach().numpy())
    mse = [float(np.mean((x.numpy() - y) ** 2)) for y in (noisy.numpy(), *out)]
    return tuple(10 * np.log10(1 / max(m, 1e-10)) for m in mse)  # capped at 100 dB


@st.cache_data(max_entries=8, show_spinner=False)
def pca_vs_ae(path: str, checkpoint_id: str) -> dict:
    """Test reconstruction errors (BCE nats and summed squared error per image) of a 2-D PCA
    of the pixels and of a 2-D model, PCA's 2-D map, and both reconstructions of 12 images."""
    from sklearn.decomposition import PCA

    info = model_info(checkpoint_id)
    train, test = model_splits(info)
    tr, te = train.x.numpy(), test.x.numpy()
    pca = PCA(2, random_state=0).fit(tr.reshape(len(tr), -1))
    emb = pca.transform(te.reshape(len(te), -1))  # (N, 2)
    pca_rec = np.clip(pca.inverse_transform(emb), 0, 1).reshape(te.shape)
    ae_rec = load_model(path, checkpoint_id).reconstruct(test.x).detach().numpy()
    errs = [metrics.image_errors(te, r) for r in (pca_rec, ae_rec)]  # [(bce, sse)] x 2
    return {"bce": (errs[0][0], errs[1][0]), "sse": (errs[0][1], errs[1][1]),
            "embedding": emb, "recs": (pca_rec[:12], ae_rec[:12])}


@st.cache_resource(max_entries=16, show_spinner="Measuring where the decoder was trained…")
def hole_reference(checkpoint_id: str, _info: CheckpointInfo) -> tuple[np.ndarray, float]:
    """The codes the model's decoder was trained on (:func:`aecore.metrics.decoder_codes`, one
    per training image, seed 0) and their typical nearest-neighbour gap: what
    :func:`aecore.metrics.hole_score` measures a code against."""
    model = load_model(str(_info.path), _info.id)
    codes = metrics.decoder_codes(model, model_splits(_info)[0].x, seed=0)
    return codes, metrics.typical_gap(codes)


def hole_score(info: CheckpointInfo, z: np.ndarray) -> np.ndarray:
    """:func:`aecore.metrics.hole_score` of codes ``z`` (n, latent_dim) under model ``info``:
    above :data:`aecore.metrics.HOLE_THRESHOLD` a code lies in a hole."""
    codes, gap = hole_reference(info.id, info)
    return metrics.hole_score(np.atleast_2d(z), codes, gap=gap)


@st.cache_resource(max_entries=32, show_spinner=False)
def shading(map_key: str, _info: CheckpointInfo, _atlas: Atlas) -> tuple[np.ndarray, bool]:
    """The cells a map shades (G * G,), bool, and whether they are holes.

    Where the map inverts exactly (a 2-D latent, PCA's plane) a cell is shaded when its code
    lies in a hole (the same criterion as the pin panel's message and the scoreboard's hole
    rate); elsewhere a spot's code is built from nearby images' codes, so a hole cannot show
    and the map shades the cells with no image nearby on the map (``Atlas.far_nodes``).
    """
    if _atlas.inverse_is_exact:
        score = hole_score(_info, _atlas.grid_codes)
        return score > metrics.HOLE_THRESHOLD, True
    return _atlas.far_nodes(), False


# -- Tabular and semi-supervised lessons (issue 17) -------------------------------------------

@dataclass(frozen=True)
class TabularScores:
    """Reconstruction error as the score for "is malignant" on a tabular model's test split.

    ``errors`` (N,) and ``feature_errors`` (N, D) are squared errors of the standardised
    features; ``y`` the labels; ``threshold`` the 95th percentile of the training (benign)
    cases' errors; ``fpr``, ``tpr``, ``auc`` the ROC curve of ``errors`` for class ``anomaly``.
    """

    errors: np.ndarray
    feature_errors: np.ndarray
    y: np.ndarray
    anomaly: int
    threshold: float
    fpr: np.ndarray
    tpr: np.ndarray
    auc: float


@st.cache_data(max_entries=8, show_spinner="Scoring the test cases…")
def tabular_scores(path: str, checkpoint_id: str) -> TabularScores:
    """Score a tabular model's test split (the class it never trained on is the anomaly)."""
    from aecore.tabular import feature_errors

    info = model_info(checkpoint_id)
    model = load_model(path, checkpoint_id)
    train, test = model_splits(info)
    anomaly = int(info.meta.get("exclude_class") if info.meta.get("exclude_class") is not None
                  else 0)
    trained_on = train.subset(train.y != anomaly)  # the cases the model was trained on
    thr = float(np.quantile(latent.reconstruction_errors(model, trained_on.x), 0.95))
    fe = feature_errors(model, test.x)  # (N, D)
    errs = fe.sum(1)
    y = test.y.numpy()
    fpr, tpr, auc = metrics.anomaly_roc(errs, y == anomaly)
    return TabularScores(errs, fe, y, anomaly, thr, fpr, tpr, float(auc))


@st.cache_data(max_entries=16, show_spinner="Classifying with 1, 5, 10, 50 and all labels "
               "per class…")
def semisup(path: str, checkpoint_id: str, seed: int = 0, repeats: int = 10):
    """:func:`aecore.semisup.accuracy_vs_labels` of a model on its own splits (seed ``seed``,
    ``repeats`` draws of the labelled images per n)."""
    from aecore.semisup import accuracy_vs_labels

    info = model_info(checkpoint_id)
    train, test = model_splits(info)
    return accuracy_vs_labels(load_model(path, checkpoint_id), train, test, seed=seed,
                              repeats=repeats)
# -- Bottleneck and posterior-collapse lessons (pages 10 and 11) ---------------------------------
@st.cache_data(max_entries=32, show_spinner="Running the copy test…")
def copy_test(path: str, checkpoint_id: str, n: int = 8):
    """:func:`aecore.capacity.copy_test` of a model on the first ``n`` images of its test
    split (the probes of :func:`aecore.capacity.probe_inputs`, seed 0; the noise-copy score
    on the whole test split), and its
    (train, test) reconstruction errors (:func:`aecore.capacity.sweep_errors`).

    Returns
    -------
    (CopyResult, train_error, test_error, probes as dict name -> ndarray (n, C, H, W))
    """
    from aecore import capacity

    info = model_info(checkpoint_id)
    train, test = model_splits(info)
    model = load_model(path, checkpoint_id)
    probes = capacity.probe_inputs(test.x[:n], n=n, seed=0)
    result = capacity.copy_test(model, probes, seed=0, score_on=test.x)  # score: every image
    tr, te = capacity.sweep_errors(model, train, test)
    return result, tr, te, {k: v.numpy() for k, v in probes.items()}


@st.cache_data(max_entries=32, show_spinner="Measuring the KL of each latent dimension…")
def collapse(path: str, checkpoint_id: str):
    """:func:`aecore.collapse.collapse_report` of a VAE on its test split, and its test
    reconstruction error (nats per image, BCE)."""
    from aecore.collapse import collapse_report
    from aecore.train import evaluate

    info = model_info(checkpoint_id)
    test = model_splits(info)[1]
    model = load_model(path, checkpoint_id)
    return collapse_report(model, test), evaluate(model, test)["recon"]
# -- question bank (issue 15) ------------------------------------------------------------------

@st.cache_resource(max_entries=16, show_spinner=False)
def question_pictures(qid: str) -> list[np.ndarray]:
    """The candidate images of a predict-the-picture question (:mod:`ui.questionbank`), in the
    question's order, each (C, H, W) float32 in [0, 1]: a ``"decode"`` candidate is its model's
    decoder at the code under its map spot (``Atlas.code_at`` on the identity map, the code the
    Latent map page decodes there); a ``"nearest"`` one is the training image whose code is
    nearest that code.

    Raises
    ------
    KeyError
        The question or one of its models is not on this server.
    """
    from . import questionbank

    out = []
    for c in questionbank.by_id(qid).candidates:
        info = model_named(c.model)
        if info is None:
            raise KeyError(f"model {c.model} is not on this server")
        a = atlas(info, "identity")
        z, _ = a.code_at(*c.at)
        if c.source == "decode":
            out.append(decode_one(load_model(str(info.path), info.id), np.asarray(z, np.float32)))
        else:
            out.append(model_splits(info)[0].x[a.nearest_train(z)[0]].numpy())
    return out


@st.cache_data(max_entries=64, show_spinner=False)
def question_pngs(qid: str, size: int) -> list[bytes]:
    """:func:`question_pictures` enlarged to ``size`` x ``size`` px (nearest neighbour: crisp
    pixels) and encoded once as PNG bytes. Drawn at exactly ``size`` px, ``st.image`` passes
    them through as they are; a larger picture it would resize (bilinear, blurred) on every
    run, which was a third of a student's question run with 300 in a class."""
    from . import images

    return [images.png(images.enlarge(p, size)) for p in question_pictures(qid)]


STATIC_LIVE = Path(__file__).resolve().parents[1] / "static" / "live"  # served at app/static/live


@st.cache_resource(show_spinner=False)
def live_board() -> LiveBoard:
    """The server's one :class:`services.classlive.LiveBoard`: the state of the classes this
    server's students are in, read from the class database twice a second by one thread and
    written to ``static/live`` (Streamlit's static serving), which the students' pages fetch
    instead of each rerunning a script to ask. If that folder cannot be written, the board
    keeps its snapshots without files and the pages poll by rerunning."""
    try:
        return LiveBoard(class_store(), quiz_store(), STATIC_LIVE)
    except OSError:
        return LiveBoard(class_store(), quiz_store(), None)


def quiz_store() -> QuizStore:
    """The server's one store of class questions (:func:`services.stores.quiz_store`): one
    object, so its in-memory per-student answer pacing is shared by every session of this
    server and by the class API."""
    return stores.quiz_store()


def draw_store() -> DrawStore:
    """The server's one store of students' drawings (:func:`services.stores.draw_store`): one
    object, so its in-memory per-student pacing is shared by every session."""
    return stores.draw_store()
