"""Reference ``numpy`` kernels of the optimizer update steps (docs/kernels.md, mnp-optim).

Each ``*_step`` kernel updates its buffers (the parameter first) in place with numpy vector
ops and returns None; the gradient is only read. Temporaries are allocated with
``empty_like`` and filled through ``out=`` (so 0-d parameters stay arrays). Scalars are Python floats, so float32
buffers stay float32 (numpy's weak scalars). The formulas and their order follow PyTorch's
single-tensor implementations, so results agree to float32 rounding.

>>> import numpy as np
>>> p, g = np.ones(3, "f4"), np.full(3, 0.5, "f4")
>>> sgd_step(p, g, None, 0.1, 0.0, 0.0, False, 0.0, False)
>>> p
array([0.95, 0.95, 0.95], dtype=float32)
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def _decayed(param: np.ndarray, grad: np.ndarray, weight_decay: float) -> np.ndarray:
    """``grad + weight_decay * param`` as a new array (the caller's gradient is never written)."""
    if weight_decay == 0:
        return grad
    out = np.multiply(param, weight_decay, out=np.empty_like(param))
    np.add(grad, out, out=out)
    return out


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start += weight * (end - start)`` in place, PyTorch's ``lerp_`` (two-sided form)."""
    diff = np.subtract(end, start, out=np.empty_like(start))
    if weight < 0.5:
        np.multiply(diff, weight, out=diff)
        np.add(start, diff, out=start)
    else:
        np.multiply(diff, 1.0 - weight, out=diff)
        np.subtract(end, diff, out=start)


def sgd_step(param: np.ndarray, grad: np.ndarray, buf: np.ndarray | None, lr: float,
             momentum: float, dampening: float, nesterov: bool, weight_decay: float,
             first: bool) -> None:
    """SGD with optional momentum/dampening/Nesterov and L2 weight decay.

    ``buf`` is None without momentum; ``first`` says it is new: it is set to the gradient.
    """
    g = _decayed(param, grad, weight_decay)
    if momentum != 0:
        if first:
            np.copyto(buf, g, casting="same_kind")
        else:
            np.multiply(buf, momentum, out=buf)
            if dampening == 0:
                np.add(buf, g, out=buf)
            else:
                tmp = np.multiply(g, 1.0 - dampening, out=np.empty_like(param))
                np.add(buf, tmp, out=buf)
        if nesterov:
            tmp = np.multiply(buf, momentum, out=np.empty_like(param))
            np.add(g, tmp, out=tmp)
        else:
            tmp = np.multiply(buf, lr, out=np.empty_like(param))
            np.subtract(param, tmp, out=param)
            return
    else:
        tmp = np.array(g, dtype=param.dtype, copy=True) if g is grad else g
    np.multiply(tmp, lr, out=tmp)
    np.subtract(param, tmp, out=param)


def adam_step(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
              exp_avg_sq: np.ndarray, max_exp_avg_sq: np.ndarray | None, step: int,
              lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
              decoupled: bool, amsgrad: bool) -> None:
    """Adam (``decoupled=False``, L2 decay on the gradient) or AdamW (``decoupled=True``).

    ``step`` counts this update (1 on the first); ``max_exp_avg_sq`` is None without AMSGrad.
    """
    if weight_decay != 0:
        if decoupled:
            np.multiply(param, 1.0 - lr * weight_decay, out=param)
        else:
            grad = _decayed(param, grad, weight_decay)
    _lerp_(exp_avg, grad, 1.0 - beta1)
    sq = np.multiply(grad, grad, out=np.empty_like(param))
    np.multiply(sq, 1.0 - beta2, out=sq)
    np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
    np.add(exp_avg_sq, sq, out=exp_avg_sq)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2 ** 0.5
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    else:
        second = exp_avg_sq
    denom = np.sqrt(second, out=sq)
    np.divide(denom, bias_correction2_sqrt, out=denom)
    np.add(denom, eps, out=denom)
    np.divide(exp_avg, denom, out=denom)
    np.multiply(denom, step_size, out=denom)
    np.subtract(param, denom, out=param)


def _rmsprop(param: np.ndarray, grad: np.ndarray, square_avg: np.ndarray,
             grad_avg: np.ndarray | None, buf: np.ndarray | None, lr: float, alpha: float,
             eps: float, momentum: float, weight_decay: float) -> None:
    g = _decayed(param, grad, weight_decay)
    sq = np.multiply(g, g, out=np.empty_like(param))
    np.multiply(sq, 1.0 - alpha, out=sq)
    np.multiply(square_avg, alpha, out=square_avg)
    np.add(square_avg, sq, out=square_avg)
    if grad_avg is not None:
        _lerp_(grad_avg, g, 1.0 - alpha)
        avg = np.multiply(grad_avg, grad_avg, out=sq)
        np.subtract(square_avg, avg, out=avg)
        np.sqrt(avg, out=avg)
    else:
        avg = np.sqrt(square_avg, out=sq)
    np.add(avg, eps, out=avg)
    np.divide(g, avg, out=avg)
    if momentum > 0:
        np.multiply(buf, momentum, out=buf)
        np.add(buf, avg, out=buf)
        np.multiply(buf, lr, out=avg)
    else:
        np.multiply(avg, lr, out=avg)
    np.subtract(param, avg, out=param)


def rmsprop_step(param: np.ndarray, grad: np.ndarray, square_avg: np.ndarray,
                 buf: np.ndarray | None, lr: float, alpha: float, eps: float,
                 momentum: float, weight_decay: float) -> None:
    """RMSprop; ``buf`` (the momentum buffer) is None when ``momentum`` is 0."""
    _rmsprop(param, grad, square_avg, None, buf, lr, alpha, eps, momentum, weight_decay)


def rmsprop_centered_step(param: np.ndarray, grad: np.ndarray, square_avg: np.ndarray,
                          grad_avg: np.ndarray, buf: np.ndarray | None, lr: float,
                          alpha: float, eps: float, momentum: float,
                          weight_decay: float) -> None:
    """Centered RMSprop: the second moment minus the squared running mean ``grad_avg``."""
    _rmsprop(param, grad, square_avg, grad_avg, buf, lr, alpha, eps, momentum, weight_decay)


def adagrad_step(param: np.ndarray, grad: np.ndarray, sum_: np.ndarray, step: int, lr: float,
                 lr_decay: float, eps: float, weight_decay: float) -> None:
    """Adagrad; ``step`` counts this update (1 on the first), decaying the rate by ``lr_decay``."""
    g = _decayed(param, grad, weight_decay)
    clr = lr / (1 + (step - 1) * lr_decay)
    sq = np.multiply(g, g, out=np.empty_like(param))
    np.add(sum_, sq, out=sum_)
    std = np.sqrt(sum_, out=sq)
    np.add(std, eps, out=std)
    np.divide(g, std, out=std)
    np.multiply(std, clr, out=std)
    np.subtract(param, std, out=param)


KERNELS: dict[str, Callable] = {
    "sgd_step": sgd_step,
    "adam_step": adam_step,
    "rmsprop_step": rmsprop_step,
    "rmsprop_centered_step": rmsprop_centered_step,
    "adagrad_step": adagrad_step,
}
