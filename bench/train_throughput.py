"""Training throughput of ``aecore.train.fit`` against a bare PyTorch loop, and a 10-epoch run.

Prints numbers; asserts nothing (speed is measured here, never in tests).

Part 1 trains the MLP VAE 784-400-20 (batch 128, Adam, lr 1e-3, BCE + KL) on the 10,000 images
of the official MNIST test set, once through ``fit`` and once through the bare loop below
(the pytorch/examples ``vae/main.py`` loop, minus its DataLoader), and prints images per second
for both and their ratio (target: fit >= 0.9 x bare). Both do the same work per epoch: one
pass over the training images, then one pass over the same held-out batch of test images.
The two are run alternately, ``--repeats`` times each, and the fastest run of each is kept, so
a background process slowing one run does not decide the ratio; the process's CPU time is
printed too, since other programs on a shared machine inflate it far less than wall time.

Part 2 trains the same VAE for 10 epochs on the first 8,000 images and tests on the last 2,000,
through ``fit`` and through the pytorch/examples ``vae/main.py`` loop (``bench/vae_parity.py``,
which also measures the factors that could separate them), for each of ``--seeds`` (default
1 2 3), and prints the test loss after epoch 10 (BCE summed per image + KL, nats per image) for
each seed, then the median and range of each loop.

Usage::

    python bench/train_throughput.py [--epochs 3] [--repeats 3] [--seeds 0 1 2 3 4 5 6 7]
        [--skip-throughput] [--skip-ten] [--root ../shared/data]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aecore.data import Dataset, load_dataset  # noqa: E402
from aecore.device import make_generator, seed_everything  # noqa: E402
from aecore.losses import gaussian_kl, reconstruction  # noqa: E402
from aecore.models import VAE, VAEConfig  # noqa: E402
from aecore.train import Splits, TrainConfig, fit  # noqa: E402

CFG = VAEConfig(input_shape=(1, 28, 28), latent_dim=20, hidden=(400,))  # 784-400-20
BATCH, LR = 128, 1e-3
N_EVAL = 1000  # test images evaluated after every epoch, by both loops


def bare_loop(x_train: torch.Tensor, x_test: torch.Tensor, epochs: int, seed: int) -> float:
    """The plain loop: Adam, BCE-sum + KL per image, batch mean. Returns wall seconds."""
    seed_everything(seed)
    model = VAE(CFG)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    g = make_generator(seed)
    n = len(x_train)
    t0 = time.perf_counter()
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, BATCH):
            x = x_train[perm[i:i + BATCH]]
            mu, logvar = model.encode(x)
            z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=g)
            loss = reconstruction(x, model.decode_logits(z), "bce") + gaussian_kl(mu, logvar)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():  # the test pass that pytorch/examples also runs every epoch
            mu, logvar = model.encode(x_test)
            float(reconstruction(x_test, model.decode_logits(mu), "bce") + gaussian_kl(mu, logvar))
    return time.perf_counter() - t0


def fit_loop(x_train, x_test, epochs: int, seed: int) -> float:
    """The same training through ``aecore.train.fit``. Returns wall seconds."""
    no_labels = torch.zeros(len(x_train), dtype=torch.long)
    train = Dataset(x_train, no_labels, [], "mnist", "bench-train")
    test = Dataset(x_test, no_labels[:len(x_test)], [], "mnist", "bench-test")
    seed_everything(seed)
    model = VAE(CFG)
    t0 = time.perf_counter()
    fit(model, Splits(train, test), TrainConfig(epochs=epochs, batch_size=BATCH, lr=LR, seed=seed,
                                                device="cpu"))
    return time.perf_counter() - t0


def throughput(root, epochs: int, repeats: int) -> None:
    """Part 1: images per second through fit and through the bare loop."""
    data = load_dataset("mnist", "test", root)
    x, x_eval = data.x, data.x[:N_EVAL]
    n_img = epochs * len(x)
    print(f"part 1: MLP VAE 784-400-20, batch {BATCH}, Adam lr {LR:g}, {len(x):,} MNIST images, "
          f"{epochs} epochs per run, {repeats} runs each, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    bare_loop(x[:2048], x_eval, 1, 0)  # warm-up: first-call allocations and kernel choices
    fit_loop(x[:2048], x_eval, 1, 0)
    best = {"fit": float("inf"), "bare": float("inf")}
    best_cpu = dict(best)
    for r in range(repeats):
        for name, fn in (("bare", bare_loop), ("fit", fit_loop)) if r % 2 else \
                (("fit", fit_loop), ("bare", bare_loop)):
            c0 = time.process_time()
            s = fn(x, x_eval, epochs, r)
            c = time.process_time() - c0
            best[name], best_cpu[name] = min(best[name], s), min(best_cpu[name], c)
            print(f"  run {r + 1} {name:4s}: {s:6.2f} s wall, {c:6.2f} s CPU  "
                  f"{n_img / s:8.0f} images/s", flush=True)
    ips = {k: n_img / v for k, v in best.items()}
    print(f"best: fit {ips['fit']:.0f} images/s, bare loop {ips['bare']:.0f} images/s, "
          f"ratio fit/bare = {ips['fit'] / ips['bare']:.3f} (target >= 0.9)")
    # CPU seconds of this process: a figure that other programs on a shared machine inflate
    # far less than wall time
    print(f"CPU time: fit {best_cpu['fit']:.2f} s, bare loop {best_cpu['bare']:.2f} s, "
          f"ratio bare/fit = {best_cpu['bare'] / best_cpu['fit']:.3f}")


def ten_epochs(root, seeds: list[int]) -> None:
    """Part 2: 10 epochs on the 8,000 / 2,000 split through fit and through the reference loop
    (pytorch/examples vae/main.py, from ``bench/vae_parity.py``), one run per seed each; prints
    the test loss after epoch 10 per seed, then the median and range of each loop."""
    from vae_parity import fit_run, ref_run  # bench/ is on sys.path when run as a script

    splits = Splits(load_dataset("mnist", "test[:8000]", root),
                    load_dataset("mnist", "test[8000:]", root))
    print(f"\npart 2: 10 epochs, train {len(splits.train):,} (test[:8000]) / test "
          f"{len(splits.test):,} (test[8000:]); test loss after epoch 10 = BCE summed per image "
          f"+ KL, nats per image; seeds {seeds}")
    final: dict[str, list[float]] = {"fit": [], "reference": []}
    for seed in seeds:
        for name, fn in (("fit", fit_run), ("reference", ref_run)):
            t0 = time.perf_counter()
            train, test = fn(splits, seed)[-1]
            final[name].append(test)
            print(f"  seed {seed} {name:9s}: test {test:7.2f} (train {train:7.2f}), "
                  f"{time.perf_counter() - t0:5.1f} s", flush=True)
    for name, v in final.items():
        print(f"{name:9s}: median {statistics.median(v):7.2f} nats, mean "
              f"{statistics.mean(v):7.2f}, range {min(v):.2f}-{max(v):.2f} over seeds {seeds}")


def main() -> None:
    """Parse arguments and run both parts."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=3, help="epochs per throughput run")
    p.add_argument("--repeats", type=int, default=3, help="runs of each loop (best is kept)")
    p.add_argument("--root", default=None, help="folder holding MNIST/raw (default: search)")
    p.add_argument("--skip-ten", action="store_true", help="only part 1")
    p.add_argument("--skip-throughput", action="store_true", help="only part 2")
    p.add_argument("--seeds", type=int, nargs="+", default=list(range(8)),
                   help="part 2's seeds (the seed-to-seed spread is ~2 nats: 3 seeds cannot "
                        "tell two loops apart)")
    a = p.parse_args()
    if not a.skip_throughput:
        throughput(a.root, a.epochs, a.repeats)
    if not a.skip_ten:
        ten_epochs(a.root, a.seeds)


if __name__ == "__main__":
    main()
