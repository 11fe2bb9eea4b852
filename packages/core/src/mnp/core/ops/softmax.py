"""The stable softmax family: `softmax`, `log_softmax` (both max-shifted: logits like 1000
neither overflow nor give NaN) and `safe_log`. ``dim=`` is a synonym of ``axis=``.

>>> import mnp.core as mnp
>>> mnp.log_softmax(mnp.tensor([1000.0, 0.0])).tolist()
[0.0, -1000.0]
>>> [round(p, 4) for p in mnp.softmax(mnp.tensor([1.0, 2.0, 3.0])).tolist()]
[0.09, 0.2447, 0.6652]
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import Function
from ..dispatch import kernel
from ..errors import ArgumentError, ShapeError, axis_error
from ._util import floating, pick_axis

if TYPE_CHECKING:
    from ..tensor import Tensor


class Softmax(Function):
    """An empty input gives an empty output, as in PyTorch, without calling the kernel (a
    max over an empty axis has no value). The kernel makes a slice with a NaN, a +inf or only
    -inf NaN throughout, as PyTorch (docs/kernels.md; the conformance suite checks it)."""
    kernel_name = "softmax"

    def forward(self, x, axis=-1):
        self.axis = axis
        if not x.size:
            self.y = np.empty_like(x)
            return self.y
        self.y = kernel(self.kernel_name, x.dtype)(x, axis)
        return self.y

    def backward(self, g):
        if not g.size:
            return np.zeros_like(g)
        return kernel(self.kernel_name + "_backward", g.dtype)(g, self.y, self.axis)


class LogSoftmax(Softmax):
    name = "log_softmax"
    kernel_name = "log_softmax"


class SafeLog(Function):
    name = "safe_log"

    def forward(self, x, eps=1e-12):
        eps = np.asarray(eps, x.dtype)
        if eps <= 0:   # eps underflowed in a narrow dtype (1e-12 in float16)
            eps = np.asarray(np.finfo(x.dtype).tiny, x.dtype)
        self.x, self.eps = x, eps
        return kernel("log", x.dtype)(kernel("maximum", x.dtype)(x, eps))

    def backward(self, g):
        return kernel("safe_log_backward", g.dtype)(g, self.x, self.eps)


def _one_axis(x: Tensor, axis: Any, dim: Any, op: str) -> int:
    if dim is not None and axis == -1:   # -1 is the default: dim= alone chooses
        axis = None
    axis = pick_axis(axis, dim, op)
    if axis is None:
        axis = -1
    if not isinstance(axis, (int, np.integer)):
        raise ShapeError(f"{op}: axis must be an int, got {axis!r}")
    nd = max(x.data.ndim, 1)
    if not -nd <= axis < nd:
        raise axis_error(op, int(axis), x.data.ndim, shape=x.data.shape)
    return int(axis) % nd


def softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the max for stability.
    A slice holding ``+inf``, or only ``-inf``, gives NaN, as in PyTorch."""
    x = floating(x, "softmax")
    ax = _one_axis(x, axis, dim, "softmax")
    if x.data.ndim == 0:
        return Softmax.apply(x.reshape(1), axis=0).reshape(())
    return Softmax.apply(x, axis=ax)


def log_softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``: exact for huge logits where
    ``log(softmax(x))`` would give ``-inf``."""
    x = floating(x, "log_softmax")
    ax = _one_axis(x, axis, dim, "log_softmax")
    if x.data.ndim == 0:
        return LogSoftmax.apply(x.reshape(1), axis=0).reshape(())
    return LogSoftmax.apply(x, axis=ax)


def safe_log(x: Any, eps: float = 1e-12) -> Tensor:
    """``log(max(x, eps))``: finite at 0 and below (``log(eps)``; in a dtype where ``eps``
    underflows, its smallest normal number is used instead).

    Gradient: ``1 / x`` where ``x >= eps`` and 0 where ``x < eps``, as for
    ``log(clamp(x, min=eps))`` (a clamped input has no influence on the output).

    >>> import mnp.core as mnp
    >>> p = mnp.tensor([0.0, 0.5], requires_grad=True)
    >>> y = mnp.safe_log(p)
    >>> round(y.tolist()[0], 3)
    -27.631
    >>> y.sum().backward()
    >>> p.grad.tolist()
    [0.0, 2.0]
    """
    if not eps > 0:
        raise ArgumentError(f"safe_log: eps must be positive, got {eps!r}")
    return SafeLog.apply(floating(x, "safe_log"), eps=float(eps))


class SoftmaxMethods:
    """`Tensor`'s methods of this family: ``x.softmax(-1)`` is ``softmax(x, -1)``, and so on."""
    __slots__ = ()
    softmax = softmax
    log_softmax = log_softmax
    safe_log = safe_log


__all__ = ["softmax", "log_softmax", "safe_log"]
