"""AppTest of the Train page: real training in a spawned worker process, polled by reruns."""
import os
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from aecore import checkpoints, jobs
from aecore.errors import CheckpointError
from aecore.recipes import Recipe, train_and_save
from aecore.models import AEConfig
from aecore.train import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "4_Train.py")


def _run_until(at, done, timeout=90):
    t0 = time.time()
    while time.time() - t0 < timeout:
        time.sleep(0.5)
        at.run()
        assert not at.exception
        if done(at):
            return at
    raise AssertionError("the training run did not finish in time")


def _start(epochs=1, lr=None):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    at.slider(key="train.epochs").set_value(epochs)
    if lr is not None:
        at.select_slider(key="train.lr").set_value(lr)
    at.run()
    at.button(key="train.start").click().run()
    return at


def test_one_epoch_run_trains_shows_progress_and_saves_into_the_picker():
    at = _start(epochs=1)
    bars = at.get("progress")  # drawn as soon as the worker process is started
    assert bars and "Starting" in bars[0].proto.text
    _run_until(at, lambda a: a.success)
    assert "best epoch (1)" in at.success[0].value
    assert len(at.get("plotly_chart")) >= 2  # loss curves and the new model's latent map
    assert any("python -m aecore train" in c.value for c in at.code)
    assert any("reconstructions after epoch 1" in i.caption
               for img in at.get("image") for i in img.proto.imgs)
    user = Path(os.environ["LATENTLAB_USER_DIR"])
    at.text_input(key="train.name").set_value("e2e_vae_one_epoch")
    at.button(key="FormSubmitter:train.save-Save model").click().run()
    assert not at.exception
    saved = user / "e2e_vae_one_epoch.safetensors"
    assert saved.is_file()
    model, info = checkpoints.load(saved)
    assert info.meta["epochs"] == 1 and info.dataset == "digits"
    # the sidebar's model picker lists it at once, selected, with its metrics in the model card
    options = at.selectbox(key="w.side.model").options
    assert any("e2e_vae_one_epoch" in o for o in options)
    assert at.session_state["side.model"] == str(saved)
    assert "e2e_vae_one_epoch" in at.selectbox(key="w.side.model").value
    card = " ".join(m.value for m in at.sidebar.markdown)
    assert f"{info.meta['metrics']['test_total']:.2f}" in card


def test_diverging_run_explains_and_writes_nothing():
    user = Path(os.environ["LATENTLAB_USER_DIR"])
    before = sorted(user.glob("*")) if user.exists() else []
    at = _start(epochs=5, lr=10.0)
    _run_until(at, lambda a: a.error)
    msg = at.error[0].value
    assert "learning rate" in msg and "nothing was saved" in msg
    after = sorted(user.glob("*")) if user.exists() else []
    assert after == before


def test_publish_refuses_bad_and_taken_names(tmp_path):
    recipe = Recipe(AEConfig(hidden=(16,)), TrainConfig(epochs=1))
    _, _, pending = train_and_save(recipe, tmp_path / "pending.safetensors")
    for bad in ("../evil", "/abs", "a/b", "x\x00y", "", "digits_vae_z2"):
        with pytest.raises(CheckpointError):
            jobs.publish(pending, bad, tmp_path / "user")
    path = jobs.publish(pending, "mine", tmp_path / "user")
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match="exists"):
        jobs.publish(pending, "mine", tmp_path / "user")
    assert path.read_bytes() == before
    assert not list((tmp_path / "user").glob(".*"))  # no temp file left behind


def test_recipe_round_trips_through_the_process_boundary():
    r = Recipe(AEConfig(latent_dim=5), TrainConfig(epochs=3, kl_anneal="linear"),
               train_split="train[:100]")
    assert jobs.recipe_from_dict(jobs.recipe_to_dict(r)) == r


def test_global_limit_gives_a_clear_message(monkeypatch):
    from ui import training

    monkeypatch.setattr(training, "MAX_JOBS", 0)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.button(key="train.start").click().run()
    assert not at.exception
    assert any("already training 0 models" in w.value for w in at.warning)


def test_stop_keeps_the_best_epoch_and_bad_names_are_refused():
    user = Path(os.environ["LATENTLAB_USER_DIR"])
    before = sorted(user.glob("*")) if user.exists() else []
    at = _start(epochs=300)
    assert at.button(key="train.start").disabled  # one run per session
    at.button(key="train.stop").click().run()  # stops at the first progress report
    assert not at.exception
    _run_until(at, lambda a: a.success)
    assert "stopped early" in at.success[0].value and "best epoch (1)" in at.success[0].value
    for bad, why in (("../evil", "invalid"), ("digits_vae_z2", "shipped")):
        at.text_input(key="train.name").set_value(bad)
        at.button(key="FormSubmitter:train.save-Save model").click().run()
        assert not at.exception
        assert any(why in e.value for e in at.error), [e.value for e in at.error]
    after = sorted(user.glob("*")) if user.exists() else []
    assert after == before  # nothing written by the refused names


class _DeadProcess:
    """Stands in for a worker process that has exited."""

    exitcode = 0

    def is_alive(self):
        return False

    def join(self, timeout=None):
        pass


def test_registry_forgets_finished_jobs_and_their_unsaved_files(tmp_path):
    import queue
    import threading

    from ui import training

    reg = training.Registry()
    recipe = Recipe(AEConfig(), TrainConfig(epochs=1))
    pending = tmp_path / "old.safetensors"
    pending.write_bytes(b"x")
    q_done, q_silent = queue.Queue(), queue.Queue()
    q_done.put(("done", {"pending": str(pending), "best_epoch": 1, "stopped": False,
                         "metrics": {}, "seconds": 1.0}))
    reg.jobs["a"] = training.Job("a", recipe, _DeadProcess(), q_done, threading.Event())
    # a tab closed mid-run: nobody polls, and the process died without a word
    reg.jobs["b"] = training.Job("b", recipe, _DeadProcess(), q_silent, threading.Event())
    assert reg.running() == 0  # neither blocks the global limit
    assert reg.jobs["a"].status == "done" and reg.jobs["b"].status == "error"
    reg._prune(replaces="a")
    assert "a" not in reg.jobs and not pending.exists() and "b" in reg.jobs
    reg.jobs["b"].finished -= training.KEEP_FINISHED_S + 1
    reg._prune(replaces=None)
    assert not reg.jobs
