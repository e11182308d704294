"""services.jobs: the Train page's worker (run here synchronously), its messages, publishing a
pending model, and the registry of running jobs."""
import dataclasses
from pathlib import Path
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
    _same_weights(from_page, from_lib)  # recording the run (below) changed no weight
    from aecore.recording import load_recording, recording_path

    frames = recording_path(done.pending)  # Watch it learn's frames, beside the checkpoint
    assert list(load_recording(frames).epochs) == [0, 1, 2, 3]
    saved = jobs.publish(done.pending, "recorded", folder=tmp_path / "user")
    assert recording_path(saved).exists() and not frames.exists()  # it moves with the model


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
    data = pending.read_bytes()
    path = jobs.publish(pending, "mine", tmp_path / "user")
    assert path.read_bytes() == data and path.stat().st_mode & 0o777 == 0o644
    assert not pending.exists()  # saved once, not twice
    pending.write_bytes(data)
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match="exists"):
        jobs.publish(pending, "mine", tmp_path / "user")
    assert path.read_bytes() == before
    assert not list((tmp_path / "user").glob(".*.tmp"))  # no temp file left behind
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


# -- issue 14: budgets, slots, heartbeats, orphans, stray files, quotas -----------------------

HOSTILE = Recipe(VAEConfig(input_shape=(1, 28, 28), latent_dim=2, hidden=(4096,) * 6),
                 TrainConfig(epochs=300, batch_size=16), dataset="mnist")


def test_budget_is_known_before_the_run_and_says_what_to_lower():
    default = Recipe(VAEConfig(), TrainConfig())  # the page's defaults: well inside
    b = jobs.check_budget(default)
    assert b.images == 1437 and b.epochs == 60 and b.seconds < 60
    with pytest.raises(ValueError, match="hidden layers"):
        jobs.check_budget(HOSTILE)  # 169 h and 3.75 GB in the issue
    # hidden 4096,4096,4096 on digits: trained, then could not be saved (> 256 MiB)
    wide = Recipe(VAEConfig(hidden=(4096,) * 3), TrainConfig(epochs=1))
    assert jobs.budget(wide).params > jobs.MAX_PARAMS
    with pytest.raises(ValueError, match="parameters; a saved model holds at most"):
        jobs.check_budget(wide)
    # a model that fits but trains too long: the epochs that would fit are named
    long = Recipe(VAEConfig(input_shape=(1, 28, 28), hidden=(400,)), TrainConfig(epochs=300),
                  dataset="mnist")
    with pytest.raises(ValueError, match=r"lower the epochs to \d+ or fewer"):
        jobs.check_budget(long)
    assert jobs._n_images("mnist", "test[:8000]") == 8000
    with pytest.raises(ValueError):
        jobs.Registry(cleanup=False).start(HOSTILE)


def test_slots_are_shared_between_clients_and_anyone_may_stop_a_run(monkeypatch):
    import sys

    # an AppTest.from_function run earlier in the session leaves a temporary script as
    # __main__, which spawn would re-run in the worker: start the workers without it
    monkeypatch.delattr(sys.modules["__main__"], "__file__", raising=False)
    reg = jobs.Registry(cleanup=False)
    recipe = Recipe(AEConfig(hidden=(16,)), TrainConfig(epochs=200), **SMALL)
    a = reg.start(recipe, client="10.0.0.1")
    try:
        with pytest.raises(RuntimeError, match="your device already trains"):
            reg.start(recipe, client="10.0.0.1")  # a second tab of the same device
        b = reg.start(recipe, client="10.0.0.2")
        assert [j.id for j in reg.active()] == [a.id, b.id]
        reg.stop(b.id)  # the lecturer's Stop
        assert b.stop.is_set() and b.stop_requested
        # a run whose page stopped polling (tab closed) is stopped and its file dropped
        a.polled -= jobs.HEARTBEAT_S + 1
        reg.running()
        assert a.abandoned and a.stop.is_set()
        for j in (a, b):
            j.process.join(timeout=60)
        reg.running()
        assert not a.active and not Path(a.pending).exists()
        assert b.status == "stopped" and Path(b.pending).exists()  # its owner may save it
    finally:
        for j in reg.jobs.values():
            j.process.kill()


def test_a_failed_run_leaves_no_pending_file(tmp_path, monkeypatch):
    """A model written and then refused (the CheckpointError of the issue) stayed in pending/."""
    monkeypatch.setattr(checkpoints, "MAX_BYTES", 100)  # the written file cannot be read back
    pending = tmp_path / "p.safetensors"
    msgs = _run_job_inline(Recipe(AEConfig(hidden=(16,)), TrainConfig(epochs=1), **SMALL),
                           pending)
    assert msgs[-1].kind == "failed" and "byte limit" in msgs[-1].message
    assert not pending.exists()


def test_startup_removes_pending_and_stray_temp_files():
    import os

    from services import paths
    user, pend = paths.user_dir(), paths.pending_dir()
    for d in (user, pend):
        d.mkdir(parents=True, exist_ok=True)
    old_tmp = user / ".mine.safetensors.abc.tmp"
    new_tmp = user / ".other.safetensors.def.tmp"  # a write in progress right now
    left = pend / "0123abcd.safetensors"
    for f in (old_tmp, new_tmp, left):
        f.write_bytes(b"x" * 100)
    mine = pend / "4567cdef.safetensors"  # written by this server process: kept
    mine.write_bytes(b"x")
    for f in (old_tmp, left):  # from before this process started (a crashed server)
        os.utime(f, (jobs._process_start() - 3600,) * 2)
    jobs.Registry()
    assert not old_tmp.exists() and not left.exists() and new_tmp.exists() and mine.exists()


def test_quota_per_client_and_in_total(tmp_path, monkeypatch):
    recipe = Recipe(AEConfig(hidden=(16,)), TrainConfig(epochs=1))
    _, _, pending = train_and_save(recipe, tmp_path / "p.safetensors")
    data = pending.read_bytes()
    user = tmp_path / "user"
    monkeypatch.setattr(jobs, "CLIENT_QUOTA", 2)
    for k in range(2):
        pending.write_bytes(data)
        jobs.publish(pending, f"m{k}", user, client="10.0.0.1")
    pending.write_bytes(data)
    with pytest.raises(CheckpointError, match="saved 2 models"):
        jobs.publish(pending, "m2", user, client="10.0.0.1")
    jobs.publish(pending, "m2", user, client="10.0.0.2")
    assert jobs.usage(user, "10.0.0.2") == (3 * len(data), 1)
    monkeypatch.setattr(jobs, "USER_QUOTA_BYTES", 3 * len(data) + 10)
    pending.write_bytes(data)
    with pytest.raises(CheckpointError, match="space for saved models is full"):
        jobs.publish(pending, "m3", user, client="10.0.0.3")
    assert pending.exists()  # refused: the run can still be saved once space is freed


ORPHAN = """
import sys, time
sys.path.insert(0, {root!r})
from aecore.models import AEConfig
from aecore.recipes import Recipe
from aecore.train import TrainConfig
from services import jobs
if __name__ == "__main__":
    reg = jobs.Registry(cleanup=False)
    job = reg.start(Recipe(AEConfig(hidden=(16,)), TrainConfig(epochs=5000),
                           train_split="train[:512]", test_split="test[:128]"))
    while job.status == "starting":
        job.drain(); time.sleep(0.1)
    print(job.process.pid, flush=True)
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\\tZ" not in f.read().split("State:", 1)[1][:6]
    except (FileNotFoundError, IndexError):
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")
def test_the_worker_dies_with_the_server(tmp_path):
    """After SIGKILL of the server, its worker (then a child of init) kept training."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = str(Path(__file__).resolve().parents[1])
    script = tmp_path / "server.py"
    script.write_text(ORPHAN.format(root=root))
    server = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(server.stdout.readline())
        assert _alive(pid)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        deadline = time.time() + 15
        while _alive(pid) and time.time() < deadline:
            time.sleep(0.2)
        assert not _alive(pid), "the training worker outlived its server"
    finally:
        server.kill()


def test_saving_one_model_loads_only_that_model_for_the_listing(tmp_path, monkeypatch):
    """Save took 2.4 -> 4.8 s as models accumulated: each save re-loaded every user model."""
    from services import paths
    from ui import cache

    user = paths.user_dir()
    user.mkdir(parents=True, exist_ok=True)
    recipe = Recipe(AEConfig(hidden=(16,)), TrainConfig(epochs=1))
    _, _, pending = train_and_save(recipe, tmp_path / "p.safetensors")
    data = pending.read_bytes()
    loads = []
    real = checkpoints.load
    monkeypatch.setattr(checkpoints, "load", lambda p, *a, **k: loads.append(p) or real(p))
    for k in range(4):
        (user / f"listed{k}.safetensors").write_bytes(data)
        loads.clear()
        names = [i.name for i in cache.list_models()[0]]
        assert f"listed{k}" in names
        assert [Path(p).name for p in loads] == [f"listed{k}.safetensors"]  # the new one only
