"""Training jobs that run in a separate process, so a web server stays responsive.

The server starts :func:`run_job` in a ``spawn`` process with a queue and a stop event. The job
reports through the queue (plain tuples of builtins and NumPy arrays, never tensors or
objects that need this module to unpickle) and writes the trained model to a *pending* file;
the user then chooses a name and :func:`publish` copies it, atomically, into the user folder.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from . import checkpoints
from .errors import CheckpointError, LatentLabError, TrainingDiverged
from .models import config_from_dict
from .recipes import Recipe, load_splits, save_trained
from .train import EpochLog, Splits, StepLog, TrainConfig

__all__ = ["recipe_to_dict", "recipe_from_dict", "run_job", "latent_preview", "publish",
           "PREVIEW_N"]

PREVIEW_N = 8  # test images whose reconstructions are sent after every epoch
WORKER_THREADS = 1  # torch threads in the worker: leave the other core to the web server


def recipe_to_dict(r: Recipe) -> dict[str, Any]:
    """A JSON-ready dict of a recipe (what crosses the process boundary)."""
    return {"model": r.model.to_dict(), "train": r.train.to_dict(), "dataset": r.dataset,
            "train_split": r.train_split, "test_split": r.test_split, "notes": r.notes,
            "exclude_class": r.exclude_class}


def recipe_from_dict(d: dict[str, Any]) -> Recipe:
    """Inverse of :func:`recipe_to_dict`. Raises ``ValueError`` on invalid fields."""
    return Recipe(model=config_from_dict(d["model"]), train=TrainConfig.from_dict(d["train"]),
                  dataset=d["dataset"], train_split=d["train_split"],
                  test_split=d["test_split"], notes=d.get("notes", ""),
                  exclude_class=d.get("exclude_class"))


def run_job(recipe: dict[str, Any], pending: str, queue, stop) -> None:
    """Train one recipe; the process target.

    Messages put on ``queue``:

    - ``("started", {"n_train": int, "steps": int, "preview": ndarray (8, C, H, W),
      "noisy": ndarray (8, C, H, W) or None})``: the fixed test batch, and for a denoising
      model its corrupted copy (what the model is shown)
    - ``("step", StepLog as dict)`` every few steps
    - ``("epoch", EpochLog as dict, reconstructions ndarray (8, C, H, W) in [0, 1])``: the
      model's output for the fixed batch (for a denoising model: for the corrupted copy)
    - ``("done", {"pending": str, "best_epoch": int, "stopped": bool, "metrics": dict,
      "seconds": float, "map": dict})``; ``map`` holds the new model's test codes in 2-D
      (``xy`` (N, 2), ``labels`` (N,), ``classes``, ``method`` "identity" or "pca")
    - ``("diverged", message)``: the loss blew up; nothing was written
    - ``("error", message)``: anything else that went wrong; nothing was written

    Parameters
    ----------
    recipe : dict
        From :func:`recipe_to_dict`.
    pending : str
        Where to write the trained model (a checkpoint file).
    queue : multiprocessing.Queue
    stop : multiprocessing.Event
        Set by the server to stop after the current step; the best model so far is kept.
    """
    import torch

    from .device import make_generator, seed_everything
    from .models import Autoencoder, build_model
    from .train import fit

    torch.set_num_threads(WORKER_THREADS)
    try:
        r = recipe_from_dict(recipe)
        splits = load_splits(r.dataset, r.train_split, r.test_split)
        if r.exclude_class is not None:  # as in train_and_save: that class never trains
            splits = Splits(splits.train.subset(splits.train.y != r.exclude_class), splits.test)
        preview = splits.test.x[:PREVIEW_N]
        steps = -(-len(splits.train) // r.train.batch_size)
        seed_everything(r.train.seed)
        model = build_model(r.model)
        # a denoising model is shown a fixed corrupted copy (its own generator: the training
        # run's random streams stay exactly those of the CLI and the library)
        shown = model.corrupt(preview, make_generator(r.train.seed + 7))
        noisy = shown.numpy() if type(model).corrupt is not Autoencoder.corrupt else None
        queue.put(("started", {"n_train": len(splits.train), "steps": steps,
                               "preview": preview.numpy(), "noisy": noisy}))

        def callback(log):
            if isinstance(log, StepLog):
                queue.put(("step", dataclasses.asdict(log)))
            elif isinstance(log, EpochLog):
                was = model.training
                model.eval()
                with torch.no_grad():
                    rec = model.reconstruct(shown.to(model.code_mean.device)).cpu().numpy()
                model.train(was)
                queue.put(("epoch", log.to_dict(), rec))
            return stop.is_set()

        every = max(1, steps // 10)
        train_cfg = dataclasses.replace(r.train, report_every=every)
        hist = fit(model, splits, train_cfg, callback=callback)
        path = save_trained(model, r, hist, splits, pending)
        info = checkpoints.read_info(path)
        queue.put(("done", {"pending": str(path), "best_epoch": hist.best_epoch,
                            "stopped": hist.stopped, "metrics": info.meta["metrics"],
                            "seconds": hist.seconds,
                            "map": latent_preview(model, splits.test)}))
    except TrainingDiverged as exc:
        queue.put(("diverged", str(exc)))
    except (LatentLabError, ValueError, OSError) as exc:
        queue.put(("error", f"{type(exc).__name__}: {exc}"))
    except Exception as exc:  # the server must hear about any failure, never hang waiting
        queue.put(("error", f"unexpected {type(exc).__name__}: {exc}"))


def latent_preview(model, test) -> dict[str, Any]:
    """The test codes of a freshly trained model in 2-D, for a first look at its latent map.

    Parameters
    ----------
    model : Autoencoder
    test : Dataset
        ``x`` of shape (N, C, H, W) in [0, 1] with labels ``y``.

    Returns
    -------
    dict with ``xy`` (ndarray (N, 2) float32: z itself for a 2-D latent, else its first two
    principal components), ``labels`` (ndarray (N,) int), ``classes`` (list of str) and
    ``method`` ("identity" or "pca").
    """
    from .latent import encode
    from .project import make_projector

    z = encode(model, test.x)  # (N, latent_dim), mu for a VAE
    method = "identity" if z.shape[1] == 2 else "pca"  # PCA: fast and deterministic
    xy = make_projector(method).fit_transform(z).astype("float32")
    return {"xy": xy, "labels": test.y.numpy(), "classes": list(test.classes), "method": method}


def publish(pending: str | os.PathLike, name: str, folder: str | os.PathLike | None = None
            ) -> Path:
    """Copy a pending checkpoint into the user folder under a validated name, atomically.

    Parameters
    ----------
    pending : path
        File written by :func:`run_job`.
    name : str
        User-typed name (validated: no separators, no ``..``, 1-64 characters).
    folder : path, optional
        Defaults to :func:`aecore.checkpoints.user_dir`.

    Returns
    -------
    Path of the new checkpoint.

    Raises
    ------
    CheckpointError
        Invalid name, a name taken by a shipped model, an existing file (never overwritten),
        or a pending file that does not load.
    """
    checkpoints.validate_name(name)
    if (checkpoints.SHIPPED_DIR / f"{name}.safetensors").exists():
        raise CheckpointError(f"{name!r} is the name of a shipped model; choose another")
    folder = Path(folder) if folder is not None else checkpoints.user_dir()
    target = folder / f"{name}.safetensors"
    checkpoints.read_info(pending)  # refuse to publish something that does not load
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        shutil.copyfile(pending, tmp)
        os.chmod(tmp, 0o644)
        # os.link fails if the target exists: no race can overwrite someone's model
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise CheckpointError(f"{target} already exists; choose another name") from None
        except OSError:  # no hard links on this filesystem: check, then replace atomically
            if target.exists():
                raise CheckpointError(f"{target} already exists; choose another name") from None
            os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target
