"""AppTest of the home page and the latent map page (clicks simulated through the session key
that the chart's on_select callback fills in the browser)."""
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests import mapspec

from aecore import checkpoints
from aecore.data import load_dataset

ROOT = Path(__file__).resolve().parents[1]
MAP_PAGE = str(ROOT / "pages" / "1_Latent_map.py")


def _captions(at) -> list[str]:
    """Captions of every st.image on the page."""
    return [c for img in at.get("image") for c in _img_captions(img)]


def _img_captions(img) -> list[str]:
    """Captions of one image element (AppTest exposes the proto)."""
    return [i.caption for i in img.proto.imgs]


def _n(arr) -> int:
    """Length of a Plotly JSON array, plain or base64-typed ({"dtype", "bdata"})."""
    if isinstance(arr, dict):
        import base64

        return len(base64.b64decode(arr["bdata"])) // np.dtype(arr["dtype"]).itemsize
    return len(arr)


def test_home_page_renders_and_links_every_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "Latent Lab"
    text = " ".join(m.value for m in at.markdown)
    assert "encoder" in text and "decoder" in text and "bottleneck" in text
    links = [e for e in at.get("page_link")]
    assert len(links) >= 2  # sidebar Home + at least the latent map page


def test_latent_map_first_render_shows_all_test_points():
    at = AppTest.from_file(MAP_PAGE, default_timeout=60).run()
    assert not at.exception
    data = mapspec.map_data(at, "map.chart")
    assert data["pins"] is True and data["pick"] is None
    sent = mapspec.blobs(at)
    head, arrays = sent[data["map"]]
    assert arrays["labels"].size == 360  # the digits test split
    assert head["inverse"] == "plane" and head["grid"]["n"] == 64
    assert arrays["far"].size == 64 * 64 and 0 < arrays["far"].mean() < 1
    assert sent[data["decoder"]][0]["output_shape"] == [1, 8, 8]
    assert not at.get("image")  # nothing picked yet: no images
    assert any("Move the pointer" in i.value for i in at.info)
    # a rerun (e.g. a pin) sends neither blob again: the browser keeps them
    at.session_state["map.pick"] = {"kind": "point", "index": 3}
    at.run()
    assert not mapspec.blobs(at) and mapspec.map_data(at)["pick"]["index"] == 3


def test_click_on_point_shows_original_reconstruction_and_error():
    at = AppTest.from_file(MAP_PAGE, default_timeout=60)
    at.session_state["map.pick"] = {"kind": "point", "index": 3}
    at.run()
    assert not at.exception
    caps = _captions(at)
    assert caps[:3] == ["original x", "reconstruction x̂", "|x − x̂|"]
    assert any("Image 3" in m.value for m in at.markdown)
    assert at.metric[0].label == "Reconstruction error"
    assert at.metric[0].value.endswith("nats")
    # a second pick of another point changes what the page shows
    at.session_state["map.pick"] = {"kind": "point", "index": 100}
    at.run()
    assert any("Image 100" in m.value for m in at.markdown)


def test_click_on_empty_space_decodes_and_warns_about_holes():
    at = AppTest.from_file(MAP_PAGE, default_timeout=60)
    at.session_state["map.pick"] = {"kind": "grid", "x": 3.0, "y": 3.0}  # far from all codes
    at.run()
    assert not at.exception
    assert "decoder(z)" in _captions(at)
    assert any("hole" in w.value for w in at.warning)
    at.session_state["map.pick"] = {"kind": "grid", "x": -1.4, "y": 0.0}  # among the 0s
    at.run()
    assert not at.warning and at.success


def test_model_choice_persists_and_16d_model_uses_a_projection():
    at = AppTest.from_file(MAP_PAGE, default_timeout=60).run()
    path16 = str(checkpoints.SHIPPED_DIR / "digits_ae_z16.safetensors")
    at.selectbox(key="w.side.model").select(path16).run()
    assert not at.exception
    assert at.session_state["side.model"] == path16
    assert at.session_state["side.projection"] == "pca"
    assert any("PCA inverse" in c.value for c in at.caption)


def test_pick_out_of_range_is_ignored():
    at = AppTest.from_file(MAP_PAGE, default_timeout=60)
    at.session_state["map.pick"] = {"kind": "point", "index": 10_000}
    at.run()
    assert not at.exception and not at.get("image")


def test_a_lesson_link_to_an_image_the_map_lacks_says_so():
    at = AppTest.from_file(MAP_PAGE, default_timeout=60)
    at.query_params["pick"] = "p5000"
    at.run()
    assert not at.exception
    assert any("image 5000 is not on this map" in w.value for w in at.warning)
    assert mapspec.map_data(at)["pick"] is None  # nothing ringed, nothing decoded


@pytest.mark.parametrize("name", ["digits_ae_z2", "digits_vae_z2"])
def test_the_hole_message_and_the_shading_use_one_criterion(name):
    """A pinned spot's message and the map's shading of that spot come from the same
    hole_score (aecore.metrics), for a far corner and for a spot among the data."""
    from aecore import metrics
    from aecore.atlas import atlas_path, load_atlas

    info = checkpoints.read_info(checkpoints.SHIPPED_DIR / f"{name}.safetensors")
    atlas = load_atlas(atlas_path(info, "identity"), info.id)
    spots = [tuple(atlas.grid_xy[0]), tuple(atlas.embedding[0])]  # far corner, on an image
    for x, y in spots:
        at = AppTest.from_file(MAP_PAGE, default_timeout=60)
        at.session_state["side.model"] = str(info.path)
        at.session_state["map.pick"] = {"kind": "grid", "x": float(x), "y": float(y)}
        at.run()
        assert not at.exception
        data = mapspec.map_data(at)
        head, arrays = mapspec.blobs(at)[data["map"]]
        shaded = bool(arrays["far"][atlas.node_at(x, y)])
        hole = bool(at.warning) and "A hole" in at.warning[0].value
        assert hole != bool(at.success) and (hole or "Not a hole" in at.success[0].value)
        # the cell under the spot is shaded exactly when the message calls it a hole
        # (the cell's code is the grid node's; the spot's is exact: compare like for like)
        node_code = atlas.grid_codes[atlas.node_at(x, y)]
        codes = metrics.decoder_codes(
            checkpoints.load(info.path)[0], load_dataset("digits", "train").x, seed=0)
        node_hole = metrics.hole_score(node_code, codes)[0] > metrics.HOLE_THRESHOLD
        assert shaded == node_hole
        assert head["shade_label"].startswith("hole")
    assert (x, y) == spots[-1] and not hole  # the spot on an image is no hole
