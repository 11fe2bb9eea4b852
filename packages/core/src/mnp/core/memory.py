"""Allocator tuning: keep large temporaries in the process instead of returning them.

A training step allocates and frees the same large arrays every iteration. glibc hands
blocks above its mmap threshold back to the kernel on ``free``, so the next step pays a
page fault per 4 KiB page to get them again (thousands per CNN step). Raising the mmap
and trim thresholds keeps those pages in the heap for reuse, the effect a caching
allocator has. It is applied once, on the first kernel dispatch; set
``MNP_MALLOC_TUNING=0`` to leave the allocator alone. Elsewhere than glibc it does nothing.

>>> from mnp.core import memory
>>> memory.tune_allocator() in (True, False)
True
"""
from __future__ import annotations

import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: the largest block still served from the heap (glibc's ceiling is 32 MiB on 64-bit)
MMAP_THRESHOLD = 32 * 1024 * 1024
#: how much free memory the heap keeps before giving it back
TRIM_THRESHOLD = 128 * 1024 * 1024

_state: dict[str, bool] = {}


def tune_allocator(mmap_threshold: int = MMAP_THRESHOLD,
                   trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Raise glibc's mmap/trim thresholds (once); True if the allocator was tuned."""
    if "applied" in _state:
        return _state["applied"]
    applied = False
    if os.environ.get("MNP_MALLOC_TUNING", "1").strip() not in ("0", "false", "no", "off") \
            and sys.platform.startswith("linux"):
        import ctypes            # here, not at import: only the first dispatch needs it
        import ctypes.util
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
            mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
            applied = bool(mallopt(M_MMAP_THRESHOLD, int(mmap_threshold))) and \
                bool(mallopt(M_TRIM_THRESHOLD, int(trim_threshold)))
        except (OSError, AttributeError):
            applied = False
    _state["applied"] = applied
    return applied
