"""CLI and notebook train the same model: ``python -m aecore train`` (from the command line
that :func:`aecore.recipes.cli_args` writes) and :func:`aecore.recipes.train_and_save` give
identical weights for the same recipe and seed. The app's worker is checked the same way in
tests/test_jobs.py."""
import pytest
import torch

from aecore import checkpoints
from aecore.__main__ import main
from aecore.recipes import cli_args, train_and_save
from tests.test_recipes import RECIPES  # one set of small recipes for both modules



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
