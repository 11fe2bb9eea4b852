"""The embedding family: `Embedding`, its node `EmbeddingFunction` (a row gather, and a
scatter-add of the gradient), `embedding`, `embedding_renorm_` and `one_hot`."""
from __future__ import annotations

from typing import Any

import numpy as np

from mnp.core import DTypeError, Function, ShapeError, Tensor, as_tensor, get_default_dtype
from mnp.core.autograd import _make

from . import init
from ._util import ArgumentError, IndexOutOfRangeError
from .module import Module
from .parameter import Parameter


class EmbeddingFunction(Function):
    """The rows ``w[indices]``; the backward adds each output row's gradient to its row."""
    name = "embedding"
    numpy_only = "a row gather and a sorted segment sum (np.add.reduceat) of the gradient"

    def forward(self, w, indices=None, padding_idx=None, scale_grad_by_freq=False):
        self.indices, self.rows, self.padding_idx = indices, w.shape[0], padding_idx
        self.scale = scale_grad_by_freq
        return w[indices]

    def backward(self, g):
        d = g.shape[-1]
        flat = self.indices.reshape(-1)
        g2 = g.reshape(-1, d)
        if self.scale:               # each row's gradient divided by its count in the batch
            counts = np.bincount(flat, minlength=self.rows)
            g2 = g2 / counts[flat, None].astype(g.dtype)
        gw = np.zeros((self.rows, d), g.dtype)
        # the rows of each index summed in order of occurrence (a stable sort, then one
        # reduceat): several times faster than np.add.at, and as deterministic
        order = np.argsort(flat, kind="stable")
        ids = flat[order]
        starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
        if len(starts):
            gw[ids[starts]] = np.add.reduceat(g2[order], starts, axis=0)
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
    w = as_tensor(weight, op="embedding")
    if w.ndim != 2:
        raise ArgumentError(f"embedding: weight must be 2-d (num_embeddings, embedding_dim), "
                            f"got shape {w.shape}")
    if sparse:
        raise ArgumentError("embedding: sparse gradients are not supported; use sparse=False")
    n = w.shape[0]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = int(idx.max()) if idx.max() >= n else int(idx.min())
        raise IndexOutOfRangeError(f"embedding: index {bad} is out of range for {n} embeddings")
    if idx.size and idx.min() < 0:       # counted from the end, as numpy indexing does
        idx = np.where(idx < 0, idx + n, idx)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    if max_norm is not None and idx.size:
        embedding_renorm_(w.data, idx, float(max_norm), float(norm_type))
    return EmbeddingFunction.apply(w, indices=idx, padding_idx=padding_idx,
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


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, looked up by integer
    index; initialised N(0, 1) with row ``padding_idx`` (if given) zero and never updated.
    ``max_norm`` renormalises the looked-up rows in place; ``scale_grad_by_freq`` divides
    gradients by the frequency of each index in the batch; ``_weight`` supplies the table.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> emb = nn.Embedding.from_pretrained(mnp.tensor([[1.0, 2.0], [3.0, 4.0]]))
    >>> emb(mnp.tensor([1])).tolist(), emb.weight.requires_grad
    ([[3.0, 4.0]], False)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False, _weight: Any = None,
                 _freeze: bool = False):
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            padding_idx = int(padding_idx)
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ArgumentError(f"Embedding: padding_idx {padding_idx} is out of range for "
                                    f"{self.num_embeddings} embeddings")
            padding_idx %= self.num_embeddings
        if sparse:
            raise ArgumentError("Embedding: sparse gradients are not supported; use sparse=False")
        self.padding_idx = padding_idx
        self.max_norm = None if max_norm is None else float(max_norm)
        self.norm_type, self.scale_grad_by_freq = float(norm_type), bool(scale_grad_by_freq)
        self.sparse = False
        if _weight is None:
            self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim),
                                             get_default_dtype()), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            w = _weight.data if isinstance(_weight, Tensor) else np.asarray(_weight)
            if w.shape != (self.num_embeddings, self.embedding_dim):
                raise ShapeError(f"Embedding: _weight of shape {w.shape} does not match "
                                 f"({self.num_embeddings}, {self.embedding_dim})")
            self.weight = Parameter(w, requires_grad=not _freeze)
            config = self.__dict__.get("_config")
            if config and config.get("_weight") is not None:
                config["_weight"] = None        # the table travels in the state dict

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq)

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, sparse: bool = False) -> "Embedding":
        """An Embedding whose table is ``embeddings`` (2-d; shares its memory), frozen unless
        ``freeze=False``."""
        w = embeddings.data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if w.ndim != 2:
            raise ShapeError(f"Embedding.from_pretrained: embeddings must be 2-d, got shape "
                             f"{w.shape}")
        return cls(w.shape[0], w.shape[1], padding_idx, max_norm, norm_type, scale_grad_by_freq,
                   sparse, _weight=w, _freeze=freeze)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        return text
