"""Build optimizers and schedulers by their registered names (through `mnp.core.lookup`).

>>> import mnp.core as mnp
>>> from mnp import optim
>>> opt = optim.create("adam", [mnp.zeros(3, requires_grad=True)], lr=0.01)
>>> type(opt).__name__, opt.param_groups[0]["lr"]
('Adam', 0.01)
"""
from __future__ import annotations

from typing import Any, Iterable

from mnp.core import PluginError, Tensor, lookup, registry

from .optimizer import Optimizer


def find(kind: str, name: str) -> Any:
    """The object registered as ``name`` in registry ``kind``; an exact match first, then a
    unique case-insensitive one (``"adamw"`` finds ``"AdamW"``)."""
    try:
        return lookup(kind, name)
    except PluginError:
        matches = [n for n in registry(kind) if n.lower() == str(name).lower()]
        if len(matches) != 1:
            raise
        return lookup(kind, matches[0])


def create(name: str, params: Iterable[Tensor] | Iterable[dict], **kwargs: Any) -> Optimizer:
    """Build the optimizer registered as ``name`` over ``params`` with options ``kwargs``."""
    return find("optimizers", name)(params, **kwargs)
