"""The base of `Linear` and the convolutions: a ``weight`` and an optional ``bias``,
initialised as PyTorch initialises them."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from mnp.core import get_default_dtype

from mnp.core import Tensor

from .. import init
from .._util import as_tensor, check_dtypes
from ..module import Module
from ..parameter import Parameter


class _Weighted(Module):
    """``weight`` of shape (out, in, *kernel) and ``bias`` of shape (out,) or None."""

    def _add_parameters(self, weight_shape: tuple[int, ...], bias: bool) -> None:
        """Register ``weight`` and ``bias`` (or a None ``bias``) in the default dtype, then
        `reset_parameters`."""
        dt = get_default_dtype()
        self.weight = Parameter(np.empty(weight_shape, dt))
        if bias:
            self.bias = Parameter(np.empty(weight_shape[0], dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _input(self, input: Any) -> Tensor:
        """``input`` as a Tensor of the weight's dtype, or a DTypeError naming the layer."""
        x = as_tensor(input, type(self).__name__)
        check_dtypes(type(self).__name__, x, self.weight, self.bias)
        return x

    def reset_parameters(self) -> None:
        """kaiming_uniform_ with a=sqrt(5) (U(-1/sqrt(fan_in), 1/sqrt(fan_in))), the bias likewise."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)
