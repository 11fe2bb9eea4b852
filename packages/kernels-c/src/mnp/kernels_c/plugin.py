"""The mnp plugin of mnp-kernels-c: declares backend ``"c"`` with priority 10."""
from __future__ import annotations

from mnp.core import hookimpl

from . import (DTYPES, available, get_num_threads, import_error, kernel_functions,
               set_deterministic, set_num_threads, thresholds)

DESCRIPTION = ("compiled C kernels: blocked SIMD GEMM, im2col convolution, fused losses, softmax, "
               "normalisation, activations (GELU, leaky ReLU) and optimizer steps (OpenMP)")


@hookimpl
def mnp_register_backends(register) -> None:
    fns = kernel_functions()
    register("c", fns, priority=10, available=available,
             dtypes={name: DTYPES for name in fns},
             description=DESCRIPTION if available() else f"not built: {import_error()}",
             thresholds=thresholds(), set_threads=set_num_threads, get_threads=get_num_threads,
             set_deterministic=set_deterministic)
