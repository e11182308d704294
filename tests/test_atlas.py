"""aecore.atlas: the stored latent maps, their click grids and inverses, driven by the
projectors' declared capabilities; the version-1 maps that ship are converted on reading."""
import numpy as np
import pytest

from aecore import atlas as atlas_mod
from aecore import checkpoints
from aecore import latent
from aecore.latent import encode
from aecore.project import PROJECTORS, make_projector, methods_for
from ui.cache import GRID_N

SHIPPED = ["digits_ae_z2", "digits_vae_z2", "digits_ae_z16", "digits_vae_z16"]


def _shipped(name):
    return checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")


def _atlas(name: str, method: str):
    info = checkpoints.read_info(checkpoints.SHIPPED_DIR / f"{name}.safetensors")
    return atlas_mod.load_atlas(atlas_mod.atlas_path(info, method), info.id)


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
        assert a.grid_xy.shape == (GRID_N ** 2, 2) and a.grid_n == GRID_N
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
    assert a.inverse_is_exact and not a.snaps and np.allclose(a.embedding, codes)
    assert np.array_equal(a.plane, [[0, 0], [1, 0], [0, 1]])  # origin, u, v: the unit axes
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
    assert a.inverse_is_exact and not a.snaps
    proj = make_projector("pca").fit(codes)
    origin, u, v = a.plane
    assert np.allclose(origin, codes.mean(0), atol=1e-5)  # the mean code
    assert np.allclose([u @ u, v @ v, u @ v], [1, 1, 0], atol=1e-6)  # orthonormal components
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
    assert t.snaps and not t.inverse_is_exact and t.plane.shape == (0, 16)
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

    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="cache_dir"):  # a user's map needs a cache folder
        atlas_mod.atlas_path(user_info, "identity")
    a, built = atlas_mod.get_atlas(user_info, "identity", codes_fn, cache_dir=cache, grid_n=9)
    assert built and calls == [1] and a.grid_n == 9
    path = atlas_mod.atlas_path(user_info, "identity", cache)
    assert path.parent == cache and path.is_file()
    assert user_info.id in path.name
    b, built = atlas_mod.get_atlas(user_info, "identity", codes_fn, cache_dir=cache)
    assert not built and calls == [1] and np.array_equal(a.embedding, b.embedding)


@pytest.mark.parametrize("method", list(PROJECTORS))
def test_atlas_flags_follow_the_projectors_capabilities(method):
    _, info = _shipped("digits_ae_z2" if method == "identity" else "digits_ae_z16")
    a = atlas_mod.load_atlas(atlas_mod.atlas_path(info, method), info.id)
    cls = PROJECTORS[method]
    assert a.projector is cls and a.inverse_is_exact == cls.inverse_is_exact
    assert a.snaps == (not cls.supports_inverse)
    assert a.plane.shape == ((3, a.codes.shape[1]) if cls.inverse_is_exact else
                             (0, a.codes.shape[1]))


@pytest.mark.parametrize("name,method", [("digits_vae_z2", "identity"),
                                         ("digits_ae_z16", "pca")])
def test_version_1_maps_convert_to_the_plane_a_new_build_stores(name, method, digits):
    """The shipped maps are version 1 (an ``inverse`` string, no plane): reading one gives the
    same decoded codes as a map built now."""
    model, info = _shipped(name)
    path = atlas_mod.atlas_path(info, method)
    with np.load(path) as f:
        assert int(f["version"]) == 1 and "plane" not in f.files
    old = atlas_mod.load_atlas(path, info.id)
    new = atlas_mod.build_atlas(encode(model, digits[1].x), encode(model, digits[0].x), method,
                                info.id, grid_n=old.grid_n)
    assert np.allclose(old.plane, new.plane, atol=1e-4)
    xy = old.embedding[:25] + 0.1
    assert np.allclose(old.codes_at(xy), new.codes_at(xy), atol=1e-4)
    assert np.allclose(old.project(old.codes[:25])[0], new.project(old.codes[:25])[0],
                       atol=1e-4)


def test_version_1_approximate_umap_maps_are_rebuilt_not_read(tmp_path):
    _, info = _shipped("digits_ae_z16")
    with np.load(atlas_mod.atlas_path(info, "umap")) as f:
        d = {k: f[k] for k in f.files}
    assert str(d["inverse"]) == "knn"
    np.savez(tmp_path / "knn.npz", **d)
    assert atlas_mod.load_atlas(tmp_path / "knn.npz", info.id) is not None
    np.savez(tmp_path / "approx.npz", **{**d, "inverse": np.asarray("approximate")})
    assert atlas_mod.load_atlas(tmp_path / "approx.npz", info.id) is None


def test_saved_maps_are_the_current_version_with_their_plane(tmp_path, ae16_codes):
    codes, train, info = ae16_codes
    a = atlas_mod.build_atlas(codes, train, "pca", info.id, grid_n=8)
    atlas_mod.save_atlas(a, tmp_path / "p.npz")
    with np.load(tmp_path / "p.npz") as f:
        assert int(f["version"]) == atlas_mod.ATLAS_VERSION == 2 and "inverse" not in f.files
        assert np.array_equal(f["plane"], a.plane)
    assert (tmp_path / "p.npz").stat().st_mode & 0o777 == 0o644


def test_knn_inverse_places_new_codes_near_their_own_position(ae16_codes, ae16_tsne_atlas):
    """The other direction (codes (N, 16) -> map (N, 2)): a stored code lands on its own map
    position, k=1 snaps a slightly moved code back to it, and k=10 stays inside the map."""
    codes, _, _ = ae16_codes
    t = ae16_tsne_atlas
    xy = atlas_mod.knn_inverse(t.codes, t.embedding, codes[:5], k=10)
    assert xy.shape == (5, 2) and np.allclose(xy, t.embedding[:5], atol=1e-4)
    snap = atlas_mod.knn_inverse(t.codes, t.embedding, codes[:5] + 1e-3, k=1)
    assert np.allclose(snap, t.embedding[:5])
    far = atlas_mod.knn_inverse(t.codes, t.embedding, codes[:5] * 3, k=10)
    assert (far >= t.embedding.min(0) - 1e-9).all() and (far <= t.embedding.max(0) + 1e-9).all()


def test_knn_inverse_hits_exactly_snaps_with_k1_and_stays_in_the_hull():
    rng = np.random.default_rng(0)
    emb, codes = rng.normal(size=(300, 2)), rng.normal(size=(300, 5))
    q = rng.uniform(-4, 4, size=(700, 2))  # 700 > one 512-row chunk
    z = atlas_mod.knn_inverse(emb, codes, q, k=10)
    assert z.shape == (700, 5)
    assert np.all(z >= codes.min(0) - 1e-9) and np.all(z <= codes.max(0) + 1e-9)
    assert np.allclose(atlas_mod.knn_inverse(emb, codes, emb[:20], k=10), codes[:20], atol=1e-6)
    snap = atlas_mod.knn_inverse(emb, codes, q, k=1)
    i, _ = latent.nearest(emb, q)
    assert np.allclose(snap, codes[i])
    assert np.allclose(atlas_mod.knn_inverse(emb, codes, q, k=10_000),  # k clipped to N: all points
                       atlas_mod.knn_inverse(emb, codes, q, k=300))


def test_shipped_umap_grids_use_the_knn_inverse():
    a = _atlas("digits_vae_z16", "umap")
    assert not (a.inverse_is_exact or a.snaps) and a.grid_n == GRID_N
    assert a.grid_xy.shape == (GRID_N ** 2, 2) and a.grid_codes.shape == (GRID_N ** 2, 16)
    knn = atlas_mod.knn_inverse(a.embedding, a.codes, a.grid_xy)
    assert np.allclose(a.grid_codes, knn, atol=1e-5)
    z, node = a.code_at(*a.grid_xy[100])
    assert node == 100 and np.array_equal(z, a.grid_codes[100])
    assert a.codes_at(a.grid_xy[:7]).shape == (7, 16)


def test_pca_plane_is_exact_both_ways():
    from aecore.project import make_projector

    a = _atlas("digits_vae_z16", "pca")
    pca = make_projector("pca").fit(a.codes)
    xy = np.random.default_rng(1).normal(size=(50, 2))
    assert np.allclose(a.codes_at(xy), pca.inverse_transform(xy), atol=1e-4)
    z, _ = a.code_at(0.3, -0.2)
    assert np.allclose(z, pca.inverse_transform([[0.3, -0.2]])[0], atol=1e-4)
    placed, exact = a.project(a.codes[:40])
    assert exact and np.allclose(placed, a.embedding[:40], atol=1e-4)


@pytest.mark.parametrize("method", ["umap", "tsne"])
def test_nonlinear_maps_place_their_own_codes_on_their_points(method):
    a = _atlas("digits_vae_z16", method)
    placed, exact = a.project(a.codes[:40])
    assert not exact and np.allclose(placed, a.embedding[:40], atol=1e-4)
    path = latent.interpolate(a.codes[0], a.codes[1], 9)
    xy, _ = a.project(path)  # between two points, inside the map's extent
    assert xy.shape == (9, 2)
    assert np.all(xy >= a.embedding.min(0) - 1e-6) and np.all(xy <= a.embedding.max(0) + 1e-6)


def test_tsne_click_snaps_to_the_nearest_point():
    a = _atlas("digits_vae_z16", "tsne")
    assert a.snaps
    x, y = a.grid_xy[5]  # top row: far from the data
    i, d = a.nearest_point(x, y)
    z, _ = a.code_at(x, y)
    assert np.array_equal(z, a.codes[i]) and d > 0


def test_far_nodes_are_the_ones_far_from_the_data():
    a = _atlas("digits_vae_z2", "identity")
    far = a.far_nodes()
    assert far.shape == (GRID_N ** 2,) and 0.2 < far.mean() < 0.9
    assert a.grid_gap[far].min() > a.grid_gap[~far].max()
    assert not far[a.node_at(*a.embedding[0])]  # the node on a data point is near
