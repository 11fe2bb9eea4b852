"""Products and norms against PyTorch (value and gradient), float64 grad_check, the gemm
kernel path, subgradients at zero, and errors."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp.core.ops import linalg as linalg_ops
from mnp.core.testing import assert_close, assert_matches_torch

INF = math.inf


def arr(rng, *shape):
    return rng.standard_normal(shape)


# -- matmul -----------------------------------------------------------------------------------
MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)),
                 ((3,), (5, 3, 4)), ((5, 2, 3), (3,)), ((2, 1, 2, 3), (1, 4, 3, 1))]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_matches_torch(torch, rng, sa, sb):
    a, b = arr(rng, *sa), arr(rng, *sb)
    assert_matches_torch(lambda x, y: x @ y, torch.matmul, a, b)
    assert_matches_torch(mnp.matmul, torch.matmul, a, b)


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_grad_check(rng, sa, sb):
    a = mnp.tensor(arr(rng, *sa), dtype=mnp.float64, requires_grad=True)
    b = mnp.tensor(arr(rng, *sb), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(mnp.matmul, [a, b])


def test_matmul_2d_uses_gemm(monkeypatch, rng):
    used = []
    real = linalg_ops.kernel

    def spy(name, dtype):
        fn = real(name, dtype)
        return lambda *args: used.append((name, args[2:])) or fn(*args)

    monkeypatch.setattr(linalg_ops, "kernel", spy)
    a = mnp.tensor(arr(rng, 2, 3), requires_grad=True)
    b = mnp.tensor(arr(rng, 3, 4), requires_grad=True)
    (a @ b).sum().backward()
    # forward a @ b, backward g @ b.T and a.T @ g
    assert used == [("gemm", (False, False)), ("gemm", (False, True)), ("gemm", (True, False))]


def test_matmul_errors():
    with pytest.raises(mnp.ShapeError) as e:
        mnp.matmul(mnp.zeros(2, 3), mnp.zeros(4, 5))
    assert str(e.value) == "matmul: shapes (2, 3) and (4, 5) are not aligned: 3 != 4"
    with pytest.raises(mnp.ShapeError, match=r"matmul: shapes \(3,\) and \(4,\) are not aligned: 3 != 4"):
        mnp.zeros(3) @ mnp.zeros(4)
    with pytest.raises(mnp.ShapeError, match=r"matmul: batch dimensions of shapes \(2, 2, 3\) and \(3, 3, 4\)"):
        mnp.zeros(2, 2, 3) @ mnp.zeros(3, 3, 4)
    with pytest.raises(mnp.ShapeError, match="matmul: both operands"):
        mnp.matmul(mnp.tensor(2.0), mnp.zeros(3))


# -- dot, outer, matvec -----------------------------------------------------------------------
def test_dot_outer_match_torch(torch, rng):
    a, b, c = arr(rng, 4), arr(rng, 4), arr(rng, 3)
    assert_matches_torch(mnp.dot, torch.dot, a, b)
    assert_matches_torch(lambda x, y: x.dot(y), lambda x, y: x.dot(y), a, b)
    assert_matches_torch(mnp.outer, torch.outer, a, c)
    assert_matches_torch(lambda x, y: x.outer(y), lambda x, y: x.outer(y), c, a)


def test_dot_outer_errors():
    with pytest.raises(mnp.ShapeError, match=r"dot: shapes \(3,\) and \(4,\) are not aligned: 3 != 4"):
        mnp.dot(mnp.zeros(3), mnp.zeros(4))
    with pytest.raises(mnp.ShapeError, match=r"dot: .*1-d.*\(2, 3\) and \(3,\)"):
        mnp.dot(mnp.zeros(2, 3), mnp.zeros(3))
    with pytest.raises(mnp.ShapeError, match=r"outer: .*1-d.*\(3,\) and \(2, 2\)"):
        mnp.outer(mnp.zeros(3), mnp.zeros(2, 2))


@pytest.mark.parametrize("sa,sv", [((3, 4), (4,)), ((5, 3, 4), (4,)), ((5, 3, 4), (5, 4)),
                                   ((3, 4), (2, 4)), ((2, 1, 3, 4), (5, 4))])
def test_matvec_matches_torch(torch, rng, sa, sv):
    A, v = arr(rng, *sa), arr(rng, *sv)  # noqa: N806
    assert_matches_torch(mnp.matvec, lambda M, u: torch.matmul(M, u.unsqueeze(-1)).squeeze(-1), A, v)


def test_mv_is_torch_mv(torch, rng):
    assert_matches_torch(lambda M, u: M.mv(u), torch.mv, arr(rng, 3, 4), arr(rng, 4))


def test_matvec_errors():
    with pytest.raises(mnp.ShapeError, match=r"matvec: shapes \(2, 3\) and \(4,\) are not aligned: 3 != 4"):
        mnp.matvec(mnp.zeros(2, 3), mnp.zeros(4))
    with pytest.raises(mnp.ShapeError, match=r"matvec: .*\(3,\) and \(3,\)"):
        mnp.matvec(mnp.zeros(3), mnp.zeros(3))
    with pytest.raises(mnp.ShapeError, match=r"matvec: batch .*\(2, 2, 3\) and \(3, 3\)"):
        mnp.matvec(mnp.zeros(2, 2, 3), mnp.zeros(3, 3))


def test_products_grad_check(rng):
    a = mnp.tensor(arr(rng, 4), dtype=mnp.float64, requires_grad=True)
    b = mnp.tensor(arr(rng, 4), dtype=mnp.float64, requires_grad=True)
    c = mnp.tensor(arr(rng, 3), dtype=mnp.float64, requires_grad=True)
    M = mnp.tensor(arr(rng, 2, 3, 4), dtype=mnp.float64, requires_grad=True)  # noqa: N806
    assert mnp.grad_check(mnp.dot, [a, b])
    assert mnp.grad_check(mnp.outer, [a, c])
    assert mnp.grad_check(mnp.matvec, [M, a])
    assert mnp.grad_check(mnp.matvec, [M, mnp.stack([a, b * 2])])


# -- norms ------------------------------------------------------------------------------------
@pytest.mark.parametrize("ord", [2, 1, INF, -INF, 3, 0.5, -1])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, False), ((0, 2), True), (-1, True)])
def test_vector_norm_matches_torch(torch, rng, ord, axis, keepdims):
    a = arr(rng, 3, 4, 5)
    assert_matches_torch(lambda x: mnp.vector_norm(x, ord, axis, keepdims),
                         lambda t: torch.linalg.vector_norm(t, ord, axis, keepdims), a)


def test_vector_norm_zero_order_counts(torch):
    x = mnp.tensor([[0.0, 1.0, -2.0], [0.0, 0.0, 3.0]], requires_grad=True)
    y = mnp.vector_norm(x, 0, axis=1)
    assert y.tolist() == [2.0, 1.0]
    y.sum().backward()
    assert x.grad.tolist() == [[0.0] * 3] * 2


@pytest.mark.parametrize("ord,axis", [(2, None), (1, 0), ("fro", None), ("fro", (0, 1)), (INF, 1),
                                      (3, -1), ("nuc", None)])
def test_norm_matches_torch_norm(torch, rng, ord, axis):
    a = arr(rng, 4, 5)
    assert_matches_torch(lambda x: mnp.norm(x, ord, axis), lambda t: torch.norm(t, ord, axis), a)
    assert_matches_torch(lambda x: x.norm(p=ord, dim=axis, keepdim=True),
                         lambda t: t.norm(p=ord, dim=axis, keepdim=True), a)


def test_norm_of_matrix_is_entrywise():
    A = mnp.tensor([[3.0, 0.0], [0.0, 4.0]])  # noqa: N806
    assert mnp.norm(A).item() == 5.0 and mnp.norm(A, 2).item() == 5.0
    assert mnp.norm(A, 1).item() == 7.0
    assert mnp.matrix_norm(A, 2).item() == pytest.approx(4.0)


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, INF, -INF])
@pytest.mark.parametrize("axis,keepdims", [((-2, -1), False), ((2, 0), True), ((0, 1), False)])
def test_matrix_norm_matches_torch(torch, rng, ord, axis, keepdims):
    a = arr(rng, 3, 4, 5)
    assert_matches_torch(lambda x: mnp.matrix_norm(x, ord, axis, keepdims),
                         lambda t: torch.linalg.matrix_norm(t, ord, axis, keepdims), a,
                         rtol=1e-3, atol=1e-4)


def test_frobenius_norm_matches_torch(torch, rng):
    assert_matches_torch(mnp.frobenius_norm, lambda t: torch.linalg.matrix_norm(t, "fro"), arr(rng, 2, 3, 4))
    assert_matches_torch(mnp.frobenius_norm, lambda t: torch.linalg.matrix_norm(t), arr(rng, 3, 4))


@pytest.mark.parametrize("ord", [2, 1, INF, -INF, 3, 0.5, "fro"])
def test_norm_gradient_at_zero_is_zero_not_nan(ord):
    x = mnp.zeros(2, 3, requires_grad=True)
    y = mnp.norm(x, ord, axis=1)
    assert y.tolist() == [0.0, 0.0]
    y.sum().backward()
    assert x.grad.tolist() == [[0.0] * 3] * 2


def test_norm_partial_zero_rows_and_ties(torch):
    a = np.array([[0.0, 0.0, 0.0], [3.0, -3.0, 1.0]], np.float32)
    for ord in (2, INF):
        assert_matches_torch(lambda x: mnp.vector_norm(x, ord, 1),
                             lambda t: torch.linalg.vector_norm(t, ord, 1), a)


def test_int_input_becomes_float():
    y = mnp.norm(mnp.tensor([3, 4]))
    assert y.dtype == mnp.float32 and y.item() == 5.0


NORM_GRADS = {
    "vector_2": lambda x: mnp.vector_norm(x, 2, axis=1),
    "vector_1": lambda x: mnp.vector_norm(x, 1, axis=(0, 2)),
    "vector_inf": lambda x: mnp.vector_norm(x, INF, axis=-1, keepdims=True),
    "vector_-inf": lambda x: mnp.vector_norm(x, -INF),
    "vector_3": lambda x: mnp.vector_norm(x, 3, axis=0),
    "vector_0.5": lambda x: mnp.vector_norm(x, 0.5, axis=1),
    "norm_fro": lambda x: mnp.norm(x, "fro"),
    "norm_nuc": lambda x: mnp.norm(x, "nuc"),
    "matrix_2": lambda x: mnp.matrix_norm(x, 2),
    "matrix_-2": lambda x: mnp.matrix_norm(x, -2, axis=(2, 0)),
    "matrix_1": lambda x: mnp.matrix_norm(x, 1),
    "matrix_-inf": lambda x: mnp.matrix_norm(x, -INF, axis=(0, 1), keepdims=True),
    "frobenius": lambda x: mnp.frobenius_norm(x),
}


@pytest.mark.parametrize("name", sorted(NORM_GRADS))
def test_norm_grad_check(rng, name):
    x = mnp.tensor(arr(rng, 3, 4, 5), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(NORM_GRADS[name], [x])


def test_norm_errors():
    with pytest.raises(mnp.MnpError, match="unsupported ord 'spectral'"):
        mnp.norm(mnp.zeros(3), "spectral")
    with pytest.raises(mnp.MnpError, match="matrix_norm: unsupported ord 3"):
        mnp.matrix_norm(mnp.zeros(3, 3), 3)
    with pytest.raises(mnp.ShapeError, match=r"matrix_norm: .*shape \(3,\)"):
        mnp.matrix_norm(mnp.zeros(3))
    with pytest.raises(mnp.ShapeError, match="norm: axis 2"):
        mnp.norm(mnp.zeros(3, 3), axis=2)
    with pytest.raises(mnp.ShapeError, match="repeated axis"):
        mnp.matrix_norm(mnp.zeros(3, 3), axis=(1, -1))
    with pytest.raises(mnp.ShapeError, match="empty"):
        mnp.vector_norm(mnp.zeros(0), INF)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4),
       batch=st.lists(st.integers(1, 3), max_size=2))
def test_matmul_shapes_follow_numpy(n, k, m, batch):
    a = np.ones(tuple(batch) + (n, k), np.float32)
    b = np.ones((k, m), np.float32)
    x, y = mnp.tensor(a, requires_grad=True), mnp.tensor(b, requires_grad=True)
    out = x @ y
    assert out.shape == np.matmul(a, b).shape
    out.sum().backward()
    assert x.grad.shape == a.shape and y.grad.shape == b.shape
    assert_close(y.grad.data, np.full(b.shape, np.prod(batch) * n))
