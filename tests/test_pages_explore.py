"""AppTest of the Interpolate and Sample-the-prior pages, driven through session keys."""
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from aecore import checkpoints, latent
from ui import images, interp, prior

ROOT = Path(__file__).resolve().parents[1]


def _page(name):
    return AppTest.from_file(str(ROOT / "pages" / name), default_timeout=60)


def _anim_frames(chart) -> int:
    return len(json.loads(chart.proto.spec)["frames"])


def test_interpolation_animates_the_chosen_pair():
    at = _page("2_Interpolate.py")
    at.session_state["interp.a"] = 5
    at.session_state["interp.b"] = 17
    at.run()
    assert not at.exception
    anim = [c for c in at.get("plotly_chart") if json.loads(c.proto.spec).get("frames")]
    assert len(anim) == 1 and _anim_frames(anim[0]) == 12  # default 12 steps
    assert any("filmstrip" in i.caption for img in at.get("image") for i in img.proto.imgs)
    assert any("A = image 5" in c.value for c in at.caption)
    at.slider(key="interp.steps").set_value(30).run()
    anim = [c for c in at.get("plotly_chart") if json.loads(c.proto.spec).get("frames")]
    assert _anim_frames(anim[0]) == 30


def test_interpolation_compares_two_models():
    at = _page("2_Interpolate.py")
    at.session_state["interp.other"] = str(checkpoints.SHIPPED_DIR / "digits_ae_z2.safetensors")
    at.run()
    assert not at.exception
    anims = [c for c in at.get("plotly_chart") if json.loads(c.proto.spec).get("frames")]
    assert len(anims) == 3  # the main one, then both models side by side


def test_path_frames_start_and_end_at_the_reconstructions(digits):
    model, _ = checkpoints.load(checkpoints.SHIPPED_DIR / "digits_vae_z2.safetensors")
    za, zb = latent.encode(model, digits[1].x[[0, 1]])
    z, frames = interp.path_frames(model, za, zb, 9, "slerp")
    assert z.shape == (9, 2) and frames.shape == (9, 1, 8, 8)
    rec = model.reconstruct(digits[1].x[[0, 1]]).detach().numpy()
    assert np.allclose(frames[0], rec[0], atol=1e-5) and np.allclose(frames[-1], rec[1], atol=1e-5)


def test_gif_has_one_frame_per_step_and_back():
    frames = np.random.default_rng(0).random((6, 1, 8, 8)).astype(np.float32)
    gif = Image.open(io.BytesIO(images.to_gif(frames, size=32)))
    assert gif.format == "GIF" and gif.n_frames == 6 + 4  # forward, then back without ends


def test_sample_prior_page_shows_samples_and_manifold():
    at = _page("3_Sample_prior.py").run()
    assert not at.exception
    caps = [i.caption for img in at.get("image") for i in img.proto.imgs]
    assert any("32 samples" in c and "N(0, I)" in c for c in caps)
    assert any("inverse normal CDF" in c for c in caps)
    before = at.get("image")[0].proto.imgs[0].url
    at.button[0].click().run()  # Resample: new seed, new images
    assert at.session_state["prior.seed"] == 1
    assert at.get("image")[0].proto.imgs[0].url != before


def test_ae_samples_come_from_fitted_gaussian_and_16d_manifold_uses_the_map():
    at = _page("3_Sample_prior.py")
    at.session_state["side.model"] = str(checkpoints.SHIPPED_DIR / "digits_ae_z16.safetensors")
    at.run()
    assert not at.exception
    caps = [i.caption for img in at.get("image") for i in img.proto.imgs]
    assert any("fitted to the training codes" in c for c in caps)
    assert any("no generator" in i.value for i in at.info)
    assert any("map's plane" in c for c in caps)


def test_manifold_codes_shapes():
    from aecore.atlas import load_atlas, atlas_path

    for name, n, note in (("digits_vae_z2", 7, "vae2"), ("digits_ae_z2", 5, "ae2"),
                          ("digits_vae_z16", 6, "proj")):
        model, info = checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")
        method = "identity" if model.config.latent_dim == 2 else "pca"
        a = load_atlas(atlas_path(info, method), info.id)
        z, got = prior.manifold_codes(model, a, n)
        assert z.shape == (n * n, model.config.latent_dim) and got == note


def test_huge_requests_are_refused_before_work():
    from aecore.errors import RequestTooLarge

    model, _ = checkpoints.load(checkpoints.SHIPPED_DIR / "digits_vae_z2.safetensors")
    with pytest.raises(RequestTooLarge):
        latent.sample_prior(model, 10**6)
    with pytest.raises(RequestTooLarge):
        latent.grid_2d(0, 1, 0, 1, 10_000)
