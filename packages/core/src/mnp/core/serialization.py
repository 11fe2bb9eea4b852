"""`save` / `load`: tensors and nested containers of them in a safe file, as ``torch.save`` of
a state dict. Nothing is ever pickled or unpickled.

The file is an ``.npz`` archive (`numpy.savez`): one array per tensor or numpy array, named
``a0``, ``a1``, ..., and ``__structure__``, a uint8 array holding JSON that describes the
object around them. `load` reads it with ``allow_pickle=False`` and checks the description
before it builds anything.

What can be saved: `Tensor` and numpy arrays of bool, int, uint and float dtypes; dicts
(keys str, int, float, bool or None; order kept); lists; tuples; int, float, bool, str and
None; numpy scalars (stored as the Python scalar). Tensors come back as tensors of the same
dtype and values, without ``requires_grad``; numpy arrays come back as tensors too (as
`from_numpy` makes them), as ``torch.load`` gives tensors.

>>> import os, tempfile, mnp.core as mnp
>>> path = os.path.join(tempfile.mkdtemp(), "state.npz")
>>> mnp.save({"w": mnp.ones(2, 3), "step": 7, "betas": (0.9, 0.999)}, path)
>>> sd = mnp.load(path)
>>> sd["w"].size(), sd["step"], sd["betas"]
(mnp.Size([2, 3]), 7, (0.9, 0.999))
"""
from __future__ import annotations

import json
import os
import zipfile
from typing import Any, BinaryIO

import numpy as np

from . import dtypes as _dt
from .atomic import atomic_write
from .autograd import _make
from .errors import MnpError, SerializationError
from .tensorbase import TensorBase

__all__ = ["save", "load"]

FORMAT = "mnp.save"
VERSION = 1
_STRUCTURE = "__structure__"
_SCALARS = {bool: "bool", int: "int", float: "float", str: "str", type(None): "none"}
_MAX_DEPTH = 256


def _describe(path: tuple) -> str:
    return "the object" + "".join(f"[{k!r}]" for k in path)


class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.seen: set[int] = set()

    def encode(self, obj: Any, path: tuple) -> Any:
        if isinstance(obj, (TensorBase, np.ndarray)):
            arr = obj.data if isinstance(obj, TensorBase) else obj
            if arr.dtype.kind not in "biuf":
                raise SerializationError(f"save: {_describe(path)} is an array of dtype "
                                         f"{arr.dtype}; only bool, int and float arrays can be saved")
            name = f"a{len(self.arrays)}"
            self.arrays[name] = arr
            return {"t": "tensor" if isinstance(obj, TensorBase) else "ndarray", "key": name}
        if isinstance(obj, np.generic) and obj.dtype.kind in "biuf":
            obj = obj.item()
        kind = _SCALARS.get(type(obj))
        if kind is not None:
            return {"t": kind, "v": obj}
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self.seen:
                raise SerializationError(f"save: {_describe(path)} contains itself")
            if len(path) >= _MAX_DEPTH:
                raise SerializationError(f"save: {_describe(path)} is nested deeper than "
                                         f"{_MAX_DEPTH} levels")
            self.seen.add(id(obj))
            try:
                if isinstance(obj, dict):
                    items = []
                    for k, v in obj.items():
                        if _SCALARS.get(type(k)) is None:
                            raise SerializationError(
                                f"save: {_describe(path)} has a key {k!r} of type "
                                f"{type(k).__name__}; keys must be str, int, float, bool or None")
                        items.append([self.encode(k, path), self.encode(v, path + (k,))])
                    return {"t": "dict", "items": items}
                return {"t": "tuple" if isinstance(obj, tuple) else "list",
                        "items": [self.encode(v, path + (i,)) for i, v in enumerate(obj)]}
            finally:
                self.seen.discard(id(obj))
        raise SerializationError(f"save: {_describe(path)} is a {type(obj).__module__}."
                                 f"{type(obj).__qualname__}, which cannot be saved; save tensors, "
                                 f"numpy arrays, dicts, lists, tuples, int, float, bool, str or None")


def save(obj: Any, f: str | os.PathLike | BinaryIO) -> None:
    """Write ``obj`` (a state dict, or nested dicts/lists/tuples of tensors, numpy arrays and
    Python scalars; see the module) to ``f``, a path or a binary file opened for writing. A
    path is written atomically (`mnp.core.atomic`): readers see the old file or the new one."""
    writer = _Writer()
    root = writer.encode(obj, ())
    text = json.dumps({"format": FORMAT, "version": VERSION, "root": root})
    arrays = dict(writer.arrays)
    arrays[_STRUCTURE] = np.frombuffer(text.encode("utf-8"), np.uint8)
    if hasattr(f, "write"):
        np.savez(f, **arrays)
        return
    with atomic_write(f) as out:
        np.savez(out, **arrays)


class _Reader:
    def __init__(self, archive: Any, name: str):
        self.archive, self.name = archive, name
        self.keys = set(archive.files)

    def error(self, why: str) -> SerializationError:
        return SerializationError(f"load: {self.name} is not a valid mnp.save file: {why}")

    def array(self, key: Any, kind: str) -> Any:
        if not isinstance(key, str) or key == _STRUCTURE or key not in self.keys:
            raise self.error(f"its structure refers to an array {key!r} the file does not hold")
        try:
            arr = self.archive[key]
        except ValueError as exc:    # an object array: numpy refuses it without pickle
            raise self.error(f"array {key!r} cannot be read without unpickling ({exc})") from None
        if arr.dtype.kind not in "biuf":
            raise self.error(f"array {key!r} has dtype {arr.dtype}, not bool, int or float")
        if kind == "tensor":
            if arr.dtype not in _dt.SUPPORTED:
                raise self.error(f"tensor {key!r} has unsupported dtype {arr.dtype}")
            return _make(arr, False, None)
        return _make(_dt.infer(arr, from_python=False, op="load"), False, None)

    def decode(self, node: Any, depth: int = 0) -> Any:
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise self.error(f"unexpected entry {str(node)[:80]!r} in its structure")
        if depth > _MAX_DEPTH:
            raise self.error(f"its structure is nested deeper than {_MAX_DEPTH} levels")
        kind = node["t"]
        if kind in ("tensor", "ndarray"):
            return self.array(node.get("key"), kind)
        if kind in _SCALARS.values():
            v = node.get("v")
            want = next(t for t, k in _SCALARS.items() if k == kind)
            if type(v) is not want and not (want is float and type(v) is int):
                raise self.error(f"a {kind} entry holds {v!r}")
            return float(v) if want is float else v
        items = node.get("items")
        if kind not in ("dict", "list", "tuple") or not isinstance(items, list):
            raise self.error(f"unknown entry type {kind!r} in its structure")
        if kind == "dict":
            out = {}
            for item in items:
                if not isinstance(item, list) or len(item) != 2:
                    raise self.error("a dict entry is not a [key, value] pair")
                key = self.decode(item[0], depth + 1)
                if isinstance(key, (TensorBase, dict, list, tuple)):
                    raise self.error("a dict key is not a scalar")
                out[key] = self.decode(item[1], depth + 1)
            return out
        values = [self.decode(v, depth + 1) for v in items]
        return values if kind == "list" else tuple(values)


def load(f: str | os.PathLike | BinaryIO) -> Any:
    """Read what `save` wrote to ``f`` (a path or a binary file opened for reading). Never
    unpickles: a file that would need it, or any other damaged or foreign file, raises a
    `SerializationError` naming the file."""
    name = repr(getattr(f, "name", f)) if hasattr(f, "read") else repr(os.fspath(f))
    try:
        archive = np.load(f, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise SerializationError(f"load: {name} is not a valid mnp.save file: "
                                 f"cannot be read as an .npz archive ({exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise SerializationError(f"load: {name} is not a valid mnp.save file: it holds a single "
                                 f"numpy array, not an .npz archive")
    with archive:
        reader = _Reader(archive, name)
        try:
            if _STRUCTURE not in reader.keys:
                raise reader.error(f"it has no {_STRUCTURE} entry")
            raw = archive[_STRUCTURE]
            if raw.dtype != np.uint8 or raw.ndim != 1:
                raise reader.error(f"{_STRUCTURE} is not a 1-d uint8 array")
            try:
                doc = json.loads(raw.tobytes().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
                raise reader.error(f"its structure is not valid JSON ({exc})") from None
            if not isinstance(doc, dict) or doc.get("format") != FORMAT:
                raise reader.error("its structure has no mnp.save format tag")
            if doc.get("version") != VERSION:
                raise reader.error(f"format version {doc.get('version')!r} is not {VERSION}")
            return reader.decode(doc.get("root"))
        except MnpError:
            raise
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, RecursionError) as exc:
            raise reader.error(f"{type(exc).__name__}: {exc}") from None


