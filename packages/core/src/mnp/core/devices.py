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

from .errors import ArgumentError


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


CPU = device("cpu")

__all__ = ["device", "check_device", "CPU"]
