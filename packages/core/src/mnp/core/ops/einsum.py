"""``einsum``: Einstein summation over any number of operands, PyTorch's equation rules
(letters ``a-zA-Z``, ``...`` for broadcast dimensions, an implicit output of the letters
seen once in alphabetical order, repeated letters for diagonals, size-1 dimensions
broadcast), and the sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``. The gradient of
each operand is the einsum of the output gradient with the other operands.

>>> import mnp.core as mnp
>>> a = mnp.arange(6.0).reshape(2, 3)
>>> mnp.einsum("ij,j->i", a, mnp.ones(3)).tolist(), mnp.einsum("ii", a[:, :2]).item()
([3.0, 12.0], 4.0)
"""
from __future__ import annotations

import string
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..autograd import Function
from ..errors import ArgumentError, DTypeError, ShapeError
from ..tensorbase import TensorBase
from ._util import result_dtype, to_tensor

if TYPE_CHECKING:
    from ..tensor import Tensor

_LETTERS = set(string.ascii_letters)


def _contract(spec: str, *arrays: np.ndarray) -> np.ndarray:
    return np.asarray(np.einsum(spec, *arrays, optimize=len(arrays) > 2))


class Einsum(Function):
    numpy_only = "np.einsum contraction: no backend has an einsum kernel"

    def forward(self, *arrays, subs=(), out="", sizes=None):
        self.subs, self.out, self.sizes = subs, out, sizes
        self.shapes = [a.shape for a in arrays]
        dt = arrays[0].dtype
        for a in arrays[1:]:
            dt = result_dtype(np.empty(1, dt), np.empty(1, a.dtype))
        self.arrays = [_full(a.astype(dt, copy=False), s, sizes) for a, s in zip(arrays, subs)]
        return _contract(f"{','.join(subs)}->{out}", *self.arrays)

    def backward(self, g):
        grads = []
        for i, need in enumerate(self.needs_input_grad):
            grads.append(self._grad(g, i) if need else None)
        return tuple(grads)

    def _grad(self, g: np.ndarray, i: int) -> np.ndarray:
        sub, sizes = self.subs[i], self.sizes
        uniq = "".join(dict.fromkeys(sub))
        others = [j for j in range(len(self.subs)) if j != i]
        keep = "".join(c for c in uniq if c in self.out or any(c in self.subs[j] for j in others))
        spec = ",".join([self.out] + [self.subs[j] for j in others]) + "->" + keep
        grad = _contract(spec, g, *[self.arrays[j].astype(g.dtype, copy=False) for j in others])
        missing = [k for k, c in enumerate(uniq) if c not in keep]   # summed inside operand i
        if missing:
            grad = np.broadcast_to(np.expand_dims(grad, missing), tuple(sizes[c] for c in uniq))
        if len(uniq) < len(sub):                                       # a diagonal: write it back
            full = np.zeros(tuple(sizes[c] for c in sub), g.dtype)
            grids = np.ogrid[tuple(slice(0, sizes[c]) for c in uniq)]
            full[tuple(grids[uniq.index(c)] for c in sub)] = grad
            grad = full
        shape = self.shapes[i]
        summed = tuple(k for k, n in enumerate(shape) if n == 1 and grad.shape[k] != 1)
        if summed:
            grad = grad.sum(axis=summed, keepdims=True)
        return np.ascontiguousarray(grad).reshape(shape)


def _full(a: np.ndarray, sub: str, sizes: dict[str, int]) -> np.ndarray:
    """``a`` broadcast to the full size of each of its letters."""
    shape = tuple(sizes[c] for c in sub)
    return a if a.shape == shape else np.broadcast_to(a, shape)


def _check_term(term: str, where: str) -> None:
    rest = term.replace("...", "", 1)
    for c in rest:
        if c not in _LETTERS:
            raise ArgumentError(f"einsum: invalid subscript {c!r} in {where} {term!r}: subscripts "
                                f"must be in [a-zA-Z], with at most one '...'")


def _parse(equation: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str, dict[str, int]]:
    """Explicit letters for every operand (ellipses spelled out), the output's, and each
    letter's size."""
    eq = equation.replace(" ", "")
    if eq.count("->") > 1:
        raise ArgumentError(f"einsum: more than one '->' in {equation!r}")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ArgumentError(f"einsum: the equation {equation!r} has {len(terms)} operand(s), "
                            f"got {len(shapes)} tensor(s)")
    counts: dict[str, int] = {}
    ells = []
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        _check_term(term, f"operand {k}")
        letters = term.replace("...", "")
        n_ell = len(shape) - len(letters)
        if n_ell < 0 or (n_ell and "..." not in term):
            raise ShapeError(f"einsum: operand {k} has shape {shape} but subscripts {term!r}")
        ells.append(n_ell if "..." in term else -1)
        for c in letters:
            counts[c] = counts.get(c, 0) + 1
    n = max([0] + ells)
    free = [c for c in string.ascii_letters if c not in eq][:n]
    if len(free) < n:
        raise ArgumentError(f"einsum: too many dimensions under '...' in {equation!r}")
    subs = [t.replace("...", "".join(free[n - e:])) if e >= 0 else t for t, e in zip(terms, ells)]
    if arrow:
        _check_term(rhs, "the output")
        out = rhs.replace("...", "".join(free))
        for c in out:
            if out.count(c) > 1:
                raise ArgumentError(f"einsum: output subscript {c} appears more than once in {equation!r}")
            if c not in counts and c not in free:
                raise ArgumentError(f"einsum: output subscript {c} appears in no operand of {equation!r}")
    else:
        out = ("".join(free) if any(e >= 0 for e in ells) else "") + \
            "".join(sorted(c for c, m in counts.items() if m == 1))
    sizes: dict[str, int] = {}
    for k, (sub, shape) in enumerate(zip(subs, shapes)):
        seen: dict[str, int] = {}
        for c, size in zip(sub, shape):
            if c in seen and seen[c] != size:
                raise ShapeError(f"einsum: subscript {c} is repeated in operand {k} (shape {shape}) "
                                 f"with sizes {seen[c]} and {size}")
            seen[c] = size
            have = sizes.get(c, 1)
            if have != size and have != 1 and size != 1:
                raise ShapeError(f"einsum: subscript {c} has size {size} in operand {k} (shape "
                                 f"{shape}), which does not broadcast with size {have} before")
            sizes[c] = size if have == 1 else have
    return subs, out, sizes


def _sublists(args: Sequence[Any]) -> tuple[str, list[Any]]:
    """``(a, [0, 1], b, [1, 2], [0, 2])`` as ``("ab,bc->ac", [a, b])``."""
    def letters(sub: Any) -> str:
        out = []
        for s in sub:
            if s is Ellipsis:
                out.append("...")
            elif isinstance(s, (int, np.integer)) and 0 <= s < 52:
                out.append(string.ascii_letters[s])
            else:
                raise ArgumentError(f"einsum: sublist entries must be integers in [0, 52) or "
                                    f"Ellipsis, got {s!r}")
        return "".join(out)

    out = args[-1] if len(args) % 2 else None   # an odd count ends with the output sublist
    body = args[:-1] if len(args) % 2 else args
    operands, subs = list(body[0::2]), list(body[1::2])
    eq = ",".join(letters(s) for s in subs)
    return (eq + "->" + letters(out)) if out is not None else eq, operands


def einsum(equation: Any, *operands: Any) -> Tensor:
    """Einstein summation: ``einsum("ij,jk->ik", a, b)`` is ``a @ b``; see the module's
    description for the equation rules. Operands of different dtypes are promoted."""
    if not isinstance(equation, str):
        equation, ops = _sublists((equation,) + operands)
    else:
        ops = list(operands[0]) if len(operands) == 1 and isinstance(operands[0], (list, tuple)) \
            else list(operands)
    if not ops:
        raise ArgumentError("einsum: expected at least one operand")
    ts = [o if isinstance(o, TensorBase) else to_tensor(o, op="einsum") for o in ops]
    for t in ts:
        if t.data.dtype == np.bool_:
            raise DTypeError("einsum: bool operands are not supported; convert them to a number dtype")
    subs, out, sizes = _parse(equation, [t.shape for t in ts])
    return Einsum.apply(*ts, subs=tuple(subs), out=out, sizes=sizes)


__all__ = ["einsum"]
