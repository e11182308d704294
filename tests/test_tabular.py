"""Tabular data (issue 17, part 1): the breast cancer set through data, models, training,
checkpoints, the decoder export, the CLI, the Train page's worker and the lesson's AUC."""
import dataclasses
import queue
import threading

import numpy as np
import pytest
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score

from aecore import checkpoints, latent
from aecore.__main__ import main
from aecore.data import is_tabular, load_dataset
from aecore.export import decoder_program, run_program
from aecore.models import AE, MODELS, AEConfig, VAE, VAEConfig, build_model, config_from_dict
from aecore.recipes import SHIPPED, Recipe, recipe_to_dict, train_and_save
from aecore.tabular import feature_errors, feature_names
from aecore.train import Splits, TrainConfig, fit
from services import jobs

TAB = dict(input_shape=(30,), recon_loss="mse", output="identity")
SHIPPED_BC = checkpoints.SHIPPED_DIR / "breast_cancer_ae_z2.safetensors"


@pytest.fixture(scope="module")
def bc():
    return load_dataset("breast-cancer", "train"), load_dataset("breast-cancer", "test")


def test_split_is_fixed_stratified_and_standardised_with_training_statistics_only(bc):
    train, test = bc
    assert train.x.shape == (398, 30) and test.x.shape == (171, 30) and is_tabular("breast-cancer")
    assert train.classes == ["malignant", "benign"]
    assert train.y.bincount().tolist() == [148, 250] and test.y.bincount().tolist() == [64, 107]
    # the training split has mean 0 and std 1 per feature; the test split does not (its own
    # statistics were never used)
    assert train.x.mean(0).abs().max() < 1e-5
    assert (train.x.std(0, unbiased=False) - 1).abs().max() < 1e-4
    assert test.x.mean(0).abs().max() > 0.05
    # the same scaling as sklearn's StandardScaler fitted on the training rows of the raw data
    raw = load_breast_cancer().data
    all_ = load_dataset("breast-cancer", "all").x.numpy()
    j = 3  # "mean area": raw values in the hundreds
    a, b = np.polyfit(raw[:, j], all_[:, j], 1)
    assert abs(a * raw[:, j].std() - all_[:, j].std()) < 1e-4 and abs(b) > 0
    assert torch.equal(load_dataset("breast-cancer", "test").x, test.x)  # deterministic
    assert len(feature_names("breast-cancer")) == 30 and feature_names("digits") is None


@pytest.mark.parametrize("name", ["ae", "vae"])
def test_flat_models_take_feature_vectors_and_output_them_unbounded(name, bc):
    cfg = MODELS[name][0](latent_dim=3, hidden=(16,), **TAB)
    model = build_model(cfg)
    x = bc[1].x[:7]
    out = model(x)
    assert out.x_hat.shape == (7, 30) and torch.equal(out.x_hat, out.logits)  # identity output
    terms = model.loss(x, out)
    assert torch.allclose(terms.recon, ((out.logits - x) ** 2).sum(1).mean())
    assert model.decode(torch.full((2, 3), 50.0)).abs().max() > 1  # not squashed into [0, 1]


@pytest.mark.parametrize("bad, match", [
    (dict(input_shape=(30,), output="identity"), "recon_loss 'mse'"),  # BCE with identity
    (dict(input_shape=(1, 8, 8), recon_loss="mse", output="identity"), "flat input_shape"),
    (dict(input_shape=(30,), output="tanh"), "output must be one of"),
    (dict(input_shape=(30, 2)), "input_shape must be"),
])
def test_bad_output_choices_are_refused_by_name(bad, match):
    with pytest.raises(ValueError, match=match):
        AEConfig(**bad)


def test_conv_and_denoising_models_refuse_feature_vectors():
    with pytest.raises(ValueError, match="MLP model for feature vectors"):
        MODELS["conv_vae"][0](input_shape=(30,), recon_loss="mse")
    with pytest.raises(ValueError, match="pixels in \\[0, 1\\]"):
        MODELS["dae"][0](**TAB)  # its noise clips to [0, 1]: meaningless on standardised data


def test_old_configs_without_output_load_as_sigmoid():
    d = AEConfig(latent_dim=2).to_dict()
    assert d["output"] == "sigmoid"
    del d["output"]  # as in every checkpoint saved before the field existed
    assert config_from_dict(d) == AEConfig(latent_dim=2)


def test_fit_trains_on_features_and_refuses_a_sigmoid_on_standardised_data(bc):
    train, test = bc
    torch.manual_seed(0)
    model = AE(AEConfig(latent_dim=2, hidden=(32, 16), **TAB))
    before = latent.reconstruction_errors(model, test.x).mean()
    hist = fit(model, Splits(train, test), TrainConfig(epochs=15, batch_size=32, lr=3e-3))
    after = latent.reconstruction_errors(model, test.x).mean()
    assert after < 0.6 * before  # measured 37.5 -> 16.0 (sum of 30 squared errors per case)
    assert abs(hist.best.test_recon - after) < 1e-3
    with pytest.raises(ValueError, match="outside \\[0, 1\\]"):
        fit(VAE(VAEConfig(input_shape=(30,), latent_dim=2, recon_loss="mse")),
            Splits(train, test), TrainConfig(epochs=1))


def test_tabular_checkpoint_round_trip_and_decoder_export(tmp_path, bc):
    torch.manual_seed(1)
    model = VAE(VAEConfig(latent_dim=2, hidden=(8,), **TAB))
    path = checkpoints.save(model, tmp_path / "t.safetensors", meta={"dataset": "breast-cancer"})
    back, info = checkpoints.load(path)
    assert info.model_config == model.config and info.model_config.output == "identity"
    for a, b in zip(model.state_dict().values(), back.state_dict().values()):
        assert torch.equal(a, b)
    prog = decoder_program(back)
    assert prog.output_shape == [30] and all(op["op"] != "sigmoid" for op in prog.ops)
    z = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32) * 3
    with torch.no_grad():
        ref = back.decode(torch.from_numpy(z)).numpy()
    assert np.abs(run_program(prog, z) - ref).max() < 1e-5
    assert np.abs(ref).max() > 1  # an unbounded output really went through


def test_every_shipped_checkpoint_loads_and_the_old_ones_keep_their_sigmoid():
    paths = sorted(checkpoints.SHIPPED_DIR.glob("*.safetensors"))
    assert {p.stem for p in paths} >= set(SHIPPED)
    for p in paths:
        model, info = checkpoints.load(p)
        assert info.model_config.output == ("identity" if p.stem.startswith("breast") else
                                            "sigmoid"), p.stem


def test_shipped_model_trained_on_benign_cases_flags_malignant_ones(bc):
    model, info = checkpoints.load(SHIPPED_BC)
    assert info.meta["exclude_class"] == 0 and info.dataset == "breast-cancer"
    test = bc[1]
    errs = latent.reconstruction_errors(model, test.x)
    auc = roc_auc_score(test.y.numpy() == 0, errs)
    assert auc >= 0.90  # measured 0.921 (171 test cases, 64 malignant)
    fe = feature_errors(model, test.x)
    assert fe.shape == (171, 30) and np.allclose(fe.sum(1), errs, rtol=1e-4)


def test_cli_trains_a_tabular_model_and_says_what_to_change_otherwise(tmp_path, capsys):
    out = tmp_path / "cli.safetensors"
    base = ["train", "--model", "ae", "--dataset", "breast-cancer", "--latent-dim", "2",
            "--hidden", "16", "--epochs", "2", "--threads", "1", "--out", str(out)]
    assert main(base) == 2  # the default sigmoid output cannot reach standardised values
    assert "--output identity --recon-loss mse" in capsys.readouterr().err and not out.exists()
    assert main(base + ["--recon-loss", "mse", "--output", "identity"]) == 0
    _, info = checkpoints.load(out)
    assert info.model_config.input_shape == (30,) and info.model_config.output == "identity"


def test_train_page_worker_trains_a_tabular_recipe(tmp_path):
    recipe = Recipe(AEConfig(latent_dim=2, hidden=(16,), **TAB),
                    TrainConfig(epochs=2, batch_size=64, seed=3), dataset="breast-cancer")
    q, threads = queue.Queue(), torch.get_num_threads()
    try:
        jobs.run_job(recipe_to_dict(recipe), str(tmp_path / "p.safetensors"), q,
                     threading.Event())
    finally:
        torch.set_num_threads(threads)
    msgs = []
    while not q.empty():
        msgs.append(q.get_nowait())
    assert msgs[0].preview.shape == (jobs.PREVIEW_N, 30)
    done = msgs[-1]
    assert isinstance(done, jobs.Done), done
    ref, _, _ = train_and_save(dataclasses.replace(recipe), None)
    got, _ = checkpoints.load(done.pending)
    assert done.map["xy"].shape == (171, 2)  # the first look at its latent map
    for a, b in zip(ref.state_dict().values(), got.state_dict().values()):
        assert torch.equal(a, b)  # the page's worker and the library agree bit for bit
