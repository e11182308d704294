import math

import pytest
import torch

from aecore import checkpoints
from aecore.__main__ import main as cli
from aecore.data import Dataset
from aecore.device import seed_everything
from aecore.errors import TrainingDiverged
from aecore.models import AEConfig, VAEConfig, build_model
from aecore.train import EpochLog, Splits, StepLog, TrainConfig, evaluate, fit

STEPS = 23  # optimisation steps per epoch on digits: ceil(1437 / 64)

# The session's tiny models (conftest: latent 2, hidden 64, 8 epochs) start at ~44-45
# nats/image; measured best test loss / untrained: AE 0.56, VAE 0.59.
FIT_FACTOR = 0.7


def _small(cfg=None, seed=0):
    seed_everything(seed)
    return build_model(cfg or AEConfig(hidden=(32,)))


@pytest.mark.parametrize("which", ["ae", "vae"])
def test_fit_lowers_test_loss_by_a_stated_factor(which, trained_ae, trained_vae, digits):
    model, hist = trained_ae if which == "ae" else trained_vae
    cfg = AEConfig if which == "ae" else VAEConfig
    seed_everything(0)  # the same initial weights the fixture started from
    before = evaluate(build_model(cfg(latent_dim=2, hidden=(64,))), digits[1])["total"]
    assert hist.best.test_total < FIT_FACTOR * before, (before, hist.best.test_total)
    assert hist.epochs[-1].train_total < hist.epochs[0].train_total
    assert len(hist.epochs) == 8 and 1 <= hist.best_epoch <= 8 and not hist.stopped
    assert not model.training  # fit leaves the model in eval mode
    assert evaluate(model, digits[1])["total"] == pytest.approx(hist.best.test_total, rel=1e-5)


def test_vae_history_reports_kl_separately(trained_vae, trained_ae):
    for log in trained_vae[1].epochs:
        assert log.test_kl > 0.5 and log.beta == 1.0
        assert log.test_total == pytest.approx(log.test_recon + log.test_kl, rel=1e-5)
        assert log.train_total == pytest.approx(log.train_recon + log.train_kl, rel=1e-5)
    for log in trained_ae[1].epochs:
        assert log.test_kl == 0.0 and log.train_kl == 0.0 and log.beta == 0.0
        assert log.test_total == log.test_recon


def test_epoch_logs_are_numbered_and_timed(trained_ae):
    logs = trained_ae[1].epochs
    assert [e.epoch for e in logs] == list(range(1, 9)) and all(e.epochs == 8 for e in logs)
    assert all(b.elapsed >= a.elapsed >= 0 for a, b in zip(logs, logs[1:]))
    assert set(logs[0].to_dict()) >= {"epoch", "train_total", "test_total", "test_kl", "beta"}


def test_callback_can_stop_after_an_epoch(digits, capsys):
    seen = []

    def cb(log):
        seen.append(log)
        return log.epoch == 2

    hist = fit(_small(), Splits(*digits), TrainConfig(epochs=10), callback=cb)
    assert hist.stopped and len(hist.epochs) == 2 and [s.epoch for s in seen] == [1, 2]
    assert all(isinstance(s, EpochLog) for s in seen)  # report_every=0: epochs only
    assert capsys.readouterr() == ("", "")  # progress goes only through the callback


def test_step_logs_are_reported_every_k_steps(digits):
    seen = []
    fit(_small(), Splits(*digits), TrainConfig(epochs=2, report_every=5), callback=seen.append)
    steps = [s for s in seen if isinstance(s, StepLog)]
    assert [(s.epoch, s.step) for s in steps] == [(e, k) for e in (1, 2) for k in (5, 10, 15, 20)]
    assert all(s.steps == STEPS and s.epochs == 2 and math.isfinite(s.loss) for s in steps)
    # order: the four step logs of an epoch, then its epoch log
    assert [type(s).__name__ for s in seen] == (["StepLog"] * 4 + ["EpochLog"]) * 2
    assert all(b.elapsed >= a.elapsed for a, b in zip(seen, seen[1:]))


def test_stopping_at_a_step_ends_the_run_mid_epoch(digits):
    def cb(log):
        return isinstance(log, StepLog) and log.epoch == 2 and log.step == 10

    hist = fit(_small(), Splits(*digits), TrainConfig(epochs=5, report_every=5), callback=cb)
    assert hist.stopped and len(hist.epochs) == 2  # the partial epoch is still evaluated


def test_stopping_at_the_last_step_averages_over_the_images_seen(digits):
    """Stopped on the last step, epoch 1 has seen every image once: its train loss must equal
    that of a run that finished the epoch normally (1,437 images, the last batch holds 29)."""
    full = fit(_small(), Splits(*digits), TrainConfig(epochs=1))
    stopped = fit(_small(), Splits(*digits), TrainConfig(epochs=3, report_every=STEPS),
                  callback=lambda log: isinstance(log, StepLog))
    assert stopped.stopped and len(stopped.epochs) == 1
    assert stopped.epochs[0].train_total == pytest.approx(full.epochs[0].train_total, rel=1e-6)
    assert stopped.epochs[0].test_total == full.epochs[0].test_total


@pytest.mark.parametrize("cfg", [AEConfig(hidden=(32,)), VAEConfig(hidden=(32,))],
                         ids=["ae", "vae"])
def test_huge_learning_rate_raises_training_diverged_in_the_first_epoch(digits, cfg):
    seen = []
    with pytest.raises(TrainingDiverged) as err:
        fit(_small(cfg), Splits(*digits), TrainConfig(epochs=20, lr=10.0), callback=seen.append)
    assert err.value.epoch == 1 and 1 <= err.value.step <= STEPS
    assert "learning rate" in str(err.value)
    assert not [s for s in seen if isinstance(s, EpochLog)]  # never finished an epoch


def test_nan_input_raises_training_diverged(digits):
    x = digits[0].x[:128].clone()
    x[0, 0, 0, 0] = float("nan")
    bad = Dataset(x, digits[0].y[:128], digits[0].classes, "digits", "train[:128]")
    with pytest.raises(TrainingDiverged, match="nan"):
        fit(_small(), Splits(bad, digits[1]), TrainConfig(epochs=2, batch_size=128))


def test_keep_best_leaves_the_weights_of_the_best_epoch(digits):
    # lr 0.1 plateaus and gets slightly worse: measured best epoch 4 of 6
    cfg = TrainConfig(epochs=6, lr=0.1)
    model = _small()
    hist = fit(model, Splits(*digits), cfg)
    totals = [e.test_total for e in hist.epochs]
    assert hist.best_epoch == totals.index(min(totals)) + 1
    assert hist.best_epoch < len(totals), "scenario no longer ends past its best epoch"
    assert evaluate(model, digits[1])["total"] == pytest.approx(hist.best.test_total, rel=1e-6)
    last = _small()
    hist_last = fit(last, Splits(*digits), TrainConfig(epochs=6, lr=0.1, keep_best=False))
    assert hist_last.best_epoch == 6
    assert evaluate(last, digits[1])["total"] == pytest.approx(totals[-1], rel=1e-6)
    assert evaluate(last, digits[1])["total"] > evaluate(model, digits[1])["total"]


def test_shape_mismatch_is_refused(digits):
    small = Dataset(torch.rand(16, 1, 4, 4), torch.zeros(16, dtype=torch.long),
                    digits[0].classes, "tiny", "train")
    model = _small()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="expects"):
        fit(model, Splits(small, small), TrainConfig(epochs=1))
    with pytest.raises(ValueError, match="expects"):
        fit(model, Splits(digits[0], small), TrainConfig(epochs=1))
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


@pytest.mark.parametrize("field,value", [("epochs", 0), ("batch_size", 0), ("lr", 0.0),
                                         ("lr", float("nan")), ("lr", 1000.0),
                                         ("weight_decay", -1.0), ("kl_anneal", "cosine"),
                                         ("report_every", -1)])
def test_train_config_validation_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        TrainConfig(**{field: value})


def test_train_config_round_trips():
    cfg = TrainConfig(epochs=3, lr=1e-3, kl_anneal="linear", warmup_epochs=2)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown"):
        TrainConfig.from_dict({**cfg.to_dict(), "momentum": 0.9})


def test_evaluate_is_deterministic_and_keeps_the_mode(trained_vae, digits):
    model, _ = trained_vae
    model.train()
    try:
        a = evaluate(model, digits[1], seed=1)
        assert model.training  # restored
        assert evaluate(model, digits[1], seed=1) == a
        assert evaluate(model, digits[1], seed=2) != a  # VAE: posterior samples differ
        assert evaluate(model, digits[1], beta=0.0)["total"] == pytest.approx(
            evaluate(model, digits[1])["recon"], rel=1e-6)
    finally:
        model.eval()


def test_ae_code_gaussian_is_fitted_to_training_codes(trained_ae, digits):
    model, _ = trained_ae
    with torch.no_grad():
        z = model.embed(digits[0].x)
    assert torch.allclose(model.code_mean, z.mean(0), atol=1e-4)
    cov = model.code_scale_tril @ model.code_scale_tril.T
    assert torch.allclose(cov, torch.cov(z.T), rtol=1e-3, atol=1e-4)


def test_cli_train_writes_a_loadable_checkpoint(tmp_path, capsys, digits):
    out = tmp_path / "x.safetensors"
    rc = cli(["train", "--model", "ae", "--latent-dim", "3", "--epochs", "2", "--hidden", "32",
              "--out", str(out)])
    assert rc == 0 and out.is_file()
    model, info = checkpoints.load(out)
    assert info.model_config == AEConfig(latent_dim=3, hidden=(32,))
    assert info.meta["epochs"] == 2 and info.dataset == "digits"
    assert info.meta["train_config"]["epochs"] == 2
    assert info.meta["metrics"]["test_total"] == pytest.approx(
        evaluate(model, digits[1])["total"], abs=1e-3)
    assert "saved" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["x.safetensors"]  # no temp files left


def test_cli_reports_bad_options_without_writing(tmp_path, capsys):
    rc = cli(["train", "--latent-dim", "1", "--epochs", "1", "--out", str(tmp_path / "x")])
    assert rc == 2 and "latent_dim" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
