"""Students' drawings on the class map, without a browser: a drawing lands at the class
model's encoder mean (and at its PCA projection for a 16-D model); the lecturer's Classroom
page (AppTest) draws it as a star, says how many it shows, hides and clears; the Draw your own
page offers Send only to a student in a class on the pad's dataset."""
from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from aecore import checkpoints
from aecore.atlas import atlas_path, load_atlas
from aecore.data import load_dataset
from services.classdraw import Drawing, DrawStore
from services.classroom import ClassStore, default_db
from tests import mapspec
from ui import cache, classdraw, text
from ui.plaintext import escape_md

ROOT = Path(__file__).resolve().parents[1]
CLASSROOM = str(ROOT / "pages" / "9_Classroom.py")
DRAW = str(ROOT / "pages" / "17_Draw_your_own.py")


def _md(name: str, method: str):
    """What ``classdraw.place`` reads of a map: the model, its dataset, its atlas."""
    path = checkpoints.SHIPPED_DIR / f"{name}.safetensors"
    info = checkpoints.read_info(path)
    model, _ = checkpoints.load(path)
    atlas = load_atlas(atlas_path(info, method), info.id)
    assert atlas is not None
    return SimpleNamespace(model=model, info=info, atlas=atlas)


def _as_drawing(x: np.ndarray, dataset="digits", id_=1) -> Drawing:
    """A test image (1, H, W) in [0, 1] as a student's drawing: rounded to 0..255."""
    px = np.round(np.asarray(x)[0] * 255).astype(np.uint8)
    return Drawing(id_, "ABCDE", "s1", "Ada", 0.0, dataset, px)


def test_a_drawing_is_placed_at_the_encoders_mu_and_at_its_pca_projection():
    test = load_dataset("digits", "test")
    md = _md("digits_vae_z2", "identity")
    d = _as_drawing(test.x[7].numpy())
    (p,) = classdraw.place(md, [d])
    with torch.no_grad():
        mu, _ = md.model.encode(torch.from_numpy(d.pixels[None, None] / 255.0).float())
    assert (p.x, p.y) == pytest.approx(mu[0].tolist(), abs=1e-5)  # 2-D latent: the map is z
    # a 16-D AE on its PCA map: the drawing of test image i lands where image i lies
    md16 = _md("digits_ae_z16", "pca")
    placed = classdraw.place(md16, [_as_drawing(test.x[i].numpy(), id_=i) for i in (0, 5, 99)])
    got = np.array([[p.x, p.y] for p in placed])
    span = np.ptp(md16.atlas.embedding, axis=0).max()
    assert np.abs(got - md16.atlas.embedding[[0, 5, 99]]).max() < 0.01 * span
    assert placed[0].z.shape == (16,)
    # a drawing made for another dataset (28x28) is not placed on a digits map
    other = Drawing(9, "ABCDE", "s1", "", 0.0, "mnist", np.zeros((28, 28), np.uint8))
    assert classdraw.place(md, [other]) == []
    ov = classdraw.overlays(placed)
    assert ov[0]["symbol"] == "star" and ov[0]["text"] == ["D1", "D2", "D3"]
    assert ov[0]["xy"] == [[round(v, 4) for v in xy] for xy in got.tolist()]


def _stars(at) -> list[list[float]]:
    return next((o["xy"] for o in mapspec.map_data(at, "class.map")["overlays"]
                 if o["name"] == "class drawings"), [])


def test_the_lecturers_map_shows_hides_and_clears_the_drawings():
    at = AppTest.from_file(CLASSROOM, default_timeout=60).run()
    next(b for b in at.button if b.label.startswith("Start a class")).click().run()
    assert not at.exception
    code, token = at.session_state["class.code"], at.session_state["class.token"]
    assert _stars(at) == [] and any("**0** drawings shown" in m.value for m in at.markdown)
    store = ClassStore(default_db())  # a student's server thread: another store object
    draws = DrawStore(store)
    store.join(code, "s1", "<b>Ada</b>")
    x = load_dataset("digits", "test").x[3].numpy()
    d = draws.send(code, "s1", "digits", np.round(x[0] * 255).astype(np.uint8),
                   name="<b>Ada</b>")
    at.run()
    assert not at.exception
    (xy,) = _stars(at)
    model, _ = checkpoints.load(checkpoints.SHIPPED_DIR / "digits_vae_z2.safetensors")
    with torch.no_grad():
        mu, _ = model.encode(torch.from_numpy(d.image()[None]))
    assert xy == pytest.approx(mu[0].tolist(), abs=1e-4)
    assert any("**1** drawing shown" in m.value for m in at.markdown)
    caps = [i.caption for img in at.get("image") for i in img.proto.imgs if i.caption]
    assert "D1. <b>Ada</b>" in caps  # the name as plain text (an image caption)
    at.toggle(key="class.draw.show").set_value(False).run()
    assert not at.exception and _stars(at) == [] and draws.status(code) == (1, True)
    assert any("Drawings hidden" in m.value for m in at.markdown)
    at.toggle(key="class.draw.show").set_value(True).run()
    assert len(_stars(at)) == 1 and draws.status(code) == (1, False)
    next(b for b in at.button if b.label == "Clear drawings").click().run()
    assert not at.exception and _stars(at) == [] and draws.status(code) == (0, False)
    store.close(code, token)


def _pad(at) -> dict:
    return json.loads(next(c for c in at.get("bidi_component") if c.key == "draw").proto.json)


def test_the_pad_offers_send_only_to_a_student_in_a_class_on_its_dataset():
    at = AppTest.from_file(DRAW, default_timeout=60).run()  # no class: how to join
    assert not at.exception and _pad(at)["send"] is None
    assert any(text.DRAW_SEND_JOIN in c.value for c in at.caption)
    store = ClassStore(default_db())
    code, token = store.open_class({"dataset": "digits", "model_id": "x"})
    store.join(code, "s9")
    at = AppTest.from_file(DRAW, default_timeout=60)
    for k, v in {"class.role": "student", "class.code": code, "class.student": "s9"}.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception
    send = _pad(at)["send"]
    assert send["label"] == "Send to the class map" and send["status"] == ""
    assert any(f"class **{code}**" in c.value and "8 × 8 pixels" in c.value for c in at.caption)
    code2, _ = store.open_class({"dataset": "mnist", "model_id": "y"})  # a class on MNIST
    at.session_state["class.code"] = code2
    at.run()
    assert _pad(at)["send"] is None
    assert any("**mnist**" in i.value for i in at.info)
    store.close(code, token)


def _send_script():
    """A page that runs the pad's send callback on the value in ``fake.pad``."""
    from ui import classdraw

    classdraw.on_send("fake.pad", "digits")
    classdraw.send_outcome()


def test_the_send_callback_stores_the_pixels_and_says_why_a_send_is_refused(monkeypatch):
    # the server's one draw store (the AppTest runs in this process), its time frozen: the
    # second send below comes 0 s after the first, however slow the machine
    now = time.time()
    monkeypatch.setattr(cache.draw_store().classes, "_clock", lambda: now)
    store = ClassStore(default_db())
    code, token = store.open_class({"dataset": "digits", "model_id": "x"})
    store.join(code, "s7", "Ada")
    px = list(range(0, 256, 4))  # 64 grey values
    at = AppTest.from_function(_send_script, default_timeout=30)
    for k, v in {"class.role": "student", "class.code": code, "class.student": "s7",
                 "class.name": "Ada", "fake.pad": {"send": {"pixels": px, "seq": 1}}}.items():
        at.session_state[k] = v
    at.run()
    assert [s.value for s in at.success] == [escape_md("Sent: your drawing is on the "
                                                       "lecturer's map.")]
    (d,) = DrawStore(store).drawings(code)
    assert d.pixels.ravel().tolist() == px and d.name == "Ada" and d.student == "s7"
    at.session_state["fake.pad"] = {"send": {"pixels": px, "seq": 2}}
    at.run()  # at once: at most one drawing every 5 s
    assert [w.value for w in at.warning] == [escape_md("Not sent: wait 5 s before sending "
                                                       "another drawing.")]
    assert at.session_state["draw.sent"][2] == 2  # the pad's seq: the pad is told
    at.session_state["fake.pad"] = {"send": {"pixels": px[:-1], "seq": 3}}
    at.run()  # 63 values: the pad's shape is checked before anything else
    assert at.error and "exactly 64 pixels" in at.error[0].value
    at.session_state["fake.pad"] = {"send": {"pixels": px, "seq": 4}}
    at.session_state["class.student"] = "s8"  # a student the lecturer removed (or never in)
    at.run()
    assert at.error and "the class has ended or you left it" in at.error[0].value
    store.close(code, token)
    at.session_state["class.student"] = "s9"
    at.run()
    assert at.error and "no class with code" in at.error[0].value
    assert not at.exception
