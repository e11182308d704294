"""Page, CLI and notebook train the same model: the Train page's worker (aecore.jobs.run_job,
run here synchronously), ``python -m aecore train`` and aecore.recipes.train_and_save give
identical weights for the same recipe and seed."""
import dataclasses
import queue
import threading

import numpy as np
import pytest
import torch

from aecore import checkpoints, jobs
from aecore.__main__ import build_parser, cli_args, main, recipe_from_args
from aecore.models import AEConfig, ConvVAEConfig, DAEConfig, VAEConfig
from aecore.recipes import Recipe, train_and_save
from aecore.train import TrainConfig

SMALL = dict(train_split="train[:512]", test_split="test[:128]")
RECIPES = [
    Recipe(VAEConfig(latent_dim=3, hidden=(48, 24), beta=0.25),
           TrainConfig(epochs=3, batch_size=32, lr=0.0012345, kl_anneal="cyclical",
                       cycle_epochs=2, seed=11), **SMALL),
    Recipe(DAEConfig(latent_dim=5, hidden=(40,), noise="salt_pepper", noise_level=0.15,
                     dropout=0.1, recon_loss="mse"),
           TrainConfig(epochs=2, weight_decay=1e-4, seed=2), **SMALL),
    Recipe(ConvVAEConfig(input_shape=(1, 8, 8), latent_dim=4, hidden=(32,), channels=(8, 16)),
           TrainConfig(epochs=2, kl_anneal="linear", warmup_epochs=3), **SMALL),
]


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
        jobs.run_job(jobs.recipe_to_dict(recipe), str(pending), q, stop or threading.Event())
    finally:
        torch.set_num_threads(threads)
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: r.model.name)
def test_cli_command_parses_back_to_the_same_recipe(recipe):
    args = cli_args(recipe, out="x.safetensors", threads=1)
    assert args[:4] == ["python", "-m", "aecore", "train"] and "--threads" in args
    parsed = recipe_from_args(build_parser().parse_args(args[3:]), recipe.model.input_shape)
    assert parsed == dataclasses.replace(recipe, train=dataclasses.replace(recipe.train,
                                                                           report_every=1))


@pytest.mark.parametrize("recipe", RECIPES[:2], ids=lambda r: r.model.name)
def test_cli_and_library_give_identical_weights(recipe, tmp_path, capsys):
    out = tmp_path / "cli.safetensors"
    assert main(cli_args(recipe, out=str(out))[3:]) == 0
    assert "saved" in capsys.readouterr().out
    from_cli, info = checkpoints.load(out)
    from_lib, hist, _ = train_and_save(recipe, None)
    _same_weights(from_cli, from_lib)
    assert info.meta["metrics"]["test_total"] == pytest.approx(hist.best.test_total, abs=1e-3)


def test_page_worker_and_library_give_identical_weights_and_report_progress(tmp_path):
    recipe = RECIPES[0]
    msgs = _run_job_inline(recipe, tmp_path / "pending.safetensors")
    kinds = [m[0] for m in msgs]
    assert kinds[0] == "started" and kinds[-1] == "done"
    assert kinds.count("epoch") == recipe.train.epochs and "step" in kinds
    started, done = msgs[0][1], msgs[-1][1]
    assert started["preview"].shape == (jobs.PREVIEW_N, 1, 8, 8) and started["noisy"] is None
    recon = [m[2] for m in msgs if m[0] == "epoch"]
    assert all(r.shape == started["preview"].shape and 0 <= r.min() and r.max() <= 1
               for r in recon)
    assert done["map"]["xy"].shape == (128, 2) and done["map"]["method"] == "pca"
    assert np.isfinite(done["map"]["xy"]).all()
    from_page, _ = checkpoints.load(done["pending"])
    threads = torch.get_num_threads()
    torch.set_num_threads(jobs.WORKER_THREADS)  # sums are bit-identical at equal thread counts
    try:
        from_lib, _, _ = train_and_save(recipe, None)
    finally:
        torch.set_num_threads(threads)
    _same_weights(from_page, from_lib)


def test_worker_shows_a_denoising_model_its_corrupted_batch(tmp_path):
    msgs = _run_job_inline(RECIPES[1], tmp_path / "p.safetensors")
    started = msgs[0][1]
    assert started["noisy"] is not None
    assert started["noisy"].shape == started["preview"].shape
    assert not np.array_equal(started["noisy"], started["preview"])


def test_stop_keeps_the_best_model_so_far(tmp_path):
    stop = threading.Event()
    stop.set()  # asked to stop at the first progress report: one partial epoch
    recipe = dataclasses.replace(RECIPES[0], train=dataclasses.replace(RECIPES[0].train,
                                                                       epochs=50))
    msgs = _run_job_inline(recipe, tmp_path / "p.safetensors", stop)
    done = msgs[-1]
    assert done[0] == "done" and done[1]["stopped"] and done[1]["best_epoch"] == 1
    _, info = checkpoints.load(done[1]["pending"])
    assert info.meta["epochs"] == 1 and info.meta["stopped_early"]


def test_diverging_worker_reports_and_writes_nothing(tmp_path):
    bad = Recipe(AEConfig(hidden=(32,)), TrainConfig(epochs=5, lr=10.0), **SMALL)
    pending = tmp_path / "p.safetensors"
    msgs = _run_job_inline(bad, pending)
    assert msgs[-1][0] == "diverged" and "learning rate" in msgs[-1][1]
    assert not pending.exists() and not list(tmp_path.iterdir())
