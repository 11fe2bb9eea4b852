"""Nested state (optimizer state dicts, RNG states, extras) as JSON plus named tensors.

Arrays, Tensors and numpy scalars become tensors in the file and a reference in the JSON;
everything else must be JSON data (None, bool, int, float, str, lists, tuples, dicts with
str/int/float/bool/None keys). Decoding builds only those same plain types: nothing in the
JSON can name a class or a function.

>>> import numpy as np
>>> tensors = {}
>>> node = encode({0: {"step": 3, "buf": np.ones(2)}}, tensors, "opt")
>>> sorted(tensors)
['opt/0/buf']
>>> decode(node, tensors)
{0: {'step': 3, 'buf': array([1., 1.])}}
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from mnp.core import MnpError, Tensor, from_numpy

MAX_DEPTH = 64
_TAGS = ("__tensor__", "__tuple__", "__items__")


class CodecError(MnpError, ValueError):
    """A value that cannot be stored, or a stored structure that is not well formed."""


def _key(k: Any) -> str:
    return str(k).replace("/", "_")


def encode(obj: Any, tensors: dict[str, np.ndarray], prefix: str, depth: int = 0) -> Any:
    """``obj`` as JSON data; arrays go into ``tensors`` under names starting with ``prefix``."""
    if depth > MAX_DEPTH:
        raise CodecError(f"encode: {prefix}: nested deeper than {MAX_DEPTH} levels")
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__tensor__": _put(np.float64(obj), tensors,
                                                                   prefix, "float")}
    if isinstance(obj, Tensor):
        return {"__tensor__": _put(obj.data, tensors, prefix, "Tensor")}
    if isinstance(obj, np.ndarray):
        return {"__tensor__": _put(obj, tensors, prefix, "ndarray")}
    if isinstance(obj, np.generic):
        return {"__tensor__": _put(np.asarray(obj), tensors, prefix, "scalar")}
    if isinstance(obj, (list, tuple)):
        items = [encode(v, tensors, f"{prefix}/{i}", depth + 1) for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else {"__tuple__": items}
    if isinstance(obj, dict):
        plain = all(isinstance(k, str) and k not in _TAGS for k in obj)
        if plain:
            return {k: encode(v, tensors, f"{prefix}/{_key(k)}", depth + 1) for k, v in obj.items()}
        items = []
        for k, v in obj.items():
            if not (k is None or isinstance(k, (bool, int, float, str))):
                raise CodecError(f"encode: {prefix}: dict key {k!r} of type "
                                 f"{type(k).__name__} cannot be stored")
            items.append([k, encode(v, tensors, f"{prefix}/{_key(k)}", depth + 1)])
        return {"__items__": items}
    raise CodecError(f"encode: {prefix}: a {type(obj).__name__} cannot be stored (only "
                     f"arrays, Tensors, numbers, strings, None, lists, tuples and dicts)")


_KINDS: dict[str, Callable[[np.ndarray], Any]] = {
    "Tensor": lambda a: from_numpy(a),
    "ndarray": lambda a: a,
    "scalar": lambda a: a[()],
    "float": lambda a: float(a),
}


def _put(arr: np.ndarray, tensors: dict[str, np.ndarray], prefix: str, kind: str) -> list[str]:
    name = prefix
    n = 1
    while name in tensors:
        n += 1
        name = f"{prefix}~{n}"
    tensors[name] = np.array(arr, copy=True)
    return [name, kind]


def decode(node: Any, tensors: dict[str, np.ndarray], where: str = "state", depth: int = 0) -> Any:
    """The inverse of `encode`; ``tensors`` maps the referenced names to arrays."""
    if depth > MAX_DEPTH:
        raise CodecError(f"decode: {where}: nested deeper than {MAX_DEPTH} levels")
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [decode(v, tensors, f"{where}[{i}]", depth + 1) for i, v in enumerate(node)]
    if not isinstance(node, dict):
        raise CodecError(f"decode: {where}: unexpected {type(node).__name__}")
    if "__tensor__" in node:
        ref = node["__tensor__"]
        if (len(node) != 1 or not isinstance(ref, list) or len(ref) != 2
                or ref[1] not in _KINDS or not isinstance(ref[0], str)):
            raise CodecError(f"decode: {where}: malformed tensor reference {node!r:.200}")
        if ref[0] not in tensors:
            raise CodecError(f"decode: {where}: refers to tensor {ref[0]!r}, which the file "
                             f"does not hold")
        arr = tensors[ref[0]]
        if ref[1] in ("scalar", "float") and arr.ndim != 0:
            raise CodecError(f"decode: {where}: tensor {ref[0]!r} of shape {arr.shape} "
                             f"stored as a scalar")
        return _KINDS[ref[1]](arr)
    if "__tuple__" in node:
        if len(node) != 1 or not isinstance(node["__tuple__"], list):
            raise CodecError(f"decode: {where}: malformed tuple {node!r:.200}")
        return tuple(decode(v, tensors, f"{where}[{i}]", depth + 1)
                     for i, v in enumerate(node["__tuple__"]))
    if "__items__" in node:
        items = node["__items__"]
        if len(node) != 1 or not isinstance(items, list) or not all(
                isinstance(p, list) and len(p) == 2
                and (p[0] is None or isinstance(p[0], (bool, int, float, str))) for p in items):
            raise CodecError(f"decode: {where}: malformed dict {node!r:.200}")
        return {k: decode(v, tensors, f"{where}[{k!r}]", depth + 1) for k, v in items}
    return {k: decode(v, tensors, f"{where}.{k}", depth + 1) for k, v in node.items()}
