"""What a layer config read from a file may hold, checked before anything is built.

The schema of a layer's config is its constructor: the default ``from_config`` calls
``cls(**config)``, so each config key is a constructor parameter and the parameter's
annotation says what the value must be. `check_config` holds every value to its annotation
(``int`` takes only integers, ``bool`` only booleans, ``float`` integers or finite floats,
``str`` strings, ``X | None`` also None, ``list[X]`` / ``tuple[X, ...]`` JSON lists of X),
so ``"in_features": 12000.0`` or ``"12000"`` is refused instead of being converted by the
constructor. A parameter annotated ``Any`` or not at all (and any config of a class with its
own ``from_config``) takes any JSON value; `size_of` then counts every number in it,
floats and numeric strings included, toward the element budget. Configs nest at most
`MAX_CONFIG_DEPTH` levels.
"""
from __future__ import annotations

import functools
import inspect
import math
import types
import typing
from collections import abc
from typing import Any

from .module import Module

#: a config value nests at most this deep (lists in lists ...)
MAX_CONFIG_DEPTH = 16
#: keys whose integers are indices or seeds, not sizes
INDEX_SUFFIXES = ("_idx", "_index", "seed")
_UNCHECKED = object()          # no annotation to hold a value to


def config_depth(value: Any, limit: int = MAX_CONFIG_DEPTH) -> int:
    """How deep ``value`` nests (a scalar is 0), counted without recursion and without
    looking further than ``limit + 1`` levels."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > limit:
            break
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest


@functools.lru_cache(maxsize=256)
def _parameters(cls: Any) -> dict[str, tuple[Any, inspect._ParameterKind]] | None:
    """Constructor parameter -> (annotation or _UNCHECKED, kind) when ``cls`` builds with
    the default ``from_config`` (None when it does not, or has no readable signature)."""
    own = getattr(cls, "from_config", None)
    if getattr(own, "__func__", None) is not Module.from_config.__func__:
        return None
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return None
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:          # an annotation that does not resolve: check nothing
        hints = {}
    return {p.name: (hints.get(p.name, _UNCHECKED), p.kind) for p in params}


def _hint_of(cls: Any, key: str) -> Any:
    params = _parameters(cls)
    if params is None or key not in params:
        return _UNCHECKED
    hint, kind = params[key]
    if hint is _UNCHECKED:
        return _UNCHECKED
    if kind is inspect.Parameter.VAR_POSITIONAL:
        return list[hint]
    if kind is inspect.Parameter.VAR_KEYWORD:
        return dict[str, hint]
    return hint


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r:.40}"


def _mismatch(value: Any, hint: Any) -> str | None:
    """Why ``value`` does not fit ``hint`` (None when it does or cannot be judged)."""
    if hint is _UNCHECKED or hint is Any or isinstance(hint, typing.TypeVar):
        return None
    if hint is None or hint is type(None):
        return None if value is None else f"must be None, got {_describe(value)}"
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        reasons = [_mismatch(value, a) for a in args]
        if any(r is None for r in reasons):
            return None
        names = " or ".join(_name(a) for a in args)
        return f"must be {names}, got {_describe(value)}"
    if hint is bool:
        return None if isinstance(value, bool) else f"must be a bool, got {_describe(value)}"
    if hint is int:
        return None if _is_int(value) else f"must be an int, got {_describe(value)}"
    if hint is float:
        ok = _is_int(value) or (isinstance(value, float) and math.isfinite(value))
        return None if ok else f"must be a finite number, got {_describe(value)}"
    if hint is str:
        return None if isinstance(value, str) else f"must be a string, got {_describe(value)}"
    if origin in (list, tuple, abc.Sequence, abc.MutableSequence, abc.Iterable):
        if not isinstance(value, list):
            return f"must be a list, got {_describe(value)}"
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                return f"must be a list of {len(args)} items, got {len(value)}"
            items = list(zip(value, args))
        else:
            item = args[0] if args else _UNCHECKED
            items = [(v, item) for v in value]
        for i, (v, h) in enumerate(items):
            why = _mismatch(v, h)
            if why is not None:
                return f"item {i} {why}"
        return None
    if origin in (dict, abc.Mapping, abc.MutableMapping):
        if not isinstance(value, dict):
            return f"must be an object, got {_describe(value)}"
        item = args[1] if len(args) == 2 else _UNCHECKED
        for k, v in value.items():
            why = _mismatch(v, item)
            if why is not None:
                return f"item {k!r:.40} {why}"
        return None
    return None                # a class or construct the file format cannot hold anyway


def _name(hint: Any) -> str:
    if hint is None or hint is type(None):
        return "None"
    return getattr(hint, "__name__", None) or str(hint)


def check_config(cls: Any, config: dict) -> str | None:
    """Why ``config`` cannot be the config of ``cls`` (None when it can, as far as the
    constructor's annotations tell)."""
    for key, value in config.items():
        why = _mismatch(value, _hint_of(cls, key))
        if why is not None:
            return f"config {key!r:.60} {why}"
    return None


def _number(value: Any) -> float | None:
    """``value`` as a size-like number when it could act as one (a number or numeric string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and len(value) <= 400:
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _count(value: Any, hint: Any, key: str) -> int:
    if key.endswith(INDEX_SUFFIXES):
        return 1
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType) and type(None) in args and len(args) == 2:
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is float or hint is bool or hint is str:
        return 1               # declared not to be a size
    if isinstance(value, list):
        item = args[0] if origin in (list, tuple) and len(args) in (1, 2) else _UNCHECKED
        return math.prod(_count(v, item, key) for v in value)
    if isinstance(value, dict):
        item = args[1] if len(args) == 2 else _UNCHECKED
        return math.prod(_count(v, item, str(k)) for k, v in value.items())
    if hint is int:
        return value if _is_int(value) and value >= 2 else 1
    number = _number(value)    # unchecked: anything a constructor might turn into a size
    if number is None or not number >= 2:
        return 1
    return math.ceil(number) if math.isfinite(number) else 2**63


def size_of(cls: Any, config: dict) -> int:
    """A bound on the elements building ``cls`` from ``config`` allocates: the product of the
    size-like values in it (>= 2; ints where the annotation says int, every number and
    numeric string where it says nothing)."""
    return math.prod(_count(v, _hint_of(cls, k), str(k)) for k, v in config.items())
