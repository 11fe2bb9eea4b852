"""IDX files: round trips (gz and raw, every dtype), MNIST-style pairs, and corrupt inputs."""
from __future__ import annotations

import gzip
import os
import struct

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mnp.core import DTypeError
from mnp.data import (DataFileNotFoundError, DataFormatError, load_idx, load_idx_pair,
                      load_mnist, parse_idx, save_idx)
from mnp.data.idx import IDX_DTYPES

DTYPES = ["uint8", "int8", "int16", "int32", "float32", "float64"]


def _sample(dtype: str, shape: tuple[int, ...], rng) -> np.ndarray:
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return rng.standard_normal(shape).astype(dt) * 1000
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dt)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("suffix", [".gz", ""])
def test_round_trip_every_dtype(tmp_path, rng, dtype, suffix):
    a = _sample(dtype, (3, 4, 5), rng)
    path = tmp_path / f"a-idx3{suffix}"
    save_idx(path, a)
    raw = path.read_bytes()
    assert raw[:2] == (b"\x1f\x8b" if suffix else b"\x00\x00")
    b = load_idx(path)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative and b.shape == (3, 4, 5)
    np.testing.assert_array_equal(a, b)
    b[0, 0, 0] = 1                                       # a writable array of its own
    np.testing.assert_array_equal(parse_idx(raw), a)


def test_header_matches_the_published_layout(tmp_path):
    """Bytes written by hand per the IDX description load as expected (big-endian)."""
    header = bytes([0, 0, 0x0C, 2]) + struct.pack(">II", 2, 3)
    body = struct.pack(">6i", 1, -2, 3, 70000, -5, 6)
    (tmp_path / "m").write_bytes(header + body)
    np.testing.assert_array_equal(load_idx(tmp_path / "m"), [[1, -2, 3], [70000, -5, 6]])
    (tmp_path / "f").write_bytes(bytes([0, 0, 0x0D, 1]) + struct.pack(">I", 2) + struct.pack(">2f", 1.5, -2.25))
    assert load_idx(tmp_path / "f").tolist() == [1.5, -2.25]


def test_compression_detected_by_content_not_name(tmp_path, rng):
    a = _sample("uint8", (4, 2), rng)
    save_idx(tmp_path / "plain.gz", a, compress=False)
    save_idx(tmp_path / "packed", a, compress=True)
    np.testing.assert_array_equal(load_idx(tmp_path / "plain.gz"), a)
    np.testing.assert_array_equal(load_idx(tmp_path / "packed"), a)


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=4), dtype=st.sampled_from(DTYPES),
       gz=st.booleans())
def test_round_trip_property(tmp_path_factory, shape, dtype, gz):
    a = _sample(dtype, tuple(shape), np.random.default_rng(len(shape)))
    path = tmp_path_factory.mktemp("idx") / ("x.gz" if gz else "x")
    save_idx(path, a)
    b = load_idx(path)
    assert b.shape == a.shape and b.dtype == a.dtype
    np.testing.assert_array_equal(a, b)


def test_images_labels_pair_and_mnist_directory(tmp_path, rng):
    images = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 6).astype(np.uint8)
    save_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    save_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels)
    save_idx(tmp_path / "t10k-images-idx3-ubyte", images[:2])
    save_idx(tmp_path / "t10k-labels-idx1-ubyte", labels[:2])
    X, y = load_idx_pair(tmp_path / "train-images-idx3-ubyte.gz", tmp_path / "train-labels-idx1-ubyte.gz")
    assert X.shape == (6, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)
    X, y = load_mnist(tmp_path, flatten=True)
    assert X.shape == (6, 784)
    X, y = load_mnist(tmp_path, train=False)
    assert X.shape == (2, 28, 28) and y.tolist() == labels[:2].tolist()
    with pytest.raises(DataFileNotFoundError, match="train images.*train-images-idx3-ubyte.gz"):
        load_mnist(tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        load_mnist(tmp_path / "missing")
    with pytest.raises(DataFormatError, match="holds 2 labels"):
        load_idx_pair(tmp_path / "train-images-idx3-ubyte.gz", tmp_path / "t10k-labels-idx1-ubyte")
    with pytest.raises(DataFormatError, match="1-d"):
        load_idx_pair(tmp_path / "train-images-idx3-ubyte.gz", tmp_path / "t10k-images-idx3-ubyte")


def _good(dtype: str = "int16", shape=(2, 3)) -> bytes:
    a = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    code = {v.newbyteorder("="): k for k, v in IDX_DTYPES.items()}[np.dtype(dtype)]
    return (bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
            + a.astype(np.dtype(dtype).newbyteorder(">")).tobytes())


CORRUPT = {
    "wrong magic number": (b"\x01\x00" + _good()[2:], "wrong magic number 0x0100"),
    "png file": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "wrong magic number"),
    "unknown dtype code": (b"\x00\x00\x0a\x01" + struct.pack(">I", 1) + b"\x00", "unknown IDX dtype code 0x0A"),
    "empty file": (b"", "truncated IDX header"),
    "short magic": (b"\x00\x00", "truncated IDX header"),
    "truncated dims": (_good()[:9], r"truncated IDX header: 2 dimensions need 8 bytes, found 5"),
    "truncated data": (_good()[:-3], r"truncated IDX data: dimensions \(2, 3\) of int16 need 12"),
    "trailing data": (_good() + b"\x00\x00", "IDX size mismatch.*2 bytes too many"),
    "dims larger than file": (bytes([0, 0, 8, 3]) + struct.pack(">3I", 60000, 65535, 65535) + b"\x00" * 16,
                              r"truncated IDX data: dimensions \(60000, 65535, 65535\)"),
    "rank 255": (bytes([0, 0, 8, 255]) + struct.pack(">255I", *[1] * 255) + b"\x05",
                 r"IDX rank 255 in magic number 0x000008FF exceeds the 32 dimensions"),
    "rank 64": (bytes([0, 0, 8, 64]) + struct.pack(">64I", *[1] * 64) + b"\x05", "IDX rank 64"),
    "empty but too large": (bytes([0, 0, 0x0E, 4]) + struct.pack(">4I", 0, *[2**32 - 1] * 3),
                            r"dimensions \(0, 4294967295, 4294967295, 4294967295\) of float64 "
                            r"are larger than any array can be"),
    "too large": (bytes([0, 0, 8, 3]) + struct.pack(">3I", *[2**32 - 1] * 3), "larger than any"),
}


@pytest.mark.parametrize("case", CORRUPT)
@pytest.mark.parametrize("gz", [False, True])
def test_corrupt_inputs_name_the_file(tmp_path, case, gz):
    data, message = CORRUPT[case]
    path = tmp_path / f"bad-{case.replace(' ', '-')}{'.gz' if gz else ''}"
    path.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(DataFormatError, match=message) as info:
        load_idx(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_corrupt_gzip_stream(tmp_path):
    packed = gzip.compress(_good("float64", (50, 50)))
    path = tmp_path / "broken.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DataFormatError, match="broken.gz"):
        load_idx(path)
    path.write_bytes(packed[:10] + bytes(200) + packed[210:])
    with pytest.raises(DataFormatError, match="broken.gz"):
        load_idx(path)


def test_save_idx_rejects_unsupported_dtypes(tmp_path):
    with pytest.raises(DTypeError, match="int64"):
        save_idx(tmp_path / "x", np.arange(3))
    with pytest.raises(DTypeError, match="bool"):
        save_idx(tmp_path / "x", np.zeros(3, bool))


def test_save_idx_is_atomic_and_removes_temporaries_of_killed_saves(tmp_path, monkeypatch):
    path = tmp_path / "labels-idx1-ubyte"
    save_idx(path, np.arange(4, dtype=np.uint8))
    stale = tmp_path / ".labels-idx1-ubyte.mnp-k1lled00.tmp"
    stale.write_bytes(b"\0\0\x08")
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    save_idx(path, np.arange(5, dtype=np.uint8))
    assert load_idx(path).tolist() == [0, 1, 2, 3, 4]
    assert os.listdir(tmp_path) == ["labels-idx1-ubyte"] and len(synced) == 2


@pytest.mark.parametrize("flatten", [False, True])
def test_empty_files_with_huge_trailing_dimensions(tmp_path, flatten):
    images = tmp_path / "images-idx2-ubyte"
    images.write_bytes(bytes([0, 0, 8, 2]) + struct.pack(">2I", 0, 2**32 - 1))
    labels = tmp_path / "labels-idx1-ubyte"
    labels.write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 0))
    assert load_idx(images).shape == (0, 2**32 - 1)
    X, y = load_idx_pair(images, labels, flatten=flatten)
    assert X.shape == (0, 2**32 - 1) and y.shape == (0,)
