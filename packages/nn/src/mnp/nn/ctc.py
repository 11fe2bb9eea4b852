"""Connectionist temporal classification: `CTCLoss`, `ctc_loss` and their node
`CTCLossFunction` (the log-space forward-backward recursion, as PyTorch).

Each sample's targets are extended with blanks, ``l' = (blank, l1, blank, l2, ..., blank)``;
the forward variables ``alpha[t, s]`` and backward ``beta[t, s]`` run in log space, and the
loss is ``-log p(l | x) = -logsumexp(alpha[T - 1, -1], alpha[T - 1, -2])``. The gradient is
PyTorch's: with respect to log-probabilities that come out of a log-softmax, it is
``exp(lp[t, c]) - sum_{s: l'_s = c} exp(alpha[t, s] + beta[t, s] - lp[t, c] + nll)``, which,
back-propagated through that log-softmax, is the exact gradient of the loss with respect to
its logits.

>>> import mnp.core as mnp
>>> from mnp.nn import functional as F
>>> lp = mnp.log_softmax(mnp.zeros((3, 1, 2)), axis=2)
>>> round(F.ctc_loss(lp, mnp.tensor([[1]]), [3], [1], reduction="sum").item(), 4)  # -log(6/8)
0.2877
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mnp.core import DTypeError, Function, ShapeError, Tensor, as_tensor

from ._util import ArgumentError, IndexOutOfRangeError, check_reduction
from .losses import _Loss


def _logsumexp(*terms: np.ndarray) -> np.ndarray:
    """Elementwise log(sum(exp(terms))), -inf where every term is -inf."""
    stack = np.stack(terms)
    top = stack.max(axis=0)
    safe = np.where(np.isfinite(top), top, 0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(stack - safe).sum(axis=0)) + safe


def _ctc_sample(lp: np.ndarray, target: np.ndarray, blank: int, need_grad: bool):
    """``(nll, grad)`` of one sample: ``lp`` (T, C) log-probabilities over its input length,
    ``target`` (L,) labels; ``grad`` (T, C) is PyTorch's gradient of ``nll`` (None unless
    ``need_grad``)."""
    t_len, c = lp.shape
    ext = np.full(2 * len(target) + 1, blank, np.int64)
    ext[1::2] = target
    s_len = len(ext)
    neg = np.array(-np.inf, lp.dtype)
    # the skip transition s - 2 -> s is allowed onto a label that differs from l'_{s-2}
    skip = np.zeros(s_len, bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    emit = lp[:, ext]                                    # (T, S')
    alpha = np.full((t_len, s_len), neg)
    alpha[0, :min(2, s_len)] = emit[0, :min(2, s_len)]
    for t in range(1, t_len):
        prev = alpha[t - 1]
        one = np.concatenate(([neg], prev[:-1]))
        two = np.where(skip, np.concatenate(([neg, neg], prev[:-2]))[:s_len], neg)
        alpha[t] = emit[t] + _logsumexp(prev, one, two)
    ends = alpha[t_len - 1, -2:] if s_len > 1 else alpha[t_len - 1, -1:]
    nll = -_logsumexp(*ends)
    if not need_grad:
        return nll, None
    beta = np.full((t_len, s_len), neg)
    beta[t_len - 1, max(s_len - 2, 0):] = emit[t_len - 1, max(s_len - 2, 0):]
    skip_next = np.zeros(s_len, bool)                    # s + 2 -> s, mirrored
    skip_next[:-2] = skip[2:]
    for t in range(t_len - 2, -1, -1):
        nxt = beta[t + 1]
        one = np.concatenate((nxt[1:], [neg]))
        two = np.where(skip_next, np.concatenate((nxt[2:], [neg, neg]))[:s_len], neg)
        beta[t] = emit[t] + _logsumexp(nxt, one, two)
    ab = alpha + beta                                    # (T, S')
    lcab = np.full((t_len, c), neg)
    for s in range(s_len):                               # logsumexp per label of l'
        lcab[:, ext[s]] = _logsumexp(lcab[:, ext[s]], ab[:, s])
    with np.errstate(over="ignore", invalid="ignore"):
        grad = np.exp(lp) - np.exp(lcab + nll - lp)
    return nll, grad


class CTCLossFunction(Function):
    """CTC loss of log_probs (T, N, C) against int targets, reduced."""
    name = "ctc_loss"
    numpy_only = "a dynamic program over time (the alpha and beta recursions) in numpy"

    def forward(self, log_probs, targets=None, input_lengths=None, target_lengths=None,
                blank=0, reduction="mean", zero_infinity=False):
        self.lp, self.targets, self.lengths = log_probs, targets, input_lengths
        self.blank, self.reduction, self.zero_infinity = blank, reduction, zero_infinity
        self.tl = np.maximum(target_lengths, 1).astype(log_probs.dtype)
        losses = np.array([self._sample(i, False)[0] for i in range(log_probs.shape[1])],
                          log_probs.dtype).reshape(-1)
        if reduction == "none":
            return losses
        if reduction == "sum":
            return np.asarray(losses.sum(), log_probs.dtype)
        return np.asarray((losses / self.tl).mean(), log_probs.dtype)

    def _sample(self, i: int, need_grad: bool):
        """``(nll, grad)`` of sample ``i`` (grad None when zero or not asked for)."""
        length = int(self.lengths[i])
        if length == 0:
            nll, grad = (0.0 if len(self.targets[i]) == 0 else np.inf), None
        else:
            nll, grad = _ctc_sample(self.lp[:length, i], self.targets[i], self.blank, need_grad)
        if self.zero_infinity and np.isinf(nll):
            return 0.0, None
        return nll, grad

    def backward(self, g):
        n = self.lp.shape[1]
        if self.reduction == "none":
            scale = g
        elif self.reduction == "sum":
            scale = np.full(n, g, g.dtype)
        else:
            scale = (g / n) / self.tl
        out = np.zeros(self.lp.shape, g.dtype)
        for i in range(n):
            _, grad = self._sample(i, True)
            if grad is not None:
                out[:grad.shape[0], i] = grad * scale[i]
        return out


def _lengths(value: Any, n: int, what: str) -> np.ndarray:
    arr = value.data if isinstance(value, Tensor) else np.asarray(value)
    arr = np.asarray(arr).reshape(-1)
    if arr.dtype.kind not in "iu":
        raise DTypeError(f"ctc_loss: {what} must hold integers, got dtype {arr.dtype.name}")
    if arr.shape != (n,):
        raise ShapeError(f"ctc_loss: {what} must have one entry per sample ({n}), got "
                         f"{arr.size}")
    if arr.size and arr.min() < 0:
        raise ArgumentError(f"ctc_loss: {what} must be non-negative, got {int(arr.min())}")
    return arr.astype(np.int64)


def ctc_loss(log_probs: Any, targets: Any, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """CTC loss of ``log_probs`` (T, N, C) (or unbatched (T, C)) against ``targets``: padded
    (N, S) or concatenated (sum(target_lengths),) class indices; ``input_lengths`` and
    ``target_lengths`` (N,). ``reduction='mean'`` divides each loss by its target length
    before the batch mean; ``zero_infinity`` zeroes impossible alignments (infinite losses)
    and their gradients."""
    op = "ctc_loss"
    check_reduction(reduction, op)
    lp = as_tensor(log_probs, op=op)
    if lp.dtype.kind != "f":
        raise DTypeError(f"{op}: log_probs must be floating point, got dtype {lp.dtype.name}")
    unbatched = lp.ndim == 2
    if unbatched:
        lp = lp.reshape(lp.shape[0], 1, lp.shape[1])
    if lp.ndim != 3:
        raise ShapeError(f"{op}: expected log_probs (T, N, C) or (T, C), got shape {lp.shape}")
    t_max, n, c = lp.shape
    if not 0 <= blank < c:
        raise ArgumentError(f"{op}: blank must be in the label range [0, {c}), got {blank}")
    tg = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    if tg.dtype.kind not in "iu":
        raise DTypeError(f"{op}: targets must hold integer class indices, got dtype "
                         f"{tg.dtype.name}")
    if unbatched:
        tg = tg.reshape(1, -1)
    il = _lengths(input_lengths, n, "input_lengths")
    tl = _lengths(target_lengths, n, "target_lengths")
    if il.size and il.max() > t_max:
        raise ArgumentError(f"{op}: input_lengths must be at most T={t_max}, got {int(il.max())}")
    if tg.ndim == 1:                                     # concatenated
        if tg.size != tl.sum():
            raise ShapeError(f"{op}: concatenated targets hold {tg.size} labels, but "
                             f"target_lengths sum to {int(tl.sum())}")
        starts = np.concatenate(([0], np.cumsum(tl)[:-1]))
        rows = [tg[s:s + k] for s, k in zip(starts, tl)]
    elif tg.ndim == 2 and tg.shape[0] == n:
        if tl.size and tl.max() > tg.shape[1]:
            raise ShapeError(f"{op}: target_lengths {int(tl.max())} exceeds the padded targets' "
                             f"length {tg.shape[1]} (targets of shape {tg.shape})")
        rows = [tg[i, :k] for i, k in enumerate(tl)]
    else:
        raise ShapeError(f"{op}: expected targets (N={n}, S) or concatenated (sum of "
                         f"target_lengths,), got shape {tg.shape}")
    for row in rows:
        if row.size and (row.min() < 0 or row.max() >= c):
            bad = int(row.max()) if row.max() >= c else int(row.min())
            raise IndexOutOfRangeError(f"{op}: target {bad} is out of range for {c} classes")
    y = CTCLossFunction.apply(lp, targets=[r.astype(np.int64) for r in rows], input_lengths=il,
                              target_lengths=tl, blank=int(blank), reduction=reduction,
                              zero_infinity=bool(zero_infinity))
    return y.reshape(()) if unbatched and reduction == "none" else y


class CTCLoss(_Loss):
    """Connectionist temporal classification loss (see `ctc_loss`)."""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(reduction)
        self.blank, self.zero_infinity = int(blank), bool(zero_infinity)

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths: Any,
                target_lengths: Any) -> Tensor:
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                        self.reduction, self.zero_infinity)


LOSSES = {"CTCLoss": CTCLoss}

__all__ = ["CTCLoss", "CTCLossFunction", "LOSSES", "ctc_loss"]
