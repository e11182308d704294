"""The copy test (aecore.capacity): its probes, the noise-copy score on constructed cases, and
the shipped bottleneck sweep, where the overcomplete AE copies more than the 2-D one."""
import pytest
import torch

from aecore import capacity, checkpoints
from aecore.capacity import PROBES, letter_strokes, noise_copy_score, probe_inputs
from aecore.recipes import SHIPPED


def test_probes_are_images_in_range_and_differ_from_the_digits(digits_test):
    p = probe_inputs(digits_test.x[:5], n=7, seed=3)
    assert list(p) == list(PROBES)
    for name, x in p.items():
        assert x.shape == (7, 1, 8, 8) and x.min() >= 0 and x.max() <= 1, name
    assert torch.equal(p["digits"][5], digits_test.x[0])  # repeated when n > N
    assert torch.allclose(p["inverted digit"], 1 - p["digits"])
    assert torch.equal(p["shifted digit"][..., 2:], p["digits"][..., :-2])
    assert (p["shifted digit"][..., :2] == 0).all()
    assert torch.equal(p["uniform noise"], probe_inputs(digits_test.x[:5], n=7, seed=3)
                       ["uniform noise"])
    with pytest.raises(ValueError):
        probe_inputs(digits_test.x[:0])


def test_letter_strokes_draw_distinct_letters():
    s = letter_strokes(5, (1, 8, 8))
    assert s.shape == (5, 1, 8, 8) and 0 <= s.min() and s.max() <= 1
    ink = s.flatten(1).sum(1)
    assert (ink > 3).all() and (ink < 40).all()  # strokes, not blank or filled squares
    assert len({tuple(v.round(decimals=3).tolist()) for v in s.flatten(1)}) == 5
    t = letter_strokes(1, (1, 8, 8))[0, 0]  # "A": apex on top, legs apart at the bottom
    assert t[0, 3:5].sum() > t[0, :2].sum() and t[-1, 0:2].sum() > t[-1, 3:5].sum()


def test_noise_copy_score_is_1_for_a_copy_and_0_for_a_model_that_ignores_the_noise():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(10, 1, 8, 8, generator=g)
    noisy = (x + 0.3 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    assert noise_copy_score(x, noisy, x, noisy) == pytest.approx(1.0)  # identity
    blob = torch.full_like(x, 0.3)
    assert noise_copy_score(x, noisy, blob, blob) == pytest.approx(0.0)  # ignores its input
    assert noise_copy_score(x, noisy, 0.5 * x, 0.5 * noisy) == pytest.approx(0.5)  # half gain
    with pytest.raises(ValueError):
        noise_copy_score(x, x, x, x)
    with pytest.raises(ValueError):
        noise_copy_score(x, noisy, x[:2], noisy)


def _load(name):
    return checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")[0]


def test_shipped_overcomplete_ae_copies_more_than_the_2d_one(digits_test):
    probes = probe_inputs(digits_test.x[:8], n=8)
    r2 = capacity.copy_test(_load("digits_ae_cap_z2"), probes, score_on=digits_test.x)
    r128 = capacity.copy_test(_load("digits_ae_cap_z128"), probes, score_on=digits_test.x)
    # measured on the 360 test digits: z=2 0.12, z=128 0.29 (errors on digits 2.26 vs 0.38)
    assert r128.score > r2.score + 0.1
    assert r128.errors["digits"] < r2.errors["digits"]  # and it rebuilds digits better
    for r in (r2, r128):
        assert set(r.outputs) == set(PROBES)
        assert r.errors["uniform noise"] > r.errors["digits"]  # nobody copies noise perfectly


def test_sweep_recipes_differ_only_in_z():
    sweep = [SHIPPED[f"digits_ae_cap_z{z}"] for z in capacity_sweep()]
    base = sweep[0]
    for r in sweep:
        assert r.train == base.train and r.model.hidden == base.model.hidden
        assert type(r.model) is type(base.model) and r.dataset == base.dataset
    assert [r.model.latent_dim for r in sweep] == [2, 4, 8, 16, 32, 64, 128]


def capacity_sweep():
    from aecore.recipes import CAPACITY_SWEEP
    return CAPACITY_SWEEP
