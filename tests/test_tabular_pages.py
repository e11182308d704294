"""AppTest of the Tabular and Semi-supervised pages (their words against the numbers they
show), and of every page with the tabular model selected: each works or says it shows images
only, none fails."""
import base64
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from streamlit.testing.v1 import AppTest

from aecore import checkpoints, latent, semisup
from tests import mapspec
from ui import text
from aecore.data import load_dataset
from aecore.tabular import feature_errors, feature_names

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))
WORKS_WITH_TABLES = {"1_Latent_map.py", "4_Train.py", "14_Tabular.py",
                     # lessons on their own shipped digits models, whatever the sidebar holds
                     "12_Activations.py", "13_Deep_AE.py"}
TAB = {"dataset": "breast-cancer", "model": "breast_cancer_ae_z2"}


def _run(page: str, params: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=240)
    at.query_params.update(params)
    return at.run()


def _arr(a) -> np.ndarray:
    """A Plotly JSON array, plain or base64-typed ({"dtype", "bdata"})."""
    if isinstance(a, dict):
        return np.frombuffer(base64.b64decode(a["bdata"]), dtype=np.dtype(a["dtype"]))
    return np.asarray(a, float)


def _md(at) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_with_the_tabular_model_works_or_says_it_shows_images(page):
    at = _run(page, {} if page == "14_Tabular.py" else TAB)
    assert not at.exception, page
    images_only = [i.value for i in at.info if "a table of feature vectors" in i.value]
    assert bool(images_only) == (page not in WORKS_WITH_TABLES), page


def test_tabular_page_words_match_its_numbers():
    at = _run("14_Tabular.py", {"case": "23"})
    assert not at.exception
    model, _ = checkpoints.load(checkpoints.SHIPPED_DIR / "breast_cancer_ae_z2.safetensors")
    train, test = load_dataset("breast-cancer", "train"), load_dataset("breast-cancer", "test")
    errs = latent.reconstruction_errors(model, test.x)
    y = test.y.numpy()
    auc = roc_auc_score(y == 0, errs)  # measured 0.921
    thr = float(np.quantile(latent.reconstruction_errors(model, train.x[train.y == 1]), 0.95))
    md = _md(at)
    assert f"ROC-AUC is **{auc:.3f}**" in md and at.metric[0].value == f"{auc:.3f}"
    assert f"threshold **{thr:.1f}**" in md
    tp, fp = int(((errs > thr) & (y == 0)).sum()), int(((errs > thr) & (y == 1)).sum())
    assert f"flags **{tp}** of the 64 malignant" in md and f"**{fp}** of the 107 benign" in md
    # the case the link opens: its three worst features, by name, in the words
    fe = feature_errors(model, test.x)[23]
    names = feature_names("breast-cancer")
    worst = [names[j] for j in np.argsort(-fe)[:3]]
    line = next(m.value for m in at.markdown if m.value.startswith("Case 23"))
    assert "malignant" in line and all(f"**{w}**" in line for w in worst), line
    assert line.index(worst[0]) < line.index(worst[1]) < line.index(worst[2])


def test_semi_supervised_page_words_match_its_plot():
    at = _run("15_Semi_supervised.py", {"dataset": "digits", "model": "digits_vae_z16",
                                        "labels": "10"})
    assert not at.exception
    model, _ = checkpoints.load(checkpoints.SHIPPED_DIR / "digits_vae_z16.safetensors")
    # draws are seeded per (seed, n): n = 10 alone gives the page's numbers at 10
    r = semisup.accuracy_vs_labels(model, load_dataset("digits", "train"),
                                   load_dataset("digits", "test"), labels_per_class=(10,),
                                   repeats=10, seed=0)
    md = _md(at)
    line = next(m.value for m in at.markdown if m.value.startswith("With **10 labels"))
    for f in ("latent", "pixels", "pca"):
        assert f"**{r.at(10, f):.1%}**" in line, (f, line)
    best = max(semisup.FEATURES, key=lambda f: r.at(10, f))
    assert line.endswith(text.SEMISUP_VERDICT[best])
    assert best != "latent"  # measured: PCA 0.911, pixels 0.906, mu 0.862
    # the plot draws the same means, and the map overlays the 100 labelled images
    traces = json.loads(at.get("plotly_chart")[-1].proto.spec)["data"]
    y = next(_arr(t["y"]) for t in traces if t["name"] == "latent code")
    assert len(y) == 5 and np.isclose(y[2], r.at(10, "latent"))  # ticks 1, 5, 10, 50, all
    overlays = mapspec.map_data(at, "semi.map")["overlays"]
    assert sum(len(o["xy"]) for o in overlays) == 100 and len(overlays) == 10
    assert "100 labelled training images" in " ".join(c.value for c in at.caption)
    assert "M1" in md
