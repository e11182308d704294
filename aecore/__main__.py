"""Command line: ``python -m aecore train ...`` and ``python -m aecore rebuild-shipped``.

Examples
--------
python -m aecore train --model vae --latent-dim 2 --epochs 60 --out my_vae.safetensors
python -m aecore rebuild-shipped            # every shipped checkpoint and its maps
python -m aecore rebuild-shipped digits_vae_z2
python -m aecore train --model ae --dataset breast-cancer --recon-loss mse --output identity \
    --latent-dim 2 --out my_tabular_ae.safetensors      # tabular: standardised features
python -m aecore record-shipped digits_ae_z2 digits_vae_z2   # training recordings (frames)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .losses import ANNEAL_SCHEDULES, RECON_LOSSES
from .models import MODELS
from .models.blocks import ACTIVATIONS, NORMS
from .models.base import OUTPUTS
from .noise import NOISE_KINDS


def _progress_callback(bar):
    """tqdm bar over optimisation steps, with the latest losses in its postfix."""
    from .train import EpochLog, StepLog

    def cb(log):
        if isinstance(log, StepLog):
            bar.update(log.step + (log.epoch - 1) * log.steps - bar.n)
        elif isinstance(log, EpochLog):
            bar.set_postfix(epoch=log.epoch, train=f"{log.train_total:.2f}",
                            test=f"{log.test_total:.2f}", kl=f"{log.test_kl:.2f}")
        return False
    return cb


def _unit(recipe) -> str:
    """The loss unit of a recipe's model: BCE is in nats, MSE is a summed squared error."""
    return "nats/image" if recipe.model.recon_loss == "bce" else "squared error/image"


def _train(a: argparse.Namespace) -> int:
    """Run ``train``: fit one model and save it."""
    from tqdm import tqdm

    from .errors import LatentLabError
    from .recipes import load_splits, recipe_from_args, train_and_save

    if a.threads > 0:
        import torch

        torch.set_num_threads(a.threads)
    try:
        splits = load_splits(a.dataset, a.train_split, a.test_split, a.root)
        recipe = recipe_from_args(a, splits.train.image_shape)
        steps = a.epochs * -(-len(splits.train) // a.batch_size)
        with tqdm(total=steps, unit="step", file=sys.stderr) as bar:
            model, hist, path = train_and_save(recipe, a.out, callback=_progress_callback(bar),
                                               splits=splits)
    except (LatentLabError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    b = hist.best
    print(f"saved {path}: best epoch {hist.best_epoch}/{len(hist.epochs)}, test loss "
          f"{b.test_total:.3f} (recon {b.test_recon:.3f} + KL {b.test_kl:.3f}) "
          f"{_unit(recipe)}, {hist.seconds:.1f} s on {hist.device}")
    return 0


def _rebuild(a: argparse.Namespace) -> int:
    """Run ``rebuild-shipped``: retrain the named (or all) shipped checkpoints and their maps."""
    from . import checkpoints
    from .atlas import atlas_path, build_atlas, save_atlas
    from .latent import encode
    from .project import methods_for
    from .recipes import SHIPPED, load_splits, train_and_save

    names = a.names or list(SHIPPED)
    unknown = set(names) - set(SHIPPED)
    if unknown:
        print(f"error: unknown shipped models {sorted(unknown)}; known: {list(SHIPPED)}",
              file=sys.stderr)
        return 2
    for name in names:
        r = SHIPPED[name]
        out = checkpoints.SHIPPED_DIR / f"{name}.safetensors"
        splits = load_splits(r.dataset, r.train_split, r.test_split, a.root)
        if not a.maps_only:
            model, hist, _ = train_and_save(r, out, splits=splits)
            b = hist.best
            print(f"{name}: best epoch {hist.best_epoch}, test {b.test_total:.3f} = recon "
                  f"{b.test_recon:.3f} + KL {b.test_kl:.3f} {_unit(r)} ({hist.seconds:.1f} s)")
        if not r.maps:
            continue  # its maps are built on first use (see the recipe)
        model, info = checkpoints.load(out)
        codes, train_codes = encode(model, splits.test.x), encode(model, splits.train.x)
        for method in methods_for(model.config.latent_dim):
            save_atlas(build_atlas(codes, train_codes, method, info.id), atlas_path(info, method))
            print(f"{name}: {method} map saved")
    return 0


def _record(a: argparse.Namespace) -> int:
    """Run ``record-shipped``: retrain shipped models with a :class:`~aecore.recording.Recorder`
    and write ``<name>.frames.npz`` beside each, only if the run reproduces the shipped weights
    exactly (so the recording shows how the shipped model itself was trained)."""
    import torch

    from . import checkpoints
    from .recipes import SHIPPED, load_splits, train_and_save
    from .recording import Recorder, recording_path, save_recording

    unknown = set(a.names) - set(SHIPPED)
    if unknown or not a.names:
        print(f"error: name shipped models to record; unknown: {sorted(unknown)}",
              file=sys.stderr)
        return 2
    for name in a.names:
        r = SHIPPED[name]
        out = checkpoints.SHIPPED_DIR / f"{name}.safetensors"
        splits = load_splits(r.dataset, r.train_split, r.test_split, a.root)
        rec = Recorder(splits.test.x, splits.test.y.numpy(), r.train.epochs)
        model, hist, _ = train_and_save(r, None, splits=splits, callback=rec.callback,
                                        on_start=rec.on_start)
        shipped = checkpoints.load(out)[0].state_dict()
        diff = max(float((v.cpu() - shipped[k]).abs().max()) for k, v in
                   model.state_dict().items() if torch.is_floating_point(v))
        if diff > 0:
            print(f"error: {name}: the recorded run differs from the shipped weights (max "
                  f"|diff| {diff:.3g}); rebuild the checkpoint or use the thread count it was "
                  "built with", file=sys.stderr)
            return 1
        path = save_recording(rec.finish(model, hist.best_epoch), recording_path(out))
        print(f"{name}: {len(rec.frames)} frames, {path.stat().st_size:,} bytes, weights "
              f"identical to the shipped ones -> {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m aecore`` (subcommands ``train``, ``rebuild-shipped``)."""
    p = argparse.ArgumentParser(prog="python -m aecore", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train one model and save a checkpoint")
    t.add_argument("--model", choices=sorted(MODELS), default="vae",
                   help="ae, vae, dae (denoising), conv_ae, conv_vae")
    t.add_argument("--dataset", default="digits",
                   help="digits (8x8, offline), mnist, fashion-mnist or kmnist (28x28), "
                        "breast-cancer (30 standardised features, offline)")
    t.add_argument("--root", default=None, help="data folder in torchvision's layout")
    t.add_argument("--train-split", default="train",
                   help='split spec, may be sliced: "test[:8000]"')
    t.add_argument("--test-split", default="test", help='e.g. "test[8000:]"')
    t.add_argument("--latent-dim", type=int, default=2,
                   help="size of the bottleneck z, 2-128")
    t.add_argument("--hidden", default="", help="comma-separated widths, e.g. 256,128")
    t.add_argument("--channels", default="", help="conv channels, e.g. 32,64")
    t.add_argument("--recon-loss", choices=RECON_LOSSES, default="bce",
                   help="bce (Bernoulli NLL, nats) or mse (summed squared error)")
    t.add_argument("--output", choices=OUTPUTS, default="sigmoid",
                   help="decoder output: sigmoid (pixels in [0, 1]) or identity (standardised "
                        "features of a tabular dataset; needs --recon-loss mse)")
    t.add_argument("--beta", type=float, default=1.0,
                   help="KL weight of a VAE (beta-VAE); 1 gives the ELBO")
    t.add_argument("--dropout", type=float, default=0.0,
                   help="dropout probability after each hidden layer")
    t.add_argument("--activation", choices=ACTIVATIONS, default="relu",
                   help="hidden-layer nonlinearity")
    t.add_argument("--norm", choices=NORMS, default="none",
                   help="normalisation after each hidden layer (conv models: none, batchnorm)")
    t.add_argument("--pretrain-epochs", type=int, default=0,
                   help="greedy layer-wise pretraining epochs per layer before training "
                        "(MLP ae/dae only; 0: none)")
    t.add_argument("--record-grads", action="store_true",
                   help="store per-layer gradient norms per epoch in the checkpoint")
    t.add_argument("--noise", choices=NOISE_KINDS, default="gaussian",
                   help="input corruption of the denoising AE (--model dae)")
    t.add_argument("--noise-level", type=float, default=0.3,
                   help="noise std (gaussian) or corrupted fraction (others), 0-1")
    t.add_argument("--sparsity", type=float, default=0.0,
                   help="L1 penalty weight on the code z of a plain AE (sparse AE), 0-10")
    t.add_argument("--free-bits", type=float, default=0.0,
                   help="free bits of a VAE: nats per latent dimension the KL does not charge")
    t.add_argument("--epochs", type=int, default=60, help="passes over the training set")
    t.add_argument("--batch-size", type=int, default=64, help="images per step")
    t.add_argument("--lr", type=float, default=2e-3, help="AdamW learning rate")
    t.add_argument("--weight-decay", type=float, default=0.0,
                   help="decoupled weight decay of AdamW")
    t.add_argument("--kl-anneal", choices=ANNEAL_SCHEDULES, default="none",
                   help="KL annealing schedule of beta")
    t.add_argument("--warmup-epochs", type=int, default=10,
                   help="length of the linear KL warm-up")
    t.add_argument("--cycle-epochs", type=int, default=10,
                   help="length of one cyclical KL cycle")
    t.add_argument("--seed", type=int, default=0,
                   help="seeds weights, shuffling, noise and samples")
    t.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    t.add_argument("--threads", type=int, default=0,
                   help="CPU threads for torch (0: its default); the app trains with 1")
    t.add_argument("--out", type=Path, required=True, help="checkpoint file to write")
    r = sub.add_parser("rebuild-shipped", help="retrain the shipped checkpoints and their maps")
    r.add_argument("names", nargs="*", help="shipped model names (default: all)")
    r.add_argument("--root", default=None, help="data folder in torchvision's layout")
    r.add_argument("--maps-only", action="store_true", help="only recompute the maps")
    c = sub.add_parser("record-shipped", help="record shipped models' training (frames)")
    c.add_argument("names", nargs="+", help="shipped model names")
    c.add_argument("--root", default=None, help="data folder in torchvision's layout")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    a = build_parser().parse_args(argv)
    return {"train": _train, "rebuild-shipped": _rebuild, "record-shipped": _record}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
