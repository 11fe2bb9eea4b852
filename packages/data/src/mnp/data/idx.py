"""IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or raw.

An IDX file is a 4-byte magic number ``00 00 <type> <ndim>``, ``ndim`` big-endian uint32
dimensions, then the items in row-major order, big-endian. Type codes: 0x08 uint8,
0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64. Compression is detected
from the gzip magic bytes, not the file name. Every size is checked against the header
before the data is read, so a corrupt file fails with a `DataFormatError` naming it.

>>> import os, tempfile, numpy as np
>>> from mnp.data import load_idx, save_idx
>>> path = os.path.join(tempfile.mkdtemp(), "x-idx3-ubyte.gz")
>>> save_idx(path, np.arange(6, dtype=np.uint8).reshape(1, 2, 3))
>>> load_idx(path).tolist()
[[[0, 1, 2], [3, 4, 5]]]
"""
from __future__ import annotations

import gzip
import io
import math
import os
import struct
import sys
import zlib
from typing import IO, Any, NoReturn

import numpy as np

from mnp.core import DTypeError
from mnp.core.atomic import atomic_write

from ._arrays import to_array
from .errors import DataFileNotFoundError, DataFormatError

#: IDX type code -> big-endian numpy dtype
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
#: the most dimensions an IDX file may declare (numpy's own limit is 32 or 64 by version)
MAX_NDIM = 32
#: the largest array numpy can describe, in bytes (its non-zero dimensions count even
#: when another dimension is zero)
MAX_ARRAY_BYTES = np.iinfo(np.intp).max
_CHUNK = 1 << 22


def _known_codes() -> str:
    return ", ".join(f"0x{c:02X} ({dt.newbyteorder('=').name})" for c, dt in IDX_DTYPES.items())


def _read_at_most(f: IO[bytes], limit: int, name: str) -> bytearray:
    """Up to ``limit`` bytes in chunks, so memory grows only with data that really exists."""
    buf = bytearray()
    try:
        while len(buf) < limit:
            chunk = f.read(min(_CHUNK, limit - len(buf)))
            if not chunk:
                break
            buf += chunk
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFormatError(f"{name}: corrupt gzip data: {exc}") from None
    return buf


def _count_rest(f: IO[bytes], name: str) -> int:
    """How many bytes are left in ``f`` (read and dropped chunk by chunk)."""
    total = 0
    try:
        while chunk := f.read(_CHUNK):
            total += len(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFormatError(f"{name}: corrupt gzip data: {exc}") from None
    return total


def _size_error(name: str, what: str, have: int, nbytes: int) -> NoReturn:
    if have < nbytes:
        raise DataFormatError(f"{name}: truncated IDX data: {what}, the file holds {have}")
    raise DataFormatError(f"{name}: IDX size mismatch: {what}, the file holds {have} "
                          f"({have - nbytes} bytes too many)")


def _parse(f: IO[bytes], name: str, size: int | None) -> np.ndarray:
    """Read one IDX array from ``f``; ``size`` is the stream's byte count when known."""
    head = _read_at_most(f, 4, name)
    if len(head) < 4:
        raise DataFormatError(f"{name}: truncated IDX header: {len(head)} of 4 magic bytes")
    if head[0] or head[1]:
        raise DataFormatError(f"{name}: wrong magic number 0x{head.hex().upper()}: an IDX file "
                              "starts with two zero bytes, then a type code and the rank")
    code, ndim = head[2], head[3]
    if code not in IDX_DTYPES:
        raise DataFormatError(f"{name}: unknown IDX dtype code 0x{code:02X} in magic number "
                              f"0x{head.hex().upper()}; known: {_known_codes()}")
    if ndim > MAX_NDIM:
        raise DataFormatError(f"{name}: IDX rank {ndim} in magic number 0x{head.hex().upper()} "
                              f"exceeds the {MAX_NDIM} dimensions an array can have here")
    raw_dims = _read_at_most(f, 4 * ndim, name)
    if len(raw_dims) < 4 * ndim:
        raise DataFormatError(f"{name}: truncated IDX header: {ndim} dimensions need "
                              f"{4 * ndim} bytes, found {len(raw_dims)}")
    dims = struct.unpack(f">{ndim}I", raw_dims)
    dtype = IDX_DTYPES[code]
    if math.prod(max(d, 1) for d in dims) * dtype.itemsize > MAX_ARRAY_BYTES:
        raise DataFormatError(f"{name}: IDX dimensions {dims} of "
                              f"{dtype.newbyteorder('=').name} are larger than any array can be")
    count = math.prod(dims)
    nbytes = count * dtype.itemsize
    what = f"dimensions {dims} of {dtype.newbyteorder('=').name} need {nbytes} data bytes"
    if size is not None:      # raw file: compare with its size before allocating anything
        have = size - 4 - 4 * ndim
        if have != nbytes:
            _size_error(name, what, have, nbytes)
        data = bytearray(nbytes)
        got = f.readinto(data)
        if got != nbytes:
            _size_error(name, what, got, nbytes)
    else:                     # gzip: read no more than the header promises, plus one byte
        data = _read_at_most(f, nbytes + 1, name)
        if len(data) != nbytes:
            extra = _count_rest(f, name) if len(data) > nbytes else 0
            _size_error(name, what, len(data) + extra, nbytes)
    arr = np.frombuffer(data, dtype=dtype, count=count)
    if dtype.itemsize > 1:
        if sys.byteorder == "little":
            arr.byteswap(inplace=True)
        arr = arr.view(dtype.newbyteorder("="))
    return arr.reshape(dims)


def _parse_bytes_or_gzip(f: IO[bytes], name: str, size: int | None) -> np.ndarray:
    magic = f.read(2)
    f.seek(0)
    if magic == _GZIP_MAGIC:
        with gzip.GzipFile(fileobj=f, mode="rb") as gz:
            return _parse(gz, name, None)
    return _parse(f, name, size)


def load_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in IDX file ``path`` (gzip or raw), in the file's dtype.

    Raises `DataFormatError` naming the file for a wrong magic number, an unknown type
    code, a truncated header or data, or dimensions that do not match the data size.
    """
    name = os.fspath(path)
    with open(name, "rb") as f:
        return _parse_bytes_or_gzip(f, name, os.fstat(f.fileno()).st_size)


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Like `load_idx`, from the file's bytes (``name`` appears in error messages)."""
    return _parse_bytes_or_gzip(io.BytesIO(data), name, len(data))


def save_idx(path: str | os.PathLike, array: Any, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file; gzip-compressed when ``compress`` is true or, by
    default, when ``path`` ends in ``.gz``. dtypes: uint8, int8, int16, int32, float32,
    float64 (convert int64 labels with ``.astype(np.int32)`` or ``np.uint8``). The write is
    atomic and durable (`mnp.core.atomic.atomic_write`)."""
    arr = to_array(array)
    code = _CODES.get(arr.dtype.newbyteorder("="))
    if code is None:
        raise DTypeError(f"save_idx: IDX cannot store dtype {arr.dtype.name}; it stores "
                         f"{', '.join(dt.newbyteorder('=').name for dt in IDX_DTYPES.values())}")
    if arr.ndim > 255 or any(d >= 2 ** 32 for d in arr.shape):
        raise DataFormatError(f"save_idx: shape {arr.shape} does not fit an IDX header")
    payload = (bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
               + np.ascontiguousarray(arr, dtype=IDX_DTYPES[code]).tobytes())
    name = os.fspath(path)
    if compress if compress is not None else name.endswith(".gz"):
        payload = gzip.compress(payload, compresslevel=9, mtime=0)
    with atomic_write(name) as f:
        f.write(payload)


_MNIST_NAMES = {
    ("train", "images"): ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    ("train", "labels"): ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    ("test", "images"): ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    ("test", "labels"): ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}


def load_idx_pair(images: str | os.PathLike, labels: str | os.PathLike,
                  flatten: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` from an images file and a labels file: X float32 with the raw pixel
    values (0..255 for MNIST), ``(N, rows, cols)`` or ``(N, rows * cols)`` with
    ``flatten``; y int64 ``(N,)``."""
    X, y = load_idx(images), load_idx(labels)
    if y.ndim != 1:
        raise DataFormatError(f"{os.fspath(labels)}: labels must be 1-d, got shape {y.shape}")
    if X.ndim < 1 or X.shape[0] != y.shape[0]:
        raise DataFormatError(f"{os.fspath(images)} holds shape {X.shape} but "
                              f"{os.fspath(labels)} holds {y.shape[0]} labels")
    X = X.astype(np.float32)
    return (X.reshape(len(X), math.prod(X.shape[1:])) if flatten else X), y.astype(np.int64)


def load_mnist(root: str | os.PathLike, train: bool = True,
               flatten: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """MNIST or Fashion-MNIST from directory ``root`` holding the standard file names
    (``train-images-idx3-ubyte[.gz]``, ``t10k-labels-idx1-ubyte[.gz]``, ...). Nothing
    is downloaded. Returns `load_idx_pair`'s ``(X, y)``."""
    split = "train" if train else "test"
    found = []
    for kind in ("images", "labels"):
        tried = [os.path.join(root, n + ext) for n in _MNIST_NAMES[split, kind] for ext in (".gz", "")]
        hit = next((p for p in tried if os.path.isfile(p)), None)
        if hit is None:
            raise DataFileNotFoundError(f"load_mnist: no {split} {kind} file in {os.fspath(root)!r}; "
                                        f"looked for {', '.join(os.path.basename(p) for p in tried)}")
        found.append(hit)
    return load_idx_pair(found[0], found[1], flatten=flatten)


__all__ = ["load_idx", "parse_idx", "save_idx", "load_idx_pair", "load_mnist", "IDX_DTYPES"]
