import numpy as np
import pytest
from sklearn.base import clone
from sklearn.manifold import trustworthiness

from aecore.errors import NotFittedError
from aecore.project import PROJECTORS, Projector, make_projector, methods_for

SHIPPED = ["digits_ae_z2", "digits_vae_z2", "digits_ae_z16", "digits_vae_z16"]
# UMAP compiles with numba on first use (~30 s per process): its contract test is slow
METHODS = [pytest.param(m, marks=pytest.mark.slow) if m == "umap" else m for m in PROJECTORS]


def _codes(d=5, n=80, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


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
    assert proj.pca_.mean_.shape == (6,) and proj.pca_.components_.shape == (2, 6)
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
