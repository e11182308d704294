"""Sample-the-prior page glue: random codes, their images and where they land; the manifold."""
from __future__ import annotations

import numpy as np
import streamlit as st

from aecore import latent
from aecore.checkpoints import CheckpointInfo
from aecore.errors import RequestTooLarge

from . import cache, images, latentmap, links, present, state, text

SEED = state.PRIOR_SEED
MAX_GRID = state.PRIOR_GRID.hi  # manifold grid edge offered in the UI (aecore refuses > 200)


def _resample() -> None:
    """Button callback: a new seed gives new samples."""
    st.session_state[SEED] = int(st.session_state.get(SEED, 0)) + 1


@st.fragment
def samples_view(info: CheckpointInfo, method: str) -> None:
    """Controls, a grid of decoded samples, and the samples drawn on the latent map."""
    model = cache.load_model(str(info.path), info.id)
    atlas = cache.atlas(info, method)
    test = cache.model_splits(info)[1]
    st.session_state.setdefault(SEED, 0)
    c1, c2, c3, c4 = st.columns([2, 2, 1, 1], vertical_alignment="bottom")
    kn, kt = state.PRIOR_N, state.PRIOR_TEMPERATURE
    n = c1.slider("Samples", kn.lo, kn.hi, kn.default, step=4, key=kn)
    temp = c2.slider("Temperature", kt.lo, kt.hi, kt.default, step=0.1, key=kt,
                     help="Scales the standard deviation of the Gaussian the codes are "
                          "drawn from.")
    c3.number_input("Seed", SEED.lo, SEED.hi, key=SEED)
    c4.button("Resample", on_click=_resample, icon=":material/refresh:")
    try:
        z, x = latent.sample_prior(model, n, seed=st.session_state[SEED], temperature=temp)
    except RequestTooLarge as exc:
        st.error(str(exc), icon=":material/block:")
        return
    source = ("the prior N(0, I)" if model.is_variational else
              "a Gaussian fitted to the training codes (an AE has no prior)")
    if not model.is_variational:
        st.info(text.AE_NOT_GENERATOR, icon=":material/help:")
    left, right = st.columns([1, 1], gap="medium")
    with left:
        st.image(images.tile(x, ncol=8, cell=64), width="stretch",
                 caption=f"{n} samples: z drawn from {source}, temperature {temp:.1f}")
    with right:
        xy, exact = atlas.project(z)
        latentmap.show(key="prior.map", info=info, model=model, atlas=atlas,
                       test=test, overlays=[{"name": "samples", "xy": np.round(xy, 5).tolist(),
                                             "symbol": "diamond", "size": 5}],
                       height=420, presenter=present.on())
        st.caption("Diamonds: where the samples' codes lie among the test images' codes. "
                   "Move the pointer over the map to decode any other code. "
                   + text.PLACED_NOTE[exact])
    links.sync_url("Sample the prior")


def manifold_codes(model, atlas, n: int) -> tuple[np.ndarray, str]:
    """Codes of an n x n grid over the latent space (2-D) or across the map's plane.

    Returns
    -------
    z : ndarray of shape (n * n, latent_dim), row-major from the top-left
    note_key : str
        Which construction was used (a key of ``text.MANIFOLD_NOTE``).

    Raises
    ------
    RequestTooLarge
        ``n`` above 200 (:func:`aecore.latent.grid_2d`), before anything is decoded.
    """
    if model.config.latent_dim == 2:
        if model.is_variational:
            return latent.normal_grid_2d(n), "vae2"
        lo, hi = atlas.codes.min(0), atlas.codes.max(0)
        return latent.grid_2d(lo[0], hi[0], lo[1], hi[1], n), "ae2"
    lo, hi = atlas.embedding.min(0), atlas.embedding.max(0)
    note = ("proj" if atlas.inverse_is_exact else "proj_snap" if atlas.snaps else "proj_knn")
    return atlas.codes_at(latent.grid_2d(lo[0], hi[0], lo[1], hi[1], n)), note


def manifold_view(info: CheckpointInfo, method: str, n: int | None = None) -> None:
    """Decode a regular n x n grid of codes and show it as one tiled image.

    ``n`` comes from a slider (5 to ``MAX_GRID``) unless given; a grid too large to decode is
    refused with ``st.error`` before any work starts.
    """
    model = cache.load_model(str(info.path), info.id)
    atlas = cache.atlas(info, method)
    if n is None:
        k = state.PRIOR_GRID
        n = st.slider("Grid size (n × n images)", k.lo, MAX_GRID, k.default, key=k)
    try:
        z, note = manifold_codes(model, atlas, n)
        x = latent.decode(model, z)
    except RequestTooLarge as exc:
        st.error(str(exc), icon=":material/block:")
        return
    h = x.shape[-1]  # cells a whole multiple of the image size keep every pixel square
    st.image(images.tile(x, ncol=n, cell=max(h, 560 // n // h * h), pad=1), width="content",
             caption=text.MANIFOLD_NOTE[note])
