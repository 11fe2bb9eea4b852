"""The mnp plugin of mnp-kernels-c: declares backend ``"c"`` with priority 10."""
from __future__ import annotations

from mnp.core import hookimpl

from . import DTYPES, available, kernel_functions


@hookimpl
def mnp_register_backends(register) -> None:
    fns = kernel_functions()
    register("c", fns, priority=10, available=available,
             dtypes={name: DTYPES for name in fns},
             description="compiled C kernels: blocked SIMD GEMM, im2col convolution, fused "
                         "losses, softmax, normalisation and optimizer steps (OpenMP)")
