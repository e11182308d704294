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
