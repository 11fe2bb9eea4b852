"""Fused updates: one kernel call per parameter group over flat buffers.

Updating a dozen small parameters one at a time costs a dozen rounds of Python and kernel
overhead; concatenating them makes it one. On the first fused step the group's parameters
are moved into one contiguous buffer (each ``p.data`` becomes a view of it, same values),
and every state buffer (momentum, Adam moments, ...) lives in a flat buffer whose per-
parameter views are what ``optimizer.state[p]`` holds, so state dicts keep PyTorch's shape.

A group is fused only when every parameter has a gradient, all share one dtype updated in
place (no float16 master copies), and their states hold the same entries with equal scalar
values (e.g. the same ``step``). Anything that breaks the aliasing (``p.data`` rebound,
``load_state_dict``) is detected on the next step and the buffers are rebuilt from the
current values, so results never depend on whether a step was fused.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mnp.core import Tensor


class FlatGroup:
    """The flat parameter and state buffers of one parameter group."""

    def __init__(self, params: list[Tensor], states: list[dict[str, Any]],
                 flat_state: dict[str, Any], param: np.ndarray):
        self.params = params
        self.states = states            # the per-parameter dicts held in optimizer.state
        self.flat_state = flat_state    # flat Tensors and shared scalars, given to _update
        self.param = param
        self.offsets = np.cumsum([0] + [p.data.size for p in params]).tolist()

    @classmethod
    def build(cls, params: list[Tensor], state: dict, dtype: np.dtype) -> "FlatGroup | None":
        """Fuse ``params`` (moving their data into one buffer), or None if not eligible."""
        if any(p.data.dtype != dtype for p in params):
            return None
        states = [state[p] for p in params]
        keys = set(states[0])
        if any(set(s) != keys for s in states):
            return None
        flat_state: dict[str, Any] = {}
        for key in keys:
            values = [s[key] for s in states]
            if all(isinstance(v, Tensor) and v.data.shape == p.data.shape
                   and v.data.dtype == dtype for v, p in zip(values, params)):
                flat_state[key] = Tensor(np.concatenate([v.data.ravel() for v in values]))
            elif not any(isinstance(v, Tensor) for v in values) and \
                    all(v == values[0] for v in values):
                flat_state[key] = values[0]
            else:
                return None
        param = np.concatenate([p.data.ravel() for p in params])
        group = cls(params, states, flat_state, param)
        for i, p in enumerate(params):
            p.data = group._view(param, i)
        group._share_state()
        return group

    def _view(self, flat: np.ndarray, i: int) -> np.ndarray:
        lo, hi = self.offsets[i], self.offsets[i + 1]
        return flat[lo:hi].reshape(self.params[i].data.shape)

    def _share_state(self) -> None:
        """Point every per-parameter state entry at its part of the flat state."""
        for key, value in self.flat_state.items():
            if isinstance(value, Tensor):
                for i, st in enumerate(self.states):
                    view = st.get(key)
                    if not (isinstance(view, Tensor) and view.data.base is value.data):
                        st[key] = Tensor(self._view(value.data, i))
            else:
                for st in self.states:
                    st[key] = value

    def valid(self, params: list[Tensor], state: dict) -> bool:
        """Still aliased: same parameters, data still in the buffer, same state dicts."""
        if len(params) != len(self.params):
            return False
        for p, q, st in zip(params, self.params, self.states):
            if p is not q or p.data.base is not self.param or state.get(p) is not st \
                    or len(st) != len(self.flat_state):
                return False
        return True

    def gather_grads(self, dtype: np.dtype) -> np.ndarray:
        return np.concatenate([p.grad.data.ravel() for p in self.params]).astype(dtype, copy=False)
