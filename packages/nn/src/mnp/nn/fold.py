"""Sliding blocks: `Unfold`/`unfold` (the ``im2col`` kernel: every block of an
(N, C, H, W) input as a column of (N, C*KH*KW, L)) and `Fold`/`fold`, its adjoint (the
``col2im`` kernel: columns summed back onto an image), with their nodes.

>>> import mnp.core as mnp
>>> from mnp.nn import functional as F
>>> x = mnp.arange(9.0).reshape(1, 1, 3, 3)
>>> F.unfold(x, 2).tolist()
[[[0.0, 1.0, 3.0, 4.0], [1.0, 2.0, 4.0, 5.0], [3.0, 4.0, 6.0, 7.0], [4.0, 5.0, 7.0, 8.0]]]
>>> F.fold(F.unfold(x, 2), (3, 3), 2).tolist()     # each pixel times the blocks holding it
[[[[0.0, 2.0, 2.0], [6.0, 16.0, 10.0], [6.0, 14.0, 8.0]]]]
"""
from __future__ import annotations

from typing import Any

from mnp.core import Function, ShapeError, Tensor, as_tensor
from mnp.core.dispatch import kernel

from ._util import ntuple
from .conv import out_size
from .module import Module

#: the family's own ``numpy`` reference kernels (it runs on conv's ``im2col``/``col2im``)
KERNELS: dict = {}


class UnfoldFunction(Function):
    """The blocks of x (N, C, H, W) as columns (N, C*KH*KW, L)."""
    name = "unfold"

    def forward(self, x, kernel_size=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
        self.shape, self.args = x.shape, (kernel_size, stride, padding, dilation)
        return kernel("im2col", x.dtype)(x, *self.args)

    def backward(self, g):
        return kernel("col2im", g.dtype)(g, self.shape, *self.args)


class FoldFunction(Function):
    """Columns (N, C*KH*KW, L) summed onto an image of shape ``shape`` (N, C, H, W)."""
    name = "fold"

    def forward(self, cols, shape=(1, 1, 1, 1), kernel_size=(1, 1), stride=(1, 1),
                padding=(0, 0), dilation=(1, 1)):
        self.args = (kernel_size, stride, padding, dilation)
        return kernel("col2im", cols.dtype)(cols, shape, *self.args)

    def backward(self, g):
        return kernel("im2col", g.dtype)(g, *self.args)


def _blocks(op: str, size, kernel_size, dilation, padding, stride) -> tuple:
    """The arguments as pairs, and the number of blocks along H and W."""
    ks = ntuple(kernel_size, 2, "kernel_size", op, 1)
    dl = ntuple(dilation, 2, "dilation", op, 1)
    pd = ntuple(padding, 2, "padding", op, 0)
    st = ntuple(stride, 2, "stride", op, 1)
    blocks = tuple(out_size(n, k, s, p, d) for n, k, s, p, d in zip(size, ks, st, pd, dl))
    if min(blocks) < 1:
        raise ShapeError(f"{op}: a spatial size of {tuple(size)} with kernel_size {ks}, dilation "
                         f"{dl}, padding {pd} and stride {st} holds no block")
    return ks, dl, pd, st, blocks


def unfold(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
           stride: Any = 1) -> Tensor:
    """Every sliding block of input (N, C, H, W) (or unbatched (C, H, W)) as a column:
    (N, C*KH*KW, L), L the number of blocks."""
    x = as_tensor(input, op="unfold")
    if x.ndim not in (3, 4):
        raise ShapeError(f"unfold: expected a 4-d input (N, C, H, W) or an unbatched 3-d one, "
                         f"got shape {x.shape}")
    unbatched = x.ndim == 3
    if unbatched:
        x = x.reshape((1,) + x.shape)
    ks, dl, pd, st, _ = _blocks("unfold", x.shape[2:], kernel_size, dilation, padding, stride)
    y = UnfoldFunction.apply(x, kernel_size=ks, stride=st, padding=pd, dilation=dl)
    return y.reshape(y.shape[1:]) if unbatched else y


def fold(input: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Sum columns (N, C*KH*KW, L) (or unbatched (C*KH*KW, L)) back onto an image
    (N, C, *output_size): the adjoint of `unfold`."""
    x = as_tensor(input, op="fold")
    if x.ndim not in (2, 3):
        raise ShapeError(f"fold: expected a 3-d input (N, C*KH*KW, L) or an unbatched 2-d one, "
                         f"got shape {x.shape}")
    unbatched = x.ndim == 2
    if unbatched:
        x = x.reshape((1,) + x.shape)
    size = ntuple(output_size, 2, "output_size", "fold", 1)
    ks, dl, pd, st, blocks = _blocks("fold", size, kernel_size, dilation, padding, stride)
    k = ks[0] * ks[1]
    if x.shape[1] % k:
        raise ShapeError(f"fold: input of shape {x.shape}: dimension 1 must be divisible by the "
                         f"kernel size {ks[0]}*{ks[1]} = {k}")
    if x.shape[2] != blocks[0] * blocks[1]:
        raise ShapeError(f"fold: input of shape {x.shape} has {x.shape[2]} blocks, but "
                         f"output_size {size} holds {blocks[0]}*{blocks[1]} = "
                         f"{blocks[0] * blocks[1]} with kernel_size {ks}, dilation {dl}, "
                         f"padding {pd} and stride {st}")
    shape = (x.shape[0], x.shape[1] // k) + size
    y = FoldFunction.apply(x, shape=shape, kernel_size=ks, stride=st, padding=pd, dilation=dl)
    return y.reshape(y.shape[1:]) if unbatched else y


class Unfold(Module):
    """Every sliding block of (N, C, H, W) as a column of (N, C*KH*KW, L); see `unfold`.

    >>> import mnp.core as mnp
    >>> from mnp import nn
    >>> nn.Unfold(kernel_size=(2, 3), padding=1)(mnp.zeros((2, 5, 3, 4))).shape
    (2, 30, 16)
    """

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = (kernel_size, dilation,
                                                                      padding, stride)

    def forward(self, input: Any) -> Tensor:
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Columns (N, C*KH*KW, L) summed back onto (N, C, *output_size); see `fold`."""

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Any) -> Tensor:
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
