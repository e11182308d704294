"""Training jobs in separate processes, so a web server stays responsive.

The server starts :func:`run_job` in a ``spawn`` process with a queue and a stop event
(:meth:`Registry.start`). The job trains through the library's one training sequence,
:func:`aecore.recipes.train_and_save`, with hooks that report on the queue, and writes the
trained model to a *pending* file; the user then chooses a name and :func:`publish` copies it,
atomically, into the user folder. :class:`Job` rebuilds a run's state from its messages;
:class:`Registry` is the server-wide table of runs (at most :data:`MAX_JOBS` at once).

Messages are small frozen dataclasses of builtins and NumPy arrays (never tensors). The
server tells them apart by their ``kind`` field, not by class identity, so a module reloaded by
Streamlit's file watcher cannot confuse them.
"""
from __future__ import annotations

import ctypes
import fcntl
import importlib
import json
import multiprocessing as mp
import os
import queue as queue_mod
import re
import shutil
import signal
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from aecore import checkpoints
from aecore.errors import CheckpointError, LatentLabError, TrainingDiverged
from aecore.files import atomic_write
from aecore.recipes import Recipe, recipe_from_dict, recipe_to_dict, train_and_save
from aecore.recording import SUFFIX as RECORDING_SUFFIX
from aecore.recording import Recorder, recording_path, save_recording
from aecore.train import EpochLog, StepLog

from . import paths

__all__ = ["Started", "Step", "Epoch", "Done", "Failed", "run_job", "latent_preview",
           "publish", "Job", "Registry", "Budget", "budget", "check_budget", "cleanup_files",
           "PREVIEW_N", "WORKER_THREADS", "MAX_JOBS", "MAX_JOBS_PER_CLIENT", "KEEP_FINISHED_S",
           "RATE", "MAX_RUN_S", "BUDGET", "MAX_PARAMS", "HEARTBEAT_S", "USER_QUOTA_BYTES",
           "CLIENT_QUOTA", "usage"]

PREVIEW_N = 8  # test images whose reconstructions are sent after every epoch
WORKER_THREADS = 1  # torch threads in the worker: leave the other core to the web server
MAX_JOBS = 2  # training runs at once on this server (2 cores: more would starve the clicks)
MAX_JOBS_PER_CLIENT = 1  # runs one client (source address) may hold: two tabs get one slot
KEEP_FINISHED_S = 6 * 3600  # a finished, unsaved run can still be saved for this long
# Training speed of one worker thread, in parameters x images per second. Measured with an
# MLP VAE (Adam, 1 torch thread, 28x28 inputs) on the 2-core reference machine: 2.8e9 at
# 784-400-20 / batch 128, 9.4e8 at 784-256-128-20 / batch 64, 8.1e8 at 784-1024-1024-20 /
# batch 16 (small batches are slowest per image); the slowest figure, rounded, is used.
RATE = 8e8
MAX_RUN_S = 30 * 60  # wall-clock cap of one run (the worker stops itself, keeping its best)
BUDGET = RATE * MAX_RUN_S  # 1.44e12 parameters x images x epochs: 30 min at the slowest rate
# a model must fit in one checkpoint file (float32 weights, the header is small)
MAX_PARAMS = (checkpoints.MAX_BYTES - 2**20) // 4
HEARTBEAT_S = 60.0  # a run whose Train page has not polled for this long is stopped
USER_QUOTA_BYTES = 2 * 2**30  # all saved user models together (8 of the largest allowed)
CLIENT_QUOTA = 5  # saved models per client (source address)
_PUBLISH_LOCK = threading.Lock()  # quota check and ledger update of one server process
_SPLIT_SIZES = {"digits": {"train": 1437, "test": 360, "all": 1797}}
_OTHER_SIZES = {"train": 60000, "test": 10000, "all": 70000}  # the torchvision datasets
_SPLIT_RE = re.compile(r"^(train|test|all)(?:\[(-?\d*):(-?\d*)\])?$")


# -- the budget of a run -------------------------------------------------------------------

@dataclass(frozen=True)
class Budget:
    """What a run costs, known before it starts.

    Attributes
    ----------
    params : int
        Trainable parameters of the model.
    images : int
        Training images per epoch.
    epochs : int
    cost : float
        ``params * images * epochs``.
    seconds : float
        Estimated training time at :data:`RATE` (an upper estimate).
    """

    params: int
    images: int
    epochs: int
    cost: float
    seconds: float


def _n_images(dataset: str, split: str) -> int:
    """Images in a split such as ``"train"`` or ``"test[:8000]"``, without loading it."""
    m = _SPLIT_RE.match(split.replace(" ", ""))
    n = _SPLIT_SIZES.get(dataset, _OTHER_SIZES)[m.group(1) if m else "train"]
    if m and m.group(2) is not None:
        a, b = (int(v) if v else None for v in (m.group(2), m.group(3)))
        n = len(range(n)[slice(a, b)])
    return n


def budget(recipe: Recipe) -> Budget:
    """The cost of ``recipe``: parameters (built on the meta device: no memory) × training
    images × epochs, and its estimated seconds."""
    import torch

    from aecore.models import build_model

    with torch.device("meta"):
        params = sum(p.numel() for p in build_model(recipe.model).parameters())
    # layer-wise pretraining trains every layer once per pretraining epoch: about one more
    # epoch of the whole model each
    images = _n_images(recipe.dataset, recipe.train_split)
    epochs = recipe.train.epochs + recipe.pretrain_epochs
    cost = float(params) * images * epochs
    return Budget(params, images, epochs, cost, cost / RATE)


def check_budget(recipe: Recipe) -> Budget:
    """:func:`budget`, or ValueError saying what to lower.

    Raises
    ------
    ValueError
        The model has more than :data:`MAX_PARAMS` parameters (it could not be saved), or the
        run costs more than :data:`BUDGET`.
    """
    b = budget(recipe)
    if b.params > MAX_PARAMS:
        raise ValueError(f"this model has {b.params:,} parameters; a saved model holds at most "
                         f"{MAX_PARAMS:,} ({checkpoints.MAX_BYTES // 2**20} MiB): use fewer or "
                         "narrower hidden layers")
    if b.cost > BUDGET:
        fit = int(BUDGET // (float(b.params) * b.images))
        lower = (f"lower the epochs to {fit} or fewer, or" if fit >= 1 else "")
        raise ValueError(f"this run would take about {b.seconds / 3600:.1f} h ({b.params:,} "
                         f"parameters × {b.images:,} images × {b.epochs} epochs); a run may "
                         f"take at most {MAX_RUN_S // 60} min on this server: {lower} use "
                         "narrower hidden layers or fewer training images")
    return b


# -- files left behind -------------------------------------------------------------------------

def _process_start() -> float:
    """Epoch seconds when this process started (Linux: its /proc entry; else now)."""
    try:
        return Path(f"/proc/{os.getpid()}").stat().st_ctime
    except OSError:
        return time.time()


def cleanup_files(min_age_s: float = 60.0) -> list[Path]:
    """Delete what no live run can need: pending files written before this server process
    started (their workers died with the old server; a registry re-created by a module reload
    keeps this process's own) and ``.*.tmp`` files of interrupted atomic writes older than
    ``min_age_s`` in the user, pending and map-cache folders. Returns the paths deleted."""
    gone, now, born = [], time.time(), _process_start()
    pend = paths.pending_dir()
    folders = [paths.user_dir(), pend, paths.cache_dir()]
    for folder in folders:
        if not folder.is_dir():
            continue
        for f in folder.iterdir():
            try:
                tmp = f.name.startswith(".") and f.name.endswith(".tmp")
                age = now - f.stat().st_mtime
                if f.is_file() and ((folder == pend and f.stat().st_mtime < born)
                                    or (tmp and age > min_age_s)):
                    f.unlink()
                    gone.append(f)
            except OSError:
                continue  # another process removed it first
    return gone


def _die_with_parent() -> int:
    """Ask Linux to kill this process when its parent dies (PR_SET_PDEATHSIG); returns the
    parent's pid, which each step checks again where prctl is not available."""
    ppid = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != ppid:  # the parent died before prctl took effect
        os._exit(1)
    return ppid


# -- messages from the worker ------------------------------------------------------------------

@dataclass(frozen=True)
class Started:
    """The run has begun: its size and the fixed test batch it reports on.

    Attributes
    ----------
    n_train : int
        Training images (after ``exclude_class``).
    steps : int
        Optimisation steps per epoch.
    preview : ndarray of shape (PREVIEW_N, C, H, W), float32 in [0, 1]
    noisy : ndarray of shape (PREVIEW_N, C, H, W) or None
        For a denoising model: the corrupted copy of ``preview`` it is shown.
    """

    kind: ClassVar[str] = "started"
    n_train: int
    steps: int
    preview: np.ndarray
    noisy: np.ndarray | None


@dataclass(frozen=True)
class Step:
    """Progress inside an epoch: :class:`aecore.train.StepLog` as a dict."""

    kind: ClassVar[str] = "step"
    log: dict


@dataclass(frozen=True)
class Epoch:
    """An epoch ended: :class:`aecore.train.EpochLog` as a dict, and the model's output for
    the fixed batch (for a denoising model: for its corrupted copy), (PREVIEW_N, C, H, W)."""

    kind: ClassVar[str] = "epoch"
    log: dict
    recon: np.ndarray


@dataclass(frozen=True)
class Done:
    """The run finished or was stopped; the best epoch is in the pending file.

    Attributes
    ----------
    pending : str
        The checkpoint file written.
    best_epoch : int
    stopped : bool
        True when stopped early on request.
    metrics : dict
        The checkpoint's test metrics (``test_total``, ``test_recon``, ``test_kl``, ...).
    seconds : float
        Training time measured by ``fit``.
    map : dict
        :func:`latent_preview` of the trained model.
    """

    kind: ClassVar[str] = "done"
    pending: str
    best_epoch: int
    stopped: bool
    metrics: dict
    seconds: float
    map: dict


@dataclass(frozen=True)
class Failed:
    """The run failed and wrote nothing. ``diverged``: the loss blew up (the user can fix it
    with a smaller learning rate); otherwise an error, named in ``message``."""

    kind: ClassVar[str] = "failed"
    message: str
    diverged: bool = False


# -- the worker --------------------------------------------------------------------------------

def run_job(recipe: dict[str, Any], pending: str, queue, stop, pace_s: float = 0.0) -> None:
    """Train one recipe; the process target. Reports on ``queue``: one :class:`Started`,
    :class:`Step` messages (about 10 per epoch), one :class:`Epoch` per epoch, then one
    :class:`Done` or :class:`Failed`.

    Parameters
    ----------
    recipe : dict
        From :func:`aecore.recipes.recipe_to_dict`.
    pending : str
        Where to write the trained model (a checkpoint file).
    queue : multiprocessing.Queue
    stop : multiprocessing.Event
        Set by the server to stop after the current step; the best model so far is kept.
    pace_s : float
        Lecture speed: after reporting an epoch, wait until the epoch has taken at least this
        many seconds (0: no wait). ``fit`` itself runs at full speed; the wait sits between
        epochs, so a class can watch every one, and a Stop ends the wait at once.
    """
    import torch

    from aecore.device import make_generator
    from aecore.models import Autoencoder
    from aecore.recipes import training_splits

    torch.set_num_threads(WORKER_THREADS)
    ppid = _die_with_parent() if mp.parent_process() is not None else None
    t0 = time.monotonic()
    seen = {}  # the model and its shown batch, filled by on_start
    last = [time.monotonic()]  # end of the previous epoch's wait (lecture speed)

    def on_start(model, splits) -> None:
        preview = splits.test.x[:PREVIEW_N]
        # a denoising model is shown a fixed corrupted copy (its own generator: the training
        # run's random streams stay exactly those of the CLI and the library)
        shown = model.corrupt(preview, make_generator(r.train.seed + 7))
        noisy = shown.numpy() if type(model).corrupt is not Autoencoder.corrupt else None
        seen.update(model=model, shown=shown)
        # the Watch it learn page's frames (aecore.recording: no random numbers drawn)
        seen["rec"] = Recorder(splits.test.x, splits.test.y.numpy(), r.train.epochs)
        seen["rec"].on_start(model)
        queue.put(Started(len(splits.train), steps, preview.numpy(), noisy))

    def callback(log) -> bool:
        if isinstance(log, StepLog):
            queue.put(Step(asdict(log)))
        elif isinstance(log, EpochLog):
            model = seen["model"]
            was = model.training
            model.eval()
            with torch.no_grad():
                rec = model.reconstruct(seen["shown"].to(model.code_mean.device)).cpu().numpy()
            model.train(was)
            seen["rec"].callback(log)
            queue.put(Epoch(log.to_dict(), rec))
            if pace_s > 0:
                stop.wait(max(0.0, pace_s - (time.monotonic() - last[0])))
            last[0] = time.monotonic()
        if ppid is not None and os.getppid() != ppid:  # the server died: no one will read
            os._exit(1)
        return stop.is_set() or time.monotonic() - t0 > MAX_RUN_S

    try:
        r = recipe_from_dict(recipe)
        check_budget(r)  # the server checked it too; a worker never trains past the budget
        splits = training_splits(r)
        steps = -(-len(splits.train) // r.train.batch_size)
        model, hist, path = train_and_save(r, pending, splits=splits, callback=callback,
                                           on_start=on_start,
                                           report_every=max(1, steps // 10))
        save_recording(seen["rec"].finish(model, hist.best_epoch), recording_path(path))
        info = checkpoints.read_info(path)
        queue.put(Done(str(path), hist.best_epoch, hist.stopped, info.meta["metrics"],
                       hist.seconds, latent_preview(model, splits.test)))
    except TrainingDiverged as exc:
        Path(pending).unlink(missing_ok=True)
        queue.put(Failed(str(exc), diverged=True))
    except (LatentLabError, ValueError, OSError) as exc:
        Path(pending).unlink(missing_ok=True)
        queue.put(Failed(f"{type(exc).__name__}: {exc}"))
    except Exception as exc:  # the server must hear about any failure, never hang waiting
        Path(pending).unlink(missing_ok=True)
        queue.put(Failed(f"unexpected {type(exc).__name__}: {exc}"))


def _warm_main(tasks, queue, stop, ready) -> None:
    """A worker started ahead of time: import torch and the training code (about 2-5 s of a
    cold start), say so on ``ready``, then wait for one task ``(recipe, pending, pace_s)``
    and run it (:func:`run_job`). ``None`` as the task ends the process."""
    import torch

    from aecore import recipes, train  # noqa: F401  (imported now, not after Start)

    _die_with_parent()  # a waiting worker must not outlive the server either

    # the first optimizer of a process imports torch._dynamo: ~5 s, measured; do it now
    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])
    ready.set()
    task = tasks.get()
    if task is not None:
        run_job(task[0], task[1], queue, stop, task[2])


def latent_preview(model, test) -> dict[str, Any]:
    """The test codes of a freshly trained model in 2-D, for a first look at its latent map.

    Parameters
    ----------
    model : Autoencoder
    test : Dataset
        ``x`` of shape (N, C, H, W) in [0, 1] with labels ``y``.

    Returns
    -------
    dict with ``xy`` (ndarray (N, 2) float32: z itself for a 2-D latent, else its first two
    principal components), ``labels`` (ndarray (N,) int), ``classes`` (list of str) and
    ``method`` ("identity" or "pca").
    """
    from aecore.latent import encode
    from aecore.project import methods_for, make_projector

    z = encode(model, test.x)  # (N, latent_dim), mu for a VAE
    method = methods_for(z.shape[1])[0]  # identity for 2-D, else PCA: fast and deterministic
    xy = make_projector(method).fit_transform(z).astype("float32")
    return {"xy": xy, "labels": test.y.numpy(), "classes": list(test.classes), "method": method}


def _ledger_path(folder: Path) -> Path:
    return folder / ".owners.json"  # {file name: client}; not a checkpoint, never listed


def _read_ledger(folder: Path) -> dict[str, str]:
    try:
        d = json.loads(_ledger_path(folder).read_text())
        return {str(k): str(v) for k, v in d.items()} if isinstance(d, dict) else {}
    except (OSError, ValueError):
        return {}


def usage(folder: str | Path | None = None, client: str | None = None) -> tuple[int, int]:
    """``(bytes of every saved model and its training recording, models saved by client)`` in
    the user folder (file sizes and the owners ledger only: no checkpoint is opened)."""
    folder = Path(folder) if folder is not None else paths.user_dir()
    files = {p.name: p.stat().st_size for p in folder.glob("*.safetensors")} \
        if folder.is_dir() else {}
    owners = _read_ledger(folder)
    mine = sum(1 for f, c in owners.items() if c == (client or "?") and f in files)
    frames = sum(p.stat().st_size for p in folder.glob("*" + RECORDING_SUFFIX)) \
        if folder.is_dir() else 0  # training recordings count too (each <= 1.5 MB)
    return sum(files.values()) + frames, mine


def publish(pending: str | Path, name: str, folder: str | Path | None = None,
            client: str | None = None) -> Path:
    """Move a pending checkpoint into the user folder under a validated name, atomically,
    within the quotas (:data:`USER_QUOTA_BYTES` in all, :data:`CLIENT_QUOTA` models per
    client). The pending file is deleted once the model is saved (it was kept twice).

    Parameters
    ----------
    pending : path
        File written by :func:`run_job`.
    name : str
        User-typed name (validated: no separators, no ``..``, 1-64 characters).
    folder : path, optional
        Defaults to :func:`services.paths.user_dir`.
    client : str, optional
        Who saves (the browser's source address), for the per-client quota.

    Returns
    -------
    Path of the new checkpoint.

    Raises
    ------
    CheckpointError
        Invalid name, a name taken by a shipped model, an existing file (never overwritten),
        a pending file that does not load, or a quota reached (the message says which).
    """
    checkpoints.validate_name(name)
    if (checkpoints.SHIPPED_DIR / f"{name}.safetensors").exists():
        raise CheckpointError(f"{name!r} is the name of a shipped model; choose another")
    folder = Path(folder) if folder is not None else paths.user_dir()
    target = folder / f"{name}.safetensors"
    checkpoints.read_info(pending)  # refuse to publish something that does not load
    client = str(client)[:64] if client else "?"
    folder.mkdir(parents=True, exist_ok=True)
    # the quota check and the ledger update are one critical section for every thread of this
    # process (_PUBLISH_LOCK) and every process sharing the folder, e.g. replicas (flock)
    with _PUBLISH_LOCK, open(folder / ".owners.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        total, mine = usage(folder, client)
        size = Path(pending).stat().st_size
        if mine >= CLIENT_QUOTA:
            raise CheckpointError(f"you have saved {mine} models on this server, the most one "
                                  "device may keep; ask the lecturer to delete some")
        if total + size > USER_QUOTA_BYTES:
            raise CheckpointError(f"the server's space for saved models is full "
                                  f"({total / 2**20:.0f} of {USER_QUOTA_BYTES / 2**20:.0f} "
                                  "MiB); ask the lecturer to delete some models")

        def copy(f) -> None:
            with open(pending, "rb") as src:
                shutil.copyfileobj(src, f)

        try:  # never overwrites: no race can replace someone's model
            out = atomic_write(target, copy, overwrite=False)
        except FileExistsError:
            raise CheckpointError(f"{target} already exists; choose another name") from None
        owners = _read_ledger(folder)
        owners[target.name] = client
        atomic_write(_ledger_path(folder), json.dumps(owners).encode())
    Path(pending).unlink(missing_ok=True)  # saved: the pending copy is not needed twice
    frames = recording_path(pending)  # its training recording goes with it
    if frames.exists():
        atomic_write(recording_path(out), frames.read_bytes())
        frames.unlink(missing_ok=True)
    return out


# -- the server side ---------------------------------------------------------------------------

@dataclass
class Job:
    """One training run as the server sees it (state rebuilt from the queue's messages)."""

    id: str
    recipe: Recipe
    process: mp.Process
    queue: object
    stop: object
    started: float = field(default_factory=time.time)
    status: str = "starting"  # starting, running, done, diverged, error, stopped
    steps: int = 0
    step_log: dict | None = None
    epochs: list[dict] = field(default_factory=list)
    preview: np.ndarray | None = None
    noisy: np.ndarray | None = None  # the corrupted preview a denoising model is shown
    recon: np.ndarray | None = None
    result: Done | None = None
    message: str = ""
    saved_as: str | None = None
    stop_requested: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    finished: float | None = None  # time.time() when the job stopped sending messages
    client: str = "?"  # who started it (source address): slots are shared per client
    pending: str = ""  # the checkpoint file the worker writes
    polled: float = field(default_factory=time.time)  # last time its Train page looked
    abandoned: bool = False  # its page went away: nobody can save it, its file goes

    def touch(self) -> None:
        """The owner's page polled: the run is still watched (see :data:`HEARTBEAT_S`)."""
        self.polled = time.time()

    def request_stop(self) -> None:
        """Stop after the current step (the best epoch so far is kept)."""
        self.stop.set()
        self.stop_requested = True
    tasks: object = field(default=None, repr=False)  # the worker's task queue and ready
    #   event: held, so that their semaphores live until a worker still starting up reads them

    @property
    def active(self) -> bool:
        """True while the worker may still send messages."""
        return self.status in ("starting", "running")

    def drain(self) -> None:
        """Read every message waiting on the queue and update the state (thread-safe: the
        owner's session and the registry's bookkeeping may both call it)."""
        with self.lock:
            self._drain()

    def _drain(self) -> None:
        """:meth:`drain` without the lock."""
        while True:
            try:
                msg = self.queue.get_nowait()
            except queue_mod.Empty:
                break
            if msg.kind == "started":
                self.status, self.steps = "running", msg.steps
                self.preview, self.noisy = msg.preview, msg.noisy
            elif msg.kind == "step":
                self.step_log = msg.log
            elif msg.kind == "epoch":
                self.epochs.append(msg.log)
                self.recon = msg.recon
            elif msg.kind == "done":
                self.result = msg
                self.status = "stopped" if msg.stopped else "done"
            elif msg.kind == "failed":
                self.status = "diverged" if msg.diverged else "error"
                self.message = msg.message
        if self.active and not self.process.is_alive() and self.queue.empty():
            code = self.process.exitcode
            self.status, self.message = "error", f"the training process ended (exit code {code})"
        if not self.active and self.finished is None:
            self.finished = time.time()
        if not self.active and self.pending and (self.abandoned or self.result is None):
            Path(self.pending).unlink(missing_ok=True)  # failed or unwatched: nothing to save
            recording_path(self.pending).unlink(missing_ok=True)
        if not self.active and self.process.exitcode is None:
            self.process.join(timeout=0)  # reap the worker once it exits: no zombie process


class Registry:
    """Server-wide table of jobs (one per server process; the UI shares it between sessions).

    Creating it deletes what earlier server processes left behind (:func:`cleanup_files`):
    their workers died with them (``PR_SET_PDEATHSIG``), so no pending file is still needed.
    """

    def __init__(self, cleanup: bool = True):
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
        if cleanup:
            cleanup_files()
        self._warm = None  # (process, tasks, queue, stop, ready) of the worker started ahead

    def warm_up(self) -> None:
        """Start one worker ahead of time (a warm pool of one), so that the next
        :meth:`start` skips the process start and the imports. Cheap when one is waiting.
        Does nothing inside a worker (a spawned child re-runs the page that started it)."""
        if mp.current_process().name != "MainProcess":
            return
        with self.lock:
            if self._warm is None or not self._warm[0].is_alive():
                self._warm = self._spawn()

    def warm_ready(self) -> bool:
        """True when a warm worker has finished its imports and waits for a task."""
        with self.lock:
            return self._warm is not None and self._warm[4].is_set()

    @staticmethod
    def _spawn():
        """A new waiting worker: (process, tasks, queue, stop, ready)."""
        ctx = mp.get_context("spawn")
        tasks, q, stop, ready = ctx.Queue(), ctx.Queue(), ctx.Event(), ctx.Event()
        # pickle sends the target by name and checks it against sys.modules: take it from
        # there, so a module reloaded by Streamlit's file watcher cannot break the start
        target = importlib.import_module("services.jobs")._warm_main
        proc = ctx.Process(target=target, daemon=True, name="train-worker",
                           args=(tasks, q, stop, ready))
        proc.start()
        return proc, tasks, q, stop, ready

    def running(self) -> int:
        """Number of jobs still training."""
        with self.lock:
            return self._running()

    def _running(self) -> int:
        """:meth:`running` for a caller that holds the lock. Every job is drained first, so a
        run whose browser tab was closed stops counting once its process has ended."""
        now = time.time()
        for job in self.jobs.values():
            job.drain()
            if job.active and not job.abandoned and now - job.polled > HEARTBEAT_S:
                job.abandoned = True  # its browser session has gone: free the slot
                job.request_stop()
        return sum(j.active for j in self.jobs.values())

    def active(self) -> list[Job]:
        """The runs still training, oldest first (for the lecturer's overview)."""
        with self.lock:
            self._running()
            return sorted((j for j in self.jobs.values() if j.active), key=lambda j: j.started)

    def stop(self, job_id: str) -> None:
        """Ask any run to stop (the lecturer's Stop); its owner may still save the best epoch."""
        job = self.get(job_id)
        if job is not None and job.active:
            job.request_stop()

    def start(self, recipe: Recipe, replaces: str | None = None, client: str | None = None,
              pace_s: float = 0.0) -> Job:
        """Train ``recipe`` in the warm worker (see :meth:`warm_up`), or in a new one.

        Parameters
        ----------
        recipe : Recipe
        replaces : str, optional
            Id of the session's previous job, forgotten now (with its unsaved model).
        client : str, optional
            Who asks (the browser's source address); None counts as one client.
        pace_s : float
            Lecture speed, seconds per epoch at least (see :func:`run_job`).

        Raises
        ------
        ValueError
            The run is over its budget (:func:`check_budget`: the message says what to lower).
        RuntimeError
            The server is at its limit of ``MAX_JOBS`` runs, or this client already holds
            ``MAX_JOBS_PER_CLIENT``.
        """
        check_budget(recipe)
        client = str(client)[:64] if client else "?"
        with self.lock:
            if self._running() >= MAX_JOBS:
                raise RuntimeError(f"the server is already training {MAX_JOBS} models; "
                                   "try again when one has finished")
            mine = sum(j.active and j.client == client for j in self.jobs.values())
            if mine >= MAX_JOBS_PER_CLIENT:
                raise RuntimeError(f"your device already trains {mine} model"
                                   f"{'s' * (mine != 1)} (the server shares its "
                                   f"{MAX_JOBS} slots between devices); stop it or let it "
                                   "finish first")
            warm, self._warm = self._warm, None
            if warm is None or not warm[0].is_alive():
                warm = self._spawn()
            proc, tasks, q, stop, ready = warm
            job_id = uuid.uuid4().hex[:12]
            pending = paths.pending_dir() / f"{job_id}.safetensors"
            pending.parent.mkdir(parents=True, exist_ok=True)
            tasks.put((recipe_to_dict(recipe), str(pending), float(pace_s)))
            job = Job(job_id, recipe, proc, q, stop, client=client, pending=str(pending),
                      tasks=(tasks, ready))
            self._prune(replaces)  # after the limit check: a refused start forgets nothing
            self.jobs[job_id] = job
            return job

    def _prune(self, replaces: str | None) -> None:
        """Forget finished jobs that were replaced or are older than ``KEEP_FINISHED_S``, and
        delete their unsaved pending files (caller holds the lock)."""
        now = time.time()
        for job_id, job in list(self.jobs.items()):
            old = job.finished is not None and now - job.finished > KEEP_FINISHED_S
            if not job.active and (job_id == replaces or old):
                job.process.join(timeout=0.1)  # reap the exited process
                if job.result:
                    Path(job.result.pending).unlink(missing_ok=True)
                    recording_path(job.result.pending).unlink(missing_ok=True)
                del self.jobs[job_id]

    def get(self, job_id: str | None) -> Job | None:
        """The job with this id, or None."""
        with self.lock:
            return self.jobs.get(job_id) if job_id else None

    def poll(self, job_id: str | None) -> Job | None:
        """:meth:`get` for the run's own page: records the heartbeat, and stops runs whose
        pages stopped polling (every Train page polls each second, so this runs often)."""
        with self.lock:
            job = self.jobs.get(job_id) if job_id else None
            if job is not None:
                job.touch()
            self._running()
            return job
