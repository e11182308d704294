import numpy as np
import pytest

from aecore import latent
from aecore.errors import RequestTooLarge


def test_lerp_and_slerp_hit_the_endpoints():
    z0, z1 = np.array([1.0, 0.0, 2.0]), np.array([-1.0, 3.0, 0.5])
    for f in (latent.lerp, latent.slerp):
        path = f(z0, z1, np.linspace(0, 1, 7))
        assert path.shape == (7, 3)
        assert np.allclose(path[0], z0) and np.allclose(path[-1], z1)


def test_slerp_norm_changes_linearly_and_lerp_cuts_the_corner():
    z0, z1 = np.array([2.0, 0.0]), np.array([0.0, 2.0])
    t = np.linspace(0, 1, 5)
    assert np.allclose(np.linalg.norm(latent.slerp(z0, z1, t), axis=1), 2.0)
    assert np.linalg.norm(latent.lerp(z0, z1, t)[2]) == pytest.approx(np.sqrt(2))
    z1 = np.array([0.0, 4.0])
    assert np.allclose(np.linalg.norm(latent.slerp(z0, z1, t), axis=1), 2 + 2 * t)


def test_slerp_equals_lerp_for_parallel_codes():
    z0, z1 = np.array([1.0, 1.0]), np.array([3.0, 3.0])
    t = np.linspace(0, 1, 4)
    assert np.allclose(latent.slerp(z0, z1, t), latent.lerp(z0, z1, t))
    assert np.allclose(latent.slerp(np.zeros(2), z1, t), latent.lerp(np.zeros(2), z1, t))


def test_interpolate_validates():
    with pytest.raises(ValueError):
        latent.interpolate(np.zeros(2), np.ones(2), 1)
    with pytest.raises(ValueError):
        latent.interpolate(np.zeros(2), np.ones(2), 5, "cubic")
    assert latent.interpolate(np.zeros(2), np.ones(2), 5, "slerp").shape == (5, 2)


def test_grids_are_row_major_from_the_top_left():
    g = latent.grid_2d(0, 1, 0, 1, 3)
    assert g.shape == (9, 2)
    assert np.allclose(g[0], [0, 1]) and np.allclose(g[2], [1, 1]) and np.allclose(g[-1], [1, 0])
    n = latent.normal_grid_2d(5)
    assert np.allclose(n[:, 0].reshape(5, 5).mean(), 0) and np.allclose(n[12], [0, 0])
    with pytest.raises(RequestTooLarge):
        latent.grid_2d(0, 1, 0, 1, 10_000)


def test_nearest_matches_brute_force():
    rng = np.random.default_rng(0)
    pts, q = rng.normal(size=(700, 5)), rng.normal(size=(600, 5))
    idx, dist = latent.nearest(pts, q)
    d = np.linalg.norm(q[:, None] - pts[None], axis=2)
    assert np.array_equal(idx, d.argmin(1)) and np.allclose(dist, d.min(1))


def test_decode_checks_size_and_dims(trained_ae):
    model, _ = trained_ae
    imgs = latent.decode(model, np.zeros((3, 2)))
    assert imgs.shape == (3, 1, 8, 8) and 0 <= imgs.min() and imgs.max() <= 1
    with pytest.raises(ValueError, match="dims"):
        latent.decode(model, np.zeros((3, 5)))
    with pytest.raises(RequestTooLarge):
        latent.decode(model, np.zeros((latent.MAX_DECODE + 1, 2), np.float32))


def test_reconstruction_errors_match_the_loss(trained_ae, digits):
    from aecore.train import evaluate

    model, _ = trained_ae
    errs = latent.reconstruction_errors(model, digits[1].x)
    assert errs.shape == (360,) and (errs > 0).all()
    assert errs.mean() == pytest.approx(evaluate(model, digits[1])["recon"], rel=1e-4)
