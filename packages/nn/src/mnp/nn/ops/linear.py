"""The fused linear op ``y = x @ w.T + b`` on the ``gemm`` kernel."""
from __future__ import annotations

from typing import Any

import numpy as np

from mnp.core import Function, ShapeError, Tensor
from mnp.core.dispatch import kernel

from .._util import as_tensor, check_dtypes


def same_float(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """The arrays cast to one floating dtype (the widest float among them)."""
    dt = None
    for a in arrays:
        if a is not None and a.dtype.kind == "f":
            dt = a.dtype if dt is None else np.promote_types(dt, a.dtype)
    dt = np.dtype(np.float32) if dt is None else dt
    return tuple(a if a is None or a.dtype == dt else a.astype(dt) for a in arrays)


class Linear(Function):
    name = "linear"

    def forward(self, x, w, b=None):
        if x.dtype != w.dtype or (b is not None and b.dtype != w.dtype):
            x, w, b = same_float(x, w, b)
        self.x, self.w = x, w
        gemm = kernel("gemm", x.dtype)
        if x.ndim == 2:
            y = gemm(x, w, False, True)
        else:
            y = gemm(x.reshape(-1, x.shape[-1]), w, False, True).reshape(*x.shape[:-1], w.shape[0])
        if b is not None:
            y += b
        return y

    def backward(self, g):
        x, w = self.x, self.w
        need = self.needs_input_grad
        gemm = kernel("gemm", g.dtype)
        g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
        gx = gw = gb = None
        if need[0]:
            gx = gemm(g2, w, False, False)
            if x.ndim != 2:
                gx = gx.reshape(x.shape)
        if need[1]:
            gw = gemm(g2, x if x.ndim == 2 else x.reshape(-1, x.shape[-1]), True, False)
        if len(need) > 2 and need[2]:
            gb = g2.sum(axis=0)
        return gx, gw, gb


def linear(input: Any, weight: Any, bias: Any = None) -> Tensor:
    """``input @ weight.T + bias`` for input (..., in_features) and weight (out, in).

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.linear(mnp.ones((2, 3)), mnp.ones((4, 3)), mnp.zeros(4)).shape
    (2, 4)
    """
    x, w = as_tensor(input, "linear"), as_tensor(weight, "linear")
    if w.ndim != 2 or x.ndim < 1 or x.shape[-1] != w.shape[1]:
        raise ShapeError(f"linear: input of shape {x.shape} and weight of shape {w.shape} do not "
                         f"fit: expected input (..., {w.shape[-1] if w.ndim else '?'}) and a 2-d weight")
    b = None if bias is None else as_tensor(bias, "linear")
    check_dtypes("linear", x, w, b)
    if b is None:
        return Linear.apply(x, w)
    if b.shape != (w.shape[0],):
        raise ShapeError(f"linear: bias of shape {b.shape} does not fit weight of shape {w.shape}: "
                         f"expected ({w.shape[0]},)")
    return Linear.apply(x, w, b)
