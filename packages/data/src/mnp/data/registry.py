"""Datasets by name, through mnp.core's plugin registry (any installed plugin can add one).

>>> from mnp.data import load, list_datasets
>>> "digits" in list_datasets()
True
>>> X, y = load("xor")
>>> X.shape
(4, 2)
"""
from __future__ import annotations

from typing import Any

import mnp.core as mnp


def load(name: str, **kwargs: Any) -> Any:
    """Call the dataset factory registered as ``name`` with ``kwargs``; returns its ``(X, y)``.

    An unknown name raises `mnp.core.PluginError` listing the registered ones.
    """
    return mnp.lookup("datasets", name)(**kwargs)


def list_datasets() -> list[str]:
    """The names of every registered dataset, sorted."""
    return sorted(mnp.registry("datasets"))


__all__ = ["load", "list_datasets"]
