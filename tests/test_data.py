import gzip

import numpy as np
import pytest
import torch

from aecore.data import load_dataset, parse_split
from aecore.errors import DataError


def test_digits_split_is_fixed_stratified_and_in_range(digits):
    train, test = digits
    assert train.x.shape == (1437, 1, 8, 8) and test.x.shape == (360, 1, 8, 8)
    assert train.x.dtype == torch.float32 and train.y.dtype == torch.int64
    assert 0.0 <= float(train.x.min()) and float(train.x.max()) == 1.0
    again = load_dataset("digits", "test")
    assert torch.equal(again.x, test.x) and torch.equal(again.y, test.y)
    counts = np.bincount(test.y.numpy(), minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # stratified: ~36 per class
    whole = load_dataset("digits", "all")
    assert len(whole) == len(train) + len(test) == 1797
    assert test.classes == [str(i) for i in range(10)]


@pytest.mark.parametrize("spec,expected", [("test", ("test", slice(None, None))),
                                           ("test[:8000]", ("test", slice(None, 8000))),
                                           ("train[100:-5]", ("train", slice(100, -5)))])
def test_parse_split(spec, expected):
    assert parse_split(spec) == expected


@pytest.mark.parametrize("spec", ["valid", "test[a:b]", "test[1]", ""])
def test_bad_split_raises(spec):
    with pytest.raises(DataError):
        parse_split(spec)


def test_unknown_dataset_raises():
    with pytest.raises(DataError, match="unknown dataset"):
        load_dataset("cifar", "test")


def test_official_mnist_test_set_loads(mnist_root):
    ds = load_dataset("mnist", "test", root=mnist_root)
    assert ds.x.shape == (10000, 1, 28, 28)
    assert float(ds.x.min()) == 0.0 and float(ds.x.max()) == 1.0
    assert ds.y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(ds.y.numpy()).tolist()[:2] == [980, 1135]
    tail = load_dataset("mnist", "test[8000:]", root=mnist_root)
    assert len(tail) == 2000 and torch.equal(tail.x[0], ds.x[8000])


def test_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(DataError) as err:
        load_dataset("kmnist", "test", root=tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "KMNIST" / "raw") in msg and "t10k-images-idx3-ubyte.gz" in msg


def test_truncated_idx_file_raises(tmp_path, mnist_root):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    src = mnist_root / "MNIST" / "raw"
    with gzip.open(src / "t10k-images-idx3-ubyte.gz") as f:
        data = f.read()
    with gzip.open(raw / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(data[: len(data) // 2])
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes((src / "t10k-labels-idx1-ubyte.gz").read_bytes())
    with pytest.raises(DataError, match="truncated"):
        load_dataset("mnist", "test", root=tmp_path)
