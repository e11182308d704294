"""A one-map Streamlit app for bench/pointer_latency.py: the Latent map page's own view
(``ui.mapview.render``: the in-browser map and the pinned panel) on the first N images of the
MNIST test set under one shipped model.

Settings come from the environment: ``LL_BENCH_MODEL`` (a shipped checkpoint name),
``LL_BENCH_METHOD`` (projection) and ``LL_BENCH_N`` (points).
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from aecore.data import load_dataset  # noqa: E402
from bench.click_latency import map_data  # noqa: E402
from ui import mapview, state  # noqa: E402

st.set_page_config(page_title="pointer bench", layout="wide")
state.init()


@st.cache_resource
def _md(model: str, method: str, n: int) -> mapview.MapData:
    return map_data(method, n, load_dataset("mnist", "test"), model)


md = _md(os.environ.get("LL_BENCH_MODEL", "mnist_vae_z16"),
         os.environ.get("LL_BENCH_METHOD", "pca"), int(os.environ.get("LL_BENCH_N", "10000")))
st.title(f"{len(md.test)} points")
st.fragment(mapview.render)(md)
