"""The activation and norm config fields: validation, old checkpoints, checkpoint and CLI round
trips; fit's on_backward hook leaves training unchanged; the history stored in metadata."""
import dataclasses

import pytest
import torch
from torch import nn

from aecore import checkpoints
from aecore.__main__ import build_parser
from aecore.models import MODELS, AEConfig, ConvAEConfig, VAEConfig, build_model
from aecore.models.blocks import ACTIVATIONS, NORMS
from aecore.pretrain import GradNormRecorder, linear_labels
from aecore.recipes import Recipe, cli_args, recipe_from_args, recipe_from_dict, recipe_to_dict
from aecore.recipes import train_and_save
from aecore.train import Splits, TrainConfig, fit

SHIPPED = sorted(checkpoints.SHIPPED_DIR.glob("*.safetensors"))
MODULE = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
          "gelu": nn.GELU}
NORM = {"none": None, "batchnorm": nn.BatchNorm1d, "layernorm": nn.LayerNorm}


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("field,value", [("activation", "swish"), ("activation", "ReLU"),
                                         ("norm", "groupnorm"), ("norm", None)])
def test_bad_activation_or_norm_is_refused_naming_the_field(name, field, value):
    with pytest.raises(ValueError, match=field):
        MODELS[name][0](**{field: value})


def test_conv_models_refuse_layernorm():
    with pytest.raises(ValueError, match="norm"):
        ConvAEConfig(norm="layernorm")
    assert ConvAEConfig(norm="batchnorm").norm == "batchnorm"


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("norm", NORMS)
def test_every_hidden_layer_gets_the_activation_and_norm(act, norm):
    model = build_model(VAEConfig(hidden=(16, 8), activation=act, norm=norm))
    for seq in (model.encoder, model.decoder):
        kinds = [type(m) for m in seq]
        assert kinds.count(MODULE[act]) == 2  # one per hidden layer, none after the last Linear
        if NORM[norm] is not None:
            assert kinds.count(NORM[norm]) == 2
            i = kinds.index(NORM[norm])
            assert kinds[i - 1] is nn.Linear and kinds[i + 1] is MODULE[act]
        assert kinds[-1 if seq is model.encoder else -2] is nn.Linear
    x = torch.rand(5, 1, 8, 8)
    model.eval()
    assert model.reconstruct(x).shape == x.shape


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_checkpoint_still_loads(path):
    model, info = checkpoints.load(path)  # strict state_dict: the layer layout is unchanged
    if "activation" not in info.meta["model_config"]:  # saved before the fields existed
        assert (info.model_config.activation, info.model_config.norm) == ("relu", "none")
        assert any(isinstance(m, nn.ReLU) for m in model.decoder)


@pytest.mark.parametrize("cfg", [AEConfig(hidden=(12,), activation="gelu", norm="layernorm"),
                                 ConvAEConfig(input_shape=(1, 8, 8), hidden=(12,),
                                              channels=(4,), activation="tanh",
                                              norm="batchnorm")], ids=["mlp", "conv"])
def test_new_fields_round_trip_through_a_checkpoint(cfg, tmp_path):
    torch.manual_seed(0)
    model = build_model(cfg)
    model.train()
    model(torch.rand(16, *cfg.input_shape))  # moves BatchNorm's running statistics
    model.eval()
    path = checkpoints.save(model, tmp_path / "m")
    back, info = checkpoints.load(path)
    assert info.model_config == cfg and info.meta["model_config"]["activation"] == cfg.activation
    x = torch.rand(4, *cfg.input_shape)
    with torch.no_grad():
        assert torch.equal(back.reconstruct(x), model.reconstruct(x))


@pytest.mark.parametrize("recipe", [
    Recipe(AEConfig(latent_dim=3, hidden=(24, 12), activation="leaky_relu", norm="batchnorm"),
           TrainConfig(epochs=2), pretrain_epochs=3, record_grads=True),
    Recipe(ConvAEConfig(input_shape=(1, 8, 8), latent_dim=3, hidden=(12,), channels=(4,),
                        activation="sigmoid", norm="batchnorm"), TrainConfig(epochs=1)),
], ids=["mlp", "conv"])
def test_new_fields_round_trip_through_the_cli_and_the_recipe_dict(recipe):
    args = cli_args(recipe, out="x.safetensors")
    parsed = recipe_from_args(build_parser().parse_args(args[3:]), recipe.model.input_shape)
    assert parsed == dataclasses.replace(recipe, train=dataclasses.replace(recipe.train,
                                                                           report_every=1))
    assert recipe_from_dict(recipe_to_dict(recipe)) == recipe


def test_pretraining_is_refused_for_models_without_mirrored_mlp_layers():
    with pytest.raises(ValueError, match="pretraining"):
        Recipe(VAEConfig(), TrainConfig(), pretrain_epochs=2)
    with pytest.raises(ValueError, match="pretrain_epochs"):
        Recipe(AEConfig(), TrainConfig(), pretrain_epochs=-1)


def test_the_gradient_hook_reads_without_changing_training(digits):
    train, test = digits
    splits = Splits(train.subset(torch.arange(256)), test.subset(torch.arange(64)))
    cfg = TrainConfig(epochs=2, batch_size=64)
    weights, recorders = [], []
    for hook in (None, GradNormRecorder()):
        torch.manual_seed(3)
        model = build_model(AEConfig(hidden=(32, 16), activation="tanh", norm="batchnorm"))
        fit(model, splits, cfg, on_backward=hook)
        weights.append(model.state_dict())
        recorders.append(hook)
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    rows = recorders[1].per_epoch(4)  # 256 images / 64 per step
    assert len(rows) == 2 and len(rows[0]) == len(linear_labels(model)) == 6
    assert all(v > 0 for r in rows for v in r)


def test_metadata_holds_the_history_and_gradient_norms(digits, tmp_path):
    recipe = Recipe(AEConfig(hidden=(16, 8), activation="sigmoid"),
                    TrainConfig(epochs=3, batch_size=128), train_split="train[:256]",
                    test_split="test[:64]", pretrain_epochs=1, record_grads=True)
    _, hist, path = train_and_save(recipe, tmp_path / "m")
    meta = checkpoints.read_info(path).meta
    assert meta["history"]["test_total"] == [round(e.test_total, 4) for e in hist.epochs]
    assert len(meta["history"]["train_total"]) == 3 and meta["pretrain_epochs"] == 1
    assert [len(r) for r in meta["pretrain_loss"]] == [1, 1, 1]  # 3 layer pairs, 1 epoch each
    assert len(meta["grad_norms"]) == 3 and len(meta["grad_norms"][0]) == 6
