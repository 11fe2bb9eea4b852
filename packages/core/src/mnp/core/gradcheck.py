"""`grad_check`: compare autograd against float64 central finite differences."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .autograd import _make, no_grad
from .errors import GradCheckError
from .tensor import Tensor


def grad_check(fn: Callable[..., Tensor], inputs: Tensor | Sequence[Any], eps: float = 1e-6,
               atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0) -> bool:
    """Check ``fn``'s gradients for every input that requires grad; True or `GradCheckError`.

    Inputs are copied to float64. A non-scalar output is projected on a fixed random
    direction ``v`` (the check is of the vector-Jacobian product ``v^T J``).

    >>> import mnp.core as mnp
    >>> x = mnp.randn(3, 4, dtype=mnp.float64, requires_grad=True)
    >>> mnp.grad_check(lambda t: (t * t).sum(axis=1), [x])
    True
    """
    items = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    xs: list[Any] = []
    for item in items:
        if isinstance(item, Tensor) and item.data.dtype.kind == "f":
            xs.append(_make(item.data.astype(np.float64), item.requires_grad, None))
        else:
            xs.append(item)
    checked = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise GradCheckError("grad_check: no input requires grad")
    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise GradCheckError(f"grad_check: fn must return a Tensor, got {type(out).__name__}")
    v = np.random.default_rng(seed).standard_normal(out.shape)
    (out * _make(v, False, None)).sum().backward()
    for i in checked:
        x = xs[i]
        analytic = np.zeros(x.shape) if x.grad is None else x.grad.data
        flat = x.data.reshape(-1)
        for k in range(flat.size):
            old = flat[k]
            with no_grad():
                flat[k] = old + eps
                plus = float((fn(*xs).data * v).sum())
                flat[k] = old - eps
                minus = float((fn(*xs).data * v).sum())
            flat[k] = old
            numeric = (plus - minus) / (2 * eps)
            a = float(analytic.reshape(-1)[k])
            if not np.isfinite(a) or abs(a - numeric) > atol + rtol * abs(numeric):
                idx = np.unravel_index(k, x.shape)
                raise GradCheckError(
                    f"grad_check: input {i} (shape {x.shape}) at index {tuple(int(j) for j in idx)}: "
                    f"analytic {a:.8g} vs numeric {numeric:.8g} (atol={atol}, rtol={rtol})")
    return True


gradcheck = grad_check
