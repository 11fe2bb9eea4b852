"""Containers: `Sequential`, `ModuleList`, `ModuleDict` (built from their children; see the
persistence contract in `mnp.nn.module`)."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable, Iterator, Mapping

from ._util import IndexOutOfRangeError
from .module import Module, ModuleError


class Sequential(Module):
    """Runs its layers in order. Indexable (ints and slices), ``len``, iteration, `append`.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    >>> model(mnp.zeros((3, 2))).shape, len(model), type(model[1]).__name__
    ((3, 1), 3, 'Tanh')
    """
    is_container = True

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

    def _index(self, idx: int) -> str:
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexOutOfRangeError(f"Sequential: index {idx} is out of range for {n} layers")
        return list(self._modules)[idx % n]

    def __getitem__(self, idx: int | slice) -> Module:
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(self._index(idx), module)

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)[idx] if isinstance(idx, slice) else [self._index(idx)]
        for key in keys:
            delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> "Sequential":
        """Add ``module`` at the end (named by its position)."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> "Sequential":
        for m in modules:
            self.append(m)
        return self

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict, children: Iterable[tuple[str, Module]] | None = None
                    ) -> "Sequential":
        if config:
            raise ModuleError(f"{cls.__name__}.from_config: unknown argument(s) {sorted(config)}")
        return cls(OrderedDict(children or ()))


class ModuleList(Module):
    """A list of sub-modules, registered under their positions ``"0"``, ``"1"``, ..."""
    is_container = True

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    def _index(self, idx: int) -> str:
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexOutOfRangeError(f"ModuleList: index {idx} is out of range for {n} modules")
        return list(self._modules)[idx % n]

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[self._index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(self._index(idx), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> "ModuleList":
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        for m in modules:
            self.append(m)
        return self

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict, children: Iterable[tuple[str, Module]] | None = None
                    ) -> "ModuleList":
        return cls([m for _, m in children or ()])


class ModuleDict(Module):
    """A dict of sub-modules by name, in insertion order."""
    is_container = True

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

    def __len__(self) -> int:
        return len(self._modules)

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

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict, children: Iterable[tuple[str, Module]] | None = None
                    ) -> "ModuleDict":
        return cls(OrderedDict(children or ()))
