import numpy as np
import pytest
from sklearn.base import clone
from sklearn.manifold import trustworthiness

from aecore import atlas as atlas_mod
from aecore import checkpoints
from aecore.errors import NotFittedError
from aecore.latent import encode
from aecore.project import PROJECTORS, Projector, make_projector, methods_for

SHIPPED = ["digits_ae_z2", "digits_vae_z2", "digits_ae_z16", "digits_vae_z16"]
# UMAP compiles with numba on first use (~30 s per process): its contract test is slow
METHODS = [pytest.param(m, marks=pytest.mark.slow) if m == "umap" else m for m in PROJECTORS]


def _codes(d=5, n=80, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def _shipped(name):
    return checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")


@pytest.fixture(scope="module")
def ae16_codes(digits):
    """Test and train codes of the shipped 16-D AE: (360, 16) and (1437, 16)."""
    model, info = _shipped("digits_ae_z16")
    return encode(model, digits[1].x), encode(model, digits[0].x), info


@pytest.fixture(scope="module")
def ae16_tsne_atlas(ae16_codes):
    """t-SNE atlas of the shipped 16-D AE's test codes (one t-SNE fit, shared)."""
    codes, train, info = ae16_codes
    return atlas_mod.build_atlas(codes, train, "tsne", info.id)


@pytest.mark.parametrize("method", METHODS)
def test_projector_contract(method):
    """sklearn's estimator contract: params stored unchanged, fit returns self, learned
    attributes end in '_' and appear only after fit, NotFittedError before it."""
    cls = PROJECTORS[method]
    assert issubclass(cls, Projector) and cls.method == method
    d = 2 if method == "identity" else 5
    Z = _codes(d, n=40)
    proj = make_projector(method, random_state=7)
    params = proj.get_params()
    if method != "identity":
        assert params["random_state"] == 7
        assert proj.random_state == 7
    assert clone(proj).get_params() == params
    assert not [k for k in vars(proj) if k.endswith("_")]  # nothing learned yet
    if proj.supports_transform:
        with pytest.raises(NotFittedError):
            proj.transform(Z)
    if proj.supports_inverse:
        with pytest.raises(NotFittedError):
            proj.inverse_transform(Z[:, :2])
    assert proj.fit(Z) is proj
    assert proj.get_params() == params  # fitting changes no parameter
    assert proj.n_features_in_ == d
    Y = make_projector(method, random_state=7).fit_transform(Z)
    assert Y.shape == (40, 2) and np.isfinite(Y).all()
    if proj.supports_transform:
        assert proj.transform(Z[:10]).shape == (10, 2)
    else:
        with pytest.raises(NotImplementedError):
            proj.transform(Z)
    if proj.supports_inverse:
        assert proj.inverse_transform(Y[:4]).shape == (4, d)
    else:
        with pytest.raises(NotImplementedError):
            proj.inverse_transform(Y)
    # same random_state, same data: the same map
    again = make_projector(method, random_state=7).fit_transform(Z)
    assert np.allclose(again, Y)


@pytest.mark.parametrize("method", [m for m in PROJECTORS if m not in ("umap", "tsne")])
def test_fitted_projector_refuses_codes_of_another_width(method):
    d = 2 if method == "identity" else 5
    proj = make_projector(method).fit(_codes(d))
    with pytest.raises(ValueError):
        proj.transform(_codes(d + 1))
    with pytest.raises(ValueError):
        proj.inverse_transform(_codes(3))


def test_pca_inverse_recovers_codes_in_a_plane():
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(2, 6))
    Z = rng.normal(size=(100, 2)) @ basis + rng.normal(size=6)  # a 2-D plane in 6-D
    proj = make_projector("pca").fit(Z)
    assert np.abs(proj.inverse_transform(proj.transform(Z)) - Z).max() < 1e-6
    arrays = proj.to_arrays()
    assert arrays["pca_mean"].shape == (6,) and arrays["pca_components"].shape == (2, 6)
    # a code moved 1 unit off the plane comes back projected onto it (1 unit away)
    v = rng.normal(size=6)
    v -= basis.T @ np.linalg.lstsq(basis.T, v, rcond=None)[0]  # remove the in-plane part
    off = Z[:5] + v / np.linalg.norm(v)
    back = proj.inverse_transform(proj.transform(off))
    assert np.allclose(np.linalg.norm(back - off, axis=1), 1.0)
    assert np.abs(back - Z[:5]).max() < 1e-6


def test_identity_is_exact_and_needs_two_dims():
    Z = _codes(2)
    proj = make_projector("identity").fit(Z)
    assert np.array_equal(proj.transform(Z), Z) and np.array_equal(proj.inverse_transform(Z), Z)
    for d in (1, 3, 16):
        with pytest.raises(ValueError, match="2-D"):
            make_projector("identity").fit(_codes(d))


def test_tsne_cannot_embed_new_points():
    tsne = make_projector("tsne").fit(_codes(4, n=40))
    assert tsne.embedding_.shape == (40, 2)
    with pytest.raises(NotImplementedError):
        tsne.transform(_codes(4))
    with pytest.raises(NotImplementedError):
        tsne.inverse_transform(tsne.embedding_)
    assert not tsne.supports_transform and not tsne.supports_inverse
    assert make_projector("tsne").fit(_codes(4, n=10)).embedding_.shape == (10, 2)  # tiny n


def test_methods_and_factory():
    assert methods_for(2) == ["identity"]
    assert methods_for(16) == ["pca", "umap", "tsne"]
    assert set(PROJECTORS) == {"identity", "pca", "umap", "tsne"}
    with pytest.raises(ValueError, match="unknown projection"):
        make_projector("isomap")


def test_pca_map_of_16d_codes_is_trustworthy(ae16_codes):
    Z, _, _ = ae16_codes
    Y = make_projector("pca").fit_transform(Z)
    assert trustworthiness(Z, Y, n_neighbors=10) >= 0.75  # measured 0.81 (linear: it tears)


def test_tsne_map_of_16d_codes_is_trustworthy(ae16_codes, ae16_tsne_atlas):
    Z, _, _ = ae16_codes
    Y = ae16_tsne_atlas.embedding
    assert trustworthiness(Z, Y, n_neighbors=10) >= 0.93  # measured 0.98


@pytest.mark.slow
def test_umap_map_of_16d_codes_is_trustworthy(ae16_codes):
    Z, _, _ = ae16_codes
    proj = make_projector("umap")
    Y = proj.fit_transform(Z)
    assert trustworthiness(Z, Y, n_neighbors=10) >= 0.93  # measured 0.98
    assert np.allclose(proj.transform(Z[:20]), Y[:20], atol=2.0)  # new points land nearby
    back = proj.inverse_transform(Y[:5])
    assert back.shape == (5, 16) and np.isfinite(back).all()


# ---- atlases (the stored latent maps) -----------------------------------------------------

@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_maps_are_stored_and_match_their_checkpoint(name):
    _, info = _shipped(name)
    for method in methods_for(info.model_config.latent_dim):
        path = atlas_mod.atlas_path(info, method)
        assert path.parent == checkpoints.SHIPPED_DIR and path.name == f"{name}.{method}.npz"
        a = atlas_mod.load_atlas(path, info.id)
        assert a is not None, f"{path} missing or stale: run python -m aecore rebuild-shipped"
        assert a.checkpoint_id == info.id and a.method == method
        k = info.model_config.latent_dim
        assert a.embedding.shape == (360, 2) and a.codes.shape == (360, k)
        assert a.train_codes.shape == (1437, k)
        assert a.grid_xy.shape == (atlas_mod.GRID_N ** 2, 2) and a.grid_n == atlas_mod.GRID_N
        assert len(a.grid_codes) == len(a.grid_xy) == len(a.grid_gap)
        assert np.isfinite(a.grid_codes).all() and a.hole_threshold > 0
        assert atlas_mod.load_atlas(path, "someone-else") is None


def test_shipped_map_codes_are_the_models_codes(digits):
    model, info = _shipped("digits_vae_z2")
    a = atlas_mod.load_atlas(atlas_mod.atlas_path(info, "identity"), info.id)
    assert np.allclose(a.codes, encode(model, digits[1].x), atol=1e-5)
    assert np.allclose(a.embedding, a.codes, atol=1e-6)  # identity map: positions are codes


def test_atlas_identity_is_exact_and_round_trips(tmp_path, digits):
    model, info = _shipped("digits_vae_z2")
    codes, train = encode(model, digits[1].x), encode(model, digits[0].x)
    a = atlas_mod.build_atlas(codes, train, "identity", info.id)
    assert a.inverse == "exact" and np.allclose(a.embedding, codes)
    z, node = a.code_at(0.3, -0.2)
    assert np.array_equal(z, np.array([0.3, -0.2], np.float32)) and 0 <= node < len(a.grid_xy)
    assert np.allclose(a.grid_xy[node], [0.3, -0.2], atol=np.ptp(a.grid_xy, 0).max() / 63)
    # grid: row-major from the top-left, padded beyond the data on every side
    assert a.grid_xy[0, 1] == a.grid_xy[:, 1].max() and a.grid_xy[0, 0] == a.grid_xy[:, 0].min()
    assert (a.grid_xy.min(0) < codes.min(0)).all() and (a.grid_xy.max(0) > codes.max(0)).all()
    i, d = a.nearest_train(codes[0])
    assert d == pytest.approx(np.linalg.norm(train - codes[0], axis=1).min(), rel=1e-5)
    assert np.allclose(train[i], train[np.linalg.norm(train - codes[0], axis=1).argmin()])
    xy, exact = a.project(codes[:3])
    assert exact and np.allclose(xy, codes[:3])

    path = tmp_path / "sub" / "a.npz"
    atlas_mod.save_atlas(a, path)
    assert [p.name for p in path.parent.iterdir()] == ["a.npz"]  # no temp file left
    b = atlas_mod.load_atlas(path, info.id)
    for k, v in vars(a).items():
        if isinstance(v, np.ndarray):
            assert np.array_equal(v, getattr(b, k)), k
        else:
            assert getattr(b, k) == v and type(getattr(b, k)) is type(v), k
    assert atlas_mod.load_atlas(path, "digits_vae_z2-000000000000") is None


def test_atlas_pca_inverse_lies_in_the_plane(ae16_codes):
    codes, train, info = ae16_codes
    a = atlas_mod.build_atlas(codes, train, "pca", info.id)
    assert a.inverse == "plane"
    proj = make_projector("pca").fit(codes)
    assert np.allclose(a.embedding, proj.transform(codes), atol=1e-4)
    for xy in (a.embedding[5], (0.5, -1.0)):
        z, _ = a.code_at(*xy)
        assert np.allclose(z, proj.inverse_transform(np.atleast_2d(xy))[0], atol=1e-4)
    xy, exact = a.project(codes[:10])
    assert exact and np.allclose(xy, a.embedding[:10], atol=1e-4)
    assert np.allclose(a.codes_at(a.embedding[:3]), proj.inverse_transform(a.embedding[:3]),
                       atol=1e-4)


def test_atlas_tsne_snaps_to_data_codes(ae16_codes, ae16_tsne_atlas):
    codes, _, _ = ae16_codes
    t = ae16_tsne_atlas
    assert t.inverse == "snap"
    z, node = t.code_at(*t.grid_xy[0])
    assert any(np.array_equal(z, c) for c in codes)
    xy, exact = t.project(codes[7:8])
    assert not exact and np.allclose(xy, t.embedding[7])


def test_load_atlas_returns_none_for_bad_files(tmp_path, digits):
    model, info = _shipped("digits_ae_z2")
    a = atlas_mod.load_atlas(atlas_mod.atlas_path(info, "identity"), info.id)
    good = tmp_path / "good.npz"
    atlas_mod.save_atlas(a, good)
    blob = good.read_bytes()
    assert atlas_mod.load_atlas(tmp_path / "missing.npz", info.id) is None
    cases = {"half.npz": blob[: len(blob) // 2], "empty.npz": b"", "text.npz": b"hello"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert atlas_mod.load_atlas(tmp_path / name, info.id) is None, name
    np.savez(tmp_path / "old.npz", version=np.asarray(atlas_mod.ATLAS_VERSION + 1),
             checkpoint_id=np.asarray(info.id))
    assert atlas_mod.load_atlas(tmp_path / "old.npz", info.id) is None
    np.savez(tmp_path / "partial.npz", version=np.asarray(atlas_mod.ATLAS_VERSION),
             checkpoint_id=np.asarray(info.id), method=np.asarray("identity"))
    assert atlas_mod.load_atlas(tmp_path / "partial.npz", info.id) is None
    np.savez(tmp_path / "pickled.npz", version=np.asarray(atlas_mod.ATLAS_VERSION),
             checkpoint_id=np.asarray(info.id), codes=np.array([{"x": 1}], dtype=object))
    assert atlas_mod.load_atlas(tmp_path / "pickled.npz", info.id) is None  # never unpickles


def test_get_atlas_builds_once_into_the_cache_dir(tmp_path, digits):
    model, info = _shipped("digits_ae_z2")
    user = checkpoints.save(model, tmp_path / "copy_of_ae_z2")
    user_info = checkpoints.read_info(user)
    calls = []

    def codes_fn():
        calls.append(1)
        return encode(model, digits[1].x), encode(model, digits[0].x)

    a, built = atlas_mod.get_atlas(user_info, "identity", codes_fn)
    assert built and calls == [1]
    path = atlas_mod.atlas_path(user_info, "identity")
    assert path.parent == atlas_mod.cache_dir() and path.is_file()
    assert user_info.id in path.name
    b, built = atlas_mod.get_atlas(user_info, "identity", codes_fn)
    assert not built and calls == [1] and np.array_equal(a.embedding, b.embedding)
