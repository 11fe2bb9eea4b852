"""mnp.kernels_c: mnp's C kernel backend, compiled on this machine at install time.

Installing the package adds backend ``"c"`` (priority 10, above ``numpy``) through the
``mnp`` entry point; nothing else is needed to use it. Every kernel handles float32 and
float64; other dtypes go to the ``numpy`` reference, and so do the rare inputs a kernel does
not take: the C function returns ``NotImplemented`` (it *declines*) and mnp's dispatch runs
the reference, as declared at registration (``plugin.py``). Large products go to numpy's
BLAS by a size rule declared there too.

>>> import mnp.kernels_c as kc
>>> kc.available()
True
>>> "gemm" in kc.kernels()
True
>>> kc.set_num_threads(1)   # or MNP_NUM_THREADS=1 in the environment
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

try:
    from . import _ext
except ImportError as exc:  # not built (a source tree without the extension)
    _ext = None
    _IMPORT_ERROR: str | None = f"{type(exc).__name__}: {exc}"
    if not any(Path(__file__).parent.glob("_ext.*")):
        _IMPORT_ERROR = (f"the compiled module _ext is missing beside {__file__} (an editable "
                         f"install whose build did not run here, e.g. a reused environment): "
                         f"rebuild it with `python packages/kernels-c/hatch_build.py` or "
                         f"reinstall mnp-kernels-c")
else:
    _IMPORT_ERROR = None

from . import manifest

#: every kernel the backend provides (manifest.py), all for float32 and float64
KERNEL_NAMES: tuple[str, ...] = manifest.names()
DTYPES: tuple[str, ...] = ("float32", "float64")


def thresholds() -> dict[str, tuple[int, ...]]:
    """``{kernel: sizes}`` at which each kernel changes path (thread split, blocking, GEMM
    algorithm, BLAS hand-over), as the compiled kernels use them (README, "Thresholds")."""
    return dict(_ext.thresholds()) if _ext is not None else {}


# M*N*K from which dispatch hands `gemm`/`matmul` to numpy's BLAS on one thread: measured on
# the build machine (README, "GEMM"), OpenBLAS is 3-10% faster from n = 768 on
_BLAS_FROM = float(thresholds().get("gemm", (768 ** 3,))[-1])
GEMM_BLAS_FROM = {"float32": _BLAS_FROM, "float64": _BLAS_FROM}


def _changed() -> None:
    """Routing inputs changed (threads, deterministic mode): dispatch resolves again."""
    from mnp.core.dispatch import clear_cache

    clear_cache()


def available() -> bool:
    """True when the compiled extension imports on this machine."""
    return _ext is not None


def import_error() -> str | None:
    """Why the extension did not import, or None."""
    return _IMPORT_ERROR


def kernels() -> list[str]:
    """The names of the kernels this backend provides (empty when unavailable)."""
    return list(KERNEL_NAMES) if available() else []


def kernel_functions() -> dict[str, Callable]:
    """``{name: function}`` for every kernel (the C functions themselves)."""
    if _ext is None:
        return {}
    return {name: getattr(_ext, name) for name in KERNEL_NAMES}


def set_num_threads(n: int) -> None:
    """Threads large kernels may use (``mnp.core.set_num_threads`` sets this and BLAS)."""
    if _ext is not None:
        _ext.set_num_threads(int(n))
        _changed()


def set_deterministic(mode: bool) -> None:
    """``True``: large products are no longer handed to BLAS, whose results depend on its
    thread count (every C kernel already gives the same bits for any thread count)."""
    if _ext is not None:
        _ext.set_deterministic(bool(mode))
        _changed()


def get_num_threads() -> int:
    """Threads large kernels may use."""
    return _ext.get_num_threads() if _ext is not None else 1


def build_info() -> dict[str, Any]:
    """Compile-time facts of this build: SIMD level, OpenMP, thread count, GEMM crossover."""
    return _ext.build_info() if _ext is not None else {"error": _IMPORT_ERROR}


__all__ = ["available", "kernels", "kernel_functions", "set_num_threads", "get_num_threads",
           "set_deterministic", "thresholds",
           "build_info", "import_error", "KERNEL_NAMES", "DTYPES"]
