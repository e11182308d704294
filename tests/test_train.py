import pytest
import torch

from aecore.__main__ import main as cli
from aecore import checkpoints
from aecore.data import load_dataset
from aecore.device import seed_everything
from aecore.errors import TrainingDiverged
from aecore.models import AEConfig, VAEConfig, build_model
from aecore.train import EpochLog, Splits, StepLog, TrainConfig, evaluate, fit


def test_training_lowers_ae_and_vae_test_loss(trained_ae, trained_vae, digits):
    for (model, hist), untrained_cfg in ((trained_ae, AEConfig(latent_dim=2, hidden=(64,))),
                                         (trained_vae, VAEConfig(latent_dim=2, hidden=(64,)))):
        seed_everything(0)
        before = evaluate(build_model(untrained_cfg), digits[1])["total"]
        assert hist.best.test_total < 0.7 * before  # measured ~27 vs ~44 nats/image
        assert hist.epochs[-1].train_total < hist.epochs[0].train_total
        assert not model.training


def test_vae_history_reports_kl_separately(trained_vae):
    _, hist = trained_vae
    log = hist.epochs[-1]
    assert log.test_kl > 0.5 and log.test_total == pytest.approx(log.test_recon + log.test_kl,
                                                                  rel=1e-5)


def test_callback_can_stop_and_sees_steps(digits):
    seen = []

    def cb(log):
        seen.append(log)
        return isinstance(log, EpochLog) and log.epoch == 2

    seed_everything(0)
    model = build_model(AEConfig(hidden=(32,)))
    hist = fit(model, Splits(*digits), TrainConfig(epochs=10, report_every=5), callback=cb)
    assert hist.stopped and len(hist.epochs) == 2
    steps = [s for s in seen if isinstance(s, StepLog)]
    assert steps and steps[0].step == 5 and steps[0].steps == 23  # ceil(1437 / 64)


@pytest.mark.parametrize("cfg", [AEConfig(hidden=(32,)), VAEConfig(hidden=(32,))])
def test_diverging_loss_raises_before_the_step(digits, cfg):
    seen = []
    seed_everything(0)
    model = build_model(cfg)
    with pytest.raises(TrainingDiverged) as err:
        fit(model, Splits(*digits), TrainConfig(epochs=20, lr=10.0), callback=seen.append)
    assert err.value.epoch == 1 and "learning rate" in str(err.value)
    assert not [s for s in seen if isinstance(s, EpochLog)]  # stopped inside the first epoch


def test_keep_best_restores_best_epoch(digits):
    seed_everything(0)
    model = build_model(AEConfig(hidden=(32,)))
    hist = fit(model, Splits(*digits), TrainConfig(epochs=5))
    assert evaluate(model, digits[1])["total"] == pytest.approx(hist.best.test_total, rel=1e-5)
    assert hist.best.test_total == min(e.test_total for e in hist.epochs)


def test_shape_mismatch_is_refused(digits, mnist_root):
    mnist = load_dataset("mnist", "test[:64]", root=mnist_root)
    with pytest.raises(ValueError, match="expects"):
        fit(build_model(AEConfig()), Splits(mnist, mnist), TrainConfig(epochs=1))


def test_ae_code_gaussian_is_fitted_to_training_codes(trained_ae, digits):
    model, _ = trained_ae
    with torch.no_grad():
        z = model.embed(digits[0].x)
    assert torch.allclose(model.code_mean, z.mean(0), atol=1e-4)


def test_cli_train_writes_a_loadable_checkpoint(tmp_path, capsys):
    out = tmp_path / "cli_ae.safetensors"
    rc = cli(["train", "--model", "ae", "--latent-dim", "3", "--epochs", "2", "--hidden", "32",
              "--out", str(out)])
    assert rc == 0 and out.is_file()
    model, info = checkpoints.load(out)
    assert info.model_config.latent_dim == 3 and info.meta["epochs"] == 2
    assert "saved" in capsys.readouterr().out


def test_cli_reports_bad_options(tmp_path, capsys):
    rc = cli(["train", "--latent-dim", "1", "--epochs", "1", "--out", str(tmp_path / "x")])
    assert rc == 2 and "latent_dim" in capsys.readouterr().err
