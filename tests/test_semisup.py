"""Semi-supervised classification with a model's codes (issue 17, part 2): aecore.semisup is
deterministic under a seed, and the measured comparison of pixels, codes and PCA."""
import numpy as np
import pytest

from aecore import checkpoints, semisup
from aecore.data import load_dataset, missing_files
from aecore.errors import DataError
from aecore.recipes import SHIPPED, load_splits


def _model(name):
    return checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")[0]


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", "train"), load_dataset("digits", "test")


def test_labelled_indices_draw_n_per_class_and_refuse_too_many():
    y = np.repeat(np.arange(3), [4, 5, 6])
    idx = semisup.labelled_indices(y, 2, np.random.default_rng(0))
    assert np.bincount(y[idx]).tolist() == [2, 2, 2]
    assert semisup.labelled_indices(y, None, np.random.default_rng(0)).tolist() == list(range(15))
    with pytest.raises(DataError, match="fewer than 5"):
        semisup.labelled_indices(y, 5, np.random.default_rng(0))


def test_accuracies_are_deterministic_under_a_seed(digits):
    model = _model("digits_vae_z2")
    run = lambda seed: semisup.accuracy_vs_labels(model, *digits, labels_per_class=(1, 5),  # noqa: E731
                                                   repeats=2, seed=seed)
    a, b, c = run(0), run(0), run(1)
    for f in semisup.FEATURES:
        np.testing.assert_array_equal(a.mean[f], b.mean[f])
    np.testing.assert_array_equal(a.labelled[5], b.labelled[5])
    assert not np.array_equal(a.labelled[5], c.labelled[5])  # another seed, other labels
    assert a.n_labels == [10, 50] and len(a.labelled[1]) == 10


def test_codes_against_pixels_at_ten_labels_per_class_on_digits(digits):
    """10 labelled digits per class, 1-NN, mean of 10 draws (seed 0), 360 test digits."""
    vae = semisup.accuracy_vs_labels(_model("digits_vae_z16"), *digits, labels_per_class=(10,))
    dae = semisup.accuracy_vs_labels(_model("digits_dae_z16"), *digits, labels_per_class=(10,))
    # the denoising AE's 16-D codes beat the 64 raw pixels: measured 0.929 vs 0.906
    # (and at every n up to 50: 0.692/0.881/0.929/0.972 vs 0.634/0.854/0.906/0.967)
    assert dae.at(10, "latent") > dae.at(10, "pixels")
    # the shipped 16-D VAE's mu does not (measured 0.862 vs 0.906; PCA-16 0.911; only at 1
    # label, 0.641 vs 0.634): on 8x8 digits the pixels are already a good metric space, and
    # this VAE's mu is not a better one. The page says which one wins.
    assert vae.at(10, "latent") < vae.at(10, "pixels")
    assert dae.at(10, "pixels") == vae.at(10, "pixels")  # the same draws of the same pixels
    assert vae.at(10, "latent") > 0.8  # far above chance (0.1)


@pytest.mark.skipif(missing_files("mnist", "test") is not None, reason="no MNIST files here")
def test_conv_vae_codes_beat_pixels_with_few_labels_on_mnist():
    r = SHIPPED["mnist_convvae_z16"]
    sp = load_splits(r.dataset, r.train_split, r.test_split)
    res = semisup.accuracy_vs_labels(_model("mnist_convvae_z16"), sp.train, sp.test,
                                     labels_per_class=(10,), repeats=3)
    # measured (3 draws): 0.776 vs 0.746 at 10 labels; the MLP mnist_vae_z16 does not beat
    # the pixels (0.738)
    assert res.at(10, "latent") > res.at(10, "pixels")
