"""Each lesson's words against its picture: what a lesson link says must be what the page shows.

The pages run under AppTest with the lesson's own parameters; the checks read the data the
page drew (the map component's JSON, the chart specs, the captions).
"""
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from streamlit.testing.v1 import AppTest

from aecore import checkpoints, load_dataset
from tests import mapspec
from ui import links

ROOT = Path(__file__).resolve().parents[1]


def _lesson(title_start: str) -> links.Lesson:
    return next(les for les in links.LESSONS if les.title.startswith(title_start))


def _run(lesson: links.Lesson, timeout: float = 120) -> AppTest:
    at = AppTest.from_file(str(ROOT / lesson.page), default_timeout=timeout)
    at.query_params.update(lesson.params)
    return at.run()


@lru_cache(maxsize=2)
def _classifier(dataset: str) -> LogisticRegression:
    """A pixel classifier trained on the dataset's training split (0.97 on digits' test split)."""
    train = load_dataset(dataset, "train")
    return LogisticRegression(max_iter=2000).fit(train.x.reshape(len(train), -1).numpy(),
                                                 train.y.numpy())


def test_morph_lesson_end_frames_show_the_digits_its_title_names():
    lesson = _lesson("Morph a 3 into an 8")
    at = _run(lesson)
    assert not at.exception
    z = np.asarray(mapspec.map_data(at, "interp.chart")["path"]["z"], dtype=np.float32)
    model, _ = checkpoints.load(checkpoints.SHIPPED_DIR / f"{lesson.params['model']}.safetensors")
    with torch.no_grad():
        frames = model.decode(torch.from_numpy(z[[0, -1]])).numpy()  # (2, 1, 8, 8)
    clf = _classifier(lesson.params["dataset"])
    proba = clf.predict_proba(frames.reshape(2, -1))
    assert proba.argmax(1).tolist() == [3, 8], proba.round(2)
    assert proba[0, 3] >= 0.9 and proba[1, 8] >= 0.9  # measured 0.99 and 0.98


def test_ae_vs_vae_text_says_what_the_scoreboard_shows():
    at = AppTest.from_file(str(ROOT / "pages" / "5_AE_vs_VAE.py"), default_timeout=180).run()
    assert not at.exception
    board = at.dataframe[0].value
    row = board[board["metric"] == "Hole rate"].iloc[0]
    ae, vae = float(row["digits_ae_z2"]), float(row["digits_vae_z2"])
    assert ae > vae  # measured 0.46 vs 0.21
    verdict = next(m.value for m in at.markdown if m.value.startswith("**Holes:**"))
    assert f"{vae:.2f} (" in verdict and f"{ae:.2f} (" in verdict
    assert verdict.index("digits_vae_z2") < verdict.index("digits_ae_z2")  # fewer holes first
    assert not any("random codes decode to blots" in m.value for m in at.markdown)  # a promise
    for v in board.select_dtypes("number").to_numpy().ravel():  # one rounding everywhere
        assert round(float(v), 2) == float(v)


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def test_beta_lesson_lands_on_the_slider_and_draws_the_sweep_on_one_scale():
    at = _run(_lesson("β trades"))
    assert not at.exception
    order = [getattr(n, "key", None) for n in _walk(at.main)]
    # the β slider and its map come before the side-by-side maps (the page opens on them)
    assert order.index("cmp.beta") < order.index("cmp.map.left"), order[:20]
    assert any(h.proto.anchor == "beta" for h in at.subheader)
    view4 = mapspec.map_data(at, "cmp.beta.map")["view"]
    at.select_slider(key="cmp.beta").set_value(0.1).run()
    assert mapspec.map_data(at, "cmp.beta.map")["view"] == view4  # one scale for every β


def _array(v) -> np.ndarray:
    """A Plotly spec's array: a list, or ``{"dtype", "bdata"}`` (base64 of the raw values)."""
    import base64

    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).astype(float)
    return np.asarray(v, float)


def test_denoising_caption_and_chart_agree_for_every_noise_kind():
    import plotly.io as pio

    at = AppTest.from_file(str(ROOT / "pages" / "7_Denoising.py"), default_timeout=120).run()
    assert not at.exception
    shown = {"gaussian": "Gaussian", "salt_pepper": "salt and pepper", "masking": "masking"}
    assert at.selectbox(key="den.kind").options == list(shown.values())  # no raw names
    for kind in shown:
        at.selectbox(key="den.kind").set_value(kind).run()
        assert not at.exception
        chart = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("den.curve")
                     or "den.curve" in c.proto.id)
        fig = pio.from_json(chart.proto.spec)
        series = {tr.name: _array(tr.y) for tr in fig.data}
        assert all(len(y) == 16 and np.isfinite(y).all() for y in series.values()), kind
        caption = next(c.value for c in at.caption if c.value.startswith("PSNR over the test"))
        dotted = bool(fig.layout.shapes)
        assert ("dotted line" in caption) == dotted == (kind == "gaussian"), (kind, caption)
        noisy, plain, dae = series["noisy input"], series["plain AE"], series["denoising AE"]
        if (noisy < np.minimum(plain, dae)).all():
            assert "at every level shown" in caption, (kind, caption)
        else:
            assert "the noisy input itself beats" in caption, (kind, caption)
        assert ("beats the plain AE at every level" in caption) == bool((dae > plain).all())
        assert shown[kind] in caption or shown[kind].lower() in caption


def test_switching_projection_drops_an_empty_space_pick_and_the_diagram_is_shown_once():
    from ui import state

    at = AppTest.from_file(str(ROOT / "pages" / "1_Latent_map.py"), default_timeout=120)
    at.query_params.update({"model": "digits_ae_z16", "proj": "pca", "pick": "g1,1"})
    at.run()
    assert not at.exception and at.session_state[state.MAP_PICK]["kind"] == "grid"
    at.selectbox(key=state.widget_key(state.PROJECTION)).set_value("tsne").run()
    assert not at.exception
    assert at.session_state[state.MAP_PICK] is None  # (1, 1) on PCA is elsewhere on t-SNE
    diagrams = [c for c in at.get("plotly_chart") if "diagram" in c.proto.id]
    assert len(diagrams) == 1, [c.proto.id for c in diagrams]  # beside the formulas only
    assert not at.sidebar.get("plotly_chart")
    # the copy-link dialog does not promise an icon that is only there on hover
    from ui import text

    assert "point at the box" in text.LESSON_LINK and "Or select the" in text.LESSON_LINK
