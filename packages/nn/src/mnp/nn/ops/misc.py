"""Dropout, embedding lookup and one-hot encoding."""
from __future__ import annotations

from typing import Any

import numpy as np

import mnp.core as mnp
from mnp.core import DTypeError, Function, Tensor
from mnp.core.autograd import _make

from .._util import ArgumentError, IndexOutOfRangeError, as_tensor


class Dropout(Function):
    name = "dropout"

    def forward(self, x, mask=None):
        self.mask = mask
        return x * mask

    def backward(self, g):
        return g * self.mask


def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by
    ``1 / (1 - p)``; the identity when not ``training``. Draws from mnp's generator, so
    `mnp.core.manual_seed` makes it reproducible."""
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"dropout: p must be in [0, 1], got {p}")
    x = as_tensor(input, "dropout")
    if not training or p == 0.0:
        return x
    dt = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    if p == 1.0:
        mask = np.zeros(x.shape, dt)
    else:
        keep = mnp.generator().random(x.shape, dtype=np.float32 if dt != np.float64 else np.float64) >= p
        mask = np.multiply(keep, 1.0 / (1.0 - p), dtype=dt)
    return Dropout.apply(x, mask=mask)


class Embedding(Function):
    name = "embedding"

    def forward(self, w, indices=None, padding_idx=None, scale_grad_by_freq=False):
        self.indices, self.rows, self.padding_idx = indices, w.shape[0], padding_idx
        self.scale = scale_grad_by_freq
        return w[indices]

    def backward(self, g):
        d = g.shape[-1]
        flat = self.indices.reshape(-1)
        g2 = g.reshape(-1, d)
        if self.scale:               # each row's gradient divided by its count in the batch
            counts = np.bincount(flat % self.rows, minlength=self.rows)
            g2 = g2 / counts[flat % self.rows, None].astype(g.dtype)
        gw = np.zeros((self.rows, d), g.dtype)
        np.add.at(gw, flat, g2)
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return gw


def _indices(input: Any, op: str) -> np.ndarray:
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"{op}: indices must be an integer tensor, got dtype {idx.dtype.name}")
    return idx


def embedding_renorm_(weight: np.ndarray, indices: np.ndarray, max_norm: float,
                      norm_type: float = 2.0) -> None:
    """Scale in place each row of ``weight`` looked up by ``indices`` whose ``norm_type`` norm
    exceeds ``max_norm`` to norm ``max_norm`` (PyTorch's ``embedding_renorm_``)."""
    rows = np.unique(indices.reshape(-1) % weight.shape[0])
    sel = weight[rows].astype(np.float64)
    if norm_type == np.inf:
        norms = np.abs(sel).max(axis=1)
    else:
        norms = (np.abs(sel) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    over = norms > max_norm
    if over.any():
        scale = max_norm / (norms[over] + 1e-7)
        weight[rows[over]] = (sel[over] * scale[:, None]).astype(weight.dtype)


def embedding(input: Any, weight: Any, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by integer ``input``; the
    output has shape ``input.shape + (embedding_dim,)``. Row ``padding_idx`` gets no gradient;
    with ``max_norm`` the looked-up rows are first renormalised in place (outside autograd);
    ``scale_grad_by_freq`` divides each row's gradient by its frequency in ``input``."""
    idx = _indices(input, "embedding")
    w = as_tensor(weight, "embedding")
    if w.ndim != 2:
        raise ArgumentError(f"embedding: weight must be 2-d (num_embeddings, embedding_dim), "
                            f"got shape {w.shape}")
    if sparse:
        raise ArgumentError("embedding: sparse gradients are not supported; use sparse=False")
    n = w.shape[0]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = int(idx.max()) if idx.max() >= n else int(idx.min())
        raise IndexOutOfRangeError(f"embedding: index {bad} is out of range for {n} embeddings")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    if max_norm is not None and idx.size:
        embedding_renorm_(w.data, idx, float(max_norm), float(norm_type))
    return Embedding.apply(w, indices=idx, padding_idx=padding_idx,
                           scale_grad_by_freq=bool(scale_grad_by_freq))


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Integer class indices -> int64 one-hot rows (``num_classes=-1``: max index + 1).

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.one_hot(mnp.tensor([0, 2]), 3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    idx = _indices(tensor, "one_hot")
    if idx.size and idx.min() < 0:
        raise ArgumentError(f"one_hot: class values must be non-negative, got {int(idx.min())}")
    if num_classes < 0:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    elif idx.size and idx.max() >= num_classes:
        raise ArgumentError(f"one_hot: class value {int(idx.max())} is out of range for "
                            f"num_classes={num_classes}")
    out = np.zeros(idx.shape + (num_classes,), np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.int64), 1, axis=-1)
    return _make(out, False, None)
