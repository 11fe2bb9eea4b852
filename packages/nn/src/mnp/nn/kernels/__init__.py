"""The ``numpy`` reference kernels of mnp-nn (convolution, pooling, cross-entropy,
normalisation), registered for backend ``"numpy"`` by `mnp.nn.plugin`. Another backend
replaces any of them by registering a kernel of the same name; the names and signatures
are listed in docs/kernels.md."""
from __future__ import annotations

from . import conv, loss, norm, pool

KERNELS: dict = {}
for _mod in (conv, pool, loss, norm):
    KERNELS.update(_mod.KERNELS)
from ..rnn import KERNELS as _RNN_KERNELS  # noqa: E402
KERNELS.update(_RNN_KERNELS)

__all__ = ["KERNELS", "conv", "pool", "loss", "norm"]
