"""`Optimizer`: parameter groups, per-parameter state, float32 master weights, state dicts.

A subclass names its defaults, checks them in `_check`, and updates one parameter in
`_update` by calling a named kernel on numpy buffers. The base class owns everything else,
in PyTorch's shapes::

    opt = SGD([{"params": body}, {"params": head, "lr": 1e-3}], lr=1e-2, momentum=0.9)
    opt.param_groups[1]["lr"]          # 1e-3
    opt.state[p]["momentum_buffer"]    # a Tensor, after the first step
    sd = opt.state_dict()              # {"state": {0: {...}}, "param_groups": [{..., "params": [0, 1]}]}

Float16 parameters are updated through a float32 master copy kept in the state
(``"master_param"``): the gradient is cast to float32, the update runs on the master and the
result is rounded back into the float16 parameter, so small updates accumulate instead of
vanishing below float16's resolution. Buffers of float16 parameters are float32 too.
"""
from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any, Callable, Iterable

import numpy as np

from mnp.core import Tensor, enable_grad, float16, float32, no_grad
from mnp.core.autograd import bump_version
from mnp.core.errors import ShapeError

from ._flat import FlatGroup
from .errors import OptimizerError


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


#: marks a default every parameter group must set itself
required = _Required()


def compute_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype a parameter of ``dtype`` is updated in: float32 for float16, else its own."""
    return float32 if dtype == float16 else dtype


class Optimizer:
    """Base class of every optimizer.

    ``params``: an iterable of Tensors, or of dicts ``{"params": [...], **options}`` (one
    parameter group each; options missing from a group come from ``defaults``).
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict[str, Any]):
        self.defaults = dict(defaults)
        self._check(self.defaults, "")
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, (Tensor, dict)):
            raise OptimizerError(f"{self._name}: params must be an iterable of Tensors or of "
                                 f"dicts, got a single {type(params).__name__}; wrap it in a list")
        if isinstance(params, (set, frozenset)):
            raise OptimizerError(f"{self._name}: params must be an ordered collection (the "
                                 f"order names them in state dicts), got a set; use a list")
        groups = list(params)
        if not groups:
            raise OptimizerError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"

    # -- hyperparameter checks ------------------------------------------------------------
    def _check(self, options: dict[str, Any], where: str) -> None:
        """Raise `OptimizerError` for an option out of range; subclasses extend it."""
        lr = options.get("lr")
        if lr is not None and not isinstance(lr, _Required):
            self._require(lr >= 0, where, f"invalid learning rate lr={lr} (must be >= 0)")

    def _require(self, ok: bool, where: str, message: str) -> None:
        if not ok:
            raise OptimizerError(f"{self._name}: {where}{message}")

    def _check_nonnegative(self, options: dict[str, Any], where: str, *names: str) -> None:
        for name in names:
            value = options.get(name)
            if value is not None:
                self._require(value >= 0, where, f"invalid {name}={value} (must be >= 0)")

    # -- parameter groups -----------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group ``{"params": [...], **options}``; missing options come from the defaults."""
        if not isinstance(param_group, dict):
            raise OptimizerError(f"{self._name}: a parameter group must be a dict, "
                                 f"got {type(param_group).__name__}")
        where = f"param group {len(self.param_groups)}: "
        group = dict(param_group)
        if "params" not in group:
            raise OptimizerError(f"{self._name}: {where}has no 'params' entry")
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise OptimizerError(f"{self._name}: {where}params must be an ordered collection, "
                                 f"got a set; use a list")
        else:
            params = list(params)
        if not params:
            raise OptimizerError(f"{self._name}: {where}got an empty parameter list")
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise OptimizerError(f"{self._name}: {where}parameter {i} is a "
                                     f"{type(p).__name__}, not a Tensor")
            if not p.requires_grad:
                raise OptimizerError(f"{self._name}: {where}parameter {i} (shape {p.shape}) "
                                     f"does not require grad; create it with "
                                     f"requires_grad=True or leave it out")
            if not p.is_leaf:
                raise OptimizerError(f"{self._name}: {where}parameter {i} (shape {p.shape}) "
                                     f"is not a leaf tensor; optimize the leaf it comes from")
        if len({id(p) for p in params}) != len(params):
            raise OptimizerError(f"{self._name}: {where}lists a parameter more than once")
        group["params"] = params
        for name, default in self.defaults.items():
            if isinstance(default, _Required) and name not in group:
                raise OptimizerError(f"{self._name}: {where}must set {name!r}")
            group.setdefault(name, default)
        self._check(group, where)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        shared = [i for i, p in enumerate(params) if id(p) in seen]
        if shared:
            raise OptimizerError(f"{self._name}: {where}parameters {shared} already belong "
                                 f"to another parameter group; a parameter may be in one only")
        self.param_groups.append(group)

    # -- gradients and steps --------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (``set_to_none=False``: fill it with zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.data.fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` if given.

        ``closure`` re-evaluates the model and returns the loss (it runs with grad enabled).
        The update is in place: it raises each parameter's version, so a backward through a
        graph that saved a parameter before the step raises, as in PyTorch.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        op = f"{self._name}.step"
        with no_grad():
            for index, group in enumerate(self.param_groups):
                if self._step_fused(index, group):
                    # one buffer holds the group: raising its version raises every parameter's
                    bump_version(self._flat_groups[index].param, op)
                    continue
                for p in group["params"]:
                    if p.grad is not None:
                        self._step_param(p, group)
                        bump_version(p.data, op)
        return loss

    #: whether groups may be updated through flat buffers (see `mnp.optim._flat`)
    fused = True

    def _step_fused(self, index: int, group: dict[str, Any]) -> bool:
        """Update the whole group with one kernel call over flat buffers, if it qualifies."""
        params = group["params"]
        if not self.fused or len(params) < 2 or any(p.grad is None for p in params):
            return False
        dtype = params[0].data.dtype
        if compute_dtype(dtype) != dtype:
            return False
        flats = self.__dict__.setdefault("_flat_groups", {})
        flat = flats.get(index)
        if flat is None or not flat.valid(params, self.state):
            flat = flats[index] = FlatGroup.build(params, self.state, dtype)
            if flat is None:
                return False
        grad = flat.gather_grads(dtype)
        if grad.size != flat.param.size:
            raise ShapeError(f"{self._name}.step: gradients of group {index} have "
                             f"{grad.size} elements, its parameters {flat.param.size}")
        if group.get("maximize"):
            np.negative(grad, out=grad)
        self._update(flat.param, grad, flat.flat_state, group)
        flat._share_state()
        return True

    def _step_param(self, p: Tensor, group: dict[str, Any]) -> None:
        grad = p.grad.data
        if grad.shape != p.shape:
            raise ShapeError(f"{self._name}.step: gradient of shape {grad.shape} does not "
                             f"match its parameter of shape {p.shape}")
        state = self.state[p]
        dtype = compute_dtype(p.dtype)
        master = None
        if dtype != p.dtype:
            master = state.get("master_param")
            if master is None:
                master = state["master_param"] = Tensor(p.data.astype(dtype))
            param = master.data
        else:
            param = p.data
        if grad.dtype != dtype:
            grad = grad.astype(dtype)
        if group.get("maximize"):
            grad = np.negative(grad, out=np.empty_like(grad))
        self._update(param, grad, state, group)
        if master is not None:
            np.copyto(p.data, param, casting="same_kind")

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        """Update ``param`` in place from ``grad`` (both in the compute dtype)."""
        raise OptimizerError(f"{self._name} defines no update rule")

    @staticmethod
    def _buffer(state: dict[str, Any], name: str, like: np.ndarray,
                fill: float = 0.0) -> tuple[np.ndarray, bool]:
        """``state[name]``'s array, created as a Tensor filled with ``fill`` if missing.

        Returns ``(array, created)``.
        """
        buf = state.get(name)
        if buf is None:
            buf = state[name] = Tensor(np.full(like.shape, fill, dtype=like.dtype))
            return buf.data, True
        return buf.data, False

    # -- state dicts ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A snapshot in PyTorch's layout: ``{"state": {index: {...}}, "param_groups": [...]}``.

        Parameters are numbered in group order; buffers are copied, so later steps do not
        change the snapshot.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for p, entries in self.state.items():
            if id(p) in index and entries:
                state[index[id(p)]] = {k: _copy_value(v) for k, v in entries.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a `state_dict` taken from an optimizer with the same parameter layout.

        Groups must match in number and size, and saved buffers must have their
        parameter's shape. Options (lr, betas, ...) are taken from the state dict; options
        it lacks keep their current values.
        """
        op = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise OptimizerError(f"{op}: expected a dict with 'state' "
                                 f"and 'param_groups', got {type(state_dict).__name__}")
        saved_groups = state_dict["param_groups"]
        if not isinstance(saved_groups, (list, tuple)) or not all(
                isinstance(g, dict) and isinstance(g.get("params"), (list, tuple))
                for g in saved_groups):
            raise OptimizerError(f"{op}: 'param_groups' must be a list of dicts, each with a "
                                 f"'params' list, got {saved_groups!r:.120}")
        if len(saved_groups) != len(self.param_groups):
            raise OptimizerError(
                f"{op}: the state dict has {len(saved_groups)} "
                f"parameter group(s), the optimizer has {len(self.param_groups)}")
        saved_sizes = [len(g["params"]) for g in saved_groups]
        sizes = [len(g["params"]) for g in self.param_groups]
        if saved_sizes != sizes:
            raise OptimizerError(
                f"{op}: parameter group sizes {saved_sizes} in the "
                f"state dict do not match the optimizer's {sizes}")
        by_index: dict[int, Tensor] = {}
        for g, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            for i, p in zip(saved["params"], group["params"]):
                by_index[_param_index(i, op, f"param_groups[{g}] lists parameter")] = p
        saved_state = state_dict.get("state", {})
        if not isinstance(saved_state, dict):
            raise OptimizerError(f"{op}: 'state' must be a dict of parameter index to state, "
                                 f"got {type(saved_state).__name__}")
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, entries in saved_state.items():
            p = by_index.get(_param_index(key, op, "state key"))
            if p is None:
                raise OptimizerError(f"{op}: state for parameter "
                                     f"{key}, which no parameter group lists")
            if not isinstance(entries, dict):
                raise OptimizerError(f"{op}: the state of parameter {key} must be a dict, got "
                                     f"{type(entries).__name__}")
            new_state[p] = {k: self._load_value(k, v, p, key) for k, v in entries.items()}
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            restored = {k: v for k, v in group.items() if k != "params"}
            restored.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})
            if isinstance(restored.get("betas"), list):
                restored["betas"] = tuple(restored["betas"])
            restored["params"] = group["params"]
            new_groups.append(restored)
        self.state = new_state
        self.param_groups = new_groups

    def _load_value(self, name: str, value: Any, p: Tensor, key: Any) -> Any:
        if name == "step":
            return _step(value, f"{self._name}.load_state_dict", key)
        if isinstance(value, (Tensor, np.ndarray, np.generic)):
            arr = np.asarray(value.data if isinstance(value, Tensor) else value)
            if arr.ndim == 0 and p.ndim != 0:
                return arr.item()
            if arr.shape != p.shape:
                raise OptimizerError(
                    f"{self._name}.load_state_dict: state {name!r} of parameter {key} has "
                    f"shape {arr.shape} but the parameter has shape {p.shape}")
            dtype = compute_dtype(p.dtype) if arr.dtype.kind == "f" else arr.dtype
            return Tensor(np.array(arr, dtype=dtype, copy=True))
        return copy.deepcopy(value)


def _param_index(value: Any, op: str, what: str) -> int:
    """A parameter index from a state dict: an int (or, as JSON leaves it, a decimal string)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, str) and value.isascii() and value.isdecimal() and len(value) < 20:
        return int(value)
    raise OptimizerError(f"{op}: {what} {value!r:.60} is not an integer parameter index")


def _step(value: Any, op: str, key: Any) -> Any:
    """A saved step count: a non-negative integer (plain, numpy scalar, 0-d array or Tensor)."""
    raw = value.data if isinstance(value, Tensor) else value
    if isinstance(raw, np.ndarray) and raw.ndim == 0:
        raw = raw[()]
    if isinstance(raw, np.generic):
        raw = raw.item()
    if isinstance(raw, float) and raw.is_integer() and raw >= 0:
        raw = int(raw)
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise OptimizerError(f"{op}: state 'step' of parameter {key} must be a non-negative "
                             f"integer, got {value!r:.60}")
    return raw


def _copy_value(value: Any) -> Any:
    if isinstance(value, Tensor):
        return Tensor(value.data.copy())
    return copy.deepcopy(value)
