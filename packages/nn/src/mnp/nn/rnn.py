"""Recurrent layers: `RNN`, `LSTM`, `GRU` and their cells (PyTorch's names, arguments, gate
order, parameter names and initialisation).

One layer and direction is one autograd node: the input-to-hidden projection of every time
step is a single ``linear``; the time loop (``lstm_forward``/``gru_forward``/``rnn_tanh_forward``
/``rnn_relu_forward`` kernels) computes each step's gates with one matmul of the hidden state
and saves the activations; the matching ``*_backward`` kernel walks the sequence back once and
forms the recurrent weight gradients with one matmul over all steps.

Variable-length batches (a `PackedSequence`) run on a batch sorted by decreasing length, so at
step ``t`` only the first ``batch_sizes[t]`` rows are live: finished rows keep their state,
outputs past a sequence's end are zero and get no gradient.

>>> import mnp.core as mnp
>>> from mnp import nn
>>> lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True)
>>> out, (h, c) = lstm(mnp.randn(4, 5, 8))
>>> out.shape, h.shape, c.shape
((4, 5, 16), (2, 4, 16), (2, 4, 16))
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

import mnp.core as mnp
from mnp.core import Function, ShapeError, Tensor, as_tensor, get_default_dtype
from mnp.core.dispatch import kernel

from . import init
from ._util import ArgumentError, check_dtypes
from .module import Module
from .dropout import dropout as _dropout
from .linear import linear, same_float
from .parameter import Parameter
from .utils.rnn import PackedSequence, _packed_to_padded, _padded_to_packed

GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


# -- numpy reference kernels -------------------------------------------------------------------
def _sigmoid_(a: np.ndarray) -> np.ndarray:
    """Logistic function in place, ``1 / (1 + exp(-a))`` (callers ignore exp overflow: the
    limit 0 is then exact). numpy's exp is much faster than its tanh."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    return np.reciprocal(a, out=a)


def _tanh(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``tanh(a)`` into ``out`` as ``2 / (1 + exp(-2a)) - 1`` (exp overflow ignored as above)."""
    np.multiply(a, -2, out=out)
    np.exp(out, out=out)
    out += 1
    np.divide(2, out, out=out)
    out -= 1
    return out


def _steps(T: int, reverse: bool, backward: bool) -> range:
    return range(T - 1, -1, -1) if reverse != backward else range(T)


def _live(batch_sizes: np.ndarray | None, t: int, B: int) -> int:
    return B if batch_sizes is None else int(batch_sizes[t])


def lstm_forward(xp, h0, c0, w_hh, b_hh, w_hr, batch_sizes, reverse):
    """LSTM over ``xp`` (T, B, 4H) = x @ W_ih.T + b_ih (gates i, f, g, o) from states ``h0``
    (B, P) and ``c0`` (B, H); ``w_hr`` (P, H) projects h when given. Returns
    ``(y (T, B, P), h_n, c_n, saved)``; ``saved`` is what `lstm_backward` takes.

    Every gate goes through one ``exp`` per step: the pre-activations are scaled by -1 (and
    -2 for g) up front, so ``1 / (1 + exp(.))`` gives sigmoid for i, f, o and
    ``(tanh(g) + 1) / 2`` for g."""
    T, B, G = xp.shape
    H, P = G // 4, h0.shape[1]
    alloc = np.empty if batch_sizes is None else np.zeros
    dt = xp.dtype
    y, gates = alloc((T, B, P), dt), alloc((T, B, G), dt)
    hprev, cprev, tanhc = alloc((T, B, P), dt), alloc((T, B, H), dt), alloc((T, B, H), dt)
    hraw = alloc((T, B, H), dt) if w_hr is not None else None
    scale = np.full(G, -1.0, dt)
    scale[2 * H:3 * H] = -2.0
    xs = xp * scale if b_hh is None else (xp + b_hh) * scale
    w_s = w_hh.T * scale
    h, c = h0.copy(), c0.copy()
    with np.errstate(over="ignore"):          # exp(large) = inf gives the limit 0 exactly
        for t in _steps(T, reverse, False):
            n = _live(batch_sizes, t, B)
            hp, cp = h[:n], c[:n]
            hprev[t, :n], cprev[t, :n] = hp, cp
            a = gates[t, :n]
            np.dot(hp, w_s, out=a)
            a += xs[t, :n]
            np.exp(a, out=a)
            a += 1
            np.reciprocal(a, out=a)
            g = a[:, 2 * H:3 * H]
            g *= 2
            g -= 1
            c_new = a[:, H:2 * H] * cp
            c_new += a[:, :H] * g
            tc = _tanh(c_new, tanhc[t, :n])
            h_new = a[:, 3 * H:] * tc
            if w_hr is not None:
                hraw[t, :n] = h_new
                h_new = h_new @ w_hr.T
            y[t, :n] = h_new
            h[:n], c[:n] = h_new, c_new
    return y, h, c, (gates, hprev, cprev, tanhc, hraw)


def lstm_backward(gy, gh, gc, w_hh, w_hr, saved, batch_sizes, reverse):
    """Gradients of `lstm_forward` from those of ``y``, ``h_n`` and ``c_n``:
    ``(gxp, gh0, gc0, gw_hh, gb_hh, gw_hr)``."""
    gates, hprev, cprev, tanhc, hraw = saved
    T, B, G = gates.shape
    H, P = G // 4, hprev.shape[2]
    alloc = np.empty if batch_sizes is None else np.zeros
    gxp = alloc((T, B, G), gates.dtype)
    dhy = alloc((T, B, P), gates.dtype) if w_hr is not None else None
    dh, dc = gh.copy(), gc.copy()
    for t in _steps(T, reverse, True):
        n = _live(batch_sizes, t, B)
        dhn = dh[:n] + gy[t, :n]
        if w_hr is not None:
            dhy[t, :n] = dhn
            dhn = dhn @ w_hr
        a = gates[t, :n]
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        tc = tanhc[t, :n]
        dct = dhn * o
        dct *= 1 - tc * tc
        dct += dc[:n]
        da = gxp[t, :n]
        np.multiply(dhn * tc, o * (1 - o), out=da[:, 3 * H:])
        np.multiply(dct * g, i * (1 - i), out=da[:, :H])
        np.multiply(dct * cprev[t, :n], f * (1 - f), out=da[:, H:2 * H])
        np.multiply(dct * i, 1 - g * g, out=da[:, 2 * H:3 * H])
        dc[:n] = dct * f
        dh[:n] = da @ w_hh
    gw_hh = gxp.reshape(-1, G).T @ hprev.reshape(-1, P)
    gb_hh = gxp.sum(axis=(0, 1))
    gw_hr = None if w_hr is None else dhy.reshape(-1, P).T @ hraw.reshape(-1, H)
    return gxp, dh, dc, gw_hh, gb_hh, gw_hr


def gru_forward(xp, h0, w_hh, b_hh, batch_sizes, reverse):
    """GRU over ``xp`` (T, B, 3H) (gates r, z, n) from ``h0`` (B, H):
    ``n = tanh(x_n + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.
    Returns ``(y (T, B, H), h_n, saved)``."""
    T, B, G = xp.shape
    H = G // 3
    alloc = np.empty if batch_sizes is None else np.zeros
    dt = xp.dtype
    y, gates = alloc((T, B, H), dt), alloc((T, B, G), dt)
    hprev, hhn = alloc((T, B, H), dt), alloc((T, B, H), dt)
    h = h0.copy()
    w_t = w_hh.T
    with np.errstate(over="ignore"):
        for t in _steps(T, reverse, False):
            n = _live(batch_sizes, t, B)
            hp = h[:n]
            hprev[t, :n] = hp
            gh = hp @ w_t
            if b_hh is not None:
                gh += b_hh
            x, a = xp[t, :n], gates[t, :n]
            np.add(x[:, :2 * H], gh[:, :2 * H], out=a[:, :2 * H])
            _sigmoid_(a[:, :2 * H])
            hhn[t, :n] = gh[:, 2 * H:]
            cand = a[:, 2 * H:]
            np.multiply(a[:, :H], gh[:, 2 * H:], out=cand)
            cand += x[:, 2 * H:]
            _tanh(cand, cand)
            h_new = hp - cand
            h_new *= a[:, H:2 * H]
            h_new += cand
            y[t, :n] = h_new
            h[:n] = h_new
    return y, h, (gates, hprev, hhn)


def gru_backward(gy, gh, w_hh, saved, batch_sizes, reverse):
    """Gradients of `gru_forward`: ``(gxp, gh0, gw_hh, gb_hh)``."""
    gates, hprev, hhn = saved
    T, B, G = gates.shape
    H = G // 3
    alloc = np.empty if batch_sizes is None else np.zeros
    gxp, dhh = alloc((T, B, G), gates.dtype), alloc((T, B, G), gates.dtype)
    dh = gh.copy()
    for t in _steps(T, reverse, True):
        n = _live(batch_sizes, t, B)
        dhn = dh[:n] + gy[t, :n]
        a = gates[t, :n]
        r, z, cand = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
        da, dg = gxp[t, :n], dhh[t, :n]
        dan = da[:, 2 * H:]
        np.multiply(dhn * (1 - z), 1 - cand * cand, out=dan)
        np.multiply(dan * hhn[t, :n], r * (1 - r), out=da[:, :H])
        np.multiply(dhn * (hprev[t, :n] - cand), z * (1 - z), out=da[:, H:2 * H])
        dg[:, :2 * H] = da[:, :2 * H]
        np.multiply(dan, r, out=dg[:, 2 * H:])
        dhn *= z
        dhn += dg @ w_hh
        dh[:n] = dhn
    gw_hh = dhh.reshape(-1, G).T @ hprev.reshape(-1, H)
    return gxp, dh, gw_hh, dhh.sum(axis=(0, 1))


def _rnn_forward(relu: bool):
    def forward(xp, h0, w_hh, b_hh, batch_sizes, reverse):
        T, B, H = xp.shape
        y = (np.empty if batch_sizes is None else np.zeros)((T, B, H), xp.dtype)
        hprev = np.zeros((T, B, H), xp.dtype)
        h = h0.copy()
        w_t = w_hh.T
        xs = xp if b_hh is None else xp + b_hh
        with np.errstate(over="ignore"):
            for t in _steps(T, reverse, False):
                n = _live(batch_sizes, t, B)
                hp = h[:n]
                hprev[t, :n] = hp
                a = y[t, :n]
                np.dot(hp, w_t, out=a)
                a += xs[t, :n]
                if relu:
                    np.maximum(a, 0, out=a)
                else:
                    _tanh(a, a)
                h[:n] = a
        return y, h, (y, hprev)
    forward.__doc__ = (f"Elman RNN with {'relu' if relu else 'tanh'} over ``xp`` (T, B, H) from "
                       f"``h0`` (B, H): ``(y, h_n, saved)``.")
    return forward


def _rnn_backward(relu: bool):
    def backward(gy, gh, w_hh, saved, batch_sizes, reverse):
        y, hprev = saved
        T, B, H = y.shape
        gxp = np.zeros((T, B, H), y.dtype)
        dh = gh.copy()
        for t in _steps(T, reverse, True):
            n = _live(batch_sizes, t, B)
            da = gxp[t, :n]
            np.add(dh[:n], gy[t, :n], out=da)
            if relu:
                da *= y[t, :n] > 0
            else:
                da *= 1 - y[t, :n] * y[t, :n]
            dh[:n] = da @ w_hh
        gw_hh = gxp.reshape(-1, H).T @ hprev.reshape(-1, H)
        return gxp, dh, gw_hh, gxp.sum(axis=(0, 1))
    backward.__doc__ = "Gradients of the Elman RNN: ``(gxp, gh0, gw_hh, gb_hh)``."
    return backward


KERNELS = {"lstm_forward": lstm_forward, "lstm_backward": lstm_backward,
           "gru_forward": gru_forward, "gru_backward": gru_backward,
           "rnn_tanh_forward": _rnn_forward(False), "rnn_tanh_backward": _rnn_backward(False),
           "rnn_relu_forward": _rnn_forward(True), "rnn_relu_backward": _rnn_backward(True)}


# -- the autograd node: one layer and direction over the whole sequence -----------------------
class RecurrentLayer(Function):
    """Inputs ``xp, h0, [c0], w_hh, [b_hh], [w_hr]``; the output is one flat array holding
    ``y`` (T, B, P), ``h_n`` (B, P) and, for an LSTM, ``c_n`` (B, H)."""
    name = "rnn"
    #: what backward reads: the weights and the kernel's saved activations
    saved = ("w_hh", "w_hr", "state")

    def forward(self, *arrays, mode="LSTM", has_bias=True, has_proj=False, batch_sizes=None,
                reverse=False):
        arrays = same_float(*arrays)
        lstm = mode == "LSTM"
        it = iter(arrays)
        xp, h0 = next(it), next(it)
        c0 = next(it) if lstm else None
        w_hh = next(it)
        b_hh = next(it) if has_bias else None
        w_hr = next(it) if has_proj else None
        self.mode, self.lstm, self.has_bias, self.has_proj = mode, lstm, has_bias, has_proj
        self.batch_sizes, self.reverse, self.w_hh, self.w_hr = batch_sizes, reverse, w_hh, w_hr
        name = mode.lower()
        if lstm:
            y, h, c, self.state = kernel(f"{name}_forward", xp.dtype)(
                xp, h0, c0, w_hh, b_hh, w_hr, batch_sizes, reverse)
            self.shapes = (y.shape, h.shape, c.shape)
            return np.concatenate((y.ravel(), h.ravel(), c.ravel()))
        y, h, self.state = kernel(f"{name}_forward", xp.dtype)(xp, h0, w_hh, b_hh, batch_sizes,
                                                               reverse)
        self.shapes = (y.shape, h.shape)
        return np.concatenate((y.ravel(), h.ravel()))

    def backward(self, g):
        (ys, hs, *cs) = self.shapes
        ny, nh = math.prod(ys), math.prod(hs)
        gy, gh = g[:ny].reshape(ys), g[ny:ny + nh].reshape(hs)
        name = self.mode.lower()
        if self.lstm:
            gc = g[ny + nh:].reshape(cs[0])
            gxp, gh0, gc0, gw, gb, gwr = kernel(f"{name}_backward", g.dtype)(
                gy, gh, gc, self.w_hh, self.w_hr, self.state, self.batch_sizes, self.reverse)
            out = [gxp, gh0, gc0, gw]
        else:
            gxp, gh0, gw, gb = kernel(f"{name}_backward", g.dtype)(
                gy, gh, self.w_hh, self.state, self.batch_sizes, self.reverse)
            out = [gxp, gh0, gw]
            gwr = None
        if self.has_bias:
            out.append(gb)
        if self.has_proj:
            out.append(gwr)
        return tuple(out)


def _run(mode: str, xp: Tensor, h0: Tensor, c0: Tensor | None, w_hh: Tensor, b_hh: Tensor | None,
         w_hr: Tensor | None, batch_sizes: np.ndarray | None, reverse: bool
         ) -> tuple[Tensor, Tensor, Tensor | None]:
    """One layer and direction: ``(y, h_n, c_n)`` (``c_n`` None but for an LSTM)."""
    inputs = [xp, h0] + ([c0] if c0 is not None else []) + [w_hh]
    inputs += [b_hh] if b_hh is not None else []
    inputs += [w_hr] if w_hr is not None else []
    flat = RecurrentLayer.apply(*inputs, mode=mode, has_bias=b_hh is not None,
                                has_proj=w_hr is not None, batch_sizes=batch_sizes,
                                reverse=reverse)
    T, B = xp.shape[0], xp.shape[1]
    P = h0.shape[-1]
    ny, nh = T * B * P, B * P
    y = flat[:ny].reshape(T, B, P)
    h = flat[ny:ny + nh].reshape(B, P)
    c = flat[ny + nh:].reshape(c0.shape) if c0 is not None else None
    return y, h, c


def _check_hidden(hx: Tensor, shape: tuple, what: str, op: str) -> None:
    if tuple(hx.shape) != shape:
        raise ShapeError(f"{op}: expected {what} of shape {shape}, got {tuple(hx.shape)}")


# -- layers -----------------------------------------------------------------------------------
class RNNBase(Module):
    """The multi-layer recurrent network behind `RNN`, `LSTM` and `GRU`."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0):
        super().__init__()
        op = type(self).__name__
        if mode not in GATES:
            raise ArgumentError(f"{op}: unknown mode {mode!r}; expected one of {list(GATES)}")
        for name, v, low in (("input_size", input_size, 0), ("hidden_size", hidden_size, 1),
                             ("num_layers", num_layers, 1), ("proj_size", proj_size, 0)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise ArgumentError(f"{op}: {name} must be an int >= {low}, got {v!r}")
        if isinstance(dropout, bool) or not 0.0 <= float(dropout) <= 1.0:
            raise ArgumentError(f"{op}: dropout must be a number in [0, 1], got {dropout!r}")
        if proj_size and mode != "LSTM":
            raise ArgumentError(f"{op}: proj_size is only supported by LSTM")
        if proj_size >= hidden_size and proj_size:
            raise ArgumentError(f"{op}: proj_size ({proj_size}) must be smaller than hidden_size "
                                f"({hidden_size})")
        self.mode = mode
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.bias = int(num_layers), bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self.proj_size = int(proj_size)
        dirs = 2 if self.bidirectional else 1
        out = self.proj_size or self.hidden_size
        G = GATES[mode] * self.hidden_size
        dt = get_default_dtype()
        self._flat_weights_names: list[str] = []
        for layer in range(self.num_layers):
            in_size = self.input_size if layer == 0 else out * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                shapes = [("weight_ih", (G, in_size)), ("weight_hh", (G, out))]
                if self.bias:
                    shapes += [("bias_ih", (G,)), ("bias_hh", (G,))]
                if self.proj_size:
                    shapes.append(("weight_hr", (self.proj_size, self.hidden_size)))
                for name, shape in shapes:
                    setattr(self, name + sfx, Parameter(np.empty(shape, dt)))
                    self._flat_weights_names.append(name + sfx)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias uniform in ``(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def flatten_parameters(self) -> None:
        """Nothing to do: the weights are used where they are (kept for PyTorch code)."""

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of each layer and direction, in ``_flat_weights_names`` order."""
        per = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i:i + per]] for i in range(0, len(names), per)]

    def _weights(self, layer: int, d: int) -> tuple:
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = self.__dict__.get
        return (get("weight_ih" + sfx), get("weight_hh" + sfx), get("bias_ih" + sfx),
                get("bias_hh" + sfx), get("weight_hr" + sfx))

    def forward(self, input: Any, hx: Any = None) -> tuple:
        op = type(self).__name__
        packed = isinstance(input, PackedSequence)
        dirs = 2 if self.bidirectional else 1
        out_size = self.proj_size or self.hidden_size
        unbatched = False
        batch_sizes = sorted_idx = unsorted_idx = None
        if packed:
            batch_sizes = np.asarray(input.batch_sizes.data if isinstance(input.batch_sizes, Tensor)
                                     else input.batch_sizes, dtype=np.int64)
            sorted_idx, unsorted_idx = input.sorted_indices, input.unsorted_indices
            x = _packed_to_padded(as_tensor(input.data, op=op), batch_sizes)
        else:
            x = as_tensor(input, op=op)
            if x.ndim not in (2, 3):
                raise ShapeError(f"{op}: expected a 3-d input (L, N, {self.input_size}) or "
                                 f"(N, L, {self.input_size}) with batch_first, or an unbatched "
                                 f"2-d one, got shape {x.shape}")
            unbatched = x.ndim == 2
            if unbatched:
                x = x.unsqueeze(1)
            elif self.batch_first:
                x = x.swapaxes(0, 1)
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{op}: input has {x.shape[-1]} features in its last dimension, "
                             f"expected input_size={self.input_size} (input shape {x.shape})")
        check_dtypes(op, x, self._weights(0, 0)[0])
        B = x.shape[1]
        h_shape = (self.num_layers * dirs, B, out_size)
        c_shape = (self.num_layers * dirs, B, self.hidden_size)
        lstm = self.mode == "LSTM"
        if hx is None:
            dt = self.weight_hh_l0.dtype
            h0 = Tensor(np.zeros(h_shape, dt))
            c0 = Tensor(np.zeros(c_shape, dt)) if lstm else None
        else:
            if lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise ArgumentError(f"{op}: hx must be a tuple (h_0, c_0), got "
                                        f"{type(hx).__name__}")
                h0, c0 = as_tensor(hx[0], op=op), as_tensor(hx[1], op=op)
            else:
                h0, c0 = as_tensor(hx, op=op), None
            if unbatched:
                if h0.ndim != 2 or (c0 is not None and c0.ndim != 2):
                    raise ShapeError(f"{op}: for an unbatched 2-d input, hx must be 2-d, got "
                                     f"shape {tuple(h0.shape)}")
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if c0 is not None else None
            _check_hidden(h0, h_shape, "hidden state h_0" if lstm else "hidden state", op)
            if c0 is not None:
                _check_hidden(c0, c_shape, "cell state c_0", op)
            if sorted_idx is not None:
                idx = _indices(sorted_idx)
                h0 = h0[:, idx]
                c0 = c0[:, idx] if c0 is not None else None
        hs, cs = [], []
        for layer in range(self.num_layers):
            ys = []
            for d in range(dirs):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, d)
                k = layer * dirs + d
                xp = linear(x, w_ih, b_ih)
                y, h, c = _run(self.mode, xp, h0[k], c0[k] if c0 is not None else None, w_hh,
                               b_hh, w_hr, batch_sizes, d == 1)
                ys.append(y)
                hs.append(h)
                cs.append(c)
            x = ys[0] if dirs == 1 else mnp.concat(ys, axis=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        h_n = mnp.stack(hs)
        c_n = mnp.stack(cs) if lstm else None
        if packed:
            if unsorted_idx is not None:
                idx = _indices(unsorted_idx)
                h_n = h_n[:, idx]
                c_n = c_n[:, idx] if c_n is not None else None
            output: Any = PackedSequence(_padded_to_packed(x, batch_sizes), input.batch_sizes,
                                         sorted_idx, unsorted_idx)
        elif unbatched:
            output = x.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        else:
            output = x.swapaxes(0, 1) if self.batch_first else x
        return (output, (h_n, c_n)) if lstm else (output, h_n)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


def _indices(idx: Any) -> np.ndarray:
    return np.asarray(idx.data if isinstance(idx, Tensor) else idx, dtype=np.int64)


class RNN(RNNBase):
    """Elman RNN: ``h_t = nonlinearity(x_t W_ih.T + b_ih + h_{t-1} W_hh.T + b_hh)`` with
    ``nonlinearity`` ``"tanh"`` or ``"relu"``; returns ``(output, h_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False):
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.__dict__["nonlinearity"] = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional)


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o; optional projection ``proj_size`` of h);
    returns ``(output, (h_n, c_n))``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size)


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n with ``n = tanh(W_in x + b_in + r * (W_hn h +
    b_hn))``); returns ``(output, h_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional)


# -- cells ------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """One time step of `RNN`/`LSTM`/`GRU`: parameters ``weight_ih``, ``weight_hh``,
    ``bias_ih``, ``bias_hh``; input (N, input_size) or unbatched (input_size,)."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__()
        op = type(self).__name__
        for name, v, low in (("input_size", input_size, 0), ("hidden_size", hidden_size, 1)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise ArgumentError(f"{op}: {name} must be an int >= {low}, got {v!r}")
        self.mode = mode
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bool(bias)
        G, dt = GATES[mode] * self.hidden_size, get_default_dtype()
        self.weight_ih = Parameter(np.empty((G, self.input_size), dt))
        self.weight_hh = Parameter(np.empty((G, self.hidden_size), dt))
        if self.bias:
            self.bias_ih = Parameter(np.empty(G, dt))
            self.bias_hh = Parameter(np.empty(G, dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def _step(self, input: Any, hx: Any) -> tuple[Tensor, Tensor | None, bool]:
        op = type(self).__name__
        x = as_tensor(input, op=op)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ShapeError(f"{op}: expected input (N, {self.input_size}) or "
                             f"({self.input_size},), got shape {x.shape}")
        unbatched = x.ndim == 1
        if unbatched:
            x = x.unsqueeze(0)
        B, H = x.shape[0], self.hidden_size
        lstm = self.mode == "LSTM"
        if hx is None:
            h0 = Tensor(np.zeros((B, H), self.weight_hh.dtype))
            c0 = Tensor(np.zeros((B, H), self.weight_hh.dtype)) if lstm else None
        else:
            if lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise ArgumentError(f"{op}: hx must be a tuple (h_0, c_0)")
                h0, c0 = as_tensor(hx[0], op=op), as_tensor(hx[1], op=op)
            else:
                h0, c0 = as_tensor(hx, op=op), None
            if unbatched:
                h0 = h0.unsqueeze(0)
                c0 = c0.unsqueeze(0) if c0 is not None else None
            _check_hidden(h0, (B, H), "hidden state h", op)
            if c0 is not None:
                _check_hidden(c0, (B, H), "cell state c", op)
        check_dtypes(op, x, self.weight_ih)
        xp = linear(x, self.weight_ih, self.bias_ih).unsqueeze(0)
        _, h, c = _run(self.mode, xp, h0, c0, self.weight_hh, self.bias_hh, None, None, False)
        if unbatched:
            h = h.squeeze(0)
            c = c.squeeze(0) if c is not None else None
        return h, c, unbatched

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        return s + ("" if self.bias else ", bias=False")


class RNNCell(RNNCellBase):
    """``h' = nonlinearity(x W_ih.T + b_ih + h W_hh.T + b_hh)``; returns ``h'``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                                f"{nonlinearity!r}")
        self.__dict__["nonlinearity"] = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, bias)

    def forward(self, input: Any, hx: Any = None) -> Tensor:
        return self._step(input, hx)[0]

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (", nonlinearity=relu" if self.nonlinearity == "relu" else "")


class LSTMCell(RNNCellBase):
    """One LSTM step; ``hx`` is ``(h, c)``; returns ``(h', c')``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__("LSTM", input_size, hidden_size, bias)

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Tensor]:
        h, c, _ = self._step(input, hx)
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step; returns ``h'``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__("GRU", input_size, hidden_size, bias)

    def forward(self, input: Any, hx: Any = None) -> Tensor:
        return self._step(input, hx)[0]


__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
           "KERNELS"]
