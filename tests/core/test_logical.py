"""Predicates, logical and bitwise ops and their operators against PyTorch: values, dtypes,
promotion, broadcasting, no gradient, and errors naming the op where PyTorch refuses."""
from __future__ import annotations

import operator

import numpy as np
import pytest

import mnp.core as mnp

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -2.5]


def _same(out, expected):
    assert str(out.dtype) == str(expected.dtype).rsplit(".", 1)[-1], (out.dtype, expected.dtype)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    assert not out.requires_grad and out.grad_fn is None


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "logical_not"])
def test_predicates_match_torch(torch, name):
    for values, dtype in ((SPECIAL, "float32"), (SPECIAL, "float64"), (SPECIAL, "float16"),
                          ([-2, 0, 3], "int64"), ([1, 0], "int32"), ([True, False], "bool")):
        x = np.array(values, dtype)
        _same(getattr(mnp, name)(mnp.tensor(x, requires_grad=dtype.startswith("float"))),
              getattr(torch, name)(torch.tensor(x)))
        _same(getattr(mnp.tensor(x), name)(), getattr(torch.tensor(x), name)())


def test_isclose_and_allclose_match_torch(torch, rng):
    a = np.array(SPECIAL + [1.0, 1.0, 100.0], np.float64)
    b = np.array(SPECIAL[::-1] + [1.0 + 1e-6, 1.001, 100.01], np.float64)
    grid = (a[:, None], b[None, :])
    for dtype in ("float32", "float64"):
        for kw in ({}, {"rtol": 1e-3}, {"atol": 0.5, "rtol": 0.0}, {"equal_nan": True}):
            x, y = (v.astype(dtype) for v in grid)
            _same(mnp.isclose(mnp.tensor(x), mnp.tensor(y), **kw),
                  torch.isclose(torch.tensor(x), torch.tensor(y), **kw))
            for p, q in ((a, a), (a, b), (a[3:], a[3:] + 1e-9)):
                p, q = p.astype(dtype), q.astype(dtype)
                got = mnp.allclose(mnp.tensor(p), mnp.tensor(q), **kw)
                assert got is torch.allclose(torch.tensor(p), torch.tensor(q), **kw)
    i = np.array([1, 5, -3])
    _same(mnp.isclose(mnp.tensor(i), mnp.tensor(i + 1), atol=1), torch.isclose(
        torch.tensor(i), torch.tensor(i + 1), atol=1))
    _same(mnp.tensor(i).isclose(mnp.tensor(i)), torch.tensor(i).isclose(torch.tensor(i)))
    assert mnp.tensor([True]).allclose(mnp.tensor([True])) is True


def test_isclose_errors_name_the_op():
    with pytest.raises(mnp.DTypeError, match="isclose: .*float32 and float64"):
        mnp.isclose(mnp.ones(2), mnp.ones(2, dtype=mnp.float64))
    with pytest.raises(mnp.ShapeError, match="isclose"):
        mnp.isclose(mnp.ones(2), mnp.ones(3))
    with pytest.raises(mnp.ArgumentError, match="isclose"):
        mnp.isclose(mnp.ones(2), mnp.ones(2), rtol=-1.0)


OPERANDS = [np.array([[0.0, 1.5, -2.0]], np.float32), np.array([[0], [3], [-1]], np.int64),
            np.array([True, False, True]), np.array([2, 0, 7], np.int32)]


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_ops_match_torch_across_dtypes(torch, name):
    for a in OPERANDS:
        for b in OPERANDS:
            _same(getattr(mnp, name)(mnp.tensor(a), mnp.tensor(b)),
                  getattr(torch, name)(torch.tensor(a), torch.tensor(b)))
    _same(getattr(mnp.tensor(OPERANDS[0]), name)(mnp.tensor(OPERANDS[1])),
          getattr(torch.tensor(OPERANDS[0]), name)(torch.tensor(OPERANDS[1])))
    with pytest.raises(mnp.ShapeError, match=name):
        getattr(mnp, name)(mnp.ones(2), mnp.ones(3))


INTEGRAL = [np.array([-7, 0, 12, 2**40], np.int64), np.array([[5], [-1]], np.int32),
            np.array([True, False, True, True]), np.array(3, np.int64)]
BITWISE = {"bitwise_and": operator.and_, "bitwise_or": operator.or_, "bitwise_xor": operator.xor}


@pytest.mark.parametrize("name", sorted(BITWISE))
def test_bitwise_ops_and_operators_match_torch(torch, name):
    op = BITWISE[name]
    for a in INTEGRAL:
        for b in INTEGRAL:
            expected = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
            _same(getattr(mnp, name)(mnp.tensor(a), mnp.tensor(b)), expected)
            _same(op(mnp.tensor(a), mnp.tensor(b)), expected)
            _same(getattr(mnp.tensor(a), name)(mnp.tensor(b)), expected)
        for s in (6, True):             # Python scalars on either side
            _same(op(mnp.tensor(a), s), op(torch.tensor(a), s))
            _same(op(s, mnp.tensor(a)), op(s, torch.tensor(a)))


def test_bitwise_not_and_invert_match_torch(torch):
    for a in INTEGRAL:
        _same(mnp.bitwise_not(mnp.tensor(a)), torch.bitwise_not(torch.tensor(a)))
        _same(~mnp.tensor(a), ~torch.tensor(a))


SHIFTS = {"bitwise_left_shift": operator.lshift, "bitwise_right_shift": operator.rshift}


@pytest.mark.parametrize("name", sorted(SHIFTS))
def test_shifts_match_torch_past_the_width(torch, name):
    op = SHIFTS[name]
    for dtype in ("int32", "int64"):
        a = np.array([[1], [-8], [12345], [-1]], dtype)
        b = np.array([0, 1, 5, 31, 32, 63, 64, 70, -1], dtype)
        expected = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        _same(getattr(mnp, name)(mnp.tensor(a), mnp.tensor(b)), expected)
        _same(op(mnp.tensor(a), mnp.tensor(b)), expected)
        _same(getattr(mnp.tensor(a), name)(mnp.tensor(b)), expected)
        _same(op(mnp.tensor(a), 3), op(torch.tensor(a), 3))
        _same(op(2, mnp.tensor(b[:4])), op(2, torch.tensor(b[:4])))
    _same(op(mnp.tensor([True, False]), 1), op(torch.tensor([True, False]), 1))


@pytest.mark.parametrize("name", sorted(BITWISE) + sorted(SHIFTS))
def test_bitwise_ops_refuse_floats_and_name_the_op(torch, name):
    op = {**BITWISE, **SHIFTS}[name]
    f, i = mnp.tensor([1.0, 2.0]), mnp.tensor([1, 2])
    with pytest.raises((RuntimeError, NotImplementedError)):
        getattr(torch, name)(torch.tensor([1.0, 2.0]), torch.tensor([1, 2]))
    for a, b in ((f, i), (i, f), (i, 1.5)):
        with pytest.raises(mnp.DTypeError, match=f"{name}: .*float"):
            getattr(mnp, name)(a, b)
        with pytest.raises(mnp.DTypeError, match=name):
            op(a, b)
    with pytest.raises(mnp.ShapeError, match=name):
        getattr(mnp, name)(mnp.tensor([1, 2]), mnp.tensor([1, 2, 3]))


def test_invert_of_a_float_tensor_is_refused(torch):
    with pytest.raises(TypeError):
        ~torch.tensor([1.0])
    with pytest.raises(mnp.DTypeError, match="bitwise_not: .*float32"):
        ~mnp.tensor([1.0])
    with pytest.raises(mnp.DTypeError, match="bitwise_left_shift: .*bool"):
        mnp.tensor([True]) << mnp.tensor([True])
