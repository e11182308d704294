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


class _Replay:
    """A 'model' whose samples are the given images (for a known hole rate)."""

    def __init__(self, x):
        self.x = x

    def sample(self, n, generator=None, temperature=1.0):
        return torch.zeros(n, 2), self.x[:n]


def test_samples_equal_to_training_images_have_no_holes(digits):
    train, test = digits
    assert metrics.hole_rate(_Replay(train.x), train, test, n=300) == 0.0
    noise = _Replay(torch.rand(300, 1, 8, 8))
    assert metrics.hole_rate(noise, train, test, n=300) == 1.0


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


def test_shipped_vae_is_smoother_and_has_fewer_holes_than_the_ae(digits):
    from aecore.atlas import atlas_path, load_atlas

    train, test = digits
    boards = {}
    for name in ("digits_ae_z2", "digits_vae_z2"):
        model, info = checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")
        emb = load_atlas(atlas_path(info, "identity"), info.id).embedding
        boards[name] = metrics.scoreboard(model, train, test, emb, seed=0)
    ae, vae = boards["digits_ae_z2"], boards["digits_vae_z2"]
    # measured: hole rate 0.018 vs 0.0; path ratio 2.58 vs 1.95; jump ratio 1.81 vs 1.71
    assert vae.hole_rate < ae.hole_rate
    assert abs(vae.path_ratio - 1) < abs(ae.path_ratio - 1)
    assert ae.kl == 0 and vae.kl > 1
    again = metrics.scoreboard(_load("digits_vae_z2"), train, test, np.zeros((360, 2)), seed=0)
    assert again.hole_rate == vae.hole_rate and again.path_ratio == vae.path_ratio


def test_denoising_ae_beats_plain_ae_on_noisy_input(digits):
    x = digits[1].x
    noisy = add_noise(x, "gaussian", 0.3, torch.Generator().manual_seed(0))
    plain = metrics.psnr(x.numpy(), _load("digits_ae_z16").reconstruct(noisy).detach().numpy())
    dae = metrics.psnr(x.numpy(), _load("digits_dae_z16").reconstruct(noisy).detach().numpy())
    assert dae.mean() > plain.mean() + 2  # measured 18.2 vs 13.4 dB


def test_nonlinear_2d_ae_beats_2d_pca(digits):
    train, test = digits
    pca = metrics.pca_reconstruction_error(train.x.numpy(), test.x.numpy(), 2)
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
