"""CLI and notebook train the same model: ``python -m aecore train`` (from the command line
that :func:`aecore.recipes.cli_args` writes) and :func:`aecore.recipes.train_and_save` give
identical weights for the same recipe and seed. The app's worker is checked the same way in
tests/test_jobs.py."""
import pytest
import torch

from aecore import checkpoints
from aecore.__main__ import main
from aecore.models import ConvVAEConfig, DAEConfig, VAEConfig
from aecore.recipes import Recipe, cli_args, train_and_save
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


def _same_weights(a, b) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


@pytest.mark.parametrize("recipe", RECIPES[:2], ids=lambda r: r.model.name)
def test_cli_and_library_give_identical_weights(recipe, tmp_path, capsys):
    out = tmp_path / "cli.safetensors"
    assert main(cli_args(recipe, out=str(out))[3:]) == 0
    assert "saved" in capsys.readouterr().out
    from_cli, info = checkpoints.load(out)
    from_lib, hist, _ = train_and_save(recipe, None)
    _same_weights(from_cli, from_lib)
    assert info.meta["metrics"]["test_total"] == pytest.approx(hist.best.test_total, abs=1e-3)
