"""Where each layer type of a saved model came from.

A model file records, beside its architecture, which plugin and distribution registered each
layer type it uses (metadata key ``mnp.layer_sources``). Loading compares the record with
this environment: a layer type now provided by another plugin or distribution is refused
(the two may be different layers that share a name) unless the caller allows it; a layer
type that is not registered gets an error saying which distribution to install, or that
its plugin is installed but failed or was blocked. Nothing is built, imported or installed
from the record.
"""
from __future__ import annotations

import json
import re
from importlib import metadata as md
from typing import Any, Iterable, Mapping

import mnp.core as mnp

KEY = "mnp.layer_sources"
#: fields kept per layer type, each a short string
FIELDS = ("plugin", "distribution", "version")
#: what a field may hold to be repeated in a message (a distribution name as PEP 508 spells
#: it, or empty): text from a file never reaches a message, let alone a command, unchecked
_SAFE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9._+!-]{0,98}[A-Za-z0-9])?)?")


def layer_types(arch: Mapping[str, Any]) -> set[str]:
    """Every layer type named in an architecture (as made by `describe`)."""
    names, stack = set(), [arch]
    while stack:
        node = stack.pop()
        names.add(node["type"])
        stack.extend(child for _, child in node.get("children") or [])
    return names


def providers(types: Iterable[str]) -> dict[str, dict[str, str]]:
    """``{type: {"plugin", "distribution", "version"}}`` for each of ``types`` that a loaded
    plugin registered in this environment."""
    wanted, found = set(types), {}
    for plugin in mnp.plugins():
        for name in plugin["provides"].get("layers", ()):
            if name in wanted and name not in found:
                found[name] = {"plugin": plugin["name"], "distribution": plugin["distribution"],
                               "version": plugin["version"]}
    return found


def record(types: Iterable[str]) -> str:
    """JSON for ``KEY``: `providers` of ``types``."""
    return json.dumps(providers(types), sort_keys=True)


def _normalize(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def same(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    """Whether two records name the same plugin of the same distribution (any version)."""
    return a["plugin"] == b["plugin"] and \
        _normalize(a["distribution"]) == _normalize(b["distribution"])


def describe(src: Mapping[str, str]) -> str:
    """``plugin 'p' of distribution d 1.0`` (or just the plugin when it has no distribution)."""
    said = f"plugin {src['plugin']!r}"
    if src["distribution"]:
        said += f" of distribution {src['distribution']} {src['version']}".rstrip()
    return said


def read(meta: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The record of a file's metadata; entries that are not short strings are dropped (the
    record only words error messages, so a damaged one costs a hint, never the load)."""
    try:
        raw = json.loads(meta.get(KEY, "{}"))
    except (ValueError, RecursionError):
        return {}
    if not isinstance(raw, dict):
        return {}
    out = {}
    for name, entry in raw.items():
        if isinstance(entry, dict) and all(
                isinstance(entry.get(f), str) and _SAFE.fullmatch(entry[f]) for f in FIELDS):
            out[name] = {f: entry[f] for f in FIELDS}
    return out


def hint(name: str, sources: Mapping[str, Mapping[str, str]]) -> str:
    """A clause on how to get layer type ``name`` registered, from the file's record and this
    environment; empty when the file does not say where ``name`` came from.

    >>> hint("Swish", {"Swish": {"plugin": "example", "distribution": "no-such-dist-xyz",
    ...                          "version": "1.0"}})
    "; the file was saved with it from plugin 'example' of distribution no-such-dist-xyz 1.0, which is not installed here (pip install no-such-dist-xyz)"
    """
    src = sources.get(name)
    if src is None:
        return ""
    dist = src["distribution"]
    said = f"; the file was saved with it from plugin {src['plugin']!r}"
    if dist:
        said += f" of distribution {dist} {src['version']}".rstrip()
    plugin = next((p for p in mnp.plugins() if p["name"] == src["plugin"]), None)
    if plugin is not None and plugin["status"] != "loaded":
        return f"{said}; that plugin is {plugin['status']} here: {plugin['error']}"
    if not dist:
        return f"{said}, which is not loaded here"
    try:
        installed = md.version(dist)
    except md.PackageNotFoundError:
        return f"{said}, which is not installed here (pip install {dist})"
    return f"{said}; {dist} {installed} is installed here but registers no layer {name!r}"
