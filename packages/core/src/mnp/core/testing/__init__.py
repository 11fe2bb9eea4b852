"""Test helpers for mnp and its plugins: value assertions and the backend conformance suite."""
from __future__ import annotations

from typing import Any

import numpy as np


def to_numpy(value: Any) -> np.ndarray:
    """A float64 copy of an mnp Tensor, a torch tensor, or anything numpy takes."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):   # a torch or an mnp tensor
        value = value.detach().cpu()
        # torch's force=True converts a ZeroTensor (the gradient of a step function) too
        value = value.numpy(force=True) if hasattr(value, "is_conj") else value.numpy()
    elif hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    return np.asarray(value, dtype=np.float64)


def assert_close(actual: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-6,
                 what: str = "") -> None:
    """Assert equal shapes and values within ``atol + rtol * |expected|``."""
    a, e = to_numpy(actual), to_numpy(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != expected {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


#: float32 tolerances for comparing with PyTorch
F32 = {"rtol": 1e-4, "atol": 1e-5}


from .conformance import (ConformanceResult, assert_backend_conforms, format_results,  # noqa: E402
                          run_conformance, summary)
from .generators import GENERATORS  # noqa: E402
from .torch_parity import (assert_matches_torch, assert_parameter_grads_match,  # noqa: E402
                           copy_parameters)

__all__ = ["to_numpy", "assert_close", "F32", "run_conformance", "assert_backend_conforms",
           "ConformanceResult", "format_results", "summary", "GENERATORS",
           "assert_matches_torch", "copy_parameters", "assert_parameter_grads_match"]
