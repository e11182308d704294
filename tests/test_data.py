import gzip
import socket
import struct

import numpy as np
import pytest
import torch

from aecore.data import DATASETS, load_dataset, parse_split
from aecore.errors import DataError


@pytest.fixture
def offline(monkeypatch):
    """No network: every connection attempt fails at once (as on an offline laptop)."""
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def _idx(array: np.ndarray) -> bytes:
    """Encode a uint8 array as an IDX file (magic 0x00 0x00 0x08 ndim, big-endian dims)."""
    head = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.astype(np.uint8).tobytes()


def _write_mnist(root, images: bytes, labels: bytes, gz=True):
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    suffix, opener = (".gz", gzip.open) if gz else ("", open)
    with opener(raw / ("t10k-images-idx3-ubyte" + suffix), "wb") as f:
        f.write(images)
    with opener(raw / ("t10k-labels-idx1-ubyte" + suffix), "wb") as f:
        f.write(labels)
    return raw


def test_digits_shapes_range_and_types(digits_train, digits_test):
    assert digits_train.x.shape == (1437, 1, 8, 8) and digits_test.x.shape == (360, 1, 8, 8)
    assert digits_train.y.shape == (1437,) and digits_test.y.shape == (360,)
    assert digits_train.x.dtype == torch.float32 and digits_train.y.dtype == torch.int64
    for ds in (digits_train, digits_test):
        assert float(ds.x.min()) == 0.0 and float(ds.x.max()) == 1.0  # 0..16 scaled by 1/16
        assert set(ds.y.unique().tolist()) == set(range(10))
    assert digits_test.image_shape == (1, 8, 8) and len(digits_test) == 360
    assert digits_test.classes == [str(i) for i in range(10)] and digits_test.name == "digits"


def test_digits_split_is_fixed_disjoint_and_stratified(digits_train, digits_test):
    again_test, again_train = load_dataset("digits", "test"), load_dataset("digits", "train")
    assert torch.equal(again_test.x, digits_test.x) and torch.equal(again_test.y, digits_test.y)
    assert torch.equal(again_train.x, digits_train.x)
    whole = load_dataset("digits", "all")
    assert len(whole) == len(digits_train) + len(digits_test) == 1797
    # the two splits partition the 1,797 images: every image is in exactly one of them
    rows = lambda ds: sorted(map(bytes, ds.x.flatten(1).numpy()))  # noqa: E731
    assert sorted(rows(digits_train) + rows(digits_test)) == rows(whole)
    # stratified 80/20: each class keeps its share of the whole set (to within one image)
    n_all = np.bincount(whole.y.numpy(), minlength=10)
    n_test = np.bincount(digits_test.y.numpy(), minlength=10)
    assert np.all(np.abs(n_test - 0.2 * n_all) <= 1), (n_test, n_all)


def test_sliced_split_is_a_slice_of_the_split(digits_test):
    head = load_dataset("digits", "test[:10]")
    tail = load_dataset("digits", "test[-5:]")
    assert torch.equal(head.x, digits_test.x[:10]) and head.split == "test[:10]"
    assert torch.equal(tail.y, digits_test.y[-5:])
    sub = digits_test.subset(digits_test.y == 3)
    assert len(sub) == int((digits_test.y == 3).sum()) and (sub.y == 3).all()


@pytest.mark.parametrize("spec,expected", [
    ("test", ("test", slice(None, None))),
    ("train", ("train", slice(None, None))),
    ("all", ("all", slice(None, None))),
    ("test[:8000]", ("test", slice(None, 8000))),
    ("test[8000:]", ("test", slice(8000, None))),
    ("train[100:-5]", ("train", slice(100, -5))),
    (" test ", ("test", slice(None, None))),
])
def test_parse_split(spec, expected):
    assert parse_split(spec) == expected


@pytest.mark.parametrize("spec", ["valid", "Test", "test[a:b]", "test[1]", "test[:8000",
                                  "test[1:2:3]", "", "test;rm"])
def test_bad_split_raises(spec):
    with pytest.raises(DataError, match="split"):
        parse_split(spec)
    with pytest.raises(DataError):
        load_dataset("digits", spec)


def test_unknown_dataset_raises():
    with pytest.raises(DataError, match="unknown dataset") as err:
        load_dataset("cifar", "test")
    assert all(name in str(err.value) for name in DATASETS)  # the message lists the choices


def test_official_mnist_test_set_loads(mnist_root):
    ds = load_dataset("mnist", "test", root=mnist_root)
    assert ds.x.shape == (10000, 1, 28, 28) and ds.x.dtype == torch.float32
    assert float(ds.x.min()) == 0.0 and float(ds.x.max()) == 1.0
    assert ds.y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # LeCun's first ten test labels
    assert np.bincount(ds.y.numpy()).tolist()[:2] == [980, 1135]
    tail = load_dataset("mnist", "test[8000:]", root=mnist_root)
    assert len(tail) == 2000 and torch.equal(tail.x[0], ds.x[8000])
    assert torch.equal(tail.y, ds.y[8000:])
    head = load_dataset("mnist", "test[:8000]", root=mnist_root)
    assert len(head) == 8000


def test_missing_dataset_says_where_to_put_the_files(tmp_path, offline):
    with pytest.raises(DataError) as err:
        load_dataset("mnist", "test", root=tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "MNIST" / "raw") in msg
    assert "t10k-images-idx3-ubyte.gz" in msg and "t10k-labels-idx1-ubyte.gz" in msg


def test_idx_files_are_read_gzipped_or_not(tmp_path):
    x = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    y = np.array([3, 1])
    for gz in (True, False):
        root = tmp_path / str(gz)
        _write_mnist(root, _idx(x), _idx(y), gz=gz)
        ds = load_dataset("mnist", "test", root=root)
        assert ds.x.shape == (2, 1, 3, 4) and ds.y.tolist() == [3, 1]
        assert torch.allclose(ds.x[:, 0], torch.tensor(x / 255.0, dtype=torch.float32))


def test_truncated_idx_file_raises(tmp_path):
    images = _idx(np.zeros((5, 4, 4)))
    _write_mnist(tmp_path, images[:-7], _idx(np.zeros(5)))
    with pytest.raises(DataError, match="truncated") as err:
        load_dataset("mnist", "test", root=tmp_path)
    assert "t10k-images-idx3-ubyte.gz" in str(err.value)


def test_idx_file_cut_inside_its_header_raises(tmp_path):
    _write_mnist(tmp_path, _idx(np.zeros((5, 4, 4)))[:9], _idx(np.zeros(5)))
    with pytest.raises(DataError, match="truncated"):
        load_dataset("mnist", "test", root=tmp_path)


def test_real_mnist_file_cut_in_half_raises(tmp_path, mnist_root):
    src = mnist_root / "MNIST" / "raw"
    with gzip.open(src / "t10k-images-idx3-ubyte.gz") as f:
        data = f.read()
    with gzip.open(src / "t10k-labels-idx1-ubyte.gz") as f:
        labels = f.read()
    _write_mnist(tmp_path, data[: len(data) // 2], labels)
    with pytest.raises(DataError, match="truncated"):
        load_dataset("mnist", "test", root=tmp_path)


@pytest.mark.parametrize("images,match", [
    (b"\x00\x00\x0d\x03" + b"\x00" * 12, "not a uint8 IDX"),  # float32 IDX, not uint8
    (b"PK\x03\x04 not idx at all", "not a uint8 IDX"),
    (b"", "not a uint8 IDX"),
])
def test_foreign_idx_content_raises(tmp_path, images, match):
    _write_mnist(tmp_path, images, _idx(np.zeros(5)))
    with pytest.raises(DataError, match=match):
        load_dataset("mnist", "test", root=tmp_path)


def test_corrupt_gzip_raises(tmp_path):
    raw = _write_mnist(tmp_path, _idx(np.zeros((5, 4, 4))), _idx(np.zeros(5)))
    # a gzip header followed by a deflate block of the reserved type 3 (zlib: invalid block type)
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(
        bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255, 0x07, 0xFF, 0xFF, 0xFF]))
    with pytest.raises(DataError, match="cannot read"):
        load_dataset("mnist", "test", root=tmp_path)
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(b"definitely not gzip")
    with pytest.raises(DataError, match="cannot read"):
        load_dataset("mnist", "test", root=tmp_path)


def test_images_and_labels_of_different_lengths_raise(tmp_path):
    _write_mnist(tmp_path, _idx(np.zeros((5, 4, 4))), _idx(np.zeros(4)))
    with pytest.raises(DataError, match="matching"):
        load_dataset("mnist", "test", root=tmp_path)
