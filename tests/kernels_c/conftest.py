"""Fixtures of the C backend tests: the extension, the numpy reference kernels, tolerances.

Every test here runs once per installed backend (the `backend` fixture); the kernel tests
call the C kernels as dispatch serves them (each with its declared fallback to the ``numpy``
reference for the inputs it declines) and compare them with the ``numpy`` reference kernels.
"""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _every_backend(backend):
    """Every test here runs once per installed backend."""
    return backend


class Served:
    """``mnp.kernels_c._ext`` with each kernel as ``mnp.core.dispatch.route`` serves it from
    backend ``"c"`` (declines and size rules applied); other attributes are the module's."""

    def __init__(self, ext, names):
        self._ext, self._names = ext, set(names)

    def __getattr__(self, name):
        if name in self._names:
            from mnp.core.dispatch import route
            return route(name, np.dtype("float64"), backend="c")
        return getattr(self._ext, name)


@pytest.fixture
def kc():
    """The compiled kernels, served as dispatch does; skipped when the extension is absent."""
    mod = pytest.importorskip("mnp.kernels_c")
    if not mod.available():
        pytest.skip(f"mnp.kernels_c is not built: {mod.import_error()}")
    return Served(mod._ext, mod.KERNEL_NAMES)


@pytest.fixture
def ext():
    """The compiled module itself (``mnp.kernels_c._ext``): kernels that may decline."""
    mod = pytest.importorskip("mnp.kernels_c")
    if not mod.available():
        pytest.skip(f"mnp.kernels_c is not built: {mod.import_error()}")
    return mod._ext


@pytest.fixture
def ref():
    """``ref(name, dtype)``: the numpy reference kernel; skipped when no package provides it."""
    from mnp.core.dispatch import resolve
    from mnp.core.errors import BackendError

    def get(name: str, dtype="float32"):
        try:
            return resolve(name, np.dtype(dtype), backend="numpy")[0]
        except BackendError as exc:
            pytest.skip(str(exc))
    return get


TOL = {np.dtype("float32"): {"rtol": 2e-4, "atol": 2e-5},
       np.dtype("float64"): {"rtol": 1e-10, "atol": 1e-12}}


@pytest.fixture
def tol():
    """``tol(dtype)``: assert_close tolerances for that dtype."""
    return lambda dtype: TOL[np.dtype(dtype)]


def make_strided(a: np.ndarray) -> np.ndarray:
    """An array equal to ``a`` whose memory is not C-contiguous (every other element of a
    larger buffer, last axis reversed)."""
    if a.ndim == 0:
        return a
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    view = big[..., ::2]
    view[...] = a[..., ::-1]
    out = view[..., ::-1]
    assert not out.flags.c_contiguous or a.size <= 1
    np.testing.assert_array_equal(out, a)
    return out


@pytest.fixture
def strided():
    """``strided(a)``: a non-contiguous copy of ``a``."""
    return make_strided
