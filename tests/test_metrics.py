import re

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from aecore import checkpoints, latent, metrics
from aecore.noise import add_noise

from .conftest import ROOT


def _load(name):
    return checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")[0]


def test_straight_line_decoder_is_perfectly_even():
    w = np.random.default_rng(0).normal(size=(3, 20))
    codes = np.random.default_rng(1).normal(size=(40, 3))
    path, jump = metrics.interpolation_evenness(lambda z: z @ w, codes, pairs=20, steps=10)
    assert path == pytest.approx(1.0) and jump == pytest.approx(1.0)


def test_a_jump_in_the_decoder_is_detected():
    codes = np.r_[np.full((20, 1), -1.0), np.full((20, 1), 1.0)]
    step = lambda z: np.where(z > 0, 1.0, 0.0)  # noqa: E731  (a decoder with a cliff at 0)
    path, jump = metrics.interpolation_evenness(step, codes, pairs=30, steps=10)
    assert jump > 5  # all the change happens in one of the ten steps
    assert path == pytest.approx(1.0)  # no detour, only a jump


def test_hole_score_is_in_units_of_the_typical_gap_between_training_codes():
    grid = np.stack(np.meshgrid(np.arange(10.0), np.arange(10.0)), -1).reshape(-1, 2)
    assert metrics.typical_gap(grid) == pytest.approx(1.0)
    s = metrics.hole_score(np.array([[12.0, 12.0], [13.5, 12.0], [60.0, 27.0]]), grid * 3)
    assert s.tolist() == pytest.approx([0.0, 0.5, 11.0])  # the gap of grid * 3 is 3
    assert (metrics.hole_score(grid * 3, grid * 3) == 0).all()


def test_every_shipped_ae_has_more_holes_than_its_vae(digits):
    """The AE-vs-VAE lesson's punchline, on every shipped pair (MNIST when its files are here).
    The pixel-space metric before gave 0.000 for both MNIST 2-D models."""
    from aecore import load_dataset
    from tests.conftest import MNIST_ROOT

    pairs = [("digits_ae_z2", "digits_vae_z2"), ("digits_ae_z16", "digits_vae_z16")]
    if (MNIST_ROOT / "MNIST" / "raw").is_dir():
        pairs += [("mnist_ae_z2", "mnist_vae_z2"), ("mnist_ae_z16", "mnist_vae_z16")]
    for ae_name, vae_name in pairs:
        rates = []
        for name in (ae_name, vae_name):
            model, info = checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")
            root = MNIST_ROOT if info.dataset == "mnist" else None
            train = load_dataset(info.dataset, info.meta.get("train_split", "train"), root=root)
            rates.append(metrics.hole_rate(model, train, n=500, seed=0))
        # measured AE / VAE: digits z2 0.456 / 0.212, z16 0.328 / 0.000;
        # mnist z2 0.444 / 0.244, z16 0.114 / 0.000
        assert rates[0] >= rates[1] + 0.1, (ae_name, rates)


def test_knn_trustworthiness_psnr_and_roc_on_known_cases():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(30, 4)), rng.normal(size=(30, 4)) + 50
    codes, y = np.r_[a, b], np.r_[np.zeros(30), np.ones(30)]
    assert metrics.knn_accuracy(codes, y, codes, y) == 1.0
    assert metrics.map_trustworthiness(codes[:, :2], codes[:, :2]) == 1.0
    x = np.zeros((2, 1, 4, 4))
    assert metrics.psnr(x, x + 0.1) == pytest.approx([20.0, 20.0])
    _, _, auc = metrics.anomaly_roc([1, 2, 3, 10, 11], [0, 0, 0, 1, 1])
    assert auc == 1.0
    _, _, auc = metrics.anomaly_roc([1, 2, 3, 10, 11], [1, 1, 1, 0, 0])
    assert auc == 0.0  # the score ranks backwards
    with pytest.raises(ValueError, match="both"):
        metrics.anomaly_roc([1, 2], [0, 0])


def test_image_errors_on_known_cases():
    x = np.zeros((3, 1, 2, 2))
    bce, sse = metrics.image_errors(x, x + 0.5)
    assert bce == pytest.approx(4 * np.log(2)) and sse == pytest.approx(1.0)
    assert metrics.image_errors(x, x)[1] == 0.0


def test_evenness_rejects_and_skips_degenerate_input():
    with pytest.raises(ValueError):
        metrics.interpolation_evenness(lambda z: z, np.zeros((1, 2)))
    path, jump = metrics.interpolation_evenness(lambda z: np.zeros((len(z), 4)),
                                                np.eye(3), pairs=5)
    assert np.isnan(path) and np.isnan(jump)  # a constant decoder: every pair is skipped


def test_metrics_are_deterministic_under_a_seed(digits):
    train, test = digits
    vae = _load("digits_ae_z2")
    assert (metrics.hole_rate(vae, train, n=200, seed=3)
            == metrics.hole_rate(vae, train, n=200, seed=3))
    codes = latent.encode(vae, test.x)
    dec = lambda z: latent.decode(vae, z)  # noqa: E731
    a = metrics.interpolation_evenness(dec, codes, pairs=10, seed=1)
    assert a == metrics.interpolation_evenness(dec, codes, pairs=10, seed=1)
    assert a != metrics.interpolation_evenness(dec, codes, pairs=10, seed=2)
    with pytest.raises(ValueError, match="rows"):
        metrics.scoreboard(vae, train, test, np.zeros((10, 2)))


def test_shipped_vae_is_smoother_and_has_fewer_holes_than_the_ae(digits):
    from aecore.atlas import atlas_path, load_atlas

    train, test = digits
    boards = {}
    for name in ("digits_ae_z2", "digits_vae_z2"):
        model, info = checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")
        emb = load_atlas(atlas_path(info, "identity"), info.id).embedding
        boards[name] = metrics.scoreboard(model, train, test, emb, seed=0)
    ae, vae = boards["digits_ae_z2"], boards["digits_vae_z2"]
    # measured: hole rate 0.456 vs 0.212; path ratio 2.58 vs 1.95; jump ratio 1.81 vs 1.71
    assert vae.hole_rate < ae.hole_rate
    assert abs(vae.path_ratio - 1) < abs(ae.path_ratio - 1)
    assert ae.kl == 0 and vae.kl > 1
    again = metrics.scoreboard(_load("digits_vae_z2"), train, test, np.zeros((360, 2)), seed=0)
    assert again.hole_rate == vae.hole_rate and again.path_ratio == vae.path_ratio


def test_shipped_beta_sweep_trades_kl_for_reconstruction(digits):
    test = digits[1]
    kl, recon, spread = [], [], []
    for name in ("digits_bvae_b0.1_z2", "digits_vae_z2", "digits_bvae_b2_z2",
                 "digits_bvae_b4_z2"):
        model = _load(name)
        r, k = metrics.recon_kl(model, test)
        recon.append(r)
        kl.append(k)
        spread.append(latent.encode(model, test.x).std())
    # measured KL 6.15, 3.35, 1.39, 0.00; recon 20.4, 20.7, 23.8, 27.2; code spread 1.2 -> 0.01
    assert kl == sorted(kl, reverse=True) and kl[-1] < 0.05
    assert recon[0] < recon[2] < recon[3]
    assert spread[-1] < 0.05 < spread[2] < spread[0]


def test_denoising_ae_beats_plain_ae_on_noisy_input(digits):
    x = digits[1].x
    noisy = add_noise(x, "gaussian", 0.3, torch.Generator().manual_seed(0))
    plain = metrics.psnr(x.numpy(), _load("digits_ae_z16").reconstruct(noisy).detach().numpy())
    dae = metrics.psnr(x.numpy(), _load("digits_dae_z16").reconstruct(noisy).detach().numpy())
    assert dae.mean() > plain.mean() + 2  # measured 18.2 vs 13.4 dB


def test_nonlinear_2d_ae_beats_2d_pca(digits):
    from sklearn.decomposition import PCA

    train, test = digits
    tr, te = train.x.numpy().reshape(len(train), -1), test.x.numpy().reshape(len(test), -1)
    pca_2d = PCA(2, random_state=0).fit(tr)  # the best linear autoencoder with 2 numbers
    rec = np.clip(pca_2d.inverse_transform(pca_2d.transform(te)), 0, 1)
    pca, _ = metrics.image_errors(test.x.numpy(), rec.reshape(test.x.shape))  # BCE, nats
    ae = latent.reconstruction_errors(_load("digits_ae_z2"), test.x).mean()
    assert ae < pca - 2  # measured ~20 vs ~24 nats per image


def test_held_out_class_is_flagged_by_reconstruction_error(digits):
    model = _load("digits_ae_no7_z16")
    errs = latent.reconstruction_errors(model, digits[1].x)
    _, _, auc = metrics.anomaly_roc(errs, digits[1].y.numpy() == 7)
    assert auc > 0.75  # measured 0.84


@pytest.mark.parametrize("page", ["5_AE_vs_VAE.py", "6_Anomalies.py", "7_Denoising.py",
                                  "8_AE_vs_PCA.py"])
def test_lesson_pages_render(page):
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=120).run()
    assert not at.exception
    assert at.title and len(at.markdown[0].value) > 200  # the page opens with its explanation


def test_ae_vs_vae_links_the_selection_across_maps():
    at = AppTest.from_file(str(ROOT / "pages" / "5_AE_vs_VAE.py"), default_timeout=120)
    at.session_state["cmp.pick"] = 42
    at.run()
    caps = [i.caption for img in at.get("image") for i in img.proto.imgs]
    assert caps.count("image 42") == 2  # both models show the same picked image
    table = at.dataframe[0].value
    assert list(table["metric"])[:2] == ["Reconstruction error", "KL (nats/image)"]


def test_anomaly_threshold_changes_what_is_flagged():
    at = AppTest.from_file(str(ROOT / "pages" / "6_Anomalies.py"), default_timeout=120).run()
    first = [c.value for c in at.caption if "above the threshold" in c.value][0]
    s = at.slider(key="anom.threshold")
    s.set_value(s.min).run()
    now = [c.value for c in at.caption if "above the threshold" in c.value][0]
    assert first != now and now.startswith("359 of 360") or now.startswith("360 of 360")
    assert at.metric[0].label == "ROC-AUC" and float(at.metric[0].value) > 0.75


def test_beta_slider_shows_posterior_collapse_at_beta_4():
    at = AppTest.from_file(str(ROOT / "pages" / "5_AE_vs_VAE.py"), default_timeout=120).run()
    s = at.select_slider(key="cmp.beta")
    assert list(s.options) == ["0.1", "1.0", "2.0", "4.0"] and s.value == 1.0
    kl = lambda: float(at.dataframe[1].value.set_index("metric").loc["KL (nats/image)", "value"])  # noqa: E731
    assert kl() == pytest.approx(3.35, abs=0.01)
    s.set_value(4.0).run()
    assert not at.exception and kl() < 0.05
    assert any("β = 4" in i.caption for img in at.get("image") for i in img.proto.imgs)


def test_denoising_and_pca_pages_show_their_numbers():
    at = AppTest.from_file(str(ROOT / "pages" / "7_Denoising.py"), default_timeout=120).run()
    assert not at.exception
    avg = next(m.value for m in at.markdown if m.value.startswith("**PSNR over"))
    noisy, plain, dae = (float(v) for v in re.findall(r"([\d.]+) dB", avg))
    assert dae > plain + 2 and dae > noisy + 2  # measured 18.2 vs 13.4 vs 13.0 dB
    at.selectbox(key="den.kind").set_value("masking").run()
    assert not at.exception
    at = AppTest.from_file(str(ROOT / "pages" / "8_AE_vs_PCA.py"), default_timeout=120).run()
    table = at.dataframe[0].value
    assert (table.iloc[:, 2] < table.iloc[:, 1]).all()  # the AE beats PCA in both units


def test_home_and_latent_map_open_with_formulas_and_a_model_diagram():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception and len(at.latex) >= 2
    assert any("digits_vae_z2" in c.value for c in at.caption)  # the diagram's caption
    at = AppTest.from_file(str(ROOT / "pages" / "1_Latent_map.py"), default_timeout=120).run()
    assert not at.exception
    exp = [e for e in at.expander if e.label == "The formulas and the model"]
    assert exp and len(exp[0].get("latex")) == 4 and exp[0].get("plotly_chart")
