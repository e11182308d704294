"""Server-side time from a pin on the latent map to the finished panel beside it.

Prints numbers; asserts nothing. Target (issue 4): median under 35 ms at 10,000 points.
What the student sees in the browser (pointer decoding, pin -> panel) is measured by
``bench/pointer_latency.py``.

What is timed, per pin: what the map's trigger callback does (``ui.latentmap.clean_pin`` and
the pick stored), then the body of the ``@st.fragment`` that Streamlit reruns
(``ui.mapview.render``): the map element's small JSON (the blobs went once, before), and the
panel (decode or reconstruct, nearest training code, image encoding, the reconstruction
error). Streamlit runs in bare mode here, so the elements are built and serialised exactly as
on a server, but not sent; the websocket and the browser's drawing are not included. Pins
alternate between a random data point and a random grid node.

The fragment also fetches the model, data, map and errors from ``ui.cache`` (cache hits after
the first click); that part is timed separately, on a shipped model's stored map, in the last
line of the output.

Maps: the shipped MNIST VAEs (``mnist_vae_z2`` for the identity map, ``mnist_vae_z16`` for
PCA, UMAP and t-SNE; trained on MNIST ``test[:8000]``) encode the first 2,000 or all 10,000
images of the official MNIST test set, and the map is fitted on those codes with
:func:`aecore.atlas.build_atlas`. Nothing is tiled or jittered. UMAP and t-SNE fits of 10,000
codes take a few minutes on 2 CPU cores; fitted maps are kept in ``.cache/bench/`` (delete it
to refit).

Usage::

    python bench/click_latency.py [--clicks 200] [--sizes 2000 10000]
                                  [--methods identity pca umap tsne]
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from aecore import checkpoints, latent  # noqa: E402
from aecore.atlas import build_atlas, load_atlas, save_atlas  # noqa: E402
from aecore.data import Dataset, load_dataset  # noqa: E402
from ui import cache, latentmap, mapview, state, text  # noqa: E402

CACHE = ROOT / ".cache" / "bench"
MODEL_FOR = {"identity": "mnist_vae_z2", "pca": "mnist_vae_z16", "umap": "mnist_vae_z16",
             "tsne": "mnist_vae_z16"}


def map_data(method: str, n: int, mnist: Dataset, model_name: str | None = None
             ) -> mapview.MapData:
    """A MapData for the first ``n`` MNIST test images under a shipped model (by default the
    one :data:`MODEL_FOR` names for ``method``); its map is fitted once and kept in CACHE."""
    name = model_name or MODEL_FOR[method]
    model, info = checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")
    test = Dataset(mnist.x[:n], mnist.y[:n], mnist.classes, "mnist", f"test[:{n}]")
    train = Dataset(mnist.x[:8000], mnist.y[:8000], mnist.classes, "mnist", "test[:8000]")
    cid = f"bench-{info.id}-{n}"
    path = CACHE / f"{cid}.{method}.npz"
    atlas = load_atlas(path, cid) if path.exists() else None
    if atlas is None:
        t0 = time.perf_counter()
        atlas = build_atlas(latent.encode(model, test.x), latent.encode(model, train.x), method,
                            cid, grid_n=cache.GRID_N)
        save_atlas(atlas, path)
        print(f"  (fitted the {method} map of {n} codes in {time.perf_counter() - t0:.1f} s)")
    return mapview.MapData(key=f"{cid}:{method}", checkpoint_id=cid, info=info,
                           method=method, model=model, atlas=atlas,
                           train=train, test=test,
                           errors=latent.reconstruction_errors(model, test.x),
                           unit=text.UNITS[model.config.recon_loss])


def _click(md, pin: dict) -> float:
    """One pin, as the map's trigger callback handles it (validation, the pick stored), then
    the fragment body. Seconds."""
    t0 = time.perf_counter()
    pick = latentmap.clean_pin(pin, len(md.test), latentmap.extent(md.atlas))
    mapview._store_pin(pick)
    mapview.render(md)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clicks", type=int, default=200)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    ap.add_argument("--methods", nargs="+", default=list(MODEL_FOR))
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # bare mode warns on every element; no log in the timing
    import torch

    torch.set_num_threads(2)  # as ui.cache does on the server
    mnist = load_dataset("mnist", "test")
    print(f"{'points':>7} {'map':>9} {'first':>8} {'p50':>7} {'p95':>7} "
          f"{'p50 dot':>8} {'p50 empty':>9}   (ms)")
    for n in args.sizes:
        for method in args.methods:
            md = map_data(method, n, mnist)
            rng = np.random.default_rng(0)
            st.session_state[state.MAP_PICK] = None
            first = _click(md, {"kind": "point", "index": 0})  # sends the blobs once
            dots, empties = [], []
            for k in range(args.clicks):
                if k % 2 == 0:
                    i = int(rng.integers(n))
                    dots.append(_click(md, {"kind": "point", "index": i}))
                else:
                    node = int(rng.integers(len(md.atlas.grid_xy)))
                    gx, gy = md.atlas.grid_xy[node]
                    empties.append(_click(md, {"kind": "grid", "x": float(gx), "y": float(gy)}))
            both = np.array(dots + empties) * 1e3
            print(f"{n:>7} {method:>9} {first * 1e3:8.1f} {np.median(both):7.1f} "
                  f"{np.percentile(both, 95):7.1f} {np.median(dots) * 1e3:8.1f} "
                  f"{np.median(empties) * 1e3:9.1f}", flush=True)
    _cache_lookups()


def _cache_lookups(repeats: int = 200) -> None:
    """Time ``mapview.load_map_data`` (the fragment's ui.cache lookups) once they are warm."""
    info = checkpoints.read_info(checkpoints.SHIPPED_DIR / "mnist_vae_z16.safetensors")
    mapview.load_map_data(info, "umap")  # fills the caches
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        mapview.load_map_data(info, "umap")
        ts.append(time.perf_counter() - t0)
    print(f"cache lookups per click (shipped {info.name}, umap): "
          f"p50 {np.median(ts) * 1e3:.2f} ms, p95 {np.percentile(ts, 95) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
