"""In-place ops (``x.add_(y)``, ``x += y``, ``x.clamp_()``, ``x[i] = v``, ``x.uniform_()``, ...)
recorded by autograd as PyTorch records them.

Each op computes the new value with the out-of-place op, writes it into the tensor's own
memory and raises the memory's version (`mnp.core.autograd.bump_version`). When grad mode is
on and the tensor or an operand requires grad, the tensor moves onto the new node
(``grad_fn`` becomes the op's node, whose input is the value before); nodes made earlier keep
the value they saw, and a node whose saved value was changed raises in backward. A leaf that
requires grad can only be changed under `no_grad` (as optimizers and ``nn.init`` do). On a
view of a tensor in the graph (``x[0].mul_(2)``), the tensor it views moves onto a node that
writes the region, and the view reads that region back (PyTorch's ``CopySlices``).

>>> import mnp.core as mnp
>>> a = mnp.tensor([1.0, 2.0], requires_grad=True)
>>> c = a * 2
>>> c += c + 1
>>> c.sum().backward()
>>> a.grad.tolist()
[4.0, 4.0]
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .. import autograd as _autograd
from .. import random as _random
from ..autograd import Function, _make, bump_version, no_grad, version_of
from ..errors import AutogradError, DTypeError, ShapeError
from ..tensorbase import TensorBase, as_array
from ._util import to_tensor, unbroadcast
from .binary import add, div, mul, pow, sub, where
from .unary import abs, astype, clip, clone, exp, log, neg, relu, sigmoid, sqrt, tanh

if TYPE_CHECKING:
    from ..tensor import Tensor


class Overwrite(Function):
    """``x``'s place filled with ``src`` (broadcast): gradient 0 to ``x``, all to ``src``."""
    name = "copy_"
    numpy_only = "a copy: data movement"
    saved = ()

    def forward(self, x, src):
        self.src_shape, self.src_dtype = src.shape, src.dtype
        return np.broadcast_to(src, x.shape).astype(x.dtype, copy=True)

    def backward(self, g):
        gs = unbroadcast(g, self.src_shape) if self.needs_input_grad[1] else None
        return np.zeros_like(g), gs


class PutRegion(Function):
    """``base`` with the elements at flat positions ``idx`` replaced by ``value``."""
    name = "copy_slices"
    numpy_only = "a scatter into a copy: data movement"
    saved = ()

    def forward(self, base, value, idx=None):
        self.idx = idx
        out = np.array(base, order="C")
        out.reshape(-1)[idx.reshape(-1)] = value.reshape(-1)
        return out

    def backward(self, g):
        flat = self.idx.reshape(-1)
        gb = np.array(g, order="C")
        gb.reshape(-1)[flat] = 0
        return gb, np.ascontiguousarray(g).reshape(-1)[flat].reshape(self.idx.shape)


class TakeRegion(Function):
    """The elements of ``base`` at flat positions ``idx`` (a view's values, read back)."""
    name = "as_strided"
    numpy_only = "a gather: data movement"
    saved = ()

    def forward(self, base, idx=None):
        self.idx, self.shape = idx, base.shape
        return np.ascontiguousarray(base).reshape(-1)[idx]

    def backward(self, g):
        out = np.zeros(self.shape, g.dtype)
        out.reshape(-1)[self.idx.reshape(-1)] = g.reshape(-1)
        return out


def _positions(base: np.ndarray, view: np.ndarray, op: str) -> np.ndarray:
    """For each element of ``view`` (memory inside ``base``), its flat C-order index in
    ``base``; an error when the view repeats memory (expanded) or leaves ``base``."""
    def offsets(a: np.ndarray, start: int) -> np.ndarray:
        off = np.full(a.shape, start, np.int64)
        for d, (n, s) in enumerate(zip(a.shape, a.strides)):
            off = off + (np.arange(n, dtype=np.int64) * s).reshape((n,) + (1,) * (a.ndim - d - 1))
        return off.reshape(-1)
    b0 = base.__array_interface__["data"][0]
    v0 = view.__array_interface__["data"][0]
    ob, ov = offsets(base, 0), offsets(view, v0 - b0)
    order = np.argsort(ob, kind="stable")
    sorted_ob = ob[order]
    pos = np.minimum(np.searchsorted(sorted_ob, ov), max(len(ob) - 1, 0))
    if (len(np.unique(ob)) != len(ob) or len(np.unique(ov)) != len(ov)
            or (len(ov) and not np.array_equal(sorted_ob[pos], ov))):
        raise AutogradError(f"{op}: unsupported operation: more than one element of the "
                            f"written-to tensor refers to a single memory location (a view of "
                            f"shape {view.shape}); clone() it before the in-place op")
    return order[pos].reshape(view.shape)


def _graph_base(t: Tensor) -> Tensor | None:
    """The input of ``t``'s node whose memory ``t`` views, if ``t`` is a view in the graph."""
    if t._ctx is None or t.data.base is None or t._ctx.inputs is None:
        return None
    for p in t._ctx.inputs:
        if p.data.size and np.may_share_memory(p.data, t.data):
            return p
    return None


def _unshare(result: Tensor, arr: np.ndarray, start: int) -> None:
    """Give the nodes made since ``start`` copies of the values they keep from ``arr``'s
    memory, which is about to be overwritten."""
    stack, seen = [result._ctx], set()
    while stack:
        fn = stack.pop()
        if fn is None or fn.seq < start or id(fn) in seen:
            continue
        seen.add(id(fn))
        for k, v in list(fn.__dict__.items()):
            if isinstance(v, np.ndarray) and np.may_share_memory(v, arr):
                fn.__dict__[k] = v.copy()
            elif isinstance(v, (tuple, list)) and any(
                    isinstance(a, np.ndarray) and np.may_share_memory(a, arr) for a in v):
                fn.__dict__[k] = type(v)(a.copy() if isinstance(a, np.ndarray) else a for a in v)
        stack.extend(p._ctx for p in fn.inputs)


def _store(t: Tensor, values: np.ndarray, op: str) -> None:
    try:
        np.copyto(t.data, values, casting="same_kind")
    except TypeError:
        raise DTypeError(f"{op}: result type {values.dtype.name} can't be cast to the desired "
                         f"output type {t.data.dtype.name}") from None
    except ValueError as exc:
        if not t.data.flags.writeable:
            raise AutogradError(f"{op}: the tensor's memory is read-only (an expanded or "
                                f"broadcast view); clone() it first") from None
        raise ShapeError(f"{op}: a result of shape {values.shape} does not fit the tensor of "
                         f"shape {t.data.shape}: {exc}") from None
    bump_version(t.data, op)


def _fit(t: Tensor, r: Tensor, op: str) -> Tensor:
    """``r`` checked as the new value of ``t``: same shape, castable to its dtype."""
    if r.data.shape != t.data.shape:
        raise ShapeError(f"{op}: output with shape {list(t.data.shape)} doesn't match the "
                         f"broadcast shape {list(r.data.shape)}")
    if r.data.dtype != t.data.dtype:
        if not np.can_cast(r.data.dtype, t.data.dtype, "same_kind"):
            raise DTypeError(f"{op}: result type {r.data.dtype.name} can't be cast to the "
                             f"desired output type {t.data.dtype.name}")
        r = astype(r, t.data.dtype)
    return r


def _requires(values: tuple) -> bool:
    return any(isinstance(v, TensorBase) and v.requires_grad for v in values)


def write(t: Tensor, op: str, compute: Callable[[Tensor], Tensor], operands: tuple = (),
          _view: bool = False) -> Tensor:
    """Set ``t`` to ``compute(value of t)`` in place (``compute``: out-of-place ops), recorded
    when grad mode is on and ``t`` or one of ``operands`` requires grad."""
    if not (_autograd._grad.enabled and (t.requires_grad or _requires(operands))):
        with no_grad():
            r = compute(t)
        _store(t, _fit(t, r, op).data, op)
        return t
    if t.requires_grad and t._ctx is None:
        what = "a view of a leaf Variable" if _view else "a leaf Variable"
        raise AutogradError(f"{op}: in-place change of a tensor that requires grad ({what} "
                            f"that requires grad is being used in an in-place operation); do "
                            f"it under mnp.no_grad()")
    old = _make(t.data, t.requires_grad, t._ctx)
    start = next(_autograd._counter)
    r = _fit(t, compute(old), op)
    if r is old or r._ctx is None or r._ctx.seq < start:
        r = clone(r)
    _unshare(r, t.data, start)
    base = _graph_base(t)
    if base is None:
        _store(t, r.data, op)
    else:   # the memory belongs to ``base``: write the region there, read it back here
        idx = _positions(base.data, t.data, op)
        write(base, op, lambda b: PutRegion.apply(b, r, idx=idx), (r,), _view=True)
        r = TakeRegion.apply(base, idx=idx)
    _autograd.rebase(t, r, old)
    return t


def _operand(value: Any, t: Tensor, op: str) -> Any:
    return value if isinstance(value, (TensorBase, bool, int, float)) else to_tensor(value, t, op)


def _arith(t: Tensor, op: str, other: Any, fn: Callable, ufunc: Any) -> Tensor:
    other = _operand(other, t, op)
    if _autograd._grad.enabled and (t.requires_grad or _requires((other,))):
        return write(t, op, lambda old: fn(old, other), (other,))
    value = other.data if isinstance(other, TensorBase) else other
    try:
        ufunc(t.data, value, out=t.data, casting="same_kind")
    except TypeError:
        result = ufunc(np.ones(1, t.data.dtype), np.ones(1, np.result_type(value))).dtype
        raise DTypeError(f"{op}: result type {result.name} can't be cast to the desired "
                         f"output type {t.data.dtype.name}") from None
    except ValueError:
        if not t.data.flags.writeable:
            raise AutogradError(f"{op}: the tensor's memory is read-only (an expanded or "
                                f"broadcast view); clone() it first") from None
        raise _shape_error(op, t.data.shape, np.shape(value)) from None
    bump_version(t.data, op)
    return t


def _shape_error(op: str, shape: tuple, other: tuple) -> ShapeError:
    try:
        return ShapeError(f"{op}: output with shape {list(shape)} doesn't match the broadcast "
                          f"shape {list(np.broadcast_shapes(shape, other))}")
    except ValueError:
        return ShapeError(f"{op}: an operand of shape {list(other)} does not broadcast to the "
                          f"tensor's shape {list(shape)}")


def _scaled(other: Any, alpha: Any) -> Any:
    if alpha == 1:
        return other
    return mul(other, alpha) if isinstance(other, TensorBase) else other * alpha


def fill(t: Tensor, op: str, src: Any) -> Tensor:
    """Overwrite ``t`` with ``src`` broadcast to its shape (gradient flows to ``src`` only)."""
    src = to_tensor(src, t, op) if not isinstance(src, TensorBase) else src
    if not (_autograd._grad.enabled and (t.requires_grad or src.requires_grad)):
        _store(t, np.broadcast_to(src.data, t.data.shape) if src.data.shape != t.data.shape
               else src.data, op)
        return t
    return write(t, op, lambda old: Overwrite.apply(old, src), (src,))


def _unary_(fn: Callable, op: str) -> Callable:
    def unary_inplace(self: Tensor) -> Tensor:
        return write(self, op, fn)
    unary_inplace.__name__ = unary_inplace.__qualname__ = op
    unary_inplace.__doc__ = f"In place: ``x.{op}()`` sets ``x`` to ``x.{op[:-1]}()``."
    return unary_inplace


class InplaceMethods:
    """`Tensor`'s in-place methods and augmented assignment operators."""
    __slots__ = ()

    @property
    def _version(self) -> int:
        """How many times this tensor's memory was changed in place (shared by its views)."""
        return version_of(self.data)

    def __iadd__(self, other): return _arith(self, "__iadd__", other, add, np.add)
    def __isub__(self, other): return _arith(self, "__isub__", other, sub, np.subtract)
    def __imul__(self, other): return _arith(self, "__imul__", other, mul, np.multiply)
    def __itruediv__(self, other): return _arith(self, "__itruediv__", other, div, np.true_divide)

    def add_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """``self += alpha * other`` in place."""
        return _arith(self, "add_", _scaled(other, alpha), add, np.add)

    def sub_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """``self -= alpha * other`` in place."""
        return _arith(self, "sub_", _scaled(other, alpha), sub, np.subtract)

    def mul_(self, other: Any) -> Tensor:
        return _arith(self, "mul_", other, mul, np.multiply)

    def div_(self, other: Any) -> Tensor:
        return _arith(self, "div_", other, div, np.true_divide)

    def pow_(self, exponent: Any) -> Tensor:
        exponent = _operand(exponent, self, "pow_")
        return write(self, "pow_", lambda old: pow(old, exponent), (exponent,))

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        """Clamp to ``[min, max]`` in place."""
        return write(self, "clamp_", lambda old: clip(old, min, max))

    clip_ = clamp_

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        """Set the elements where the bool ``mask`` (broadcast to this shape) holds to ``value``."""
        m = as_array(mask, op="masked_fill_")
        if m.dtype != np.bool_:
            raise DTypeError(f"masked_fill_: only supports boolean masks, but got mask with "
                             f"dtype {m.dtype.name}")
        if isinstance(value, TensorBase) and value.data.ndim:
            raise ShapeError(f"masked_fill_: only supports a 0-dimensional value tensor, but "
                             f"got tensor with {value.data.ndim} dimension(s)")
        mt = _make(m, False, None)
        return write(self, "masked_fill_", lambda old: where(mt, value, old), (value,))

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` (broadcast, cast to this dtype) into this tensor; gradient flows to
        ``src``."""
        return fill(self, "copy_", src)

    def fill_(self, value: Any) -> Tensor:
        """Fill with ``value`` (a number or a 0-d tensor) in place."""
        if isinstance(value, TensorBase) and value.data.ndim:
            raise ShapeError(f"fill_: only supports 0-dimension value tensor but got tensor "
                             f"with {value.data.ndim} dimensions")
        return fill(self, "fill_", value)

    def zero_(self) -> Tensor:
        """Fill with zeros in place."""
        return fill(self, "zero_", 0)

    relu_ = _unary_(relu, "relu_")
    sigmoid_ = _unary_(sigmoid, "sigmoid_")
    tanh_ = _unary_(tanh, "tanh_")
    exp_ = _unary_(exp, "exp_")
    log_ = _unary_(log, "log_")
    sqrt_ = _unary_(sqrt, "sqrt_")
    neg_ = _unary_(neg, "neg_")
    abs_ = _unary_(abs, "abs_")

    # -- random fills (no gradient to the old value, as in PyTorch) -----------------------
    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples of U(a, b)."""
        return fill(self, "uniform_", _random.uniform_values(self, a, b, generator))

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples of N(mean, std**2)."""
        return fill(self, "normal_", _random.normal_values(self, mean, std, generator))

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> Tensor:
        """Fill with 0/1 samples, 1 with probability ``p`` (a number or a tensor)."""
        return fill(self, "bernoulli_", _random.bernoulli_values(self, p, generator))

    def random_(self, from_: int = 0, to: int | None = None, *, generator: Any = None) -> Tensor:
        """Fill with integers in ``[from_, to)``; ``random_(to)`` draws from ``[0, to)``."""
        return fill(self, "random_", _random.random_values(self, from_, to, generator))

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples of the exponential distribution of rate ``lambd``."""
        return fill(self, "exponential_", _random.exponential_values(self, lambd, generator))


__all__: list[str] = []
