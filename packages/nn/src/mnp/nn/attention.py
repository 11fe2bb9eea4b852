"""Attention: `scaled_dot_product_attention` (an autograd Function on the ``attention_*``
kernels), `MultiheadAttention`, and the ``numpy`` reference kernels.

Kernels (nothing of size L x S is kept between forward and backward):

``attention_forward(q, k, v, mask, is_causal, scale, drop) -> (out, lse)``: q (*batch, L, E),
k (*batch, S, E), v (*batch, S, Ev) with one or two batch dimensions (B their size, in C
order), any strides; ``mask`` None or an additive float array broadcastable to (B, L, S);
``is_causal`` keeps key j for query i when j <= i; ``drop`` None or a (B, L, S) dropout
multiplier (0 or 1 / (1 - p)) applied to the attention weights. out (*batch, L, Ev), lse
(*batch, L) the log-sum-exp of each row's scores (``-inf`` for a row with every key masked,
whose output is 0).
``attention_backward(g, q, k, v, out, lse, mask, is_causal, scale, drop) -> (dq, dk, dv)``
recomputes the weights from ``lse``.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

import mnp.core as mnp
from mnp.core import DTypeError, Function, ShapeError, Tensor, as_tensor, get_default_dtype
from mnp.core.dispatch import kernel

from . import init
from ._util import ArgumentError
from .linear import Linear, linear
from .module import Module
from .parameter import Parameter


# -- numpy reference kernels -------------------------------------------------------------------
def _scores(q: np.ndarray, k: np.ndarray, mask, is_causal: bool, scale: float) -> np.ndarray:
    s = np.matmul(q, k.swapaxes(-1, -2))
    s *= scale
    if mask is not None:
        s += mask
    if is_causal:
        s[:, ~np.tri(q.shape[1], k.shape[1], dtype=bool)] = -np.inf
    return s


def _wide(*arrays):
    """float16 arrays as float32 (float16 is storage only: the arithmetic runs in float32)."""
    return [a.astype(np.float32) if a is not None and a.dtype == np.float16 else a
            for a in arrays]


def _flat(*arrays):
    """(B, n, m) views (or copies) of (*batch, n, m) arrays."""
    return [a.reshape((math.prod(a.shape[:-2]),) + a.shape[-2:]) for a in arrays]


def attention_forward(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask, is_causal: bool,
                      scale: float, drop=None) -> tuple[np.ndarray, np.ndarray]:
    """Softmax attention -> ``(out, lse)``; see the module docstring. float16 inputs are
    computed in float32 (out float16, lse float32)."""
    if q.ndim != 3:
        out, lse = attention_forward(*_flat(q, k, v), mask, is_causal, scale, drop)
        return out.reshape(q.shape[:-1] + v.shape[-1:]), lse.reshape(q.shape[:-1])
    if q.dtype == np.float16:
        out, lse = attention_forward(*_wide(q, k, v, mask), is_causal, scale, *_wide(drop))
        return out.astype(np.float16), lse
    s = _scores(q, k, mask, is_causal, scale)
    m = s.max(axis=-1, keepdims=True)
    m[~np.isfinite(m)] = 0
    p = np.exp(s - m, out=s)
    total = p.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        lse = (np.log(total) + m)[..., 0]
        p /= np.where(total > 0, total, 1)
    if drop is not None:
        p *= drop
    return np.matmul(p, v), lse.astype(q.dtype, copy=False)


def attention_backward(g: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray,
                       out: np.ndarray, lse: np.ndarray, mask, is_causal: bool, scale: float,
                       drop=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dq, dk, dv)`` of `attention_forward`, the weights recomputed from ``lse``."""
    if q.ndim != 3:
        flat_lse = lse.reshape(math.prod(lse.shape[:-1]), lse.shape[-1])
        grads = attention_backward(*_flat(g, q, k, v, out), flat_lse, mask, is_causal, scale,
                                   drop)
        return tuple(d.reshape(a.shape) for d, a in zip(grads, (q, k, v)))
    if q.dtype == np.float16:
        grads = attention_backward(*_wide(g, q, k, v, out), lse.astype(np.float32),
                                   *_wide(mask), is_causal, scale, *_wide(drop))
        return tuple(a.astype(np.float16) for a in grads)
    s = _scores(q, k, mask, is_causal, scale)
    live = np.isfinite(lse)[..., None]
    with np.errstate(invalid="ignore"):
        p = np.where(live, np.exp(s - np.where(live, lse[..., None], 0)), 0).astype(q.dtype)
    pd = p if drop is None else p * drop
    dv = np.matmul(pd.swapaxes(-1, -2), g)
    dp = np.matmul(g, v.swapaxes(-1, -2))
    if drop is not None:
        dp *= drop
    dp -= np.einsum("ble,ble->bl", g, out)[..., None]
    ds = np.multiply(p, dp, out=p)
    ds *= scale
    return np.matmul(ds, k), np.matmul(ds.swapaxes(-1, -2), q), dv


KERNELS = {"attention_forward": attention_forward, "attention_backward": attention_backward}


# -- the op --------------------------------------------------------------------------------
class ScaledDotProductAttention(Function):
    """Attention of q (..., L, E) over k (..., S, E), v (..., S, Ev), all with the same batch
    dimensions: one or two go to the kernels as they are, at their strides (the heads of a
    (B, L, 3, H, E) projection are not copied out), more are flattened; the additive mask and
    dropout multiplier come as (B, L, S) and are constants here."""
    name = "scaled_dot_product_attention"
    saved = ("arrays",)

    def forward(self, q, k, v, mask=None, is_causal=False, scale=1.0, drop=None):
        self.shapes = (q.shape, k.shape, v.shape)
        if not 3 <= q.ndim <= 4:
            q, k, v = _flat(q, k, v)
        out, lse = kernel("attention_forward", q.dtype)(q, k, v, mask, is_causal, scale, drop)
        self.arrays = (q, k, v, out, lse, mask, drop)
        self.flags = (is_causal, scale)
        return out.reshape(self.shapes[0][:-1] + out.shape[-1:])

    def backward(self, g):
        q, k, v, out, lse, mask, drop = self.arrays
        is_causal, scale = self.flags
        grads = kernel("attention_backward", g.dtype)(g.reshape(out.shape), q, k, v, out, lse,
                                                      mask, is_causal, scale, drop)
        return tuple(d.reshape(shape) for d, shape in zip(grads, self.shapes))


def _batch_shape(op: str, shapes: list[tuple[str, tuple[int, ...]]]) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*(s for _, s in shapes))
    except ValueError:
        text = ", ".join(f"{n} {s}" for n, s in shapes)
        raise ShapeError(f"{op}: the batch dimensions of {text} do not broadcast") from None


def _additive_mask(attn_mask: Any, dtype: np.dtype, op: str) -> np.ndarray:
    """A bool mask (True = take part) or a float mask as an additive float array."""
    m = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
    if m.dtype == np.bool_:
        out = np.zeros(m.shape, dtype)
        out[~m] = -np.inf
        return out
    if m.dtype.kind != "f":
        raise DTypeError(f"{op}: attn_mask must be bool or floating point, got {m.dtype}")
    return m.astype(dtype, copy=False)


def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False) -> Tensor:
    """``softmax(query @ key^T * scale + mask) @ value`` over shapes (..., L, E), (..., S, E),
    (..., S, Ev) -> (..., L, Ev), as PyTorch.

    ``attn_mask``: bool (True = takes part) or float (added to the scores), broadcastable to
    (..., L, S); ``is_causal``: query i sees keys j <= i (top-left aligned when L != S); with
    ``dropout_p`` > 0 the weights are dropped out (mnp's generator); ``scale`` defaults to
    ``1 / sqrt(E)``; ``enable_gqa`` repeats each key/value head (dimension -3) over its group of
    query heads. A row whose keys are all masked gives 0 (as PyTorch). A float ``attn_mask``
    that requires grad gets its gradient through the composed (unfused) form.

    >>> import mnp.core as mnp
    >>> from mnp.nn import functional as F
    >>> F.scaled_dot_product_attention(mnp.randn(2, 4, 5, 8), mnp.randn(2, 4, 6, 8),
    ...                                mnp.randn(2, 4, 6, 3), is_causal=True).shape
    (2, 4, 5, 3)
    """
    op = "scaled_dot_product_attention"
    q, k, v = (as_tensor(t, op=op) for t in (query, key, value))
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise ShapeError(f"{op}: query, key and value must be at least 2-d, got shapes "
                         f"{q.shape}, {k.shape}, {v.shape}")
    if not (q.dtype == k.dtype == v.dtype) or q.dtype.kind != "f":
        raise DTypeError(f"{op}: query, key and value must have one floating dtype, got "
                         f"{q.dtype}, {k.dtype}, {v.dtype}")
    L, E, S = q.shape[-2], q.shape[-1], k.shape[-2]
    if k.shape[-1] != E or v.shape[-2] != S:
        raise ShapeError(f"{op}: query {q.shape}, key {k.shape} and value {v.shape} do not fit "
                         f"(..., L, E), (..., S, E), (..., S, Ev)")
    if not 0.0 <= dropout_p <= 1.0:
        raise ArgumentError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise ArgumentError(f"{op}: give attn_mask or is_causal=True, not both")
    if enable_gqa and min(q.ndim, k.ndim, v.ndim) >= 3 and k.shape[-3] != q.shape[-3]:
        hq, hk = q.shape[-3], k.shape[-3]
        if hq % hk or v.shape[-3] != hk:
            raise ShapeError(f"{op}: enable_gqa needs query heads {hq} a multiple of key/value "
                             f"heads, got key {k.shape} and value {v.shape}")
        k, v = mnp.repeat(k, hq // hk, axis=-3), mnp.repeat(v, hq // hk, axis=-3)
    batch = _batch_shape(op, [("query", q.shape[:-2]), ("key", k.shape[:-2]),
                              ("value", v.shape[:-2])])
    mask = None
    if attn_mask is not None:
        mask = _additive_mask(attn_mask, q.dtype, op)
        try:
            mask = np.broadcast_to(mask, batch + (L, S))
        except ValueError:
            raise ShapeError(f"{op}: attn_mask of shape {mask.shape} does not broadcast to "
                             f"{batch + (L, S)} (batch, L, S)") from None
    sc = (1.0 / math.sqrt(E) if E else 1.0) if scale is None else float(scale)   # E=0: scores are 0
    if isinstance(attn_mask, Tensor) and attn_mask.requires_grad and mnp.is_grad_enabled():
        return _attention_with_mask_grad(q, k, v, attn_mask, dropout_p, sc, op)
    b = math.prod(batch)
    if not q.shape[:-2] == k.shape[:-2] == v.shape[:-2] == batch:
        q, k, v = (t if t.shape[:-2] == batch else t.broadcast_to(batch + t.shape[-2:])
                   for t in (q, k, v))
    if mask is not None:
        mask = mask.reshape(b, L, S)
    drop = None
    if dropout_p > 0.0:
        if dropout_p == 1.0:
            drop = np.zeros((b, L, S), q.dtype)
        else:
            keep = mnp.generator().random((b, L, S), dtype=np.float64 if q.dtype == np.float64
                                          else np.float32) >= dropout_p
            drop = np.multiply(keep, 1.0 / (1.0 - dropout_p), dtype=q.dtype)
    return ScaledDotProductAttention.apply(q, k, v, mask=mask, is_causal=bool(is_causal),
                                           scale=sc, drop=drop)


def _attention_with_mask_grad(q: Tensor, k: Tensor, v: Tensor, mask: Tensor, dropout_p: float,
                              scale: float, op: str) -> Tensor:
    """The composed form, for a float mask that wants its gradient: builds the (..., L, S)
    weights; a row with every key masked gives NaN here (softmax of -inf only)."""
    if mask.dtype != q.dtype:
        raise DTypeError(f"{op}: a float attn_mask that requires grad must have the dtype of "
                         f"query ({q.dtype}), got {mask.dtype}")
    weights = mnp.softmax(mnp.matmul(q, k.swapaxes(-1, -2)) * scale + mask, axis=-1)
    if dropout_p > 0.0:
        from .dropout import dropout
        weights = dropout(weights, dropout_p)
    return mnp.matmul(weights, v)


# -- MultiheadAttention --------------------------------------------------------------------
def _canonical_mask(mask: Any, name: str, dtype: np.dtype) -> np.ndarray | None:
    """PyTorch's MultiheadAttention masks: bool True = NOT allowed (-inf), float added."""
    if mask is None:
        return None
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype == np.bool_:
        out = np.zeros(m.shape, dtype)
        out[m] = -np.inf
        return out
    if m.dtype.kind != "f":
        raise DTypeError(f"MultiheadAttention: {name} must be bool or floating point, got "
                         f"{m.dtype}")
    return m.astype(dtype, copy=False)


class MultiheadAttention(Module):
    """Multi-head attention as PyTorch's ``nn.MultiheadAttention``: the same parameters
    (``in_proj_weight`` or ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` when kdim or
    vdim differ from embed_dim, ``in_proj_bias``, ``out_proj``, ``bias_k``, ``bias_v``), the same
    initialisation and masks (bool True = not allowed to attend), so a PyTorch state dict loads
    unchanged. ``forward`` returns ``(attn_output, attn_weights or None)``.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
    >>> out, w = mha(mnp.randn(3, 5, 8), mnp.randn(3, 6, 8), mnp.randn(3, 6, 8))
    >>> out.shape, w.shape
    ((3, 5, 8), (3, 5, 6))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False):
        super().__init__()
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        if self.embed_dim <= 0 or self.num_heads <= 0 or self.embed_dim % self.num_heads:
            raise ArgumentError(f"MultiheadAttention: embed_dim ({embed_dim}) must be a positive "
                                f"multiple of num_heads ({num_heads})")
        if not 0.0 <= dropout <= 1.0:
            raise ArgumentError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout}")
        self.kdim = int(kdim) if kdim is not None else self.embed_dim
        self.vdim = int(vdim) if vdim is not None else self.embed_dim
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        self.head_dim = self.embed_dim // self.num_heads
        self.add_zero_attn = bool(add_zero_attn)
        e, dt = self.embed_dim, get_default_dtype()
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * e, e), dt))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.empty((e, e), dt))
            self.k_proj_weight = Parameter(np.empty((e, self.kdim), dt))
            self.v_proj_weight = Parameter(np.empty((e, self.vdim), dt))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * e, dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(e, e, bias=bias)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, e), dt))
            self.bias_v = Parameter(np.empty((1, 1, e), dt))
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    @staticmethod
    def config_size(config: dict) -> int:
        """Elements the parameters take (what `nn.load` checks a file's config against)."""
        e = int(config["embed_dim"])
        k, v = (int(config.get(n) or e) for n in ("kdim", "vdim"))
        return e * (2 * e + k + v + 6)

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _project(self, x: Tensor, i: int, weight: Tensor | None) -> Tensor:
        """The i-th input projection (query, key, value) of x."""
        e = self.embed_dim
        w = self.in_proj_weight[i * e:(i + 1) * e] if weight is None else weight
        b = None if self.in_proj_bias is None else self.in_proj_bias[i * e:(i + 1) * e]
        return linear(x, w, b)

    def _in_projection(self, query: Tensor, key: Tensor, value: Tensor
                       ) -> tuple[Tensor, Tensor, Tensor]:
        if self._qkv_same_embed_dim and query is key and key is value:   # self-attention
            return linear(query, self.in_proj_weight, self.in_proj_bias).chunk(3, axis=-1)
        w = (None, None, None) if self._qkv_same_embed_dim else \
            (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return tuple(self._project(x, i, w[i]) for i, x in enumerate((query, key, value)))

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any = None,
                need_weights: bool = True, attn_mask: Any = None,
                average_attn_weights: bool = True, is_causal: bool = False
                ) -> tuple[Tensor, Tensor | None]:
        op = "MultiheadAttention"
        same = query is key and key is value      # self-attention: one input projection
        query, key, value = (as_tensor(t, op=op) for t in (query, key, value))
        unbatched = query.ndim == 2
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ShapeError(f"{op}: query, key and value must all be 3-d (batched) or 2-d "
                             f"(unbatched), got shapes {query.shape}, {key.shape}, {value.shape}")
        if unbatched:
            query, key, value = (t.unsqueeze(1) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = np.asarray(getattr(key_padding_mask, "data",
                                                      key_padding_mask))[None]
        elif self.batch_first:
            query, key, value = (t.swapaxes(0, 1) for t in (query, key, value))
        if same:
            key = value = query
        L, N, E = query.shape
        S = key.shape[0]
        if E != self.embed_dim or key.shape[2] != self.kdim or value.shape[2] != self.vdim or \
                key.shape[:2] != value.shape[:2] or key.shape[1] != N:
            raise ShapeError(f"{op}: query {query.shape}, key {key.shape}, value {value.shape} "
                             f"(as (L, N, E)) do not fit embed_dim={self.embed_dim}, kdim="
                             f"{self.kdim}, vdim={self.vdim}")
        dt = query.dtype
        mask = _canonical_mask(attn_mask, "attn_mask", dt)
        kpm = _canonical_mask(key_padding_mask, "key_padding_mask", dt)
        if is_causal and mask is None:
            raise ArgumentError(f"{op}: is_causal=True is a hint that attn_mask is the causal "
                                f"mask; give attn_mask too")
        H, hd = self.num_heads, self.head_dim
        if mask is not None:
            want = ((L, S), (N * H, L, S))
            if mask.shape not in want:
                raise ShapeError(f"{op}: attn_mask of shape {mask.shape} must be {want[0]} or "
                                 f"{want[1]} (L, S or N * num_heads, L, S)")
            if mask.ndim == 2:
                mask = mask[None]
        if kpm is not None and kpm.shape != (N, S):
            raise ShapeError(f"{op}: key_padding_mask of shape {kpm.shape} must be {(N, S)} "
                             f"(N, S)")
        q, k, v = self._in_projection(query, key, value)
        if self.bias_k is not None:
            k = mnp.concat([k, self.bias_k.broadcast_to((1, N, E))], axis=0)
            v = mnp.concat([v, self.bias_v.broadcast_to((1, N, E))], axis=0)
            mask = None if mask is None else np.pad(mask, ((0, 0), (0, 0), (0, 1)))
            kpm = None if kpm is None else np.pad(kpm, ((0, 0), (0, 1)))
        q = q.reshape(L, N * H, hd).swapaxes(0, 1)
        k = k.reshape(k.shape[0], N * H, hd).swapaxes(0, 1)
        v = v.reshape(v.shape[0], N * H, hd).swapaxes(0, 1)
        if self.add_zero_attn:
            k = mnp.concat([k, mnp.zeros((N * H, 1, hd), dtype=dt)], axis=1)
            v = mnp.concat([v, mnp.zeros((N * H, 1, hd), dtype=dt)], axis=1)
            mask = None if mask is None else np.pad(mask, ((0, 0), (0, 0), (0, 1)))
            kpm = None if kpm is None else np.pad(kpm, ((0, 0), (0, 1)))
        s = k.shape[1]
        if kpm is not None:
            kpm = np.broadcast_to(kpm[:, None, None, :], (N, H, 1, s)).reshape(N * H, 1, s)
            mask = kpm if mask is None else mask + kpm
        p = self.dropout if self.training else 0.0
        if need_weights:
            scores = (q * (1.0 / math.sqrt(hd))) @ k.swapaxes(1, 2)
            if mask is not None:
                scores = scores + mask
            weights = mnp.softmax(scores, axis=-1)
            if p > 0.0:
                from .dropout import dropout
                weights = dropout(weights, p)
            out = weights @ v
        else:
            if mask is not None:
                mask = mask.reshape(N, H, -1, s) if mask.shape[0] == N * H else mask
            out = scaled_dot_product_attention(q.reshape(N, H, L, hd), k.reshape(N, H, s, hd),
                                               v.reshape(N, H, s, hd), attn_mask=mask,
                                               dropout_p=p)
            out = out.reshape(N * H, L, hd)
        out = out.swapaxes(0, 1).reshape(L * N, E)
        out = self.out_proj(out).reshape(L, N, E)
        if self.batch_first and not unbatched:
            out = out.swapaxes(0, 1)
        elif unbatched:
            out = out.squeeze(1)
        if not need_weights:
            return out, None
        weights = weights.reshape(N, H, L, s)
        if average_attn_weights:
            weights = weights.mean(axis=1)
        if unbatched:
            weights = weights.squeeze(0)
        return out, weights

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
                f"batch_first={self.batch_first}")


__all__ = ["scaled_dot_product_attention", "MultiheadAttention", "ScaledDotProductAttention",
           "KERNELS", "attention_forward", "attention_backward"]
