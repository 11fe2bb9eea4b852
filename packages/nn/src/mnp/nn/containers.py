"""Containers: `Sequential`, `ModuleList`, `ModuleDict` (built from their children; see the
persistence contract in `mnp.nn.module`)."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable, Iterator, Mapping, TypeVar

from ._util import IndexOutOfRangeError
from .module import Module, ModuleError

_P = TypeVar("_P", bound="_Positional")


class _Container(Module):
    """What the containers share: built from their children, no options of their own."""
    is_container = True

    def __len__(self) -> int:
        return len(self._modules)

    def get_config(self) -> dict:
        return {}


class _Positional(_Container):
    """Children named by their positions ``"0"``, ``"1"``, ...: int indexing, iteration,
    `append` and `extend`."""
    #: how an out-of-range index error names the container and its children
    _kind: str
    _children: str

    def _index(self, idx: int) -> str:
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexOutOfRangeError(f"{self._kind}: index {idx} is out of range for {n} "
                                       f"{self._children}")
        return list(self._modules)[idx % n]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(self._index(idx), module)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self: _P, module: Module) -> _P:
        """Add ``module`` at the end (named by its position)."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self: _P, modules: Iterable[Module]) -> _P:
        for m in modules:
            self.append(m)
        return self


class Sequential(_Positional):
    """Runs its layers in order. Indexable (ints and slices), ``len``, iteration, `append`.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    >>> model(mnp.zeros((3, 2))).shape, len(model), type(model[1]).__name__
    ((3, 1), 3, 'Tanh')
    """
    _kind, _children = "Sequential", "layers"

    def __init__(self, *layers: Any):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], Mapping):
            for name, layer in layers[0].items():
                self.add_module(name, layer)
        else:
            for i, layer in enumerate(layers):
                self.add_module(str(i), layer)

    def forward(self, input: Any) -> Any:
        for layer in self._modules.values():
            input = layer(input)
        return input

    def __getitem__(self, idx: int | slice) -> Module:
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._index(idx)]

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)[idx] if isinstance(idx, slice) else [self._index(idx)]
        for key in keys:
            delattr(self, key)

    @classmethod
    def from_config(cls, config: dict, children: Iterable[tuple[str, Module]] | None = None
                    ) -> "Sequential":
        if config:
            raise ModuleError(f"{cls.__name__}.from_config: unknown argument(s) {sorted(config)}")
        return cls(OrderedDict(children or ()))


class ModuleList(_Positional):
    """A list of sub-modules, registered under their positions ``"0"``, ``"1"``, ..."""
    _kind, _children = "ModuleList", "modules"

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[self._index(idx)]

    @classmethod
    def from_config(cls, config: dict, children: Iterable[tuple[str, Module]] | None = None
                    ) -> "ModuleList":
        return cls([m for _, m in children or ()])


class ModuleDict(_Container):
    """A dict of sub-modules by name, in insertion order."""

    def __init__(self, modules: Mapping[str, Module] | None = None):
        super().__init__()
        for name, m in (modules or {}).items():
            self.add_module(name, m)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        delattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    @classmethod
    def from_config(cls, config: dict, children: Iterable[tuple[str, Module]] | None = None
                    ) -> "ModuleDict":
        return cls(OrderedDict(children or ()))
