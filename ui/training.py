"""Train page glue: a server-wide registry of training processes and the live view.

Training runs in a ``spawn`` worker process (aecore.jobs.run_job), never in the Streamlit
script thread: a thread would share the server's interpreter and slow every other user's
clicks, and a server shutdown mid-training could crash the process. The page polls the job's
queue from an ``st.fragment(run_every=...)``.
"""
from __future__ import annotations

import importlib
import multiprocessing as mp
import queue as queue_mod
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import streamlit as st

from aecore import jobs
from aecore.atlas import cache_dir
from aecore.recipes import Recipe

MAX_JOBS = 2  # training runs at once on this server (2 cores: more would starve the clicks)
KEEP_FINISHED_S = 6 * 3600  # a finished, unsaved run can still be saved for this long
JOB_KEY = "train.job_id"


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
    result: dict | None = None
    message: str = ""
    saved_as: str | None = None
    stop_requested: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    finished: float | None = None  # time.time() when the job stopped sending messages

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
            kind = msg[0]
            if kind == "started":
                self.status, self.steps = "running", msg[1]["steps"]
                self.preview, self.noisy = msg[1]["preview"], msg[1].get("noisy")
            elif kind == "step":
                self.step_log = msg[1]
            elif kind == "epoch":
                self.epochs.append(msg[1])
                self.recon = msg[2]
            elif kind == "done":
                self.result = msg[1]
                self.status = "stopped" if msg[1]["stopped"] else "done"
            elif kind in ("diverged", "error"):
                self.status, self.message = kind, msg[1]
        if self.active and not self.process.is_alive() and self.queue.empty():
            code = self.process.exitcode
            self.status, self.message = "error", f"the training process ended (exit code {code})"
        if not self.active and self.finished is None:
            self.finished = time.time()
        if not self.active and self.process.exitcode is None:
            self.process.join(timeout=0)  # reap the worker once it exits: no zombie process


class Registry:
    """Server-wide table of jobs (shared by all sessions through ``st.cache_resource``)."""

    def __init__(self):
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()

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

    def start(self, recipe: Recipe, replaces: str | None = None) -> Job:
        """Start a worker process for ``recipe``. Raises ``RuntimeError`` when the server is
        at its limit of ``MAX_JOBS`` runs. ``replaces``: id of the session's previous job,
        forgotten now (with its unsaved model)."""
        with self.lock:
            if self._running() >= MAX_JOBS:
                raise RuntimeError(f"the server is already training {MAX_JOBS} models; "
                                   "try again when one has finished")
            ctx = mp.get_context("spawn")
            q, stop = ctx.Queue(), ctx.Event()
            job_id = uuid.uuid4().hex[:12]
            pending = Path(cache_dir()).parent / "pending" / f"{job_id}.safetensors"
            pending.parent.mkdir(parents=True, exist_ok=True)
            # pickle sends the target by name and checks it against sys.modules: take it from
            # there, so a module reloaded by Streamlit's file watcher cannot break the start
            run_job = importlib.import_module("aecore.jobs").run_job
            proc = ctx.Process(target=run_job, daemon=True, name=f"train-{job_id}",
                               args=(jobs.recipe_to_dict(recipe), str(pending), q, stop))
            proc.start()
            job = Job(job_id, recipe, proc, q, stop)
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
                    Path(job.result["pending"]).unlink(missing_ok=True)
                del self.jobs[job_id]

    def get(self, job_id: str | None) -> Job | None:
        """The job with this id, or None."""
        with self.lock:
            return self.jobs.get(job_id) if job_id else None


@st.cache_resource
def registry() -> Registry:
    """The one registry of this server process."""
    return Registry()


def current_job() -> Job | None:
    """The job of this browser session (at most one), with its queue drained."""
    job = registry().get(st.session_state.get(JOB_KEY))
    if job is not None:
        job.drain()
    return job


def start(recipe: Recipe) -> str | None:
    """Start a run for this session; returns an error message instead of raising."""
    job = current_job()
    if job is not None and job.active:
        return "This session is already training a model: stop it or wait for it to finish."
    try:
        job = registry().start(recipe, replaces=st.session_state.get(JOB_KEY))
    except RuntimeError as exc:
        return str(exc).capitalize() + "."
    st.session_state[JOB_KEY] = job.id
    return None


def stop() -> None:
    """Ask this session's job to stop after its current step (it keeps the best model)."""
    job = current_job()
    if job is not None and job.active:
        job.stop.set()
        job.stop_requested = True


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
