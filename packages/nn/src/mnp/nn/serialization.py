"""Safe model files: architecture and weights in one safetensors file, never code.

* `save(model, path)` / `load(path)` (aliases `save_model` / `load_model`): the file's
  ``__metadata__`` holds the architecture as JSON — each layer's registered name and its
  `get_config()` arguments, containers with their children — plus the mnp version and the
  format version; the tensors are the `state_dict`, keyed by its names. Loading looks layer
  names up only in the ``layers`` registry, builds them with ``from_config``, and loads the
  tensors with strict checks of names, shapes and dtypes. The file also records which plugin
  and distribution registered each layer type, so that loading it where a type is missing
  says what to install (`serialization_sources`); `serialization_arch` describes, checks and
  builds architectures.
* `save_state_dict(sd, path)` / `load_state_dict(path)`: plain tensors by name (any
  safetensors file of mnp's dtypes loads).
* `save_checkpoint` / `load_checkpoint`: model weights, optimizer state, epoch and any
  extra state (nested dicts and lists of numbers, strings and arrays) for resuming training.

Every file is validated before anything large is allocated, and every problem is a
`ModelFormatError` naming the file. Writes are atomic (a temporary file, then a rename).

>>> import os, tempfile
>>> import mnp.core as mnp
>>> from mnp import nn
>>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
>>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
>>> save(model, path)
>>> again = load(path)
>>> x = mnp.randn(5, 3)
>>> bool((again(x) == model(x)).data.all())
True
"""
from __future__ import annotations

import json
import math
import os
from typing import Any, Iterable, Mapping

import numpy as np

import mnp.core as mnp
from mnp.core import MnpError, Tensor

from .serialization_codec import CodecError, decode, encode
from .serialization_arch import (MAX_DEPTH, MIN_CONFIG_ELEMENTS, allowed_mismatches, build,
                                 build_planned, describe, plan)
from .serialization_io import ModelFormatError, _no_constant, read_file, read_header, write_file
from .serialization_schema import MAX_CONFIG_DEPTH, config_depth
from . import serialization_sources as sources

__all__ = ["ModelFormatError", "save", "load", "save_model", "load_model", "save_state_dict",
           "load_state_dict", "save_checkpoint", "load_checkpoint", "describe", "build",
           "FORMAT_VERSION"]

#: version of the layout below; files from a newer layout are refused with a clear message
FORMAT_VERSION = 1
#: JSON metadata nests at most this deep (room for MAX_DEPTH modules with their configs)
MAX_JSON_DEPTH = 4 * MAX_DEPTH


def _versions() -> dict[str, str]:
    try:
        from importlib.metadata import version
        nn_version = version("mnp-nn")
    except Exception:  # running from a source tree
        nn_version = "0.0.0"
    return {"mnp.version": str(getattr(mnp, "__version__", "0.0.0")), "mnp.nn.version": nn_version}


def _metadata(kind: str, **extra: str) -> dict[str, str]:
    meta = {"format": "mnp", "mnp.kind": kind, "mnp.format_version": str(FORMAT_VERSION)}
    meta.update(_versions())
    meta.update(extra)
    return meta


def _check_version(meta: Mapping[str, str], op: str, path: Any) -> None:
    raw = meta.get("mnp.format_version")
    if raw is None:
        return
    try:
        version = int(raw)
    except ValueError:
        raise ModelFormatError(f"{op}: {os.fspath(path)}: format version {raw!r:.40} is not "
                               f"an integer") from None
    if version > FORMAT_VERSION or version < 1:
        raise ModelFormatError(f"{op}: {os.fspath(path)}: format version {version} is not "
                               f"readable by this mnp (reads 1 to {FORMAT_VERSION}); "
                               f"upgrade mnp-nn")


def _json(meta: Mapping[str, str], key: str, op: str, path: Any) -> Any:
    try:
        doc = json.loads(meta[key], parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise ModelFormatError(f"{op}: {os.fspath(path)}: metadata {key!r} is not valid "
                               f"JSON: {exc}") from None
    if config_depth(doc, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise ModelFormatError(f"{op}: {os.fspath(path)}: metadata {key!r} nests deeper than "
                               f"{MAX_JSON_DEPTH} levels")
    return doc


def _arrays(state_dict: Mapping[str, Any]) -> dict[str, np.ndarray]:
    return {k: (v.data if isinstance(v, Tensor) else np.asarray(v)) for k, v in state_dict.items()}


# -- plain state dicts ------------------------------------------------------------------------
def save_state_dict(state_dict: Mapping[str, Any], path: str | os.PathLike,
                    metadata: Mapping[str, str] | None = None) -> None:
    """Write tensors by name (Tensors or arrays) to one safetensors file, atomically.

    ``metadata``: extra string pairs stored in the header.
    """
    meta = _metadata("state_dict")
    meta.update(metadata or {})
    write_file(path, _arrays(state_dict), meta, op="save_state_dict")


def load_state_dict(path: str | os.PathLike) -> dict[str, Tensor]:
    """The tensors of a safetensors file by name (in file order), validated first.

    Feed the result to ``module.load_state_dict``.
    """
    tensors, meta = read_file(path, op="load_state_dict")
    _check_version(meta, "load_state_dict", path)
    return {k: mnp.from_numpy(v) for k, v in tensors.items()}


def _load_into(model: Any, tensors: Mapping[str, np.ndarray], op: str, path: Any) -> None:
    """Strictly copy ``tensors`` into ``model``: same names, shapes and dtypes, or nothing."""
    own = model.state_dict()
    missing = [k for k in own if k not in tensors]
    unexpected = [k for k in tensors if k not in own]
    if missing or unexpected:
        parts = ([f"missing {', '.join(map(repr, missing))}"] if missing else []) + \
                ([f"unexpected {', '.join(map(repr, unexpected))}"] if unexpected else [])
        raise ModelFormatError(f"{op}: {os.fspath(path)}: the tensors do not match the model "
                               f"({type(model).__name__}): " + "; ".join(parts))
    for key, dst in own.items():
        src = tensors[key]
        if src.shape != dst.shape:
            raise ModelFormatError(f"{op}: {os.fspath(path)}: tensor {key!r} has shape "
                                   f"{src.shape} in the file but the model expects {dst.shape}")
        if src.dtype != dst.dtype:
            raise ModelFormatError(f"{op}: {os.fspath(path)}: tensor {key!r} has dtype "
                                   f"{src.dtype} in the file but the model expects {dst.dtype}")
    model.load_state_dict({k: tensors[k] for k in own}, strict=True)


def _float_dtype(tensors: Mapping[str, np.ndarray]) -> np.dtype | None:
    kinds = {a.dtype for a in tensors.values() if a.dtype.kind == "f"}
    return kinds.pop() if len(kinds) == 1 else None


# -- whole models -----------------------------------------------------------------------------
def save(model: Any, path: str | os.PathLike) -> None:
    """Write ``model``'s architecture and weights (parameters and buffers) to ``path``.

    Every layer must be registered (``mnp_register_layers``) and have a JSON `get_config`.
    """
    arch = describe(model)
    meta = _metadata("model", **{"mnp.architecture": json.dumps(arch, allow_nan=False),
                                 sources.KEY: sources.record(sources.layer_types(arch))})
    write_file(path, _arrays(model.state_dict()), meta, op="save")


def load(path: str | os.PathLike, max_config_elements: int | None = None, *,
         allow_provider_mismatch: bool | Iterable[str] = False) -> Any:
    """Rebuild the model saved by `save` (or the model inside a `save_checkpoint` file that
    recorded its architecture), weights included; it is in training mode, like a new model.

    Only registered layer types are built. ``max_config_elements`` bounds the sizes the layer
    configs may ask for (default: 64 x the file's tensor elements, at least 2**24), so a
    hostile config cannot make the loader allocate without limit.

    A layer type the file says came from one plugin/distribution but that another one
    provides here is refused; ``allow_provider_mismatch=True`` (every type) or a collection
    of layer type names builds them with the classes registered here.
    """
    allowed = allowed_mismatches(allow_provider_mismatch)
    entries, meta, _ = read_header(path, op="load")
    _check_version(meta, "load", path)
    kind = meta.get("mnp.kind")
    if "mnp.architecture" not in meta:
        raise ModelFormatError(f"load: {os.fspath(path)}: the file holds no architecture "
                               f"(kind {kind!r}); load its tensors with load_state_dict")
    arch = _json(meta, "mnp.architecture", "load", path)
    elements = sum(math.prod(e[1]) for e in entries.values())
    budget = max_config_elements if max_config_elements is not None else \
        max(MIN_CONFIG_ELEMENTS, 64 * elements)
    plan(arch, "load", path, budget, sources.read(meta), allowed)
    tensors, _ = read_file(path, op="load")
    if kind == "checkpoint":
        tensors = {k[len("model/"):]: v for k, v in tensors.items() if k.startswith("model/")}
    model = build_planned(arch, mnp.registry("layers"), "model", "load", path)
    dtype = _float_dtype(tensors)
    if dtype is not None and hasattr(model, "to") and any(
            p.dtype.kind == "f" and p.dtype != dtype for p in model.state_dict().values()):
        model.to(dtype)
    _load_into(model, tensors, "load", path)
    return model


save_model = save
load_model = load


# -- checkpoints --------------------------------------------------------------------------------
def _with_file(exc: MnpError, op: str, path: Any) -> MnpError:
    """``exc`` again, of the same class, with ``op`` and the file in front of its message."""
    message = f"{op}: {os.fspath(path)}: {exc}"
    try:
        return type(exc)(message)
    except Exception:
        return ModelFormatError(message)


def save_checkpoint(path: str | os.PathLike, model: Any = None, optimizer_state: Any = None,
                    epoch: int | None = None, extra: Any = None) -> None:
    """Write a training checkpoint atomically: ``model``'s weights (and its architecture when
    every layer is registered), ``optimizer_state`` (e.g. ``optimizer.state_dict()``),
    ``epoch`` and ``extra`` — nested dicts/lists/tuples of numbers, strings, None, arrays
    and Tensors. Arrays become tensors in the file; the rest is JSON in its metadata.
    """
    tensors: dict[str, np.ndarray] = {}
    meta = _metadata("checkpoint")
    if model is not None:
        for k, v in _arrays(model.state_dict()).items():
            tensors["model/" + k] = v
        try:
            arch = describe(model)
            meta["mnp.architecture"] = json.dumps(arch, allow_nan=False)
            meta[sources.KEY] = sources.record(sources.layer_types(arch))
        except ModelFormatError:
            pass                      # weights only: load_checkpoint(model=...) still works
    try:
        body = {"epoch": epoch, "has_model": model is not None,
                "optimizer": encode(optimizer_state, tensors, "optimizer"),
                "extra": encode(extra, tensors, "extra")}
        meta["mnp.checkpoint"] = json.dumps(body, allow_nan=False)
    except CodecError as exc:
        raise ModelFormatError(f"save_checkpoint: {os.fspath(path)}: {exc}") from None
    write_file(path, tensors, meta, op="save_checkpoint")


def load_checkpoint(path: str | os.PathLike, model: Any = None, optimizer: Any = None
                    ) -> dict[str, Any]:
    """Read a `save_checkpoint` file: ``{"model": {name: Tensor}, "optimizer": state,
    "epoch": int | None, "extra": ..., "metadata": {...}}``.

    With ``model``, its weights are loaded strictly (names, shapes, dtypes); with
    ``optimizer``, ``optimizer.load_state_dict`` gets the saved state.
    """
    tensors, meta = read_file(path, op="load_checkpoint")
    _check_version(meta, "load_checkpoint", path)
    if meta.get("mnp.kind") != "checkpoint" or "mnp.checkpoint" not in meta:
        raise ModelFormatError(f"load_checkpoint: {os.fspath(path)}: not an mnp checkpoint "
                               f"(kind {meta.get('mnp.kind')!r})")
    body = _json(meta, "mnp.checkpoint", "load_checkpoint", path)
    if not isinstance(body, dict) or not {"epoch", "optimizer", "extra"} <= set(body):
        raise ModelFormatError(f"load_checkpoint: {os.fspath(path)}: malformed checkpoint "
                               f"metadata")
    try:
        optimizer_state = decode(body["optimizer"], tensors, "optimizer")
        extra = decode(body["extra"], tensors, "extra")
    except CodecError as exc:
        raise ModelFormatError(f"load_checkpoint: {os.fspath(path)}: {exc}") from None
    weights = {k[len("model/"):]: v for k, v in tensors.items() if k.startswith("model/")}
    if model is not None:
        _load_into(model, weights, "load_checkpoint", path)
    if optimizer is not None and optimizer_state is not None:
        try:
            optimizer.load_state_dict(optimizer_state)
        except MnpError as exc:       # the optimizer's own error class, naming the file too
            raise _with_file(exc, "load_checkpoint", path) from None
    epoch = body["epoch"]
    if epoch is not None and (not isinstance(epoch, int) or isinstance(epoch, bool)):
        raise ModelFormatError(f"load_checkpoint: {os.fspath(path)}: epoch {epoch!r:.40} is "
                               f"not an integer")
    return {"model": {k: mnp.from_numpy(v) for k, v in weights.items()},
            "optimizer": optimizer_state, "epoch": epoch, "extra": extra, "metadata": meta}
