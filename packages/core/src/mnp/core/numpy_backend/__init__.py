"""The ``numpy`` reference backend: plain functions on numpy arrays, no autograd, one
module per family. Their names and signatures are the interface every backend implements
(`mnp.core.testing` checks a backend against them). Registered through the same hook as
any plugin."""
from __future__ import annotations

from ..hookspecs import hookimpl
from . import elementwise, linalg, logical, reduce, softmax, special

KERNELS: dict = {}
for _mod in (elementwise, special, logical, reduce, linalg, softmax):
    KERNELS.update(_mod.KERNELS)


@hookimpl
def mnp_register_backends(register) -> None:
    register("numpy", dict(KERNELS), priority=0,
             description="reference kernels in numpy; every other backend falls back to it")
