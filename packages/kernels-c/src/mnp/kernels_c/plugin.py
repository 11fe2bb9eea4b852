"""The mnp plugin of mnp-kernels-c: declares backend ``"c"`` with priority 10.

Every kernel of ``manifest.py`` is registered with its dtypes, signature kind and size rule.
Routing is declared here and resolved by ``mnp.core.dispatch``: every kernel may decline an
input (it returns ``NotImplemented``) and the ``numpy`` reference then runs it; ``gemm`` and
``matmul`` products of at least `GEMM_BLAS_FROM` multiply-adds go to numpy's BLAS while the
backend runs on one thread and deterministic mode is off.
"""
from __future__ import annotations

import math

from mnp.core import hookimpl
from mnp.core.plugins import SizeRule

from . import (GEMM_BLAS_FROM, _ext, available, get_num_threads, import_error, kernel_functions,
               manifest, set_deterministic, set_num_threads, thresholds)

DESCRIPTION = ("compiled C kernels: blocked SIMD GEMM, im2col convolution, fused losses, softmax, "
               "normalisation, activations (GELU, leaky ReLU) and optimizer steps (OpenMP)")


def blas_from(dtype: str) -> float:
    """Work from which products go to numpy's BLAS: `GEMM_BLAS_FROM` on one thread, never with
    more (the C GEMM runs threaded while BLAS keeps one) nor in the backend's deterministic mode."""
    if _ext is None or get_num_threads() != 1 or _ext.get_deterministic():
        return math.inf
    return GEMM_BLAS_FROM.get(dtype, math.inf)


def size_rules() -> dict[str, SizeRule]:
    """``{rule name: SizeRule}`` for the manifest's ``size_rule`` names: the work is M*N*K,
    computed by the C helpers ``gemm_work`` / ``matmul_work`` (one C call per op)."""
    if _ext is None:
        return {}
    return {"gemm": SizeRule(_ext.gemm_work, blas_from, to="numpy"),
            "matmul": SizeRule(_ext.matmul_work, blas_from, to="numpy")}


@hookimpl
def mnp_register_backends(register) -> None:
    fns = kernel_functions()
    entries = [k for k in manifest.KERNELS if k.name in fns]
    rules = size_rules()
    register("c", fns, priority=10, available=available,
             dtypes={k.name: k.dtypes for k in entries},
             description=DESCRIPTION if available() else f"not built: {import_error()}",
             thresholds=thresholds(), set_threads=set_num_threads, get_threads=get_num_threads,
             set_deterministic=set_deterministic, fallback="numpy",
             size_rules={k.name: rules[k.size_rule] for k in entries if k.size_rule},
             kinds={k.name: k.kind for k in entries if k.kind != "custom"})
