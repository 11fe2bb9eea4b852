"""`Module`: the base class of layers, losses and models, with PyTorch's semantics.

Assigning a `Parameter`, a `Module` or (after `register_buffer`) a buffer Tensor to an
attribute registers it, in assignment order; `state_dict` keys are the dotted attribute paths.

>>> import mnp.core as mnp
>>> from mnp import nn
>>> class Net(nn.Module):
...     def __init__(self, hidden=4):
...         super().__init__()
...         self.fc1 = nn.Linear(2, hidden)
...         self.fc2 = nn.Linear(hidden, 1)
...     def forward(self, x):
...         return self.fc2(self.fc1(x).tanh())
>>> net = Net()
>>> list(net.state_dict())
['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
>>> net.get_config()
{'hidden': 4}

Persistence contract (what `mnp.nn.serialization` relies on)
-------------------------------------------------------------
* Every Module records the arguments of its outermost constructor call (``__init_subclass__``
  wraps each subclass's ``__init__``; calls made through ``super().__init__`` inside it are not
  recorded). Defaults are filled in.
* ``module.get_config() -> dict`` returns those arguments, JSON-able: tuples become lists,
  numpy scalars Python numbers, Tensors and arrays nested lists. An argument that cannot be
  expressed in JSON (a Module, a function, ...) raises `ModuleError` naming the class and the
  argument, unless the class overrides `get_config`.
* ``Cls.from_config(config) -> Module`` builds a fresh (untrained) module of the same
  architecture; the default is ``cls(**config)`` (a ``*args`` parameter is passed positionally).
  Loading weights afterwards is `load_state_dict`'s job.
* Containers (``Cls.is_container`` is True: `Sequential`, `ModuleList`, `ModuleDict`) take
  their sub-modules as constructor arguments. Their ``get_config()`` holds only their own
  options (``{}`` for these three); a serializer records ``named_children()`` recursively and
  rebuilds with ``Cls.from_config(config, children)``, ``children`` being the ordered list of
  ``(name, module)`` pairs.
* A layer is saved under the name it is registered with in the ``layers`` registry
  (``mnp.core.lookup("layers", name)``); mnp.nn registers each layer under its class name
  (plus aliases such as ``Dense`` for `Linear`).
"""
from __future__ import annotations

import functools
import inspect
import itertools
from collections import OrderedDict
from typing import Any, Callable, Iterable, Iterator, NamedTuple

import numpy as np

from mnp.core import MnpError, ShapeError, Tensor
from mnp.core.autograd import _make

from .parameter import Parameter


class ModuleError(MnpError, TypeError):
    """Misuse of a Module: a wrong type assigned to a registered name, a bad name, a
    configuration that cannot be saved, a module without ``forward``."""


class StateDictError(MnpError, RuntimeError):
    """`Module.load_state_dict` with ``strict=True`` found missing or unexpected keys."""


class IncompatibleKeys(NamedTuple):
    missing_keys: list
    unexpected_keys: list


class RemovableHandle:
    """Returned by ``register_forward_hook``: ``handle.remove()`` takes the hook off."""
    _ids = itertools.count()

    def __init__(self, hooks: dict):
        self.hooks, self.id = hooks, next(RemovableHandle._ids)

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


# -- constructor-argument recording ----------------------------------------------------------
def _recording(init: Callable) -> Callable:
    sig = inspect.signature(init)

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        d = self.__dict__
        depth = d.get("_init_depth", 0)
        if depth == 0:
            try:
                bound = sig.bind(self, *args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{type(self).__name__}: {exc}") from None
            bound.apply_defaults()
            config = dict(bound.arguments)
            config.pop(next(iter(sig.parameters)), None)        # self
            d["_config"] = config
        d["_init_depth"] = depth + 1
        try:
            init(self, *args, **kwargs)
        finally:
            d["_init_depth"] = depth

    __init__._records_config = True
    return __init__


def _jsonable(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        return [_jsonable(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v, where) for k, v in value.items()}
    if isinstance(value, Tensor):
        return value.data.tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.dtype):
        return value.name
    raise ModuleError(f"{where}: a {type(value).__name__} cannot be stored in a JSON "
                      f"configuration; override get_config/from_config")


def _check_name(name: Any, what: str, owner: "Module") -> None:
    if not isinstance(name, str):
        raise ModuleError(f"{type(owner).__name__}: {what} name must be a string, got "
                          f"{type(name).__name__}")
    if not name or "." in name:
        raise ModuleError(f"{type(owner).__name__}: {what} name must be non-empty and contain "
                          f"no '.', got {name!r}")


class Module:
    """Base class of every layer and model: subclasses set attributes in ``__init__`` (after
    ``super().__init__()``) and define ``forward``; call the module to run it."""

    #: True for modules built from their children (see the persistence contract above)
    is_container = False
    training: bool

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_records_config", False):
            cls.__init__ = _recording(init)

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent"] = set()
        d["_modules"] = {}
        d["_forward_pre_hooks"] = {}
        d["_forward_hooks"] = {}
        d.setdefault("_config", {})

    # -- running ---------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise ModuleError(f"{type(self).__name__} defines no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks or self._forward_hooks:
            return self._call_hooked(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_hooked(self, args: tuple, kwargs: dict) -> Any:
        for hook in list(self._forward_pre_hooks.values()):
            new = hook(self, args)
            if new is not None:
                args = new if isinstance(new, tuple) else (new,)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            new = hook(self, args, out)
            if new is not None:
                out = new
        return out

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, args, output)`` runs after each forward; a non-None result replaces
        the output."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, args)`` runs before each forward; a non-None result replaces args."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    # -- registration ----------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise ModuleError(f"cannot assign parameter {name!r} before Module.__init__() call")
            self._unregister(name)
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise ModuleError(f"{type(self).__name__}: cannot assign a {type(value).__name__} "
                                  f"to parameter {name!r} (Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            modules = d.get("_modules")
            if modules is None:
                raise ModuleError(f"cannot assign module {name!r} before Module.__init__() call")
            self._unregister(name)
            modules[name] = value
        elif name in d.get("_modules", ()):
            if value is not None:
                raise ModuleError(f"{type(self).__name__}: cannot assign a {type(value).__name__} "
                                  f"to child module {name!r} (Module or None expected)")
            d["_modules"][name] = None
        elif name in d.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise ModuleError(f"{type(self).__name__}: cannot assign a {type(value).__name__} "
                                  f"to buffer {name!r} (Tensor or None expected)")
            d["_buffers"][name] = value
        d[name] = value

    def __delattr__(self, name: str) -> None:
        self._unregister(name)
        object.__delattr__(self, name)

    def _unregister(self, name: str) -> None:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            d.get(key, {}).pop(name, None)
        d.get("_non_persistent", set()).discard(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, a declared but absent parameter) under ``name``."""
        _check_name(name, "parameter", self)
        if param is not None and not isinstance(param, Parameter):
            raise ModuleError(f"{type(self).__name__}: cannot register a {type(param).__name__} "
                              f"as parameter {name!r} (Parameter or None expected)")
        self._unregister(name)
        self._parameters[name] = param
        self.__dict__[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: state that is not learnt (running statistics...). Persistent buffers
        are part of `state_dict`."""
        _check_name(name, "buffer", self)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise ModuleError(f"{type(self).__name__}: cannot register a {type(tensor).__name__} "
                              f"as buffer {name!r} (Tensor or None expected)")
        self._unregister(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)
        self.__dict__[name] = tensor

    def add_module(self, name: str, module: "Module | None") -> None:
        """Add a child module under ``name`` (as attribute assignment does)."""
        _check_name(name, "module", self)
        if module is not None and not isinstance(module, Module):
            raise ModuleError(f"{type(self).__name__}: {type(module).__name__} is not a Module")
        self._unregister(name)
        self._modules[name] = module
        self.__dict__[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> "Module":
        """The module at dotted path ``target`` (``""`` is this module)."""
        mod: Module = self
        for part in target.split(".") if target else ():
            child = mod._modules.get(part)
            if child is None:
                raise ModuleError(f"{type(mod).__name__} has no submodule {part!r} (in {target!r})")
            mod = child
        return mod

    # -- traversal -------------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """``(dotted name, module)`` for this module and every descendant, pre-order."""
        if memo is None:
            memo = set()
        stack = [(prefix, self)]          # iterative pre-order: no generator per level
        while stack:
            path, mod = stack.pop()
            if remove_duplicate:
                if id(mod) in memo:
                    continue
                memo.add(id(mod))
            yield path, mod
            children = [(f"{path}.{name}" if path else name, child)
                        for name, child in mod._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, key: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for mprefix, mod in mods:
            for name, t in mod.__dict__[key].items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield (f"{mprefix}.{name}" if mprefix else name), t

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)``; a parameter shared by several modules comes once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self, only_trainable: bool = False) -> int:
        """Number of scalar parameters (shared ones counted once)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not only_trainable)

    # -- modes and gradients ---------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (``mode=False``: evaluation) here and in every descendant."""
        if not isinstance(mode, bool):
            raise ModuleError(f"train: mode must be a bool, got {type(mode).__name__}")
        self.__dict__["training"] = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: Dropout is the identity, BatchNorm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter (``set_to_none=False``: fill them with 0)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.data[...] = 0

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call ``fn`` on every descendant, then on this module (as PyTorch does)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, *args: Any, dtype: Any = None, device: Any = None,
           non_blocking: bool = False) -> "Module":
        """Convert floating parameters and buffers to ``dtype`` in place (same objects), in
        `Tensor.to`'s spellings: ``to("cpu")``, ``to(device)``, ``to(dtype)``, ``to("cpu",
        dtype)``, ``to(tensor)``; the device is always the CPU (another raises)."""
        from mnp.core.devices import to_arguments
        dt, _ = to_arguments("Module.to", args, dtype, device)
        if dt is None:
            return self
        for t in itertools.chain(self.parameters(), self.buffers()):
            if t.data.dtype.kind == "f" and t.data.dtype != dt:
                t.data = t.data.astype(dt)
                if t.grad is not None:
                    t.grad = _make(t.grad.data.astype(dt), False, None)
        return self

    def float(self) -> "Module":
        return self.to("float32")

    def double(self) -> "Module":
        return self.to("float64")

    def half(self) -> "Module":
        return self.to("float16")

    # -- state -----------------------------------------------------------------------------
    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Parameters and persistent buffers by dotted name, each module's parameters then its
        buffers, then its children's, in registration order. Values share memory with the
        module (detached unless ``keep_vars``)."""
        out = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values (Tensors or arrays) into the parameters and buffers in place.

        Returns ``(missing_keys, unexpected_keys)``; with ``strict`` either being non-empty is
        a `StateDictError`. A shape mismatch is always a `ShapeError` naming the key and both
        shapes. Nothing is copied unless every check passes.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        pairs = []
        for key, dst in own.items():
            if key not in state_dict:
                continue
            src = state_dict[key]
            arr = src.data if isinstance(src, Tensor) else np.asarray(src)
            if arr.shape != dst.data.shape:
                raise ShapeError(f"load_state_dict: size mismatch for {key!r}: the state dict has "
                                 f"shape {arr.shape}, the {type(self).__name__} expects shape "
                                 f"{dst.data.shape}")
            pairs.append((dst, arr))
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append("missing key(s): " + ", ".join(map(repr, missing)))
            if unexpected:
                parts.append("unexpected key(s): " + ", ".join(map(repr, unexpected)))
            raise StateDictError(f"load_state_dict: error(s) loading the state dict of "
                                 f"{type(self).__name__}: " + "; ".join(parts))
        for dst, arr in pairs:
            np.copyto(dst.data, arr, casting="unsafe")
        return IncompatibleKeys(missing, unexpected)

    # -- configuration (persistence contract: see the module docstring) --------------------
    def get_config(self) -> dict:
        """The constructor arguments this module was built with, as a JSON-able dict."""
        return {k: _jsonable(v, f"{type(self).__name__}.get_config: argument {k!r}")
                for k, v in self.__dict__.get("_config", {}).items()}

    @classmethod
    def from_config(cls, config: dict, children: Iterable[tuple[str, "Module"]] | None = None
                    ) -> "Module":
        """A new module built from `get_config`'s output (containers also take ``children``)."""
        if children is not None and not cls.is_container:
            raise ModuleError(f"{cls.__name__}.from_config: only containers take children")
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
        known = {p.name for p in params}
        unknown = [k for k in config if k not in known]
        if unknown and not any(p.kind is p.VAR_KEYWORD for p in params):
            raise ModuleError(f"{cls.__name__}.from_config: unknown argument(s) {unknown}")
        args: list = []
        kwargs: dict = {}
        has_varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
        for p in params:
            if p.name not in config:
                continue
            value = config[p.name]
            if p.kind is p.VAR_POSITIONAL:
                args.extend(value)
            elif p.kind is p.VAR_KEYWORD:
                kwargs.update(value)
            elif p.kind is p.POSITIONAL_ONLY or (has_varargs and p.kind is p.POSITIONAL_OR_KEYWORD):
                args.append(value)
            else:
                kwargs[p.name] = value
        for k in unknown:
            kwargs[k] = config[k]
        return cls(*args, **kwargs)

    # -- display ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (layers override it)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = []
        for name, child in self._modules.items():
            text = repr(child).replace("\n", "\n  ")
            child_lines.append(f"({name}): {text}")
        lines = extra_lines + child_lines
        body = type(self).__name__ + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body += extra_lines[0]
            else:
                body += "\n  " + "\n  ".join(lines) + "\n"
        return body + ")"

    def summary(self, input_shape: Any, dtype: Any = None) -> str:
        """A table of every sub-module (name, type, output shape, parameter count) and the
        totals, found by running the model in eval mode on zeros of ``input_shape`` (batch
        dimension included; a list of shapes for several inputs). Modes are restored after.

        >>> from mnp import nn
        >>> print(nn.Sequential(nn.Linear(4, 3), nn.ReLU()).summary((2, 4)))  # doctest: +ELLIPSIS
        Sequential summary ...
        """
        from .summary import summarize
        return summarize(self, input_shape, dtype)
