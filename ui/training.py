"""Train page glue: this session's training run in the server's job registry.

Training runs in a ``spawn`` worker process (:func:`services.jobs.run_job`), never in the
Streamlit script thread: a thread would share the server's interpreter and slow every other
user's clicks, and a server shutdown mid-training could crash the process. The page polls the
job's queue from an ``st.fragment(run_every=...)``. The registry itself is
:class:`services.jobs.Registry`, shared by every session (:func:`ui.cache.job_registry`).
"""
from __future__ import annotations

import time

import numpy as np
import streamlit as st

from aecore.recipes import Recipe
from services.jobs import Job

from . import cache, state


def current_job() -> Job | None:
    """The job of this browser session (at most one), with its queue drained."""
    job = cache.job_registry().get(st.session_state.get(state.TRAIN_JOB))
    if job is not None:
        job.drain()
    return job


def start(recipe: Recipe) -> str | None:
    """Start a run for this session; returns an error message instead of raising."""
    job = current_job()
    if job is not None and job.active:
        return "This session is already training a model: stop it or wait for it to finish."
    try:
        job = cache.job_registry().start(recipe, replaces=st.session_state.get(state.TRAIN_JOB))
    except RuntimeError as exc:
        return str(exc).capitalize() + "."
    st.session_state[state.TRAIN_JOB] = job.id
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
