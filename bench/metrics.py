"""Time to compute the AE-vs-VAE scoreboard (``aecore.metrics.scoreboard``).

Prints numbers; asserts nothing (speed is measured here, never in tests).

Cases:

1. digits: the shipped ``digits_ae_z2`` and ``digits_vae_z2`` (1,437 training / 360 test images,
   8x8), and the 16-D ``digits_vae_z16`` with its PCA map (trustworthiness then really runs).
2. MNIST: the shipped ``mnist_ae_z2`` / ``mnist_vae_z2`` / ``mnist_vae_z16``, trained on the
   first 8,000 images of the official MNIST test set; scored on their own held-out 2,000
   (``test[8000:]``) and on the whole 10,000-image MNIST test set (``test``; 8,000 of those
   images were seen in training, so only the timing of that row means anything).

For each, the total wall time of one ``scoreboard`` call is printed (best of ``--repeats``),
then a breakdown by metric from one extra call of each part.

Usage::

    python bench/metrics.py [--repeats 2] [--threads 2] [--skip-mnist]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aecore import checkpoints, latent, metrics  # noqa: E402
from aecore.atlas import atlas_path, load_atlas  # noqa: E402
from aecore.data import load_dataset  # noqa: E402
from aecore.errors import DataError  # noqa: E402
from aecore.train import evaluate  # noqa: E402


def _timed(fn):
    """(result, seconds) of one call."""
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _embedding(model, info, test, method: str) -> np.ndarray:
    """The model's stored 2-D map of its own test split, or a fresh one for another split."""
    stored = load_atlas(atlas_path(info, method), info.id)
    if stored is not None and len(stored.embedding) == len(test):
        return stored.embedding
    codes = latent.encode(model, test.x)
    if method == "identity":
        return codes
    from sklearn.decomposition import PCA

    return PCA(2, random_state=0).fit_transform(codes)


def bench_one(name: str, train_split: str | None, test_split: str | None, repeats: int) -> None:
    """Print the scoreboard time of one shipped model on one pair of splits."""
    path = checkpoints.SHIPPED_DIR / f"{name}.safetensors"
    if not path.exists():
        print(f"{name}: not in checkpoints/, skipped")
        return
    model, info = checkpoints.load(path)
    train = load_dataset(info.dataset, train_split or info.meta["train_split"])
    test = load_dataset(info.dataset, test_split or info.meta["test_split"])
    method = "identity" if info.model_config.latent_dim == 2 else "pca"
    emb = _embedding(model, info, test, method)
    best, board = float("inf"), None
    for _ in range(repeats):
        board, s = _timed(lambda: metrics.scoreboard(model, train, test, emb, seed=0))
        best = min(best, s)
    # breakdown: each part once more, in the order scoreboard runs them
    codes, t_enc = _timed(lambda: (latent.encode(model, test.x), latent.encode(model, train.x)))
    parts = {
        "recon+KL": _timed(lambda: evaluate(model, test, seed=0))[1],
        "encode": t_enc,
        "evenness": _timed(lambda: metrics.interpolation_evenness(
            lambda z: latent.decode(model, z), codes[0], seed=0))[1],
        "hole rate": _timed(lambda: metrics.hole_rate(model, train, seed=0))[1],
        "5-NN": _timed(lambda: metrics.knn_accuracy(codes[1], train.y, codes[0], test.y))[1],
        "trust.": _timed(lambda: metrics.map_trustworthiness(codes[0], emb))[1],
    }
    print(f"{name:16s} {len(train):6d} / {len(test):6d}  {best:6.2f} s   "
          + "  ".join(f"{k} {v:.2f}" for k, v in parts.items()))
    print(f"{'':16s} {'':15s} " + "  ".join(f"{k} {v:.3f}" for k, v in board.to_dict().items()))


def main() -> None:
    """Run the cases and print a table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-mnist", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads; best of {args.repeats} "
          "(seconds)\nmodel            train /   test  scoreboard   breakdown")
    for name in ("digits_ae_z2", "digits_vae_z2", "digits_vae_z16"):
        bench_one(name, None, None, args.repeats)
    if args.skip_mnist:
        return
    try:
        for name in ("mnist_ae_z2", "mnist_vae_z2", "mnist_vae_z16"):
            bench_one(name, None, None, args.repeats)
        for name in ("mnist_ae_z2", "mnist_vae_z16"):
            bench_one(name, "test[:8000]", "test", 1)
    except DataError as exc:
        print(f"MNIST skipped: {exc}")


if __name__ == "__main__":
    main()
