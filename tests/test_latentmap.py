"""The Python side of the in-browser latent map: pins from the browser are validated, and the
blobs it is sent hold what the map and the decoder need (no browser here)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from aecore import checkpoints
from aecore.atlas import atlas_path, load_atlas
from aecore.data import load_dataset
from aecore.export import decoder_program, run_program
from ui import blob, latentmap, state

EXT = (-2.0, 2.0, -1.0, 3.0)


@pytest.mark.parametrize("raw, want", [
    ({"kind": "point", "index": 7, "seq": 3}, {"kind": "point", "index": 7}),
    ({"kind": "grid", "x": 0.5, "y": 2.5}, {"kind": "grid", "x": 0.5, "y": 2.5}),
    ({"kind": "grid", "x": 1, "y": -1}, {"kind": "grid", "x": 1.0, "y": -1.0}),
])
def test_valid_pins_pass(raw, want):
    assert latentmap.clean_pin(raw, 360, EXT) == want


@pytest.mark.parametrize("raw", [
    None, "p7", [1, 2], {}, {"kind": "point"}, {"kind": "point", "index": 360},
    {"kind": "point", "index": -1}, {"kind": "point", "index": "7"},
    {"kind": "point", "index": 7.0},
    {"kind": "point", "index": True}, {"kind": "grid", "x": 1e6, "y": -1e6},  # off the map
    {"kind": "grid", "x": math.nan, "y": 0}, {"kind": "grid", "x": math.inf, "y": 0},
    {"kind": "grid", "x": "abc", "y": 0}, {"kind": "grid", "x": [1], "y": 0},
    {"kind": "grid", "x": 0}, {"kind": "lasso", "x": 0, "y": 0},
])
def test_forged_pins_are_refused(raw):
    assert latentmap.clean_pin(raw, 360, EXT) is None


def test_map_blob_carries_points_labels_and_the_inverse():
    info = checkpoints.read_info(checkpoints.SHIPPED_DIR / "digits_vae_z16.safetensors")
    test = load_dataset("digits", "test")
    for method, kind, extra in (("pca", "plane", "plane"), ("umap", "grid", "grid"),
                                ("tsne", "snap", "codes")):
        atlas = load_atlas(atlas_path(info, method), info.id)
        head, arrays = blob.unpack(latentmap.map_blob_bytes(atlas, test, f"map:{method}"))
        assert head["inverse"] == kind and head["latent_dim"] == 16
        assert arrays["xy"].reshape(-1, 2).shape == (360, 2)
        np.testing.assert_allclose(arrays["xy"].reshape(-1, 2), atlas.embedding, atol=1e-5)
        np.testing.assert_array_equal(arrays["labels"], test.y.numpy())
        assert extra in arrays and arrays["far"].size == atlas.grid_n ** 2
        g = head["grid"]
        assert g["x0"] < g["x1"] and g["y0"] < g["y1"]


def test_plane_in_the_blob_inverts_pca_like_the_atlas():
    info = checkpoints.read_info(checkpoints.SHIPPED_DIR / "digits_ae_z16.safetensors")
    atlas = load_atlas(atlas_path(info, "pca"), info.id)
    _, arrays = blob.unpack(latentmap.map_blob_bytes(atlas, load_dataset("digits", "test"), "m"))
    origin, u, v = arrays["plane"].reshape(3, 16)
    xy = atlas.grid_xy[[0, 100, 2000]]
    z_js = origin + xy[:, :1] * u + xy[:, 1:] * v  # what latentmap.js computes
    np.testing.assert_allclose(z_js, atlas.codes_at(xy), atol=1e-4)


def test_decoder_blob_is_the_exported_program():
    model, info = checkpoints.load(checkpoints.SHIPPED_DIR / "mnist_convvae_z16.safetensors")
    head, arrays = blob.unpack(latentmap.decoder_blob_bytes(model, info.id))
    prog = decoder_program(model)
    assert head["id"] == f"dec:{info.id}" and head["output_shape"] == [1, 28, 28]
    assert [o["op"] for o in head["ops"]] == [o["op"] for o in prog.ops]
    np.testing.assert_array_equal(arrays["weights"], prog.weights)
    z = np.zeros((1, 16), np.float32)
    assert run_program(prog, z).shape == (1, 1, 28, 28)


def test_a_browser_may_ask_for_the_blobs_again_only_a_few_times_a_minute(monkeypatch):
    ss = {latentmap.SENT: {"dec:a", "map:a"}, "m": {"need": ["lib"]}}
    monkeypatch.setattr(latentmap.st, "session_state", ss)
    for _ in range(latentmap.MAX_RESENDS):
        latentmap._on_need("m")
        assert ss[latentmap.SENT] == set()  # resent on the next run
        ss[latentmap.SENT].update({"dec:a", "map:a"})
    latentmap._on_need("m")  # one more within the minute: refused
    assert ss[latentmap.SENT] == {"dec:a", "map:a"}
    ss["m"] = {"need": "not a list"}
    ss.pop(state.MAP_RESENDS)
    latentmap._on_need("m")
    assert ss[latentmap.SENT] == {"dec:a", "map:a"}
