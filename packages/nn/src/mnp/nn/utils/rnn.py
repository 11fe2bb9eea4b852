"""Variable-length sequences for the recurrent layers (PyTorch's ``torch.nn.utils.rnn``):
`PackedSequence`, `pad_sequence`, `pack_padded_sequence`, `pad_packed_sequence`,
`pack_sequence`, `unpad_sequence`, `unpack_sequence`.

A `PackedSequence` stores the steps of a batch sorted by decreasing length, time-major:
``data`` (sum of lengths, *) holds step 0 of every sequence, then step 1 of those still running,
...; ``batch_sizes[t]`` is how many sequences have a step ``t``. Every function keeps the
autograd graph (gradients flow to the real steps only).

>>> import mnp.core as mnp
>>> from mnp.nn.utils.rnn import pack_sequence, pad_packed_sequence
>>> packed = pack_sequence([mnp.ones((3, 2)), mnp.ones((1, 2))])
>>> packed.batch_sizes.tolist()
[2, 1, 1]
>>> padded, lengths = pad_packed_sequence(packed, batch_first=True)
>>> padded.shape, lengths.tolist()
((2, 3, 2), [3, 1])
"""
from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np

from mnp.core import ArgumentError, Function, ShapeError, Tensor, as_tensor
from mnp.core.autograd import _make



class PackedSequence(NamedTuple):
    """``(data, batch_sizes, sorted_indices, unsorted_indices)``: see the module docstring.
    ``sorted_indices[j]`` is the original batch position of the ``j``-th longest sequence;
    both index tensors are None when the batch was already sorted."""
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None


def _positions(batch_sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (time, sorted batch) position of every row of packed data."""
    t_idx = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    starts = np.concatenate(([0], np.cumsum(batch_sizes)[:-1]))
    b_idx = np.arange(t_idx.size) - np.repeat(starts, batch_sizes)
    return t_idx, b_idx


class Scatter(Function):
    """Rows of ``data`` placed at ``(t_idx, b_idx)`` of a ``shape`` array of ``fill``."""
    name = "pad_packed"
    numpy_only = "no arithmetic: rows placed by index"

    def forward(self, data, t_idx=None, b_idx=None, shape=None, fill=0.0):
        self.t_idx, self.b_idx = t_idx, b_idx
        out = np.full(tuple(shape) + data.shape[1:], fill, data.dtype)
        out[t_idx, b_idx] = data
        return out

    def backward(self, g):
        return g[self.t_idx, self.b_idx]


class Gather(Function):
    """The rows at ``(t_idx, b_idx)`` of a padded (T, B, *) array."""
    name = "pack_padded"
    numpy_only = "no arithmetic: rows gathered by index"

    def forward(self, x, t_idx=None, b_idx=None):
        self.t_idx, self.b_idx, self.shape = t_idx, b_idx, x.shape
        return x[t_idx, b_idx]

    def backward(self, g):
        out = np.zeros(self.shape, g.dtype)
        out[self.t_idx, self.b_idx] = g
        return out


def _packed_to_padded(data: Tensor, batch_sizes: np.ndarray, order: np.ndarray | None = None,
                      total: int | None = None, fill: float = 0.0) -> Tensor:
    """Packed ``data`` as a time-major padded tensor (batch in sorted order, or reordered by
    ``order``: sorted position ``j`` goes to column ``order[j]``)."""
    t_idx, b_idx = _positions(batch_sizes)
    if order is not None:
        b_idx = order[b_idx]
    T = len(batch_sizes) if total is None else total
    return Scatter.apply(data, t_idx=t_idx, b_idx=b_idx, shape=(T, int(batch_sizes[0])),
                         fill=fill)


def _padded_to_packed(x: Tensor, batch_sizes: np.ndarray, order: np.ndarray | None = None
                      ) -> Tensor:
    t_idx, b_idx = _positions(batch_sizes)
    if order is not None:
        b_idx = order[b_idx]
    return Gather.apply(x, t_idx=t_idx, b_idx=b_idx)


def _int_array(x: Any, what: str, op: str) -> np.ndarray:
    a = np.asarray(x.data if isinstance(x, Tensor) else x)
    if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
        if a.ndim == 1 and a.dtype.kind == "f" and np.all(a == np.round(a)):
            return a.astype(np.int64)
        raise ArgumentError(f"{op}: {what} must be a 1-d sequence of integers, got "
                            f"{a.dtype.name} of shape {a.shape}")
    return a.astype(np.int64)


def _tensor_of(a: np.ndarray) -> Tensor:
    return _make(np.asarray(a, dtype=np.int64), False, None)


def invert_permutation(permutation: Any) -> Tensor | None:
    """The inverse of an index permutation (None stays None)."""
    if permutation is None:
        return None
    p = _int_array(permutation, "permutation", "invert_permutation")
    out = np.empty_like(p)
    out[p] = np.arange(p.size)
    return _tensor_of(out)


class PadSequence(Function):
    name = "pad_sequence"
    numpy_only = "no arithmetic: sequences copied into a padded array"

    def forward(self, *seqs, padding_value=0.0, left=False):
        T = max(s.shape[0] for s in seqs)
        self.lengths, self.left = [s.shape[0] for s in seqs], left
        out = np.full((len(seqs), T) + seqs[0].shape[1:], padding_value,
                      np.result_type(*seqs))
        for i, s in enumerate(seqs):
            if left:
                out[i, T - s.shape[0]:] = s
            else:
                out[i, :s.shape[0]] = s
        return out

    def backward(self, g):
        T = g.shape[1]
        return tuple(g[i, T - n:] if self.left else g[i, :n] for i, n in enumerate(self.lengths))


def pad_sequence(sequences: Sequence[Any], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shape (L_i, *) into (max L, B, *) (``batch_first``: (B, max L, *)),
    filling with ``padding_value`` on the ``padding_side`` ("right" or "left")."""
    op = "pad_sequence"
    if padding_side not in ("right", "left"):
        raise ArgumentError(f"{op}: padding_side must be 'right' or 'left', got {padding_side!r}")
    seqs = [as_tensor(s, op=op) for s in sequences]
    if not seqs:
        raise ArgumentError(f"{op}: received an empty list of sequences")
    trailing = seqs[0].shape[1:]
    for i, s in enumerate(seqs):
        if s.ndim < 1 or s.shape[1:] != trailing:
            raise ShapeError(f"{op}: sequence {i} has shape {s.shape}; every sequence must be "
                             f"(L, *{trailing}) like sequence 0 of shape {seqs[0].shape}")
    out = PadSequence.apply(*seqs, padding_value=padding_value, left=padding_side == "left")
    return out if batch_first else out.swapaxes(0, 1)


def unpad_sequence(padded_sequences: Any, lengths: Any, batch_first: bool = False) -> list[Tensor]:
    """The inverse of `pad_sequence` (right padding): a list of (L_i, *) tensors."""
    x = as_tensor(padded_sequences, op="unpad_sequence")
    if not batch_first:
        x = x.swapaxes(0, 1)
    return [x[i, :int(n)] for i, n in enumerate(_int_array(lengths, "lengths", "unpad_sequence"))]


def pack_padded_sequence(input: Any, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (``batch_first``: (B, T, *)) of sequences of ``lengths``.
    ``enforce_sorted=True`` requires lengths in decreasing order; otherwise the batch is sorted
    and the permutation kept in ``sorted_indices``."""
    op = "pack_padded_sequence"
    x = as_tensor(input, op=op)
    lens = _int_array(lengths, "lengths", op)
    if x.ndim < 2:
        raise ShapeError(f"{op}: expected a padded input of at least 2 dimensions, got shape "
                         f"{x.shape}")
    B, T = (x.shape[0], x.shape[1]) if batch_first else (x.shape[1], x.shape[0])
    if lens.size != B:
        raise ShapeError(f"{op}: {lens.size} lengths for a batch of {B} sequences (input shape "
                         f"{x.shape}, batch_first={batch_first})")
    if B == 0 or lens.min() <= 0:
        raise ArgumentError(f"{op}: every length must be > 0, got {lens.tolist()}")
    if lens.max() > T:
        raise ArgumentError(f"{op}: length {int(lens.max())} is longer than the padded input "
                            f"({T} steps, shape {x.shape})")
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise ArgumentError(f"{op}: lengths {lens.tolist()} are not sorted in decreasing "
                                f"order; sort the batch or pass enforce_sorted=False")
        order, sorted_t = None, None
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_t = _tensor_of(order)
    batch_sizes = np.count_nonzero(lens[None, :] > np.arange(int(lens[0]))[:, None], axis=1)
    if batch_first:
        x = x.swapaxes(0, 1)
    data = _padded_to_packed(x, batch_sizes, order)
    return PackedSequence(data, _tensor_of(batch_sizes), sorted_t, invert_permutation(sorted_t))


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None
                        ) -> tuple[Tensor, Tensor]:
    """Undo `pack_padded_sequence`: ``(padded, lengths)`` in the original batch order, padded
    to ``total_length`` steps when given."""
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise ArgumentError(f"{op}: expected a PackedSequence, got {type(sequence).__name__}")
    bs = _int_array(sequence.batch_sizes, "batch_sizes", op)
    T = len(bs)
    if total_length is not None:
        if total_length < T:
            raise ArgumentError(f"{op}: total_length={total_length} is shorter than the longest "
                                f"sequence ({T} steps)")
        T = int(total_length)
    order = None if sequence.sorted_indices is None else \
        _int_array(sequence.sorted_indices, "sorted_indices", op)
    out = _packed_to_padded(as_tensor(sequence.data, op=op), bs, order, T, padding_value)
    lengths = np.count_nonzero(np.arange(bs[0])[None, :] < bs[:, None], axis=0)
    if order is not None:
        lengths = lengths[_int_array(sequence.unsorted_indices, "unsorted_indices", op)]
    return (out.swapaxes(0, 1) if batch_first else out), _tensor_of(lengths)


def pack_sequence(sequences: Sequence[Any], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) tensors (``pad_sequence`` then ``pack_padded_sequence``)."""
    lengths = [as_tensor(s, op="pack_sequence").shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of (L_i, *) tensors of a `PackedSequence`, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


__all__ = ["PackedSequence", "pad_sequence", "unpad_sequence", "pack_padded_sequence",
           "pad_packed_sequence", "pack_sequence", "unpack_sequence", "invert_permutation"]
