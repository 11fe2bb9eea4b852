"""Loading ``(X, y)`` from CSV and ``.npz`` files.

>>> import os, tempfile
>>> from mnp.data import load_csv
>>> path = os.path.join(tempfile.mkdtemp(), "toy.csv")
>>> _ = open(path, "w").write("a,b,label\\n1,2,0\\n3,4,1\\n")
>>> X, y = load_csv(path, target="label")
>>> X.tolist(), y.tolist(), y.dtype.name
([[1.0, 2.0], [3.0, 4.0]], [0, 1], 'int64')
"""
from __future__ import annotations

import csv
import io
import math
import os
import zipfile
import zlib

import numpy as np
from numpy.lib import format as npy_format

from .errors import DataError, DataFormatError

#: the longest cell load_csv reads, in characters (csv's own default; a number or a label
#: is never near it, so a longer cell means the file is not a table of numbers)
FIELD_SIZE_LIMIT = 131072


def _target_column(name: str, target: int | str | None, header: list[str] | None,
                   width: int) -> int | None:
    if target is None:
        return None
    if isinstance(target, str):
        if header is None:
            raise DataError(f"load_csv: target {target!r} is a column name but {name} is read "
                            "without a header (header=False); pass a column index")
        if target not in header:
            raise DataError(f"load_csv: {name} has no column {target!r}; columns: "
                            f"{', '.join(header)}")
        return header.index(target)
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)) \
            or not -width <= target < width:
        raise DataError(f"load_csv: target {target!r} is not a column of {name}, which has "
                        f"{width} columns")
    return int(target) % width


def _raise_bad_cell(name: str, rows: list[tuple[int, list[str]]], features: list[int],
                    columns: list[str] | None) -> None:
    """Find the first feature cell that is not a number and say where it is."""
    for line, r in rows:
        for j in features:
            try:
                float(r[j])
            except ValueError:
                label = columns[j] if columns is not None else j
                raise DataFormatError(f"{name}: line {line}, column {label!r}: {r[j]!r} is not "
                                      "a number") from None
    raise DataFormatError(f"{name}: cannot read the features as numbers")


def _text(name: str) -> str:
    """The file as text: UTF-8 (a byte-order mark is dropped), else an error naming the line."""
    with open(name, "rb") as f:
        data = f.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataFormatError(f"{name}: line {line}, byte {column} of the line: not UTF-8 "
                              f"({exc.reason}: {data[exc.start:exc.end]!r}); load_csv reads "
                              f"UTF-8 text") from None


def _csv_rows(name: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Non-blank rows with their line numbers; no cell may exceed `FIELD_SIZE_LIMIT`."""
    reader = csv.reader(io.StringIO(_text(name), newline=""), delimiter=delimiter)
    limit = min(FIELD_SIZE_LIMIT, csv.field_size_limit())
    rows = []
    try:
        for i, r in enumerate(reader, start=1):
            if any(len(c) > limit for c in r):
                raise csv.Error("field larger than field limit")
            if r and any(c.strip() for c in r):
                rows.append((i, r))
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise DataFormatError(f"{name}: line {reader.line_num}: a field is longer than "
                                  f"{limit} characters, load_csv's field size limit (cells "
                                  f"hold numbers or labels)") from None
        raise DataFormatError(f"{name}: line {reader.line_num}: malformed CSV: {exc}") from None
    return rows


def _labels(values: list[str]) -> tuple[np.ndarray, list[str] | None]:
    """Numbers as int64 (when all are whole) or float32; names as int64 codes in sorted order."""
    try:
        nums = np.array([float(v) for v in values], dtype=np.float64)
    except ValueError:
        classes = sorted(set(values))
        code = {c: i for i, c in enumerate(classes)}
        return np.array([code[v] for v in values], dtype=np.int64), classes
    if np.all(np.isfinite(nums)) and np.all(nums == np.round(nums)):
        return nums.astype(np.int64), None
    return nums.astype(np.float32), None


def load_csv(path: str | os.PathLike, target: int | str | None = -1, delimiter: str = ",",
             header: bool = True, return_classes: bool = False) -> tuple:
    """``(X, y)`` from a CSV file of numbers: X float32 ``(rows, columns - 1)``.

    ``target``: the label column, by index (default: the last) or, with a header, by name;
    ``None`` reads every column into X and returns ``y = None``. y is int64 when every
    label is a whole number, float32 otherwise (regression targets); text labels become
    int64 codes in sorted order of the names (``return_classes=True`` also returns that
    list of names, else None). The file must be UTF-8 and no cell longer than
    `FIELD_SIZE_LIMIT` characters. Empty and non-numeric feature cells, rows of the wrong
    length, bytes that are not UTF-8, over-long cells and empty files raise
    `DataFormatError` naming the file and line.
    """
    name = os.fspath(path)
    rows = _csv_rows(name, delimiter)
    columns = None
    if header:
        if not rows:
            raise DataFormatError(f"{name}: empty CSV file (expected a header row)")
        columns = [c.strip() for c in rows.pop(0)[1]]
    if not rows:
        raise DataFormatError(f"{name}: CSV file has no data rows")
    width = len(columns) if columns is not None else len(rows[0][1])
    for line, r in rows:
        if len(r) != width:
            raise DataFormatError(f"{name}: line {line} has {len(r)} fields, expected {width}")
    col = _target_column(name, target, columns, width)
    features = [j for j in range(width) if j != col]
    try:
        X = np.array([[r[j] for j in features] for _, r in rows], dtype=np.float32)
        X = X.reshape(len(rows), len(features))
    except ValueError:
        _raise_bad_cell(name, rows, features, columns)
    y, classes = (None, None) if col is None else _labels([r[col].strip() for _, r in rows])
    return (X, y, classes) if return_classes else (X, y)


#: the most a deflated member can expand (deflate's own limit is about 1032:1)
_MAX_DEFLATE_RATIO = 1100
_NPY_HEADERS = {(1, 0): npy_format.read_array_header_1_0, (2, 0): npy_format.read_array_header_2_0}


def _npy_member(archive: zipfile.ZipFile, name: str, key: str, size: int) -> np.ndarray:
    """Array ``key`` of an npz archive, its .npy header checked against the member's size
    before the array is allocated."""
    member = f"{key}.npy"
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise DataFormatError(f"{name}: member {key!r} is not a .npy file (np.savez names "
                              f"its members <key>.npy)") from None
    if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
        raise DataFormatError(f"{name}: member {member!r} claims {info.file_size} bytes but "
                              f"stores {info.compress_size}")
    if info.compress_size > size or \
            info.file_size > _MAX_DEFLATE_RATIO * info.compress_size + (1 << 20):
        raise DataFormatError(f"{name}: member {member!r} claims {info.file_size} bytes, more "
                              f"than its {info.compress_size} compressed bytes can hold")
    with archive.open(info) as f:
        try:
            version = npy_format.read_magic(f)
            if version not in _NPY_HEADERS:
                raise ValueError(f"unsupported .npy format version {version}")
            shape, _, dtype = _NPY_HEADERS[version](f)
        except (ValueError, EOFError) as exc:
            raise DataFormatError(f"{name}: member {member!r} is not a .npy file: "
                                  f"{exc}") from None
        data_bytes = info.file_size - f.tell()
    if dtype.hasobject or dtype.kind not in "biuf":
        raise DataFormatError(f"{name}: array {key!r} has dtype {dtype}; X and y must be "
                              f"numeric")
    need = math.prod(shape) * dtype.itemsize
    if need != data_bytes:
        raise DataFormatError(f"{name}: array {key!r} declares shape {shape} of {dtype} "
                              f"({need} bytes) but its member holds {data_bytes} data bytes; "
                              f"the archive is corrupt or hostile")
    with archive.open(info) as f:
        return npy_format.read_array(f, allow_pickle=False)


def load_npz(path: str | os.PathLike, x_key: str | None = None,
             y_key: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` from a ``.npz`` archive (read without pickle): X float32, y int64 for
    integer labels, float32 otherwise.

    Keys default to ``x`` or ``X`` and ``y`` or ``Y``; name others with ``x_key``/``y_key``
    (Keras' ``mnist.npz``: ``x_key="x_train", y_key="y_train"``). A file that is not an
    npz archive, holds object arrays or members that are not .npy files, lacks a key, or
    whose X and y lengths differ raises `DataFormatError` naming the file. Each array's
    header is checked against the bytes its member holds before the array is allocated.
    """
    name = os.fspath(path)
    with open(name, "rb") as f:
        magic = f.read(4)
        size = os.fstat(f.fileno()).st_size
    if magic != b"PK\x03\x04" and magic != b"PK\x05\x06":
        raise DataFormatError(f"{name}: not an .npz archive (wrong magic number "
                              f"0x{magic.hex().upper()}; expected a zip file)")
    try:
        with zipfile.ZipFile(name) as archive:
            members = archive.namelist()
            keys = [m[:-4] if m.endswith(".npy") else m for m in members]

            def pick(given: str | None, defaults: tuple[str, str]) -> np.ndarray:
                options = (given,) if given is not None else defaults
                for k in options:
                    if k in keys:
                        return _npy_member(archive, name, k, size)
                raise DataFormatError(f"{name}: no array named {' or '.join(options)}; "
                                      f"arrays: {', '.join(keys) or '(none)'}")
            X, y = pick(x_key, ("x", "X")), pick(y_key, ("y", "Y"))
    except DataFormatError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, NotImplementedError,
            zlib.error) as exc:
        raise DataFormatError(f"{name}: cannot read .npz archive: {exc}") from None
    if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0]:
        raise DataFormatError(f"{name}: X has shape {X.shape} but y has shape {y.shape}; "
                              "they need the same first dimension")
    return X.astype(np.float32, copy=False), y.astype(np.int64 if y.dtype.kind in "biu" else np.float32,
                                                    copy=False)


__all__ = ["load_csv", "load_npz"]
