"""Parity with PyTorch: the same function on mnp and torch tensors, forward and gradients.

PyTorch is imported only when a check runs; mnp-core does not depend on it.

>>> import numpy as np
>>> import mnp.core as mnp
>>> from mnp.core.testing import assert_matches_torch
>>> y, ty = assert_matches_torch(mnp.tanh, lambda t: t.tanh(), np.linspace(-2, 2, 5))
>>> y.shape, str(y.dtype)
((5,), 'float32')
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import F32, assert_close


def _outputs(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _dtype_name(value: Any) -> str:
    """``float32`` for an mnp or a torch float32 tensor."""
    return str(value.dtype).rsplit(".", 1)[-1]


def assert_matches_torch(fn: Callable, torch_fn: Callable, *arrays: Any,
                         rng: np.random.Generator | None = None, dtype: Any = np.float32,
                         rtol: float = F32["rtol"], atol: float = F32["atol"],
                         what: str = "") -> tuple:
    """Assert that ``fn`` on mnp tensors and ``torch_fn`` on torch tensors agree.

    Each of ``arrays`` (cast to ``dtype``) becomes an input that requires grad in both
    libraries. The outputs (one tensor, or a tuple or list of them) must agree in number,
    shape, dtype and value; then ``sum(w_i * y_i)`` is back-propagated in both, with the same
    random weights ``w_i`` drawn from ``rng`` (default ``np.random.default_rng(1)``), and every
    input gradient must agree in shape, dtype and value. ``what`` starts each failure message.
    Returns ``(output, torch_output)``.
    """
    import torch

    from ..creation import tensor

    rng = np.random.default_rng(1) if rng is None else rng
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    xs = [tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, t_out = fn(*xs), torch_fn(*ts)
    ys, tys = _outputs(out), _outputs(t_out)
    prefix = f"{what}: " if what else ""
    assert len(ys) == len(tys), f"{prefix}{len(ys)} outputs, torch gives {len(tys)}"
    loss = t_loss = None
    for i, (y, ty) in enumerate(zip(ys, tys)):
        label = f"{prefix}output {i}"
        assert y.shape == tuple(ty.shape), f"{label}: shape {y.shape} != torch {tuple(ty.shape)}"
        assert _dtype_name(y) == _dtype_name(ty), f"{label}: dtype {y.dtype} != torch {ty.dtype}"
        assert_close(y, ty, rtol=rtol, atol=atol, what=label)
        w = rng.standard_normal(y.shape).astype(dtype)
        term, t_term = (y * tensor(w)).sum(), (ty * torch.tensor(w)).sum()
        loss = term if loss is None else loss + term
        t_loss = t_term if t_loss is None else t_loss + t_term
    loss.backward()
    t_loss.backward()
    for i, (x, t) in enumerate(zip(xs, ts)):
        label = f"{prefix}grad of input {i}"
        assert x.grad is not None, f"{label}: None, torch gives {t.grad}"
        assert x.grad.shape == x.shape, f"{label}: shape {x.grad.shape} != input {x.shape}"
        assert_close(x.grad, t.grad, rtol=rtol, atol=atol, what=label)
        assert _dtype_name(x.grad) == _dtype_name(t.grad), f"{label}: dtype {x.grad.dtype}"
    return out, t_out


def copy_parameters(module: Any, torch_module: Any) -> None:
    """Copy every parameter of an mnp module into the torch module's parameter of that name."""
    import torch

    theirs = dict(torch_module.named_parameters())
    with torch.no_grad():
        for name, p in module.named_parameters():
            theirs[name].copy_(torch.from_numpy(p.data.copy()))


def assert_parameter_grads_match(module: Any, torch_module: Any, rtol: float = F32["rtol"],
                                 atol: float = F32["atol"], what: str = "") -> None:
    """Assert every parameter gradient of an mnp module matches the torch module's of that name."""
    theirs = dict(torch_module.named_parameters())
    for name, p in module.named_parameters():
        assert_close(p.grad, theirs[name].grad, rtol=rtol, atol=atol, what=f"{what}{name}")
