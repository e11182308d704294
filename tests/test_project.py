import numpy as np
import pytest
from sklearn.manifold import trustworthiness

from aecore import atlas as atlas_mod
from aecore import checkpoints
from aecore.errors import NotFittedError
from aecore.latent import encode
from aecore.project import PROJECTORS, make_projector, methods_for


def _codes(d=5, n=80, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


@pytest.mark.parametrize("method", [m for m in PROJECTORS if m != "umap"])
def test_projector_contract(method):
    proj = make_projector(method, random_state=7)
    d = 2 if method == "identity" else 5
    Z = _codes(d)
    if method != "identity":
        assert proj.get_params()["random_state"] == 7
    if proj.supports_transform:
        with pytest.raises(NotFittedError):
            proj.transform(Z)
    if proj.supports_inverse:
        with pytest.raises(NotFittedError):
            proj.inverse_transform(Z[:, :2])
    assert proj.fit(Z) is proj
    Y = make_projector(method, random_state=7).fit_transform(Z)
    assert Y.shape == (80, 2) and np.isfinite(Y).all()
    if not proj.supports_inverse:
        with pytest.raises(NotImplementedError):
            proj.inverse_transform(Y)


def test_pca_inverse_recovers_codes_in_a_plane():
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(2, 6))
    Z = rng.normal(size=(100, 2)) @ basis + rng.normal(size=6)
    proj = make_projector("pca").fit(Z)
    assert np.allclose(proj.inverse_transform(proj.transform(Z)), Z, atol=1e-6)


def test_identity_needs_two_dims_and_tsne_cannot_transform():
    with pytest.raises(ValueError, match="2-D"):
        make_projector("identity").fit(_codes(3))
    tsne = make_projector("tsne").fit(_codes(4))
    with pytest.raises(NotImplementedError):
        tsne.transform(_codes(4))
    assert methods_for(2) == ["identity"] and "umap" in methods_for(16)
    with pytest.raises(ValueError):
        make_projector("isomap")


def _shipped(name):
    model, info = checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")
    return model, info


def test_pca_map_of_16d_codes_is_trustworthy(digits):
    model, _ = _shipped("digits_ae_z16")
    Z = encode(model, digits[1].x)
    Y = make_projector("pca").fit_transform(Z)
    assert trustworthiness(Z, Y, n_neighbors=10) >= 0.8  # measured ~0.87


@pytest.mark.slow
def test_umap_map_of_16d_codes_is_trustworthy(digits):
    model, _ = _shipped("digits_ae_z16")
    Z = encode(model, digits[1].x)
    proj = make_projector("umap")
    Y = proj.fit_transform(Z)
    assert trustworthiness(Z, Y, n_neighbors=10) >= 0.9  # measured ~0.96
    back = proj.inverse_transform(Y[:5])
    assert back.shape == (5, 16)


@pytest.mark.parametrize("name", ["digits_ae_z2", "digits_vae_z2", "digits_ae_z16",
                                  "digits_vae_z16"])
def test_shipped_maps_are_stored_and_match_their_checkpoint(name):
    _, info = _shipped(name)
    for method in methods_for(info.model_config.latent_dim):
        path = atlas_mod.atlas_path(info, method)
        a = atlas_mod.load_atlas(path, info.id)
        assert a is not None, f"{path} missing or stale: run python -m aecore rebuild-shipped"
        assert a.embedding.shape == (360, 2) and a.codes.shape[1] == info.model_config.latent_dim
        assert a.grid_xy.shape == (atlas_mod.GRID_N ** 2, 2)
        assert len(a.grid_codes) == len(a.grid_xy)
        assert atlas_mod.load_atlas(path, "someone-else") is None


def test_atlas_identity_is_exact_and_round_trips(tmp_path, digits):
    model, info = _shipped("digits_vae_z2")
    codes, train = encode(model, digits[1].x), encode(model, digits[0].x)
    a = atlas_mod.build_atlas(codes, train, "identity", info.id)
    z, node = a.code_at(0.3, -0.2)
    assert np.allclose(z, [0.3, -0.2]) and 0 <= node < len(a.grid_xy)
    i, d = a.nearest_train(codes[0])
    assert d == pytest.approx(np.linalg.norm(train - codes[0], axis=1).min(), rel=1e-5)
    atlas_mod.save_atlas(a, tmp_path / "a.npz")
    b = atlas_mod.load_atlas(tmp_path / "a.npz", info.id)
    assert np.array_equal(a.embedding, b.embedding) and b.inverse == "exact"
    assert b.hole_threshold == a.hole_threshold


def test_atlas_pca_inverse_lies_in_the_plane(digits):
    model, info = _shipped("digits_ae_z16")
    codes, train = encode(model, digits[1].x), encode(model, digits[0].x)
    a = atlas_mod.build_atlas(codes, train, "pca", info.id)
    proj = make_projector("pca").fit(codes)
    z, _ = a.code_at(*a.embedding[5])
    assert np.allclose(z, proj.inverse_transform(a.embedding[5:6])[0], atol=1e-4)
    t = atlas_mod.build_atlas(codes, train, "tsne", info.id)
    z, node = t.code_at(*t.grid_xy[0])
    assert t.inverse == "snap" and any(np.array_equal(z, c) for c in codes)
