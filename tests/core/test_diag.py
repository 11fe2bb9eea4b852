"""tril / triu / diagonal / diag_embed / diag / trace against PyTorch (values, gradients,
dtypes, shapes), float64 finite differences and errors."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.testing import assert_matches_torch


def test_triangles_match_torch(torch, rng):
    for shape in ((4, 4), (2, 3, 5)):
        for k in (-1, 2, 7):
            for name in ("tril", "triu"):
                assert_matches_torch(lambda x: getattr(mnp, name)(x, k),
                                     lambda t: getattr(torch, name)(t, k),
                                     rng.standard_normal(shape), rng=rng, what=f"{name} {shape} {k}")
    b = np.ones((2, 2), bool)
    np.testing.assert_array_equal(mnp.tensor(b).tril().numpy(), torch.tensor(b).tril().numpy())
    assert mnp.tensor(b).triu(diagonal=1).dtype == mnp.bool


def test_diagonal_and_diag_embed_match_torch(torch, rng):
    for shape, args in (((3, 4), (0, 0, 1)), ((3, 4), (1, 1, 0)), ((2, 3, 4), (-1, 2, 0)),
                        ((2, 3, 4), (5, 0, 1))):
        assert_matches_torch(lambda x: mnp.diagonal(x, *args), lambda t: torch.diagonal(t, *args),
                             rng.standard_normal(shape), rng=rng, what=f"diagonal {shape} {args}")
    for shape, args in (((3,), (0, -2, -1)), ((2, 3), (1, 0, 2)), ((2, 3), (-2, 2, 0))):
        assert_matches_torch(lambda x: x.diag_embed(*args), lambda t: t.diag_embed(*args),
                             rng.standard_normal(shape), rng=rng, what=f"diag_embed {shape} {args}")


def test_diag_and_trace_match_torch(torch, rng):
    for shape, k in (((3,), 0), ((3,), -2), ((3, 4), 1), ((4, 3), -1)):
        assert_matches_torch(lambda x: mnp.diag(x, k), lambda t: torch.diag(t, k),
                             rng.standard_normal(shape), rng=rng, what=f"diag {shape} {k}")
    for shape in ((3, 3), (2, 4), (4, 2)):
        assert_matches_torch(lambda x: x.trace(), lambda t: t.trace(), rng.standard_normal(shape))
    t = mnp.trace(mnp.ones(2, 2, dtype=mnp.int32))
    assert t.dtype == mnp.int64 and t.item() == 2


def test_gradients_by_finite_differences(rng):
    x = mnp.tensor(rng.standard_normal((2, 3, 4)), dtype=mnp.float64, requires_grad=True)
    v = mnp.tensor(rng.standard_normal((2, 3)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda a: mnp.tril(a, 1), [x])
    assert mnp.grad_check(lambda a: mnp.diagonal(a, 1, 2, 1), [x])
    assert mnp.grad_check(lambda a: mnp.diag_embed(a, -1, 0, 2), [v])
    assert mnp.grad_check(lambda a: mnp.trace(a[0]), [x])


def test_errors():
    x = mnp.ones(2, 2, 2)
    for call, msg in ((lambda: mnp.tril(mnp.ones(3)), "tril: input must have at least 2"),
                      (lambda: mnp.triu(mnp.ones(3)), "triu"),
                      (lambda: mnp.diag(x), r"diag: input must be 1-d or 2-d, got shape \(2, 2, 2\)"),
                      (lambda: mnp.trace(x), "trace: expected a matrix"),
                      (lambda: mnp.diagonal(x, 0, 1, -2), "diagonal: dim1 and dim2 must differ"),
                      (lambda: mnp.diagonal(mnp.ones(3)), "diagonal"),
                      (lambda: mnp.diag_embed(mnp.tensor(1.0)), "diag_embed")):
        with pytest.raises(mnp.ShapeError, match=msg):
            call()
    with pytest.raises(mnp.AxisError, match="diagonal"):
        mnp.diagonal(x, 0, 0, 3)
    with pytest.raises(mnp.ArgumentError, match="tril: the diagonal offset must be an integer"):
        mnp.tril(x, 0.5)
