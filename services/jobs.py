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

import importlib
import multiprocessing as mp
import queue as queue_mod
import shutil
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
from aecore.train import EpochLog, StepLog

from . import paths

__all__ = ["Started", "Step", "Epoch", "Done", "Failed", "run_job", "latent_preview",
           "publish", "Job", "Registry", "PREVIEW_N", "WORKER_THREADS", "MAX_JOBS",
           "KEEP_FINISHED_S"]

PREVIEW_N = 8  # test images whose reconstructions are sent after every epoch
WORKER_THREADS = 1  # torch threads in the worker: leave the other core to the web server
MAX_JOBS = 2  # training runs at once on this server (2 cores: more would starve the clicks)
KEEP_FINISHED_S = 6 * 3600  # a finished, unsaved run can still be saved for this long


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
    seen = {}  # the model and its shown batch, filled by on_start
    last = [time.monotonic()]  # end of the previous epoch's wait (lecture speed)

    def on_start(model, splits) -> None:
        preview = splits.test.x[:PREVIEW_N]
        # a denoising model is shown a fixed corrupted copy (its own generator: the training
        # run's random streams stay exactly those of the CLI and the library)
        shown = model.corrupt(preview, make_generator(r.train.seed + 7))
        noisy = shown.numpy() if type(model).corrupt is not Autoencoder.corrupt else None
        seen.update(model=model, shown=shown)
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
            queue.put(Epoch(log.to_dict(), rec))
            if pace_s > 0:
                stop.wait(max(0.0, pace_s - (time.monotonic() - last[0])))
            last[0] = time.monotonic()
        return stop.is_set()

    try:
        r = recipe_from_dict(recipe)
        splits = training_splits(r)
        steps = -(-len(splits.train) // r.train.batch_size)
        model, hist, path = train_and_save(r, pending, splits=splits, callback=callback,
                                           on_start=on_start,
                                           report_every=max(1, steps // 10))
        info = checkpoints.read_info(path)
        queue.put(Done(str(path), hist.best_epoch, hist.stopped, info.meta["metrics"],
                       hist.seconds, latent_preview(model, splits.test)))
    except TrainingDiverged as exc:
        queue.put(Failed(str(exc), diverged=True))
    except (LatentLabError, ValueError, OSError) as exc:
        queue.put(Failed(f"{type(exc).__name__}: {exc}"))
    except Exception as exc:  # the server must hear about any failure, never hang waiting
        queue.put(Failed(f"unexpected {type(exc).__name__}: {exc}"))


def _warm_main(tasks, queue, stop, ready) -> None:
    """A worker started ahead of time: import torch and the training code (about 2-5 s of a
    cold start), say so on ``ready``, then wait for one task ``(recipe, pending, pace_s)``
    and run it (:func:`run_job`). ``None`` as the task ends the process."""
    import torch

    from aecore import recipes, train  # noqa: F401  (imported now, not after Start)

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


def publish(pending: str | Path, name: str, folder: str | Path | None = None) -> Path:
    """Copy a pending checkpoint into the user folder under a validated name, atomically.

    Parameters
    ----------
    pending : path
        File written by :func:`run_job`.
    name : str
        User-typed name (validated: no separators, no ``..``, 1-64 characters).
    folder : path, optional
        Defaults to :func:`services.paths.user_dir`.

    Returns
    -------
    Path of the new checkpoint.

    Raises
    ------
    CheckpointError
        Invalid name, a name taken by a shipped model, an existing file (never overwritten),
        or a pending file that does not load.
    """
    checkpoints.validate_name(name)
    if (checkpoints.SHIPPED_DIR / f"{name}.safetensors").exists():
        raise CheckpointError(f"{name!r} is the name of a shipped model; choose another")
    folder = Path(folder) if folder is not None else paths.user_dir()
    target = folder / f"{name}.safetensors"
    checkpoints.read_info(pending)  # refuse to publish something that does not load

    def copy(f) -> None:
        with open(pending, "rb") as src:
            shutil.copyfileobj(src, f)

    try:  # never overwrites: no race can replace someone's model
        return atomic_write(target, copy, overwrite=False)
    except FileExistsError:
        raise CheckpointError(f"{target} already exists; choose another name") from None


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
        if not self.active and self.process.exitcode is None:
            self.process.join(timeout=0)  # reap the worker once it exits: no zombie process


class Registry:
    """Server-wide table of jobs (one per server process; the UI shares it between sessions)."""

    def __init__(self):
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
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
        for job in self.jobs.values():
            job.drain()
        return sum(j.active for j in self.jobs.values())

    def start(self, recipe: Recipe, replaces: str | None = None, pace_s: float = 0.0) -> Job:
        """Train ``recipe`` in the warm worker (see :meth:`warm_up`), or in a new one.

        Parameters
        ----------
        recipe : Recipe
        replaces : str, optional
            Id of the session's previous job, forgotten now (with its unsaved model).
        pace_s : float
            Lecture speed, seconds per epoch at least (see :func:`run_job`).

        Raises
        ------
        RuntimeError
            The server is at its limit of ``MAX_JOBS`` runs.
        """
        with self.lock:
            if self._running() >= MAX_JOBS:
                raise RuntimeError(f"the server is already training {MAX_JOBS} models; "
                                   "try again when one has finished")
            warm, self._warm = self._warm, None
            if warm is None or not warm[0].is_alive():
                warm = self._spawn()
            proc, tasks, q, stop, ready = warm
            job_id = uuid.uuid4().hex[:12]
            pending = paths.pending_dir() / f"{job_id}.safetensors"
            pending.parent.mkdir(parents=True, exist_ok=True)
            tasks.put((recipe_to_dict(recipe), str(pending), float(pace_s)))
            job = Job(job_id, recipe, proc, q, stop, tasks=(tasks, ready))
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
                del self.jobs[job_id]

    def get(self, job_id: str | None) -> Job | None:
        """The job with this id, or None."""
        with self.lock:
            return self.jobs.get(job_id) if job_id else None
