"""Layer and batch normalisation of rows/channels whose mean is large against their spread:
no cancellation (a constant row gives exactly 0, as in PyTorch)."""
from __future__ import annotations

import pytest

import mnp.core as mnp
from mnp.nn import functional as F


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layer_norm_of_a_constant_row_is_zero(dtype):
    x = mnp.full((3, 5), 12.573022, dtype=getattr(mnp, dtype))
    assert (F.layer_norm(x, (5,)).numpy() == 0).all()
    wide = mnp.full((2, 3000), -7.3e4, dtype=getattr(mnp, dtype))
    assert (F.layer_norm(wide, (3000,)).numpy() == 0).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batch_norm_of_a_constant_channel_is_zero(dtype):
    x = mnp.full((4, 3, 5, 5), 12.573022, dtype=getattr(mnp, dtype))
    assert (F.batch_norm(x, None, None, training=True).numpy() == 0).all()
