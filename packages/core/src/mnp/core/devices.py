"""`device`: where a tensor's data lives. mnp keeps every tensor in host memory, so the only
device is the CPU; compute backends (`mnp.core.backends()`) choose the kernels, not the device.

>>> import mnp.core as mnp
>>> mnp.zeros(2).device
device(type='cpu')
>>> mnp.device("cpu") == "cpu"
True
"""
from __future__ import annotations

from typing import Any

from . import dtypes as _dt
from .errors import ArgumentError

_DTYPE_NAMES = frozenset(d.name for d in _dt.SUPPORTED)   # ``x.to("float32")`` is a dtype


def _backend_names() -> str:
    from .dispatch import backends   # imported late: dispatch sits above the tensor layers
    return ", ".join(b["name"] for b in backends() if b["available"])


def check_device(spec: Any, op: str) -> None:
    """Raise an `ArgumentError` unless ``spec`` (a str or `device`) names the CPU."""
    if isinstance(spec, device):
        return
    if not isinstance(spec, str):
        raise ArgumentError(f"{op}: expected a device such as 'cpu', got "
                            f"{type(spec).__name__} {spec!r}")
    kind, _, index = spec.partition(":")
    if kind != "cpu" or (index and not index.isdigit()):
        raise ArgumentError(f"{op}: device {spec!r} is not available: mnp runs on the CPU "
                            f"(device 'cpu'); its compute backends are {_backend_names()} "
                            f"(see mnp.core.backends())")


class device:
    """A device, as ``torch.device``: ``device("cpu")``, ``device("cpu", 0)`` or
    ``device("cpu:0")``; it equals another cpu device and the string ``"cpu"``. Any other
    type raises an `ArgumentError` naming the compute backends."""
    __slots__ = ("type", "index")

    def __init__(self, type: "str | device", index: int | None = None):  # noqa: A002
        if isinstance(type, device):
            type = type.type  # noqa: A001
        check_device(type if index is None else f"{type}:{index}", "device")
        self.type, self.index = "cpu", None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return other.partition(":")[0] == "cpu"
        return isinstance(other, device)

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        return f"device(type='{self.type}')"

    def __str__(self) -> str:
        return self.type


_Device = device
CPU = device("cpu")


def to_arguments(op: str, args: tuple, dtype: Any = None, device: Any = None,
                 copy: bool = False) -> tuple[Any, bool]:
    """``(dtype or None, copy)`` from the arguments of ``Tensor.to`` and ``Module.to`` in
    PyTorch's spellings: ``("cpu")``, ``(device)``, ``(dtype)``, ``("cpu", dtype)``,
    ``(tensor)`` (its dtype), positional ``non_blocking``/``copy`` flags and keywords. The
    device is checked (`check_device`); it is always the CPU, so only the dtype is returned."""
    flags = [a for a in args if isinstance(a, bool)]   # positional non_blocking, copy
    args = args[:len(args) - len(flags)]
    if len(args) > 2 or len(flags) > 2 or any(isinstance(a, bool) for a in args):
        raise ArgumentError(f"{op}: expected (device, dtype, non_blocking, copy), got "
                            f"{len(args) + len(flags)} positional arguments")
    if len(flags) == 2:
        copy = copy or flags[1]
    for a in args:
        if isinstance(a, _Device) or (isinstance(a, str) and a not in _DTYPE_NAMES):
            if device is not None:
                raise ArgumentError(f"{op}: the device is given twice")
            device = a
        elif hasattr(a, "dtype") and hasattr(a, "device") and not isinstance(a, type):
            if dtype is not None:
                raise ArgumentError(f"{op}: the dtype is given twice")
            dtype, device = a.dtype, a.device
        else:
            if dtype is not None:
                raise ArgumentError(f"{op}: the dtype is given twice")
            dtype = a
    if device is not None:
        check_device(device, op)
    return (None if dtype is None else _dt.to_dtype(dtype, op)), copy

__all__ = ["device", "check_device", "to_arguments", "CPU"]
