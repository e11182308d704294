"""Datasets as tensors: ``x`` of shape (N, 1, H, W), float32 in [0, 1] (images) or (N, D)
(tabular feature vectors, standardised: :mod:`aecore.tabular`), and integer labels.

``digits`` (scikit-learn's bundled 8x8 handwritten digits) works offline and is the default.
``mnist``, ``fashion-mnist`` and ``kmnist`` (28x28) come through torchvision: their IDX files are
read directly from ``<root>/<Folder>/raw/`` when present (so a folder holding only the test split
works), and otherwise torchvision downloads them. ``breast-cancer`` (569 x 30 features, ships
with scikit-learn) is the one tabular set: see :mod:`aecore.tabular`.
"""
from __future__ import annotations

import gzip
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .errors import DataError
from .tabular import BREAST_CANCER_CLASSES, TABULAR, load_breast_cancer_split

__all__ = ["Dataset", "DATASETS", "load_dataset", "image_shape", "default_roots", "parse_split",
           "missing_files", "is_tabular"]

# name -> (torchvision class name / folder, class names); "digits" has no folder.
_DIGIT_NAMES = [str(i) for i in range(10)]
DATASETS: dict[str, tuple[str | None, list[str]]] = {
    "digits": (None, _DIGIT_NAMES),
    "mnist": ("MNIST", _DIGIT_NAMES),
    "fashion-mnist": ("FashionMNIST", ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]),
    "kmnist": ("KMNIST", ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]),
    "breast-cancer": (None, BREAST_CANCER_CLASSES),  # tabular: (N, 30) standardised features
}
# (C, H, W) of an image, (D,) of a feature vector; every torchvision set here is (1, 28, 28)
_SHAPES = {"digits": (1, 8, 8), "breast-cancer": (30,)}
_IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
              "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
DIGITS_TEST_FRACTION = 0.2  # 1,437 train / 360 test images
DIGITS_SPLIT_SEED = 0  # fixed so every model and every page sees the same test set
_SPLIT_RE = re.compile(r"^(train|test|all)(?:\[(-?\d*):(-?\d*)\])?$")


def is_tabular(name: str) -> bool:
    """Whether dataset ``name`` holds feature vectors (N, D) rather than images (N, C, H, W)."""
    return name in TABULAR


def image_shape(name: str) -> tuple[int, ...]:
    """(C, H, W) of one image of dataset ``name``, or (D,) of one feature vector of a tabular
    dataset, without loading it.

    Raises
    ------
    DataError
        Unknown dataset name.
    """
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    return _SHAPES.get(name, (1, 28, 28))


@dataclass(frozen=True, eq=False)
class Dataset:
    """A labelled dataset held in memory: images, or feature vectors of a tabular set.

    Attributes
    ----------
    x : Tensor of shape (N, 1, H, W), float32 in [0, 1], or (N, D) float32 standardised
        features for a tabular dataset (:func:`is_tabular`)
    y : Tensor of shape (N,), int64 class indices
    classes : list of str
        Human-readable name of each class index.
    name : str
        Dataset id (a key of ``DATASETS``).
    split : str
        Split spec it was loaded with, e.g. ``"test"`` or ``"test[:8000]"``.
    """

    x: torch.Tensor
    y: torch.Tensor
    classes: list[str]
    name: str
    split: str

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def image_shape(self) -> tuple[int, ...]:
        """(C, H, W) of one image, or (D,) of one feature vector."""
        return tuple(self.x.shape[1:])  # type: ignore[return-value]

    def subset(self, index) -> "Dataset":
        """Rows ``index`` (a slice, index array or boolean mask) as a new Dataset."""
        return Dataset(self.x[index], self.y[index], self.classes, self.name, self.split)


def parse_split(split: str) -> tuple[str, slice]:
    """Parse a split spec such as ``"test"`` or ``"test[:8000]"`` into (base split, slice).

    Raises
    ------
    DataError
        If the spec is not ``train``, ``test`` or ``all`` with an optional ``[start:stop]``.
    """
    m = _SPLIT_RE.match(split.strip())
    if not m:
        raise DataError(f"split {split!r} is not 'train', 'test' or 'all', "
                        "optionally followed by a slice such as 'test[:8000]'")
    start = int(m.group(2)) if m.group(2) else None
    stop = int(m.group(3)) if m.group(3) else None
    return m.group(1), slice(start, stop)


def default_roots() -> list[Path]:
    """Folders searched for torchvision-layout data when no ``root`` is given, in order.

    ``$LATENTLAB_DATA_ROOT``, ``<repo>/data`` and ``<repo>/../shared/data``.
    """
    repo = Path(__file__).resolve().parent.parent
    roots = [repo / "data", repo.parent / "shared" / "data"]
    env = os.environ.get("LATENTLAB_DATA_ROOT")
    if env:
        roots.insert(0, Path(env))
    return roots


def load_dataset(name: str, split: str = "test", root: str | os.PathLike | None = None) -> Dataset:
    """Load a dataset as tensors.

    Parameters
    ----------
    name : str
        ``"digits"``, ``"mnist"``, ``"fashion-mnist"``, ``"kmnist"`` or ``"breast-cancer"``
        (tabular, :mod:`aecore.tabular`).
    split : str
        ``"train"``, ``"test"`` or ``"all"``, optionally sliced: ``"test[:8000]"``.
        For ``digits`` the train/test split is a fixed stratified 80/20 split (seed 0); for
        ``breast-cancer`` a fixed stratified 70/30 split (seed 0), standardised with the
        training split's mean and standard deviation.
    root : path, optional
        Folder in torchvision's layout (``<root>/MNIST/raw/t10k-images-idx3-ubyte.gz``).
        ``None`` searches :func:`default_roots` and downloads to the first one if nothing is found.

    Returns
    -------
    Dataset
        ``x`` of shape (N, 1, H, W) float32 in [0, 1] (or (N, D) standardised features for a
        tabular set); ``y`` of shape (N,) int64.

    Raises
    ------
    DataError
        Unknown name or split, or files that are missing (and cannot be downloaded) or malformed.
    """
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    base, sl = parse_split(split)
    folder, classes = DATASETS[name]
    if name in TABULAR:
        x, y = load_breast_cancer_split(base)
    elif folder is None:
        x, y = _load_digits(base)
    else:
        parts = ["train", "test"] if base == "all" else [base]
        xs, ys = zip(*(_load_idx_split(name, folder, p, root) for p in parts))
        x, y = np.concatenate(xs), np.concatenate(ys)
    x_t = torch.from_numpy(np.ascontiguousarray(x[sl])).float()
    if x_t.ndim == 3:  # images (N, H, W) -> (N, 1, H, W); feature vectors stay (N, D)
        x_t = x_t.unsqueeze(1)
    y_t = torch.from_numpy(np.ascontiguousarray(y[sl])).long()
    return Dataset(x_t, y_t, list(classes), name, split)


def missing_files(name: str, split: str = "test", root: str | os.PathLike | None = None
                  ) -> str | None:
    """Whether ``split`` of ``name`` can be read from this machine, without any download.

    Returns
    -------
    str or None
        None when the files are there (or the dataset is built in); otherwise a sentence that
        names the files and the folder to put them in (``<root>/<Folder>/raw``).

    Raises
    ------
    DataError
        Unknown name or split.
    """
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    base, _ = parse_split(split)
    folder = DATASETS[name][0]
    if folder is None:
        return None
    roots = [Path(root)] if root is not None else default_roots()
    bases = ["train", "test"] if base == "all" else [base]
    need = [b for b in bases if _find_raw(folder, b, roots) is None]
    if not need:
        return None
    files = ", ".join(f + ".gz" for b in need for f in _IDX_FILES[b])
    env = "" if root is not None or os.environ.get("LATENTLAB_DATA_ROOT") else (
        f", or in <folder>/{folder}/raw with LATENTLAB_DATA_ROOT=<folder>")
    return (f"put {files} in {roots[0] / folder / 'raw'}{env} (torchvision's layout), "
            "or go online so they can be downloaded")


def _load_digits(base: str) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits, scaled from 0..16 to [0, 1], with the fixed split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)  # (1797, 8, 8)
    y = d.target.astype(np.int64)
    if base == "all":
        return x, y
    idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=DIGITS_TEST_FRACTION,
                                           random_state=DIGITS_SPLIT_SEED, stratify=y)
    idx = idx_train if base == "train" else idx_test
    return x[idx], y[idx]


def _find_raw(folder: str, base: str, roots: list[Path]) -> tuple[Path, Path] | None:
    """First (images, labels) pair found, gzipped or not, under ``<root>/<folder>/raw``."""
    img, lab = _IDX_FILES[base]
    for r in roots:
        raw = Path(r) / folder / "raw"
        for suffix in (".gz", ""):
            pi, pl = raw / (img + suffix), raw / (lab + suffix)
            if pi.is_file() and pl.is_file():
                return pi, pl
    return None


def _load_idx_split(name: str, folder: str, base: str, root) -> tuple[np.ndarray, np.ndarray]:
    """Read one split from IDX files, downloading through torchvision if they are missing."""
    roots = [Path(root)] if root is not None else default_roots()
    found = _find_raw(folder, base, roots)
    if found is None:
        _download(name, folder, base, roots[0])
        found = _find_raw(folder, base, roots[:1])
    pi, pl = found  # type: ignore[misc]
    x = _read_idx(pi).astype(np.float32) / 255.0
    y = _read_idx(pl).astype(np.int64)
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise DataError(f"{pi} and {pl} do not hold matching images (N, H, W) and labels (N,): "
                        f"got shapes {x.shape} and {y.shape}")
    return x, y


def _download(name: str, folder: str, base: str, root: Path) -> None:
    """Ask torchvision to download; turn any failure into a DataError saying where files go."""
    import torchvision.datasets as tvd

    where = root / folder / "raw"
    files = ", ".join(f + ".gz" for f in _IDX_FILES[base])
    try:
        getattr(tvd, folder)(str(root), train=(base == "train"), download=True)
    except Exception as exc:  # network down, mirror gone, disk full...
        raise DataError(
            f"dataset {name!r} ({base} split) is not on this machine and could not be downloaded "
            f"({type(exc).__name__}; offline?). Put {files} in {where} "
            "or pass root= (or set LATENTLAB_DATA_ROOT) to a folder in torchvision's layout."
        ) from exc


def _read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (LeCun's MNIST format), gzipped or not, into a uint8 array."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as exc:  # zlib.error: corrupt gzip body
        raise DataError(f"cannot read {path}: {exc}") from exc
    # header: 2 zero bytes, dtype code (0x08 = uint8), number of dims, then one big-endian
    # uint32 per dim (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS")
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path} is not a uint8 IDX file")
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise DataError(f"{path} is truncated inside its header")
    dims = np.frombuffer(data, dtype=">u4", count=ndim, offset=4).astype(np.int64)
    offset = 4 + 4 * ndim
    if len(data) - offset != int(np.prod(dims)):
        raise DataError(f"{path} is truncated: header says {tuple(dims)}, "
                        f"file holds {len(data) - offset} bytes of data")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(tuple(dims))
