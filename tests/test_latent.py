import numpy as np
import pytest
import torch

from aecore import latent
from aecore.errors import RequestTooLarge
from aecore.train import evaluate


def test_lerp_and_slerp_hit_the_endpoints():
    z0, z1 = np.array([1.0, 0.0, 2.0]), np.array([-1.0, 3.0, 0.5])
    for f in (latent.lerp, latent.slerp):
        path = f(z0, z1, np.linspace(0, 1, 7))
        assert path.shape == (7, 3)
        assert np.allclose(path[0], z0, atol=1e-12) and np.allclose(path[-1], z1, atol=1e-12)


def test_lerp_is_linear():
    z0, z1 = np.array([1.0, -2.0]), np.array([3.0, 2.0])
    assert np.allclose(latent.lerp(z0, z1, [0.25, 0.5]), [[1.5, -1.0], [2.0, 0.0]])


def test_slerp_norm_changes_linearly_along_a_great_circle():
    z0, z1 = np.array([2.0, 0.0]), np.array([0.0, 2.0])
    t = np.linspace(0, 1, 5)
    assert np.allclose(np.linalg.norm(latent.slerp(z0, z1, t), axis=1), 2.0)
    assert np.linalg.norm(latent.lerp(z0, z1, t)[2]) == pytest.approx(np.sqrt(2))  # cuts in
    z1 = np.array([0.0, 4.0])
    path = latent.slerp(z0, z1, t)
    assert np.allclose(np.linalg.norm(path, axis=1), 2 + 2 * t)
    # equal angular steps: the direction turns 90 / 4 = 22.5 degrees per step
    angles = np.degrees(np.arctan2(path[:, 1], path[:, 0]))
    assert np.allclose(angles, [0, 22.5, 45, 67.5, 90])


def test_slerp_in_high_dimensions_keeps_the_norm_of_equal_norm_codes():
    rng = np.random.default_rng(0)
    z0, z1 = rng.normal(size=16), rng.normal(size=16)
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)
    t = np.linspace(0, 1, 11)
    assert np.allclose(np.linalg.norm(latent.slerp(z0, z1, t), axis=1), np.linalg.norm(z0))
    assert (np.linalg.norm(latent.lerp(z0, z1, t)[1:-1], axis=1) < np.linalg.norm(z0)).all()


def test_slerp_equals_lerp_for_parallel_antiparallel_and_zero_codes():
    t = np.linspace(0, 1, 4)
    for z0, z1 in [([1.0, 1.0], [3.0, 3.0]), ([1.0, 1.0], [-2.0, -2.0]),
                   ([0.0, 0.0], [3.0, 3.0]), ([1.0, 2.0], [0.0, 0.0])]:
        z0, z1 = np.array(z0), np.array(z1)
        assert np.allclose(latent.slerp(z0, z1, t), latent.lerp(z0, z1, t))


def test_interpolate_validates_and_includes_both_ends():
    for steps in (1, 0, 1001):
        with pytest.raises(ValueError, match="steps"):
            latent.interpolate(np.zeros(2), np.ones(2), steps)
    with pytest.raises(ValueError, match="method"):
        latent.interpolate(np.zeros(2), np.ones(2), 5, "cubic")
    for method in ("lerp", "slerp"):
        path = latent.interpolate(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 5, method)
        assert path.shape == (5, 2)
        assert np.allclose(path[0], [1, 0]) and np.allclose(path[-1], [0, 1])
    assert latent.interpolate(np.zeros(3), np.ones(3), 2).shape == (2, 3)


def test_grid_is_row_major_from_the_top_left():
    g = latent.grid_2d(0, 2, 10, 20, 3)
    assert g.shape == (9, 2)
    # like an image: first row is the top (y max), x grows along a row
    assert np.allclose(g, [[0, 20], [1, 20], [2, 20],
                           [0, 15], [1, 15], [2, 15],
                           [0, 10], [1, 10], [2, 10]])
    for n in (1, 201, 10_000):
        with pytest.raises(RequestTooLarge):
            latent.grid_2d(0, 1, 0, 1, n)


def test_normal_grid_is_symmetric_at_normal_quantiles():
    from scipy.stats import norm

    n = latent.normal_grid_2d(5)
    assert n.shape == (25, 2)
    assert np.allclose(n, -n[::-1])  # point symmetric about the origin
    assert np.allclose(n[12], [0, 0])  # the centre of an odd grid is the mean
    assert np.allclose(n[0], [norm.ppf(0.05), norm.ppf(0.95)])  # top-left
    assert np.allclose(n[:5, 1], n[0, 1]) and np.allclose(n[::5, 0], n[0, 0])


def test_nearest_matches_brute_force():
    rng = np.random.default_rng(0)
    pts, q = rng.normal(size=(700, 5)), rng.normal(size=(1100, 5))  # > one 512-query chunk
    idx, dist = latent.nearest(pts, q)
    d = np.linalg.norm(q[:, None] - pts[None], axis=2)
    assert np.array_equal(idx, d.argmin(1)) and np.allclose(dist, d.min(1))
    i, dd = latent.nearest(pts, pts[42])  # a single query; an exact hit
    assert i.tolist() == [42] and dd[0] == pytest.approx(0.0, abs=1e-6)


def test_encode_is_deterministic_and_matches_embed(trained_vae, digits_test):
    model, _ = trained_vae
    z = latent.encode(model, digits_test.x)
    assert z.shape == (360, 2) and z.dtype == np.float32
    with torch.no_grad():
        assert np.array_equal(z, model.embed(digits_test.x).numpy())
    assert np.array_equal(z, latent.encode(model, digits_test.x))
    assert latent.encode(model, digits_test.x[:0]).shape == (0, 2)


def test_decode_shapes_range_and_limits(trained_ae):
    model, _ = trained_ae
    imgs = latent.decode(model, np.zeros((3, 2)))
    assert imgs.shape == (3, 1, 8, 8) and imgs.dtype == np.float32
    assert 0 <= imgs.min() and imgs.max() <= 1
    assert latent.decode(model, np.zeros(2)).shape == (1, 1, 8, 8)  # one code, no batch dim
    with pytest.raises(ValueError, match="dims"):
        latent.decode(model, np.zeros((3, 5)))


def test_decode_refuses_too_many_codes(trained_ae, monkeypatch):
    model, _ = trained_ae
    calls = []
    monkeypatch.setattr(type(model), "decode", lambda self, z: calls.append(len(z)))
    with pytest.raises(RequestTooLarge, match=str(latent.MAX_DECODE)):
        latent.decode(model, np.zeros((latent.MAX_DECODE + 1, 2), np.float32))
    assert calls == []  # refused before decoding anything


def test_reconstruction_errors_match_the_loss(trained_ae, digits_test):
    model, _ = trained_ae
    errs = latent.reconstruction_errors(model, digits_test.x)
    assert errs.shape == (360,) and (errs > 0).all()
    assert errs.mean() == pytest.approx(evaluate(model, digits_test)["recon"], rel=1e-4)


def test_sample_prior_is_seeded_and_bounded(trained_vae, trained_ae):
    vae, _ = trained_vae
    z, x = latent.sample_prior(vae, 500, seed=3)
    assert z.shape == (500, 2) and x.shape == (500, 1, 8, 8)
    assert 0 <= x.min() and x.max() <= 1
    assert abs(z.mean()) < 0.15 and abs(z.std() - 1) < 0.1  # the VAE prior is N(0, I)
    z2, x2 = latent.sample_prior(vae, 500, seed=3)
    assert np.array_equal(z, z2) and np.array_equal(x, x2)
    assert not np.array_equal(z, latent.sample_prior(vae, 500, seed=4)[0])
    hot, _ = latent.sample_prior(vae, 500, seed=3, temperature=2.0)
    assert np.allclose(hot, 2 * z, atol=1e-6)
    # an AE samples the Gaussian fitted to its training codes
    ae, _ = trained_ae
    za, _ = latent.sample_prior(ae, 2000, seed=0)
    assert np.allclose(za.mean(0), ae.code_mean.numpy(), atol=0.15 * za.std())
    with pytest.raises(RequestTooLarge):
        latent.sample_prior(vae, latent.MAX_SAMPLES + 1)
    for bad in ({"n": 0}, {"n": 5, "temperature": 0.0}, {"n": 5, "temperature": 11.0}):
        with pytest.raises(ValueError):
            latent.sample_prior(vae, **bad)
