"""Conformance cases by signature kind: a kernel the kit has no generator of its own for gets
the cases of its kind, as declared at registration (``kinds=`` / ``kind=``).

>>> gen, sized = case_generators("softplus", "unary")
>>> gen is not None and sized is not None
True
"""
from __future__ import annotations

from typing import Callable

from . import generators, sized

#: kind -> (generator factory, sized factory), each called with the kernel name
FACTORIES: dict[str, tuple[Callable, Callable]] = {
    "unary": (generators._unary, sized._unary),
    "binary": (generators._binary, sized._binary),
    "unary_backward": (generators._unary_backward, sized._unary_backward),
}


def case_generators(name: str, kind: str | None = None) -> tuple[Callable | None, Callable | None]:
    """The small-case generator and the sized generator of kernel ``name``: its own, else
    those of its ``kind``; ``(None, None)`` when there are neither."""
    gen, big = generators.GENERATORS.get(name), sized.SIZED.get(name)
    if gen is None and kind in FACTORIES:
        make_gen, make_sized = FACTORIES[kind]
        gen, big = make_gen(name), make_sized(name)
    return gen, big
