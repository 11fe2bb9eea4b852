"""Model architectures as JSON data: `describe` a model, check a described architecture
and `build` it again from registered layers only.

A node is ``{"type", "config"}`` (the layer's registered name and its `get_config()`),
plus ``"children"`` (``[name, node]`` pairs) for containers. Before anything is built,
`plan` checks the whole tree: node shapes, nesting, registered types (and, when the file
recorded them, the plugin and distribution each came from, `serialization_sources`), each
config against its constructor's annotations (`serialization_schema`) and the sizes the
configs ask for against an element budget. Nothing named in an architecture is imported or
executed.
"""
from __future__ import annotations

import json
import os
from typing import Any, Iterable, Mapping

import mnp.core as mnp
from mnp.core import ArgumentError, MnpError

from .serialization_io import ModelFormatError
from .serialization_schema import MAX_CONFIG_DEPTH, check_config, config_depth, size_of
from . import serialization_sources as sources

#: architectures nest at most this deep
MAX_DEPTH = 100
#: the least element budget for building layers from a file's configs (see `load`)
MIN_CONFIG_ELEMENTS = 2**24


def _layer_names() -> dict[type, str]:
    """Registered layer class -> the name to save it under (its class name when registered
    under it, else the first name it was registered with)."""
    names: dict[type, str] = {}
    for name, obj in mnp.registry("layers").items():
        if isinstance(obj, type) and (obj not in names or name == obj.__name__):
            names[obj] = name
    return names


def describe(model: Any) -> dict[str, Any]:
    """The architecture of ``model`` as JSON data: ``{"type", "config"}`` per layer, plus
    ``"children"`` (``[name, node]`` pairs) for containers. Raises `ModelFormatError` for a
    layer class that is not registered."""
    return _describe(model, _layer_names(), "model", 0)


def _describe(module: Any, names: dict[type, str], where: str, depth: int) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise ModelFormatError(f"save: {where}: modules nest deeper than {MAX_DEPTH} levels")
    cls = type(module)
    name = names.get(cls)
    if name is None:
        raise ModelFormatError(
            f"save: {where} is a {cls.__module__}.{cls.__qualname__}, which is not a registered "
            f"layer; register it through the mnp_register_layers hook (it needs get_config / "
            f"from_config), or save only its weights with save_state_dict")
    try:
        config = module.get_config()
        json.dumps(config, allow_nan=False)
    except MnpError as exc:
        raise ModelFormatError(f"save: {where} ({name}): {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(f"save: {where} ({name}): get_config() is not JSON data: "
                               f"{exc}") from None
    node: dict[str, Any] = {"type": name, "config": config}
    if getattr(cls, "is_container", False):
        node["children"] = [[child_name, _describe(child, names, f"{where}.{child_name}",
                                                   depth + 1)]
                            for child_name, child in module.named_children()]
    return node


def _check_node(node: Any, where: str, op: str, path: Any, depth: int) -> list[tuple[str, Any]]:
    """Validate one architecture node; returns its children (name, node) pairs."""
    if depth > MAX_DEPTH:
        raise ModelFormatError(f"{op}: {os.fspath(path)}: architecture nests deeper than "
                               f"{MAX_DEPTH} levels")
    if not isinstance(node, dict) or not {"type", "config"} <= set(node) or \
            not set(node) <= {"type", "config", "children"}:
        raise ModelFormatError(f"{op}: {os.fspath(path)}: architecture node {where} must be "
                               f"an object with 'type', 'config' and optional 'children', got "
                               f"{json.dumps(node)[:200]}")
    if not isinstance(node["type"], str) or not isinstance(node["config"], dict):
        raise ModelFormatError(f"{op}: {os.fspath(path)}: architecture node {where}: 'type' "
                               f"must be a string and 'config' an object")
    children = node.get("children")
    if children is None:
        return []
    if not isinstance(children, list) or not all(
            isinstance(c, list) and len(c) == 2 and isinstance(c[0], str) for c in children):
        raise ModelFormatError(f"{op}: {os.fspath(path)}: architecture node {where}: "
                               f"'children' must be a list of [name, node] pairs")
    return [(c[0], c[1]) for c in children]


def allowed_mismatches(allow: bool | Iterable[str]) -> bool | frozenset[str]:
    if isinstance(allow, bool):
        return allow
    if isinstance(allow, str):
        return frozenset([allow])
    try:
        names = frozenset(allow)
    except TypeError:
        names = None
    if names is None or not all(isinstance(n, str) for n in names):
        raise ArgumentError(f"load: allow_provider_mismatch must be True, False or a "
                            f"collection of layer type names, got {allow!r:.80}")
    return names


def _check_provider(name: str, where: str, op: str, path: Any,
                    origins: Mapping[str, Mapping[str, str]],
                    current: Mapping[str, Mapping[str, str]],
                    allowed: bool | frozenset[str]) -> None:
    saved, now = origins.get(name), current.get(name)
    if saved is None or now is None or sources.same(saved, now):
        return
    if allowed is True or (allowed is not False and name in allowed):
        return
    raise ModelFormatError(
        f"{op}: {os.fspath(path)}: layer type {name!r} at {where} was saved from "
        f"{sources.describe(saved)}, but here {sources.describe(now)} provides that name; "
        f"they may be different layers sharing a name, so it is not built (pass "
        f"allow_provider_mismatch=True, or a set of layer type names such as "
        f"{{{name!r}}}, to load to build it with the class registered here)")


def plan(arch: Any, op: str, path: Any, budget: int,
          origins: Mapping[str, Mapping[str, str]] | None = None,
          allow_provider_mismatch: bool | frozenset[str] = False) -> None:
    """Check the whole architecture before building any of it: shapes of the nodes, every
    type registered (by the plugin and distribution the file recorded, if it did, unless
    ``allow_provider_mismatch`` says otherwise), each config's values against its layer's
    constructor annotations (`serialization_schema`), and the sizes the configs ask for
    within ``budget`` elements. ``origins`` are the file's layer sources."""
    registered = mnp.registry("layers")
    origins = origins or {}
    current = sources.providers(origins) if origins and allow_provider_mismatch is not True \
        else {}
    total, stack = 0, [(arch, "model", 0)]
    while stack:
        node, where, depth = stack.pop()
        children = _check_node(node, where, op, path, depth)
        name = node["type"]
        cls = registered.get(name)
        if cls is None:
            known = ", ".join(sorted(registered)) or "(none)"
            raise ModelFormatError(f"{op}: {os.fspath(path)}: layer type {name!r:.100} at "
                                   f"{where} is not registered (known: {known}); mnp builds "
                                   f"only registered layers, never code named in a file"
                                   f"{sources.hint(name, origins)}")
        _check_provider(name, where, op, path, origins, current, allow_provider_mismatch)
        if children and not getattr(cls, "is_container", False):
            raise ModelFormatError(f"{op}: {os.fspath(path)}: {name} at {where} is not a "
                                   f"container but the file gives it children")
        config = node["config"]
        if config_depth(config) > MAX_CONFIG_DEPTH:
            raise ModelFormatError(f"{op}: {os.fspath(path)}: the config of {name} at {where} "
                                   f"nests deeper than {MAX_CONFIG_DEPTH} levels")
        why = check_config(cls, config)
        if why is not None:
            raise ModelFormatError(f"{op}: {os.fspath(path)}: cannot build {name} at {where}: "
                                   f"{why}")
        total += size_of(cls, config)
        if total > budget:
            raise ModelFormatError(
                f"{op}: {os.fspath(path)}: the layer configs ask for about {total} elements, "
                f"far more than the file's tensors hold (budget {budget}); the architecture "
                f"is corrupt or hostile (pass max_config_elements= to load to allow it)")
        stack.extend((child, f"{where}.{cname}", depth + 1) for cname, child in children)


def build(arch: Any, op: str = "load", path: Any = "<architecture>",
          budget: int | None = None) -> Any:
    """A fresh (untrained) model from `describe`'s output, using only registered layers."""
    plan(arch, op, path, MIN_CONFIG_ELEMENTS if budget is None else budget)
    return build_planned(arch, mnp.registry("layers"), "model", op, path)


def build_planned(node: dict, registered: dict, where: str, op: str, path: Any) -> Any:
    """Build ``node`` (at ``where``) and its children from ``registered`` classes; the tree
    must have passed `plan`. A constructor's failure becomes a `ModelFormatError`."""
    cls = registered[node["type"]]
    try:
        if getattr(cls, "is_container", False):
            children = [(name, build_planned(child, registered, f"{where}.{name}", op, path))
                        for name, child in node.get("children") or []]
            return cls.from_config(dict(node["config"]), children)
        return cls.from_config(dict(node["config"]))
    except ModelFormatError:
        raise
    except Exception as exc:  # any failure of a constructor fed from the file
        raise ModelFormatError(f"{op}: {os.fspath(path)}: cannot build {node['type']} at "
                               f"{where} from config {json.dumps(node['config'])[:200]}: "
                               f"{type(exc).__name__}: {exc}") from None
