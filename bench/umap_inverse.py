"""How well does a click on a UMAP map recover a latent code? umap-learn's inverse vs kNN.

Prints numbers; asserts nothing. For each model: encode its test split, fit UMAP on 80 % of
the codes (the "map"), place the held-out 20 % on the map with ``umap.transform`` and map
those 2-D positions back to latent codes three ways:

* ``umap``: ``umap.UMAP.inverse_transform`` (one batched call);
* ``idw-k``: inverse-distance-weighted mean of the codes of the k nearest map points
  (weights ``1 / d``), :func:`aecore.atlas.knn_inverse`;
* ``snap``: the code of the nearest map point (what t-SNE maps do).

It also checks the other direction, placing new codes on the map (:meth:`Atlas.project`):
kNN in latent space against the position ``umap.transform`` gives them.

Errors against the true held-out codes: ``rel`` = mean ||z_hat - z|| / mean ||z - mean(z)||
(0 = exact, 1 = no better than the mean code), and ``pix`` = RMSE between decode(z_hat) and
decode(z) in pixel units ([0, 1]); ``s`` = seconds for all held-out points.

Usage::

    python bench/umap_inverse.py [digits_vae_z16 mnist_vae_z16 ...]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aecore import checkpoints, latent  # noqa: E402
from aecore.atlas import knn_inverse  # noqa: E402
from aecore.data import load_dataset  # noqa: E402

DEFAULT = ["digits_ae_z16", "digits_vae_z16", "mnist_ae_z16", "mnist_vae_z16"]


def _errors(model, z_true, z_hat) -> tuple[float, float]:
    """(relative latent error, decoded-pixel RMSE)."""
    spread = np.linalg.norm(z_true - z_true.mean(0), axis=1).mean()
    rel = np.linalg.norm(z_hat - z_true, axis=1).mean() / spread
    x_t, x_h = latent.decode(model, z_true), latent.decode(model, z_hat)
    pix = float(np.sqrt(((x_t - x_h) ** 2).mean(axis=(1, 2, 3))).mean())
    return float(rel), pix


def main(names: list[str]) -> None:
    import umap

    for name in names:
        model, info = checkpoints.load(checkpoints.SHIPPED_DIR / f"{name}.safetensors")
        test = load_dataset(info.dataset, info.meta.get("test_split", "test"))
        codes = latent.encode(model, test.x).astype(np.float64)
        rng = np.random.default_rng(0)
        perm = rng.permutation(len(codes))
        n_fit = int(0.8 * len(codes))
        fit_z, held_z = codes[perm[:n_fit]], codes[perm[n_fit:]]
        t0 = time.perf_counter()
        um = umap.UMAP(n_neighbors=15, min_dist=0.1, random_state=0, n_jobs=1).fit(fit_z)
        t_fit = time.perf_counter() - t0
        emb = np.asarray(um.embedding_, np.float64)
        held_xy = np.asarray(um.transform(held_z), np.float64)
        print(f"\n{name}: {len(fit_z)} map points, {len(held_z)} held out, "
              f"latent {codes.shape[1]}-D, UMAP fit {t_fit:.1f} s")
        rows = []
        t0 = time.perf_counter()
        z_umap = np.asarray(um.inverse_transform(held_xy), np.float64)
        rows.append(("umap", z_umap, time.perf_counter() - t0))
        for k in (1, 5, 10, 20):
            t0 = time.perf_counter()
            z_k = knn_inverse(emb, fit_z, held_xy, k=k)
            rows.append(("snap" if k == 1 else f"idw-{k}", z_k, time.perf_counter() - t0))
        for label, z_hat, secs in rows:
            rel, pix = _errors(model, held_z, z_hat)
            print(f"  {label:8s} rel {rel:.3f}   pix {pix:.4f}   {secs:7.3f} s")
        # the other direction (placing new codes, e.g. an interpolation path, on the map):
        # kNN in latent space vs where umap.transform puts them, relative to the map's spread
        spread = np.linalg.norm(emb - emb.mean(0), axis=1).mean()
        for k in (1, 10):
            xy_k = knn_inverse(fit_z, emb, held_z, k=k)
            err = np.linalg.norm(xy_k - held_xy, axis=1).mean() / spread
            print(f"  place new codes, {'snap' if k == 1 else f'idw-{k}':8s} rel {err:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT)
