"""Test-set estimate of -log p(x) for the shipped VAEs with the importance-weighted bound, and
the L_k-against-k curves the "IWAE bound" lesson page shows.

Prints numbers; asserts nothing. For each shipped VAE it draws K posterior samples for each of
the first ``--images`` test images (generator seeded with ``--seed``), then prints

- the ELBO (-L_1, averaged over disjoint single samples) and -L_K, both nats per image, with the
  standard error of the mean over images, and the gap L_K - L_1 (a lower bound on the mean
  KL(q(z|x) || p(z|x))), and the wall time.

With ``--write`` it also stores the curves (mean L_k for the k of ``KS``) in
``checkpoints/iwae_curves.json``, which the lesson page reads (computing them live would take
minutes on a CPU).

Usage::

    python bench/iwae_bound.py [--k 5000] [--images 2000] [--models mnist_vae_z2 ...] [--write]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aecore import checkpoints  # noqa: E402
from aecore.bounds import bound_curve, log_weights  # noqa: E402
from aecore.data import load_dataset  # noqa: E402
from aecore.files import atomic_write  # noqa: E402

VAES = ["digits_vae_z2", "digits_vae_z16", "digits_bvae_b0.1_z2", "digits_bvae_b2_z2",
        "digits_bvae_b4_z2", "mnist_vae_z2", "mnist_vae_z16", "mnist_convvae_z16"]
KS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
CURVES = ROOT / "checkpoints" / "iwae_curves.json"


def run(name: str, k: int, images: int, seed: int, root) -> dict:
    """Log weights of one shipped VAE on its first ``images`` test images; summary dict."""
    model, info = checkpoints.load(ROOT / "checkpoints" / f"{name}.safetensors")
    data = load_dataset(info.meta["dataset"], info.meta.get("test_split", "test"), root)
    x = data.x[:images]
    t0 = time.perf_counter()
    lw = log_weights(model, x, k, generator=torch.Generator().manual_seed(seed))
    seconds = time.perf_counter() - t0
    lk = torch.logsumexp(lw, dim=1) - math.log(k)  # (N,) one L_K per image
    ks = [kk for kk in KS if kk <= k]
    return {"model": name, "dataset": data.name, "split": data.split, "images": len(x), "k": k,
            "seed": seed, "ks": ks, "L": bound_curve(lw, ks),
            "elbo_se": float(lw.mean(1).std() / math.sqrt(len(x))),
            "LK_se": float(lk.std() / math.sqrt(len(x))), "seconds": seconds}


def main() -> None:
    """Parse arguments, run each model, print, and optionally write the curves file."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--k", type=int, default=5000)
    p.add_argument("--images", type=int, default=2000, help="first N test images")
    p.add_argument("--models", nargs="+", default=VAES)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--root", default=None)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--write", action="store_true", help=f"merge the curves into {CURVES.name}")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; K = {a.k}, "
          f"seed {a.seed}; nats per image (mean over images +- standard error)")
    results = []
    for name in a.models:
        r = run(name, a.k, a.images, a.seed, a.root)
        results.append(r)
        print(f"{name:20s} {r['dataset']} {r['split']} first {r['images']:5d} images: "
              f"-ELBO {-r['L'][0]:8.2f} +- {r['elbo_se']:.2f}   -L_{a.k} {-r['L'][-1]:8.2f} +- "
              f"{r['LK_se']:.2f}   gap {r['L'][-1] - r['L'][0]:5.2f}   ({r['seconds']:.0f} s)",
              flush=True)
    if a.write:
        old = json.loads(CURVES.read_text()) if CURVES.exists() else {"curves": {}}
        old["curves"].update({r["model"]: r for r in results})
        old["note"] = ("mean L_k (nats per image) over the first `images` test images, from one "
                       "set of K samples per image cut into disjoint groups of k; written by "
                       "bench/iwae_bound.py --write")
        atomic_write(CURVES, (json.dumps(old, indent=1) + "\n").encode())
        print(f"wrote {CURVES}")


if __name__ == "__main__":
    main()
