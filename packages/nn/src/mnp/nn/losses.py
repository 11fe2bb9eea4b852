"""The loss family: the loss modules (``reduction='mean'|'sum'|'none'``), their autograd
nodes (each fused with its reduction, so a loss is one node in the graph), the functional
forms and the ``numpy`` reference kernels of the fused softmax cross-entropy.

The ``cross_entropy_*`` kernels: ``logits`` (N, C), ``targets`` (N,) int64 class indices
(all valid: callers handle ``ignore_index``), ``label_smoothing`` in [0, 1]. The per-sample
loss is ``(1 - ls) * -log p[t] + ls * mean_c(-log p[c])``, as PyTorch defines it.

>>> import mnp.core as mnp
>>> from mnp import nn
>>> nn.MSELoss()(mnp.tensor([1.0, 2.0]), mnp.tensor([1.0, 4.0])).item()
2.0
>>> import numpy as np
>>> losses, probs = cross_entropy_forward(np.zeros((1, 4), np.float32), np.array([2]), 0.0)
>>> round(float(losses[0]), 4)   # log(4)
1.3863
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mnp.core import DTypeError, Function, ShapeError, Tensor, as_tensor, unbroadcast
from mnp.core.autograd import _make
from mnp.core.dispatch import kernel

from ._util import ArgumentError, IndexOutOfRangeError, apply_kernel, check_reduction
from .linear import same_float
from .module import Module


# -- numpy reference kernels ----------------------------------------------------------------
def cross_entropy_forward(logits: np.ndarray, targets: np.ndarray, label_smoothing: float = 0.0):
    """``(losses, probs)``: per-sample losses (N,) and the softmax (N, C), shifted by the row max."""
    n, c = logits.shape
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    probs = np.divide(e, s, out=e)
    log_s = np.log(s[:, 0])
    losses = log_s - z[np.arange(n), targets]
    if label_smoothing:
        smooth = log_s - z.mean(axis=1)
        losses = (1.0 - label_smoothing) * losses + label_smoothing * smooth
    return losses.astype(logits.dtype, copy=False), probs


def cross_entropy_backward(g: np.ndarray, probs: np.ndarray, targets: np.ndarray,
                           label_smoothing: float = 0.0) -> np.ndarray:
    """d(sum_i g[i] * losses[i]) / d(logits) = ``g * (probs - smoothed one-hot)``."""
    n, c = probs.shape
    d = probs * g[:, None]
    d[np.arange(n), targets] -= (1.0 - label_smoothing) * g
    if label_smoothing:
        d -= (g * (label_smoothing / c))[:, None]
    return d


KERNELS = {"cross_entropy_forward": cross_entropy_forward,
           "cross_entropy_backward": cross_entropy_backward}


# -- the autograd nodes ----------------------------------------------------------------------
def _reduce(losses: np.ndarray, reduction: str, denom: float | None = None) -> np.ndarray:
    if reduction == "none":
        return losses
    total = np.asarray(kernel("sum", losses.dtype)(losses, None, False))
    if reduction == "sum":
        return total
    mean = apply_kernel("div", total, losses.size if denom is None else denom)
    return np.asarray(mean, dtype=losses.dtype)


def _expand(g: np.ndarray, shape: tuple, reduction: str, denom: float) -> np.ndarray:
    """The per-element gradient of the reduction for output gradient ``g``."""
    if reduction == "none":
        return g
    scale = g if reduction == "sum" else apply_kernel("div", g, denom)
    return np.broadcast_to(np.asarray(scale, g.dtype), shape)


def _pair(input: Any, target: Any, op: str) -> tuple[Tensor, Tensor]:
    x, y = as_tensor(input, op=op), as_tensor(target, op=op)
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise ShapeError(f"{op}: input of shape {x.shape} and target of shape {y.shape} cannot "
                         f"be broadcast together") from None
    return x, y


class _Pointwise(Function):
    """Base of the elementwise losses: subclasses give ``losses`` and their partials."""

    def forward(self, x, y, reduction="mean"):
        if x.dtype != y.dtype:
            x, y = same_float(x, y)
        self.shapes, self.reduction = (x.shape, y.shape), reduction
        losses = self.losses(x, y)
        self.out_shape, self.denom = losses.shape, max(losses.size, 1)
        return _reduce(losses, reduction)

    def backward(self, g):
        ge = _expand(g, self.out_shape, self.reduction, self.denom)
        need = self.needs_input_grad
        gx, gy = self.partials(ge, need[0], need[1])
        return (None if gx is None else unbroadcast(gx, self.shapes[0]),
                None if gy is None else unbroadcast(gy, self.shapes[1]))


class MSELossFunction(_Pointwise):
    name = "mse_loss"

    def losses(self, x, y):
        self.diff = apply_kernel("sub", x, y)
        return apply_kernel("mul", self.diff, self.diff)

    def partials(self, ge, nx, ny):
        d = apply_kernel("mul", apply_kernel("mul", 2.0, ge), self.diff)
        return (d if nx else None), (apply_kernel("neg", d) if ny else None)


class L1LossFunction(_Pointwise):
    name = "l1_loss"

    def losses(self, x, y):
        diff = apply_kernel("sub", x, y)
        self.sign = apply_kernel("sign", diff)
        return apply_kernel("abs", diff)

    def partials(self, ge, nx, ny):
        d = apply_kernel("mul", ge, self.sign)
        return (d if nx else None), (apply_kernel("neg", d) if ny else None)


class BCELossFunction(_Pointwise):
    name = "binary_cross_entropy"
    numpy_only = "the clamped-log formula and its partials are numpy expressions, no kernel"

    def forward(self, x, y, reduction="mean", weight=None):
        self.weight = weight
        return super().forward(x, y, reduction)

    def losses(self, x, y):
        with np.errstate(divide="ignore"):
            self.log_x = np.maximum(np.log(x), -100.0)        # PyTorch clamps the logs at -100
            self.log_1mx = np.maximum(np.log1p(-x), -100.0)
        self.x, self.y = x, y
        losses = -(y * self.log_x + (1 - y) * self.log_1mx)
        return losses if self.weight is None else losses * self.weight

    def partials(self, ge, nx, ny):
        if self.weight is not None:
            ge = ge * self.weight
        x, y = self.x, self.y
        gx = ge * (x - y) / np.maximum(x * (1 - x), 1e-12) if nx else None
        gy = ge * (self.log_1mx - self.log_x) if ny else None
        return gx, gy


class BCEWithLogitsFunction(_Pointwise):
    name = "binary_cross_entropy_with_logits"
    numpy_only = "the stable softplus formula and its partials are numpy expressions, no kernel"

    def forward(self, x, y, reduction="mean", weight=None, pos_weight=None):
        self.weight, self.pos_weight = weight, pos_weight
        return super().forward(x, y, reduction)

    def losses(self, x, y):
        # log(1 + exp(-x)) without overflow: max(-x, 0) + log1p(exp(-|x|))
        self.softplus_neg = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))
        self.x, self.y = x, y
        if self.pos_weight is None:
            losses = (1 - y) * x + self.softplus_neg
        else:
            self.log_weight = 1 + (self.pos_weight - 1) * y
            losses = (1 - y) * x + self.log_weight * self.softplus_neg
        return losses if self.weight is None else losses * self.weight

    def partials(self, ge, nx, ny):
        if self.weight is not None:
            ge = ge * self.weight
        x, y = self.x, self.y
        gx = gy = None
        if nx:
            sig = np.exp(-self.softplus_neg)            # sigmoid(x), from the stable softplus
            if self.pos_weight is None:
                gx = ge * (sig - y)
            else:
                gx = ge * ((1 - y) - self.log_weight * (1 - sig))
        if ny:
            extra = 0 if self.pos_weight is None else (self.pos_weight - 1) * self.softplus_neg
            gy = ge * (extra - x)
        return gx, gy


def _flatten_classes(x: np.ndarray) -> np.ndarray:
    """(N, C, d1, ...) -> (N * d1 * ..., C); (N, C) unchanged."""
    if x.ndim == 2:
        return x
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _unflatten_classes(d: np.ndarray, shape: tuple) -> np.ndarray:
    if len(shape) == 2:
        return d
    return np.moveaxis(d.reshape((shape[0],) + shape[2:] + (shape[1],)), -1, 1)


def _log_softmax_rows(z: np.ndarray) -> np.ndarray:
    return kernel("log_softmax", z.dtype)(z, 1)


class _ClassTargets(Function):
    """Shared by the cross-entropies of logits (N, C, ...) at int class targets (N, ...):
    ``ignore_index``, the range check, the reduction and the per-sample output gradient."""
    name = "cross_entropy"

    def _targets(self, logits, target, ignore_index, reduction, label_smoothing):
        """``(z, t, valid, c)``: the logits as rows (N * d1 * ..., C), the targets with
        ignored ones at class 0, which are not ignored, and the class count."""
        self.shape, self.reduction, self.ls = logits.shape, reduction, label_smoothing
        c = logits.shape[1]
        z = _flatten_classes(logits)
        t = target.reshape(-1)
        valid = t != ignore_index
        self.all_valid = bool(valid.all())
        if not self.all_valid:
            t = np.where(valid, t, 0)
        if t.size and (t.min() < 0 or t.max() >= c):
            bad = int(t.max()) if t.max() >= c else int(t.min())
            raise IndexOutOfRangeError(f"cross_entropy: target {bad} is out of range for {c} classes")
        self.t, self.valid = t, valid
        return z, t, valid, c

    def _output(self, losses, dtype):
        losses = losses.astype(dtype, copy=False)
        if self.reduction == "none":
            return losses.reshape((self.shape[0],) + self.shape[2:])
        return _reduce(losses, self.reduction, self.denom)

    def _per_sample(self, g):
        """The gradient of each sample's loss for output gradient ``g``."""
        n = self.t.size
        if self.reduction == "none":
            return g.reshape(-1)
        if self.reduction == "sum":
            return np.full(n, g, g.dtype)
        return np.full(n, apply_kernel("div", g, self.denom), g.dtype)


class CrossEntropyFunction(_ClassTargets):
    """Softmax cross-entropy of logits (N, C, ...) against int class targets (N, ...), on the
    fused ``cross_entropy_*`` kernels."""

    def forward(self, logits, target=None, ignore_index=-100, reduction="mean",
                label_smoothing=0.0):
        z, t, valid, _ = self._targets(logits, target, ignore_index, reduction, label_smoothing)
        losses, self.probs = kernel("cross_entropy_forward", z.dtype)(z, t, label_smoothing)
        if not self.all_valid:
            losses = apply_kernel("mul", losses, valid)
        self.denom = float(valid.sum())
        return self._output(losses, logits.dtype)

    def backward(self, g):
        ge = self._per_sample(g)
        if not self.all_valid:
            ge = apply_kernel("mul", ge, self.valid)
        d = kernel("cross_entropy_backward", g.dtype)(ge, self.probs, self.t, self.ls)
        return _unflatten_classes(d.astype(g.dtype, copy=False), self.shape)


class WeightedCrossEntropyFunction(_ClassTargets):
    """`CrossEntropyFunction` with a weight per class."""
    numpy_only = "class weights: the fused cross_entropy kernels take none; numpy expressions"

    def forward(self, logits, target=None, weight=None, ignore_index=-100, reduction="mean",
                label_smoothing=0.0):
        z, t, valid, c = self._targets(logits, target, ignore_index, reduction, label_smoothing)
        self.weight = weight
        logp = _log_softmax_rows(z)
        self.probs = np.exp(logp)
        wt = weight[t] * valid
        losses = -(1.0 - label_smoothing) * wt * logp[np.arange(t.size), t]
        if label_smoothing:
            losses -= (label_smoothing / c) * valid * (logp @ weight)
        self.wt = wt
        self.denom = float(wt.sum())
        return self._output(losses, logits.dtype)

    def backward(self, g):
        n, ge = self.t.size, self._per_sample(g)
        ls, c, w = self.ls, self.probs.shape[1], self.weight
        smooth = (ls / c) * self.valid
        d = self.probs * ((1.0 - ls) * self.wt + smooth * w.sum())[:, None]
        d[np.arange(n), self.t] -= (1.0 - ls) * self.wt
        if ls:
            d -= smooth[:, None] * w[None, :]
        d *= ge[:, None]
        return _unflatten_classes(d.astype(g.dtype, copy=False), self.shape)


class SoftCrossEntropyFunction(Function):
    """Softmax cross-entropy against class probabilities of the logits' shape."""
    name = "cross_entropy"
    numpy_only = "probability targets: numpy expressions around the log_softmax kernel"

    def forward(self, logits, target, weight=None, reduction="mean", label_smoothing=0.0):
        if logits.dtype != target.dtype:
            logits, target = same_float(logits, target)
        self.shape, self.reduction, self.ls = logits.shape, reduction, label_smoothing
        c = logits.shape[1]
        z, q = _flatten_classes(logits), _flatten_classes(target)
        if label_smoothing:
            q = q * (1.0 - label_smoothing) + label_smoothing / c
        wq = q if weight is None else q * weight
        self.logp, self.wq, self.weight = _log_softmax_rows(z), wq, weight
        losses = -np.einsum("nc,nc->n", self.logp, wq)
        self.denom = max(z.shape[0], 1)
        if reduction == "none":
            return losses.reshape((self.shape[0],) + self.shape[2:])
        return _reduce(losses, reduction, self.denom)

    def backward(self, g):
        n = self.logp.shape[0]
        ge = g.reshape(-1) if self.reduction == "none" else \
            np.full(n, g if self.reduction == "sum" else g / self.denom, g.dtype)
        need = self.needs_input_grad
        dz = dq = None
        if need[0]:
            p = np.exp(self.logp)
            dz = _unflatten_classes((p * self.wq.sum(axis=1, keepdims=True) - self.wq) * ge[:, None],
                                    self.shape)
        if need[1]:
            dq = -self.logp if self.weight is None else -self.logp * self.weight
            dq = _unflatten_classes(dq * ((1.0 - self.ls) * ge)[:, None], self.shape)
        return dz, dq


class NLLLossFunction(Function):
    """Negative log-likelihood of log-probabilities (N, C, ...) at int class targets (N, ...)."""
    name = "nll_loss"
    numpy_only = "a gather of the target log-probabilities and a scatter of their gradient"

    def forward(self, logp, target=None, weight=None, ignore_index=-100, reduction="mean"):
        self.shape, self.reduction = logp.shape, reduction
        c = logp.shape[1]
        z = _flatten_classes(logp)
        t = target.reshape(-1)
        valid = t != ignore_index
        t = np.where(valid, t, 0)
        if t.size and (t.min() < 0 or t.max() >= c):
            bad = int(t.max()) if t.max() >= c else int(t.min())
            raise IndexOutOfRangeError(f"nll_loss: target {bad} is out of range for {c} classes")
        wt = valid.astype(logp.dtype) if weight is None else weight[t] * valid
        self.t, self.wt, self.c = t, wt, c
        losses = (-wt * z[np.arange(t.size), t]).astype(logp.dtype, copy=False)
        self.denom = float(wt.sum())
        if reduction == "none":
            return losses.reshape((self.shape[0],) + self.shape[2:])
        return _reduce(losses, reduction, self.denom)

    def backward(self, g):
        n = self.t.size
        ge = g.reshape(-1) if self.reduction == "none" else \
            np.full(n, g if self.reduction == "sum" else g / self.denom, g.dtype)
        d = np.zeros((n, self.c), g.dtype)
        d[np.arange(n), self.t] = -ge * self.wt
        return _unflatten_classes(d, self.shape)


# -- functions --------------------------------------------------------------------------------
def _weight_array(weight: Any, n: int | None, op: str, what: str = "weight") -> np.ndarray | None:
    if weight is None:
        return None
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight, np.float32)
    if n is not None and w.shape != (n,):
        raise ShapeError(f"{op}: {what} of shape {w.shape} does not fit {n} classes")
    return w


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error ``(input - target) ** 2``, reduced."""
    x, y = _pair(input, target, "mse_loss")
    return MSELossFunction.apply(x, y, reduction=check_reduction(reduction, "mse_loss"))


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error ``|input - target|``, reduced."""
    x, y = _pair(input, target, "l1_loss")
    return L1LossFunction.apply(x, y, reduction=check_reduction(reduction, "l1_loss"))


def binary_cross_entropy(input: Any, target: Any, weight: Any = None,
                         reduction: str = "mean") -> Tensor:
    """``-(t log p + (1 - t) log(1 - p))`` for probabilities ``input``; logs clamp at -100."""
    x, y = _pair(input, target, "binary_cross_entropy")
    w = _weight_array(weight, None, "binary_cross_entropy")
    return BCELossFunction.apply(x, y, reduction=check_reduction(reduction, "binary_cross_entropy"),
                                 weight=w)


def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None,
                                     reduction: str = "mean", pos_weight: Any = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step; ``pos_weight`` weighs positives."""
    op = "binary_cross_entropy_with_logits"
    x, y = _pair(input, target, op)
    w = _weight_array(weight, None, op)
    pw = _weight_array(pos_weight, None, op, "pos_weight")
    return BCEWithLogitsFunction.apply(x, y, reduction=check_reduction(reduction, op), weight=w,
                                       pos_weight=pw)


def _class_input(input: Any, target: Any, op: str) -> tuple[Tensor, Tensor, bool]:
    x, t = as_tensor(input, op=op), as_tensor(target, op=op)
    unbatched = x.ndim == 1
    if unbatched:
        x, t = x.reshape(1, -1), t.reshape((1,) + t.shape)
    if x.ndim < 2:
        raise ShapeError(f"{op}: expected input (N, C) or (N, C, d1, ...), got shape {x.shape}")
    return x, t, unbatched


def cross_entropy(input: Any, target: Any, weight: Any = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against int class targets
    (N,) / (N, d1, ...) or class probabilities of the logits' shape; fused and stable.

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> round(F.cross_entropy(mnp.zeros((2, 4)), mnp.tensor([0, 3])).item(), 4)
    1.3863
    """
    op = "cross_entropy"
    check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    x, t, unbatched = _class_input(input, target, op)
    w = _weight_array(weight, x.shape[1], op)
    if w is not None and w.dtype != x.dtype:
        w = w.astype(x.dtype)
    tdtype = t.dtype
    if tdtype.kind == "f":
        if tuple(t.shape) != x.shape:
            raise ShapeError(f"{op}: probability targets must have the input's shape {x.shape}, "
                             f"got {tuple(t.shape)}")
        y = SoftCrossEntropyFunction.apply(x, t, weight=w, reduction=reduction,
                                           label_smoothing=float(label_smoothing))
    else:
        if tdtype.kind not in "iu":
            raise DTypeError(f"{op}: target must hold int class indices or float probabilities, "
                             f"got dtype {tdtype.name}")
        expected = (x.shape[0],) + x.shape[2:]
        if t.shape != expected:
            raise ShapeError(f"{op}: input of shape {x.shape} and target of shape {t.shape} do not "
                             f"match: expected target shape {expected}")
        fn, kw = (CrossEntropyFunction, {}) if w is None else \
            (WeightedCrossEntropyFunction, {"weight": w})
        y = fn.apply(x, target=t.data, ignore_index=int(ignore_index), reduction=reduction,
                     label_smoothing=float(label_smoothing), **kw)
    return y.reshape(y.shape[1:]) if unbatched and reduction == "none" else y


def nll_loss(input: Any, target: Any, weight: Any = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C, ...) at int class targets (N, ...)."""
    op = "nll_loss"
    check_reduction(reduction, op)
    x, t, unbatched = _class_input(input, target, op)
    if t.dtype.kind not in "iu":
        raise DTypeError(f"{op}: target must hold int class indices, got dtype {t.dtype.name}")
    expected = (x.shape[0],) + x.shape[2:]
    if t.shape != expected:
        raise ShapeError(f"{op}: input of shape {x.shape} and target of shape {t.shape} do not "
                         f"match: expected target shape {expected}")
    w = _weight_array(weight, x.shape[1], op)
    if w is not None and w.dtype != x.dtype:
        w = w.astype(x.dtype)
    y = NLLLossFunction.apply(x, target=t.data, weight=w, ignore_index=int(ignore_index),
                              reduction=reduction)
    return y.reshape(y.shape[1:]) if unbatched and reduction == "none" else y


# -- the modules ---------------------------------------------------------------------------
def _buffer(value: Any) -> Tensor | None:
    if value is None:
        return None
    arr = value.data if isinstance(value, Tensor) else np.asarray(value, np.float32)
    return _make(arr, False, None)


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = check_reduction(reduction, type(self).__name__)


class MSELoss(_Loss):
    """Mean squared error."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return l1_loss(input, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities (logs clamped at -100, as PyTorch)."""

    def __init__(self, weight: Any = None, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy, stable for any logit; ``pos_weight`` weighs positives."""

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None):
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))
        self.register_buffer("pos_weight", _buffer(pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                  self.pos_weight)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against int class targets
    or class probabilities; optional class ``weight``, ``ignore_index`` and ``label_smoothing``.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> loss = nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> loss(mnp.zeros((2, 3)), mnp.tensor([0, 2])).shape
    ()
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ArgumentError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got "
                                f"{label_smoothing}")
        self.register_buffer("weight", _buffer(weight))
        self.ignore_index, self.label_smoothing = int(ignore_index), float(label_smoothing)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


SoftmaxCrossEntropy = CrossEntropyLoss


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities at int class targets."""

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))
        self.ignore_index = int(ignore_index)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


LOSSES = {"MSELoss": MSELoss, "L1Loss": L1Loss, "BCELoss": BCELoss,
          "BCEWithLogitsLoss": BCEWithLogitsLoss, "CrossEntropyLoss": CrossEntropyLoss,
          "SoftmaxCrossEntropy": SoftmaxCrossEntropy, "NLLLoss": NLLLoss}

__all__ = list(LOSSES) + ["LOSSES"]
