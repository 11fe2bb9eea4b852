"""Per-thread scratch buffers for the temporaries of the nn kernels.

A training step allocates the same large temporaries (im2col columns, padded inputs) over and
over; fresh allocations of that size come from the operating system, so every step pays page
faults to touch them again. Kernels take their temporaries from here instead: one buffer per
``tag`` and thread, grown when a bigger array is asked for and reused otherwise.

An array from `scratch` is valid until the next `scratch` call with the same tag on the same
thread: a kernel must never return it (or a view of it), and must not hand it to code that asks
for the same tag.

>>> a = scratch("doc", (2, 3), "float32")
>>> a.shape, a.dtype.name
((2, 3), 'float32')
>>> scratch("doc", (3,), "float32").base is a.base     # the same memory, reused
True
"""
from __future__ import annotations

import threading

import numpy as np

#: Buffers larger than this are handed out but not kept (they would pin memory for good).
MAX_KEEP_BYTES = 64 << 20

_local = threading.local()


def scratch(tag: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised C-contiguous array of ``shape`` and ``dtype`` in this thread's buffer
    ``tag`` (valid until the next request for the same tag)."""
    dtype = np.dtype(dtype)
    nbytes = dtype.itemsize
    for d in shape:
        nbytes *= d
    buffers = _local.__dict__.setdefault("buffers", {})
    buf = buffers.get(tag)
    if buf is None or buf.nbytes < nbytes:
        buf = np.empty(max(nbytes, 64), np.uint8)
        if nbytes <= MAX_KEEP_BYTES:
            buffers[tag] = buf
    return buf[:nbytes].view(dtype).reshape(shape)


def clear() -> None:
    """Release this thread's scratch buffers."""
    _local.__dict__.pop("buffers", None)


def held_bytes() -> int:
    """Bytes held by this thread's scratch buffers."""
    return sum(b.nbytes for b in _local.__dict__.get("buffers", {}).values())
