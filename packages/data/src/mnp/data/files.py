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
import os
import zipfile
import numpy as np

from .errors import DataError, DataFormatError


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
    list of names, else None). Empty and non-numeric feature cells, rows of the wrong
    length and empty files raise `DataFormatError` naming the file, line and column.
    """
    name = os.fspath(path)
    with open(name, newline="", encoding="utf-8-sig") as f:
        rows = [(i, r) for i, r in enumerate(csv.reader(f, delimiter=delimiter), start=1)
                if r and any(c.strip() for c in r)]
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


def load_npz(path: str | os.PathLike, x_key: str | None = None,
             y_key: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` from a ``.npz`` archive (read without pickle): X float32, y int64 for
    integer labels, float32 otherwise.

    Keys default to ``x`` or ``X`` and ``y`` or ``Y``; name others with ``x_key``/``y_key``
    (Keras' ``mnist.npz``: ``x_key="x_train", y_key="y_train"``). A file that is not an
    npz archive, holds object arrays, lacks a key, or whose X and y lengths differ raises
    `DataFormatError` naming the file.
    """
    name = os.fspath(path)
    with open(name, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04" and magic != b"PK\x05\x06":
        raise DataFormatError(f"{name}: not an .npz archive (wrong magic number "
                              f"0x{magic.hex().upper()}; expected a zip file)")
    try:
        with np.load(name, allow_pickle=False) as archive:
            keys = list(archive.files)

            def pick(given: str | None, defaults: tuple[str, str]) -> np.ndarray:
                options = (given,) if given is not None else defaults
                for k in options:
                    if k in keys:
                        return archive[k]
                raise DataFormatError(f"{name}: no array named {' or '.join(options)}; "
                                      f"arrays: {', '.join(keys) or '(none)'}")
            X, y = pick(x_key, ("x", "X")), pick(y_key, ("y", "Y"))
    except DataFormatError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise DataFormatError(f"{name}: cannot read .npz archive: {exc}") from None
    if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0]:
        raise DataFormatError(f"{name}: X has shape {X.shape} but y has shape {y.shape}; "
                              "they need the same first dimension")
    if X.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
        raise DataFormatError(f"{name}: X ({X.dtype}) and y ({y.dtype}) must be numeric")
    return X.astype(np.float32, copy=False), y.astype(np.int64 if y.dtype.kind in "biu" else np.float32,
                                                    copy=False)


__all__ = ["load_csv", "load_npz"]
