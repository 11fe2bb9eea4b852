"""`Linear` (alias `Dense`) and `Identity`."""
from __future__ import annotations

from typing import Any

from mnp.core import ShapeError, Tensor

from ..module import Module
from ..ops.linear import Linear as _LinearOp
from ._weighted import _Weighted


class Linear(_Weighted):
    """``y = x @ weight.T + bias``; weight (out_features, in_features), initialised as PyTorch
    does (kaiming_uniform_ with a=sqrt(5): U(-1/sqrt(in), 1/sqrt(in)), the bias likewise).

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.Linear(3, 2)(mnp.ones((4, 3))).shape
    (4, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self._add_parameters((self.out_features, self.in_features), bias)

    def forward(self, input: Any) -> Tensor:
        input = self._input(input)
        shape = input.shape
        if not shape or shape[-1] != self.in_features:
            raise ShapeError(f"Linear: input of shape {shape} does not fit in_features="
                             f"{self.in_features} (weight shape {self.weight.shape}): the last "
                             f"dimension must be {self.in_features}")
        if self.bias is None:
            return _LinearOp.apply(input, self.weight)
        return _LinearOp.apply(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


Dense = Linear


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are ignored, as in PyTorch)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input
