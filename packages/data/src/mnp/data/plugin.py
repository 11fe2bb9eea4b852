"""The mnp plugin of mnp-data: registers its datasets through core's hooks, and its
`DataLoader` in the ``loaders`` registry under `LOADER` (mnp.nn's Trainer batches arrays
with it)."""
from __future__ import annotations

from typing import Callable

from mnp.core import hookimpl

from .digits import digits
from .loader import DataLoader
from .synthetic import blobs, circles, linear, moons, regression, spiral, xor

DATASETS: dict[str, Callable] = {
    "xor": xor, "spiral": spiral, "linear": linear, "moons": moons, "circles": circles,
    "blobs": blobs, "regression": regression, "digits": digits,
}

#: the name the loader is registered under, in the ``loaders`` registry
LOADER = "DataLoader"


@hookimpl
def mnp_register_datasets(register: Callable[[str, object], None]) -> None:
    for name, factory in DATASETS.items():
        register(name, factory)


@hookimpl
def mnp_register_loaders(register: Callable[[str, object], None]) -> None:
    register(LOADER, DataLoader)
