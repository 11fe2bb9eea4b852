"""Named tuples returned by the ops that give several tensors, as ``torch.return_types``:
``v, i = x.max(dim=1)`` unpacks, and ``x.max(dim=1).indices`` names a field.

>>> import mnp.core as mnp
>>> r = mnp.tensor([[1.0, 3.0], [4.0, 2.0]]).max(dim=1)
>>> r.values.tolist(), r.indices.tolist()
([3.0, 4.0], [1, 0])
>>> type(r).__name__, r._fields
('max', ('values', 'indices'))
"""
from __future__ import annotations

from collections import namedtuple


def _repr(self) -> str:
    body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
    return f"mnp.core.return_types.{type(self).__name__}(\n{body})"


def _named(name: str, fields: tuple[str, ...]) -> type:
    cls = type(name, (namedtuple(name, fields),), {"__slots__": (), "__repr__": _repr})
    cls.__module__ = __name__
    cls.__doc__ = f"The result of ``{name}``: ({', '.join(fields)})."
    return cls


_VI = ("values", "indices")
max = _named("max", _VI)  # noqa: A001
min = _named("min", _VI)  # noqa: A001
sort = _named("sort", _VI)
topk = _named("topk", _VI)
kthvalue = _named("kthvalue", _VI)
median = _named("median", _VI)
mode = _named("mode", _VI)
cummax = _named("cummax", _VI)
cummin = _named("cummin", _VI)
aminmax = _named("aminmax", ("min", "max"))

__all__ = ["max", "min", "sort", "topk", "kthvalue", "median", "mode", "cummax", "cummin",
           "aminmax"]
