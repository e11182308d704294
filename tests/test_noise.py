"""aecore.noise: the input corruptions of the denoising AE, on real digits and on images
whose every pixel is known."""
import pytest
import torch

from aecore.noise import NOISE_KINDS, add_noise


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_noise_stays_in_range_and_level_zero_is_identity(kind, digits_test):
    x = digits_test.x[:64]
    y = add_noise(x, kind, 0.3, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and y.dtype == x.dtype
    assert 0 <= float(y.min()) and float(y.max()) <= 1
    assert not torch.equal(y, x)
    same = add_noise(x, kind, 0.0)
    assert torch.equal(same, x) and same.data_ptr() != x.data_ptr()  # a copy, never the input
    again = add_noise(x, kind, 0.3, torch.Generator().manual_seed(0))
    assert torch.equal(y, again)  # reproducible under a seeded generator


def test_masking_fraction_matches_level():
    x = torch.ones(200, 1, 8, 8)  # 12,800 pixels
    for level in (0.1, 0.25, 0.6):
        y = add_noise(x, "masking", level, torch.Generator().manual_seed(0))
        assert float((y == 0).float().mean()) == pytest.approx(level, abs=0.02)
        assert set(y.unique().tolist()) <= {0.0, 1.0}


def test_salt_and_pepper_fraction_is_half_white_half_black():
    x = torch.full((200, 1, 8, 8), 0.5)
    y = add_noise(x, "salt_pepper", 0.4, torch.Generator().manual_seed(0))
    white, black = float((y == 1).float().mean()), float((y == 0).float().mean())
    assert white == pytest.approx(0.2, abs=0.02) and black == pytest.approx(0.2, abs=0.02)
    assert float((y == 0.5).float().mean()) == pytest.approx(0.6, abs=0.02)


def test_gaussian_noise_has_the_requested_std():
    x = torch.full((200, 1, 8, 8), 0.5)  # mid-grey: a std of 0.1 is (almost) never clipped
    y = add_noise(x, "gaussian", 0.1, torch.Generator().manual_seed(0))
    assert float((y - x).std()) == pytest.approx(0.1, rel=0.05)
    assert abs(float((y - x).mean())) < 0.005


def test_noise_rejects_bad_input():
    with pytest.raises(ValueError, match="kind"):
        add_noise(torch.zeros(1, 1, 2, 2), "blur", 0.1)
    with pytest.raises(ValueError, match="level"):
        add_noise(torch.zeros(1, 1, 2, 2), "gaussian", 1.5)
    with pytest.raises(ValueError, match="level"):
        add_noise(torch.zeros(1, 1, 2, 2), "masking", -0.1)


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_more_noise_moves_real_digits_further(kind, digits_test):
    x = digits_test.x
    dist = [float((add_noise(x, kind, lv, torch.Generator().manual_seed(0)) - x).abs().mean())
            for lv in (0.0, 0.1, 0.3, 0.6)]
    assert dist[0] == 0 and dist[1] < dist[2] < dist[3]  # mean |noisy - clean| grows


def test_masking_only_darkens_and_keeps_the_unmasked_pixels(digits_test):
    x = digits_test.x[:100]
    y = add_noise(x, "masking", 0.5, torch.Generator().manual_seed(3))
    kept = y != 0
    assert torch.equal(y[kept], x[kept]) and bool((y <= x).all())


def test_different_generators_give_different_noise_and_the_input_is_untouched(digits_test):
    x = digits_test.x[:32]
    before = x.clone()
    a = add_noise(x, "gaussian", 0.3, torch.Generator().manual_seed(0))
    b = add_noise(x, "gaussian", 0.3, torch.Generator().manual_seed(1))
    assert not torch.equal(a, b) and torch.equal(x, before)
