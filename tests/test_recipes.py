"""aecore.recipes: the one training sequence, a recipe's command line both ways, its dict
form, and the model configs built from one set of knobs."""
import dataclasses

import pytest
import torch

from aecore import checkpoints, recipes
from aecore.__main__ import build_parser
from aecore.data import DATASETS, image_shape, load_dataset
from aecore.models import MODELS, AEConfig, ConvVAEConfig, DAEConfig, VAEConfig
from aecore.recipes import (Recipe, cli_args, model_config, recipe_from_args, recipe_from_dict,
                            recipe_to_dict, train_and_save, training_splits)
from aecore.train import EpochLog, TrainConfig

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


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: r.model.name)
def test_cli_command_parses_back_to_the_same_recipe(recipe):
    args = cli_args(recipe, out="x.safetensors", threads=1)
    assert args[:4] == ["python", "-m", "aecore", "train"] and "--threads" in args
    parsed = recipe_from_args(build_parser().parse_args(args[3:]), recipe.model.input_shape)
    assert parsed == dataclasses.replace(recipe, train=dataclasses.replace(recipe.train,
                                                                           report_every=1))


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: r.model.name)
def test_recipe_round_trips_through_its_dict(recipe):
    r = dataclasses.replace(recipe, notes="n", exclude_class=4)
    assert recipe_from_dict(recipe_to_dict(r)) == r
    with pytest.raises(ValueError):
        recipe_from_dict({**recipe_to_dict(r), "model": {**r.model.to_dict(), "latent_dim": 0}})


@pytest.mark.parametrize("name", list(MODELS))
def test_one_set_of_knobs_builds_every_model(name):
    c = model_config(name, input_shape=(1, 8, 8), latent_dim=6, hidden=(24,), beta=2.0,
                     noise="masking", noise_level=0.4, channels=(4, 8), recon_loss="mse",
                     no_such_knob=1)
    fields = {f.name for f in dataclasses.fields(MODELS[name][0])}
    assert type(c) is MODELS[name][0] and c.latent_dim == 6 and c.recon_loss == "mse"
    assert getattr(c, "beta", None) == (2.0 if "beta" in fields else None)
    assert getattr(c, "noise", None) == ("masking" if "noise" in fields else None)
    assert getattr(c, "channels", None) == ((4, 8) if "channels" in fields else None)
    with pytest.raises(ValueError, match="latent_dim"):
        model_config(name, latent_dim=0)


@pytest.mark.parametrize("name", list(DATASETS))
def test_image_shape_is_known_without_loading(name):
    want = {"digits": (1, 8, 8), "breast-cancer": (30,)}.get(name, (1, 28, 28))
    assert image_shape(name) == want
    if name in ("digits", "breast-cancer"):  # the datasets that are always here
        assert load_dataset(name, "test").image_shape == image_shape(name)


def test_training_splits_drop_the_excluded_class_from_training_only(digits):
    r = Recipe(AEConfig(), TrainConfig(epochs=1), exclude_class=5)
    s = training_splits(r)
    assert 5 not in s.train.y and len(s.train) == int((digits[0].y != 5).sum())
    assert len(s.test) == len(digits[1]) and 5 in s.test.y
    again = training_splits(r, splits=s)  # idempotent
    assert torch.equal(again.train.y, s.train.y)


def test_hooks_see_the_seeded_model_and_do_not_change_the_weights(tmp_path):
    r = Recipe(AEConfig(latent_dim=2, hidden=(16,)), TrainConfig(epochs=2, seed=3), **SMALL)
    seen, logs = {}, []

    def on_start(model, splits):
        seen["weights"] = {k: v.clone() for k, v in model.state_dict().items()}
        seen["n_train"] = len(splits.train)

    def callback(log):
        logs.append(log)
        return False

    hooked, _, path = train_and_save(r, tmp_path / "h.safetensors", on_start=on_start,
                                     callback=callback, report_every=4)
    plain, _, _ = train_and_save(r, None)
    assert seen["n_train"] == 512 and seen["weights"].keys() == plain.state_dict().keys()
    for k, v in plain.state_dict().items():
        assert torch.equal(v, hooked.state_dict()[k]), k
    steps = [lg for lg in logs if not isinstance(lg, EpochLog)]
    assert len(steps) == 2 * (512 // 64 // 4)  # every 4th of 8 steps, 2 epochs
    assert checkpoints.read_info(path).meta["train_config"]["report_every"] == 0


def test_exclude_class_leaves_the_class_out_of_training_only(digits, tmp_path, monkeypatch):
    seen = {}
    real_fit = recipes.fit

    def spy(model, data, cfg, **kw):
        seen["train"], seen["test"] = data.train.y.numpy(), data.test.y.numpy()
        return real_fit(model, data, cfg, **kw)

    monkeypatch.setattr(recipes, "fit", spy)
    r = recipes.Recipe(AEConfig(latent_dim=2, hidden=(16,)), TrainConfig(epochs=1),
                       exclude_class=3)
    _, _, path = recipes.train_and_save(r, tmp_path / "no3.safetensors", splits=None)
    assert 3 not in seen["train"] and len(seen["train"]) == (digits[0].y != 3).sum()
    assert (seen["test"] == 3).sum() == (digits[1].y == 3).sum()  # the test split is whole
    assert checkpoints.read_info(path).meta["exclude_class"] == 3
    assert checkpoints.read_info(
        checkpoints.SHIPPED_DIR / "digits_ae_no7_z16.safetensors").meta["exclude_class"] == 7
