"""Train page glue: a server-wide registry of training processes and the live view.

Training runs in a ``spawn`` worker process (aecore.jobs.run_job), never in the Streamlit
script thread: a thread would share the server's interpreter and slow every other user's
clicks, and a server shutdown mid-training could crash the process. The page polls the job's
queue from an ``st.fragment(run_every=...)``.
"""
from __future__ import annotations

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
    recon: np.ndarray | None = None
    result: dict | None = None
    message: str = ""
    saved_as: str | None = None

    @property
    def active(self) -> bool:
        """True while the worker may still send messages."""
        return self.status in ("starting", "running")

    def drain(self) -> None:
        """Read every message waiting on the queue and update the state."""
        while True:
            try:
                msg = self.queue.get_nowait()
            except queue_mod.Empty:
                break
            kind = msg[0]
            if kind == "started":
                self.status, self.steps, self.preview = "running", msg[1]["steps"], msg[1]["preview"]
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


class Registry:
    """Server-wide table of jobs (shared by all sessions through ``st.cache_resource``)."""

    def __init__(self):
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()

    def running(self) -> int:
        """Number of jobs still training."""
        with self.lock:
            return sum(j.active for j in self.jobs.values())

    def start(self, recipe: Recipe) -> Job:
        """Start a worker process for ``recipe``. Raises ``RuntimeError`` when the server is
        at its limit of ``MAX_JOBS`` runs."""
        with self.lock:
            if sum(j.active for j in self.jobs.values()) >= MAX_JOBS:
                raise RuntimeError(f"the server is already training {MAX_JOBS} models; "
                                   "try again when one has finished")
            ctx = mp.get_context("spawn")
            q, stop = ctx.Queue(), ctx.Event()
            job_id = uuid.uuid4().hex[:12]
            pending = Path(cache_dir()).parent / "pending" / f"{job_id}.safetensors"
            pending.parent.mkdir(parents=True, exist_ok=True)
            proc = ctx.Process(target=jobs.run_job, daemon=True, name=f"train-{job_id}",
                               args=(jobs.recipe_to_dict(recipe), str(pending), q, stop))
            proc.start()
            job = Job(job_id, recipe, proc, q, stop)
            self.jobs[job_id] = job
            return job

    def get(self, job_id: str | None) -> Job | None:
        """The job with this id, or None."""
        with self.lock:
            return self.jobs.get(job_id) if job_id else None


@st.cache_resource
def registry() -> Registry:
    """The one registry of this server process."""
    return Registry()


def current_job() -> Job | None:
    """This browser session's job (at most one), with its queue drained."""
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
        job = registry().start(recipe)
    except RuntimeError as exc:
        return str(exc).capitalize() + "."
    st.session_state[JOB_KEY] = job.id
    return None


def stop() -> None:
    """Ask this session's job to stop after its current step (it keeps the best model)."""
    job = current_job()
    if job is not None and job.active:
        job.stop.set()


def eta(job: Job) -> tuple[float, str]:
    """Fraction done in [0, 1] and a progress label with epoch, step and ETA."""
    total = job.recipe.train.epochs
    if job.step_log is None and not job.epochs:
        return 0.0, "Starting the training process…"
    s = job.step_log or {}
    done_epochs = len(job.epochs)
    if s and s["epoch"] > done_epochs:
        frac = (s["epoch"] - 1 + s["step"] / s["steps"]) / total
        where = f"epoch {s['epoch']}/{total}, step {s['step']}/{s['steps']}"
    else:
        frac = done_epochs / total
        where = f"epoch {done_epochs}/{total}"
    elapsed = time.time() - job.started
    left = elapsed * (1 - frac) / frac if frac > 0.01 else float("nan")
    tail = f" · about {left:.0f} s left" if np.isfinite(left) else ""
    return min(1.0, frac), f"{where} · {elapsed:.0f} s elapsed{tail}"
