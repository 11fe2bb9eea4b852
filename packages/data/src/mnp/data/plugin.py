"""The mnp plugin of mnp-data: registers its datasets through core's hooks."""
from __future__ import annotations

from typing import Callable

from mnp.core import hookimpl

from .digits import digits
from .synthetic import blobs, circles, linear, moons, regression, spiral, xor

DATASETS: dict[str, Callable] = {
    "xor": xor, "spiral": spiral, "linear": linear, "moons": moons, "circles": circles,
    "blobs": blobs, "regression": regression, "digits": digits,
}


@hookimpl
def mnp_register_datasets(register: Callable[[str, object], None]) -> None:
    for name, factory in DATASETS.items():
        register(name, factory)
