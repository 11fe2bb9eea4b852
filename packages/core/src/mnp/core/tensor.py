"""`Tensor`: an n-d array on numpy storage that records the ops made from it.

>>> import mnp.core as mnp
>>> a = mnp.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> y = (a * a).sum()
>>> y.backward()
>>> a.grad.tolist()
[[2.0, 4.0], [6.0, 8.0]]

Layering, each module importing only the ones above it in this list, all at the top::

    tensorbase    TensorBase: storage, properties, the Python protocol that needs no op
    autograd      Function, grad mode, the backward engine (makes tensors of the class below)
    creation      tensors from data, filled, ranges, random
    ops.*         one module per op family: Functions, the functions, a ``*Methods`` mixin
    tensor        Tensor(TensorBase, *mixins): operators and every op method, in class bodies

Every method is in the class dict of `Tensor` or of a class it inherits from when the class
statement runs; nothing is attached later. ``ops`` make their results through
`autograd`, which cannot import this module (the ops it calls sit in between): `Tensor` hands
itself to `autograd.set_tensor_class` as it is defined, the one late binding of the layers.
"""
from __future__ import annotations

from typing import Any, Iterator

from . import autograd as _autograd
from . import engine as _engine
from . import dtypes as _dt
from .devices import to_arguments
from .ops.binary import BinaryMethods, add, compare, div, mul, pow, sub
from .ops.arrange import ArrangeMethods
from .ops.diag import DiagMethods
from .ops.gather import GatherMethods
from .ops.index import getitem, setitem
from .ops.inplace import InplaceMethods
from .ops.join import JoinMethods, unbind
from .ops.linalg import LinalgMethods, matmul
from .ops.logical import LogicalMethods
from .ops.order import OrderMethods
from .ops.reduce import ReduceMethods
from .ops.repeat import RepeatMethods
from .ops.rounding import RoundingMethods, floor_divide, remainder
from .ops.scan import ScanMethods
from .ops.shape import ShapeMethods, transpose
from .ops.softmax import SoftmaxMethods
from .ops.special import SpecialMethods
from .ops.trig import TrigMethods
from .ops.unary import UnaryMethods, abs, astype, clone, neg
from .tensorbase import TensorBase, as_array

__all__ = ["Tensor", "as_array"]


class Tensor(TensorBase, UnaryMethods, BinaryMethods, ReduceMethods, ShapeMethods, JoinMethods,
             RepeatMethods, LinalgMethods, SoftmaxMethods, GatherMethods, DiagMethods,
             ArrangeMethods, ScanMethods, OrderMethods, RoundingMethods, SpecialMethods,
             TrigMethods, LogicalMethods, InplaceMethods):
    """An n-d array with autograd. Build with `mnp.tensor`, `mnp.zeros`, `mnp.randn`, ...

    ``.data`` is the numpy array itself (shared); ``.grad`` is a Tensor or None. The ops of
    each family are methods through its mixin (``x.exp()`` is ``mnp.exp(x)``).
    """
    __slots__ = ()

    @property
    def T(self) -> Tensor:
        return transpose(self)

    # -- autograd -----------------------------------------------------------------------
    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Accumulate gradients into the leaves' ``.grad``.

        A non-scalar output needs ``gradient`` (same shape). The graph is freed afterwards
        unless ``retain_graph=True``.
        """
        _engine.backward(self, gradient, retain_graph)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` during each backward as soon as this leaf's ``.grad`` holds its
        whole gradient of that backward; returns a handle whose ``remove()`` unregisters it."""
        return _engine.register_post_accumulate_grad_hook(self, hook)

    def detach(self) -> Tensor:
        """A tensor sharing this data, cut from the graph."""
        return _autograd._make(self.data, False, None)

    def astype(self, dtype: Any) -> Tensor:
        """A copy of this tensor as ``dtype`` (differentiable between floating dtypes)."""
        return astype(self, dtype)

    def to(self, *args: Any, dtype: Any = None, device: Any = None, non_blocking: bool = False,
           copy: bool = False) -> Tensor:
        """This tensor on ``device`` as ``dtype``, in PyTorch's spellings: ``to("cpu")``,
        ``to(mnp.device("cpu"))``, ``to(dtype)``, ``to("cpu", dtype)``, ``to(other)`` (other's
        dtype) and keywords. Returns ``self`` when nothing changes, unless ``copy=True``; the
        only device is the CPU, any other raises an `ArgumentError`."""
        dtype, copy = to_arguments("to", args, dtype, device, copy)
        if dtype is None or dtype == self.data.dtype:
            return clone(self) if copy else self
        return astype(self, dtype)

    def float(self) -> Tensor:
        return astype(self, _dt.float32)

    def double(self) -> Tensor:
        return astype(self, _dt.float64)

    def half(self) -> Tensor:
        return astype(self, _dt.float16)

    def long(self) -> Tensor:
        return astype(self, _dt.int64)

    def clone(self) -> Tensor:
        return clone(self)

    def __iter__(self) -> Iterator[Tensor]:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(unbind(self))

    __hash__ = object.__hash__   # defining __eq__ would otherwise drop it

    # -- operators ----------------------------------------------------------------------
    def __add__(self, other): return add(self, other)
    def __radd__(self, other): return add(other, self)
    def __sub__(self, other): return sub(self, other)
    def __rsub__(self, other): return sub(other, self)
    def __mul__(self, other): return mul(self, other)
    def __rmul__(self, other): return mul(other, self)
    def __truediv__(self, other): return div(self, other)
    def __rtruediv__(self, other): return div(other, self)
    def __pow__(self, other): return pow(self, other)
    def __rpow__(self, other): return pow(other, self)
    def __mod__(self, other): return remainder(self, other)
    def __rmod__(self, other): return remainder(other, self)
    def __floordiv__(self, other): return floor_divide(self, other)
    def __rfloordiv__(self, other): return floor_divide(other, self)
    def __matmul__(self, other): return matmul(self, other)
    def __rmatmul__(self, other): return matmul(other, self)
    def __neg__(self): return neg(self)
    def __pos__(self): return self
    def __abs__(self): return abs(self)
    def __getitem__(self, index): return getitem(self, index)

    def __setitem__(self, index, value) -> None:
        setitem(self, index, value)

    def __eq__(self, other): return compare("eq", self, other)  # type: ignore[override]
    def __ne__(self, other): return compare("ne", self, other)  # type: ignore[override]
    def __lt__(self, other): return compare("lt", self, other)
    def __le__(self, other): return compare("le", self, other)
    def __gt__(self, other): return compare("gt", self, other)
    def __ge__(self, other): return compare("ge", self, other)


_autograd.set_tensor_class(Tensor)
