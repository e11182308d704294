"""services.jobs: the Train page's worker (run here synchronously), its messages, publishing a
pending model, and the registry of running jobs."""
import dataclasses
import queue
import threading

import numpy as np
import pytest
import torch

from aecore import checkpoints
from aecore.errors import CheckpointError
from aecore.models import AEConfig, DAEConfig, VAEConfig
from aecore.recipes import Recipe, recipe_to_dict, train_and_save
from aecore.train import TrainConfig
from services import jobs

SMALL = dict(train_split="train[:512]", test_split="test[:128]")
VAE_RECIPE = Recipe(VAEConfig(latent_dim=3, hidden=(48, 24), beta=0.25),
                    TrainConfig(epochs=3, batch_size=32, lr=0.0012345, kl_anneal="cyclical",
                                cycle_epochs=2, seed=11), **SMALL)
DAE_RECIPE = Recipe(DAEConfig(latent_dim=5, hidden=(40,), noise="salt_pepper", noise_level=0.15,
                              dropout=0.1, recon_loss="mse"),
                    TrainConfig(epochs=2, weight_decay=1e-4, seed=2), **SMALL)


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def _run_job_inline(recipe: Recipe, pending, stop: threading.Event | None = None) -> list:
    """Run the worker's job in this process (as the page's process would) and return its
    messages; restores torch's thread count, which the job lowers to 1."""
    q, threads = queue.Queue(), torch.get_num_threads()
    try:
        jobs.run_job(recipe_to_dict(recipe), str(pending), q, stop or threading.Event())
    finally:
        torch.set_num_threads(threads)
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


def test_page_worker_and_library_give_identical_weights_and_report_progress(tmp_path):
    recipe = VAE_RECIPE
    msgs = _run_job_inline(recipe, tmp_path / "pending.safetensors")
    kinds = [m.kind for m in msgs]
    assert kinds[0] == "started" and kinds[-1] == "done"
    assert kinds.count("epoch") == recipe.train.epochs and "step" in kinds
    started, done = msgs[0], msgs[-1]
    assert isinstance(started, jobs.Started) and isinstance(done, jobs.Done)
    assert started.n_train == 512 and started.steps == 16  # 512 images / batch 32
    assert started.preview.shape == (jobs.PREVIEW_N, 1, 8, 8) and started.noisy is None
    recon = [m.recon for m in msgs if m.kind == "epoch"]
    assert all(r.shape == started.preview.shape and 0 <= r.min() and r.max() <= 1
               for r in recon)
    # about ten progress reports per epoch (every 16 // 10 = 1 step here), in order
    steps = [m.log for m in msgs if m.kind == "step"]
    assert [(s["epoch"], s["step"]) for s in steps[:3]] == [(1, 1), (1, 2), (1, 3)]
    assert [m.log["epoch"] for m in msgs if m.kind == "epoch"] == [1, 2, 3]
    assert done.map["xy"].shape == (128, 2) and done.map["method"] == "pca"
    assert np.isfinite(done.map["xy"]).all()
    from_page, info = checkpoints.load(done.pending)
    assert done.metrics == info.meta["metrics"] and done.best_epoch == info.meta["best_epoch"]
    assert info.meta["train_config"]["report_every"] == recipe.train.report_every  # unchanged
    threads = torch.get_num_threads()
    torch.set_num_threads(jobs.WORKER_THREADS)  # sums are bit-identical at equal thread counts
    try:
        from_lib, _, _ = train_and_save(recipe, None)
    finally:
        torch.set_num_threads(threads)
    _same_weights(from_page, from_lib)


def test_worker_shows_a_denoising_model_its_corrupted_batch(tmp_path):
    started = _run_job_inline(DAE_RECIPE, tmp_path / "p.safetensors")[0]
    assert started.noisy is not None
    assert started.noisy.shape == started.preview.shape
    assert not np.array_equal(started.noisy, started.preview)


def test_stop_keeps_the_best_model_so_far(tmp_path):
    stop = threading.Event()
    stop.set()  # asked to stop at the first progress report: one partial epoch
    recipe = dataclasses.replace(VAE_RECIPE, train=dataclasses.replace(VAE_RECIPE.train,
                                                                       epochs=50))
    done = _run_job_inline(recipe, tmp_path / "p.safetensors", stop)[-1]
    assert done.kind == "done" and done.stopped and done.best_epoch == 1
    _, info = checkpoints.load(done.pending)
    assert info.meta["epochs"] == 1 and info.meta["stopped_early"]


def test_diverging_worker_reports_and_writes_nothing(tmp_path):
    bad = Recipe(AEConfig(hidden=(32,)), TrainConfig(epochs=5, lr=10.0), **SMALL)
    pending = tmp_path / "p.safetensors"
    last = _run_job_inline(bad, pending)[-1]
    assert last.kind == "failed" and last.diverged and "learning rate" in last.message
    assert not pending.exists() and not list(tmp_path.iterdir())


def test_a_bad_recipe_fails_with_a_message_instead_of_hanging(tmp_path):
    d = recipe_to_dict(VAE_RECIPE)
    d["dataset"] = "no-such-dataset"
    q = queue.Queue()
    jobs.run_job(d, str(tmp_path / "p.safetensors"), q, threading.Event())
    msg = q.get_nowait()
    assert q.empty() and msg.kind == "failed" and not msg.diverged
    assert "no-such-dataset" in msg.message and not list(tmp_path.iterdir())


def test_publish_refuses_bad_and_taken_names(tmp_path):
    recipe = Recipe(AEConfig(hidden=(16,)), TrainConfig(epochs=1))
    _, _, pending = train_and_save(recipe, tmp_path / "pending.safetensors")
    for bad in ("../evil", "/abs", "a/b", "x\x00y", "", "digits_vae_z2"):
        with pytest.raises(CheckpointError):
            jobs.publish(pending, bad, tmp_path / "user")
    path = jobs.publish(pending, "mine", tmp_path / "user")
    assert path.read_bytes() == pending.read_bytes() and path.stat().st_mode & 0o777 == 0o644
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match="exists"):
        jobs.publish(pending, "mine", tmp_path / "user")
    assert path.read_bytes() == before
    assert not list((tmp_path / "user").glob(".*"))  # no temp file left behind
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError):
        jobs.publish(tmp_path / "junk.safetensors", "junk", tmp_path / "user")
    assert not (tmp_path / "user" / "junk.safetensors").exists()


class _DeadProcess:
    """Stands in for a worker process that has exited."""

    exitcode = 0

    def is_alive(self):
        return False

    def join(self, timeout=None):
        pass


def test_job_rebuilds_its_state_from_the_messages():
    q = queue.Queue()
    preview = np.zeros((2, 1, 8, 8), np.float32)
    for msg in (jobs.Started(10, 5, preview, None), jobs.Step({"epoch": 1, "step": 3}),
                jobs.Epoch({"epoch": 1, "elapsed": 0.5}, preview + 0.5),
                jobs.Failed("boom", diverged=True)):
        q.put(msg)
    job = jobs.Job("j", Recipe(AEConfig(), TrainConfig(epochs=1)), _DeadProcess(), q,
                   threading.Event())
    job.drain()
    assert (job.status, job.message, job.steps) == ("diverged", "boom", 5)
    assert job.step_log == {"epoch": 1, "step": 3} and job.epochs == [{"epoch": 1,
                                                                       "elapsed": 0.5}]
    assert job.recon.mean() == 0.5 and job.finished is not None and not job.active


def test_registry_forgets_finished_jobs_and_their_unsaved_files(tmp_path):
    reg = jobs.Registry()
    recipe = Recipe(AEConfig(), TrainConfig(epochs=1))
    pending = tmp_path / "old.safetensors"
    pending.write_bytes(b"x")
    q_done, q_silent = queue.Queue(), queue.Queue()
    q_done.put(jobs.Done(str(pending), 1, False, {}, 1.0, {}))
    reg.jobs["a"] = jobs.Job("a", recipe, _DeadProcess(), q_done, threading.Event())
    # a tab closed mid-run: nobody polls, and the process died without a word
    reg.jobs["b"] = jobs.Job("b", recipe, _DeadProcess(), q_silent, threading.Event())
    assert reg.running() == 0  # neither blocks the global limit
    assert reg.jobs["a"].status == "done" and reg.jobs["b"].status == "error"
    reg._prune(replaces="a")
    assert "a" not in reg.jobs and not pending.exists() and "b" in reg.jobs
    reg.jobs["b"].finished -= jobs.KEEP_FINISHED_S + 1
    reg._prune(replaces=None)
    assert not reg.jobs
