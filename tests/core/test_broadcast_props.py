"""Property tests of broadcasting: result shapes, unbroadcast gradients, and the ShapeError
for shapes that do not broadcast, for every binary op."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import mnp.core as mnp

FAST = settings(max_examples=30, deadline=None)

# name -> (mnp function, numpy forward, d out / d a, d out / d b) on broadcast arrays
OPS = {
    "add": (mnp.add, np.add, lambda a, b: np.ones_like(a), lambda a, b: np.ones_like(b)),
    "sub": (mnp.sub, np.subtract, lambda a, b: np.ones_like(a), lambda a, b: -np.ones_like(b)),
    "mul": (mnp.mul, np.multiply, lambda a, b: b, lambda a, b: a),
    "div": (mnp.div, np.divide, lambda a, b: 1 / b, lambda a, b: -a / b ** 2),
    "pow": (mnp.pow, np.power, lambda a, b: b * a ** (b - 1), lambda a, b: a ** b * np.log(a)),
    "maximum": (mnp.maximum, np.maximum, lambda a, b: (a > b) * 1.0, lambda a, b: (a < b) * 1.0),
    "minimum": (mnp.minimum, np.minimum, lambda a, b: (a < b) * 1.0, lambda a, b: (a > b) * 1.0),
    "atan2": (mnp.atan2, np.arctan2, lambda a, b: b / (a * a + b * b),
              lambda a, b: -a / (a * a + b * b)),
    # PyTorch's gradient in b is -div(a, b, rounding_mode="floor"): the floor of the exact
    # quotient (np.floor_divide), which np.floor(a / b) misses where a / b rounds up to an integer
    "remainder": (mnp.remainder, np.remainder, lambda a, b: np.ones_like(a),
                  lambda a, b: -np.floor_divide(a, b)),
    "logaddexp": (mnp.logaddexp, np.logaddexp, lambda a, b: 1 / (1 + np.exp(b - a)),
                  lambda a, b: 1 / (1 + np.exp(a - b))),
}


def _reduce_to(full: np.ndarray, shape: tuple[int, ...], out_shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``full`` (of ``out_shape``) onto ``shape`` the long way: each output position adds
    into the input element it was broadcast from (independent of mnp's unbroadcast)."""
    size = int(np.prod(shape, dtype=np.int64))
    owner = np.broadcast_to(np.arange(size).reshape(shape), out_shape)
    return np.bincount(owner.ravel(), weights=full.ravel(), minlength=size).reshape(shape)


@pytest.mark.parametrize("name", sorted(OPS))
@FAST
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       data=st.data())
def test_result_shape_and_gradients(name, shapes, data):
    sa, sb = shapes.input_shapes
    mfn, npfn, da, db = OPS[name]
    seed = data.draw(st.integers(0, 2 ** 16), label="seed")
    rng = np.random.default_rng(seed)
    # positive, well separated values: pow is defined, maximum/minimum have no ties
    a = rng.permutation(np.arange(1, 1 + int(np.prod(sa)))).reshape(sa) * 0.25 + 0.5
    b = rng.permutation(np.arange(1, 1 + int(np.prod(sb)))).reshape(sb) * 0.25 + 0.6
    x = mnp.tensor(a, dtype=mnp.float64, requires_grad=True)
    y = mnp.tensor(b, dtype=mnp.float64, requires_grad=True)
    out = mfn(x, y)
    expected_shape = np.broadcast_shapes(sa, sb)
    assert out.shape == expected_shape == shapes.result_shape
    np.testing.assert_allclose(out.data, npfn(a, b), rtol=1e-12)
    g = rng.standard_normal(expected_shape)
    out.backward(g)
    ab, bb = np.broadcast_arrays(a, b)
    assert x.grad.shape == sa and y.grad.shape == sb
    np.testing.assert_allclose(x.grad.data, _reduce_to(g * da(ab, bb), sa, expected_shape),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(y.grad.data, _reduce_to(g * db(ab, bb), sb, expected_shape),
                               rtol=1e-10, atol=1e-12)


@FAST
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3))
def test_where_broadcasts_three_ways(shapes):
    sc, sa, sb = shapes.input_shapes
    rng = np.random.default_rng(len(sc) + 7 * len(sa))
    cond = rng.random(sc) > 0.5
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    x = mnp.tensor(a, dtype=mnp.float64, requires_grad=True)
    y = mnp.tensor(b, dtype=mnp.float64, requires_grad=True)
    out = mnp.where(mnp.tensor(cond), x, y)
    assert out.shape == shapes.result_shape
    np.testing.assert_array_equal(out.data, np.where(cond, a, b))
    g = rng.standard_normal(out.shape)
    out.backward(g)
    c = np.broadcast_to(cond, out.shape)
    np.testing.assert_allclose(x.grad.data, _reduce_to(np.where(c, g, 0), sa, out.shape))
    np.testing.assert_allclose(y.grad.data, _reduce_to(np.where(c, 0, g), sb, out.shape))


@st.composite
def clashing_shapes(draw):
    """Two shapes with one dimension where both sizes exceed 1 and differ."""
    base = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    i = draw(st.integers(0, len(base) - 1))
    lo = draw(st.integers(2, 4))
    hi = draw(st.integers(lo + 1, 6))
    a, b = list(base), list(base)
    a[i], b[i] = (lo, hi) if draw(st.booleans()) else (hi, lo)
    cut = draw(st.integers(0, i))   # drop leading dims of one side: still clashes
    if draw(st.booleans()):
        a = a[cut:]
    else:
        b = b[cut:]
    return tuple(a), tuple(b)


BINARY_NAMES = sorted(OPS) + ["eq", "lt", "where", "logical_and", "bitwise_or", "isclose", "fmod"]


@FAST
@given(shapes=clashing_shapes(), name=st.sampled_from(BINARY_NAMES))
def test_non_broadcastable_shapes_raise_shape_error(shapes, name):
    sa, sb = shapes
    with pytest.raises(ValueError):   # numpy agrees they do not broadcast
        np.broadcast_shapes(sa, sb)
    a, b = mnp.ones(*sa), mnp.ones(*sb)
    with pytest.raises(mnp.ShapeError) as info:
        if name == "where":
            mnp.where(mnp.ones(*sa) > 0, a, b)
        elif name in ("eq", "lt"):
            getattr(a, name)(b)
        elif name == "bitwise_or":
            mnp.bitwise_or(a.long(), b.long())
        elif name in OPS:
            OPS[name][0](a, b)
        else:
            getattr(mnp, name)(a, b)
    msg = str(info.value)
    assert msg.startswith(f"{name}: ")
    assert str(sa) in msg and str(sb) in msg


@pytest.mark.parametrize("reduction", ["sum", "mean", "max"])
@FAST
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       axis_seed=st.integers(0, 100), keepdims=st.booleans())
def test_reductions_of_broadcast_products(reduction, shapes, axis_seed, keepdims):
    """Reducing a broadcast product: output shape as numpy, input gradients of the input
    shapes (a constant product makes every element a tied max, sharing the gradient)."""
    sa, sb = shapes.input_shapes
    x = mnp.tensor(np.full(sa, 2.0), dtype=mnp.float64, requires_grad=True)
    y = mnp.tensor(np.full(sb, 3.0), dtype=mnp.float64, requires_grad=True)
    prod = x * y
    nd = prod.ndim
    axis = None if nd == 0 else tuple(sorted({axis_seed % nd, (axis_seed // 7) % nd}))
    r = getattr(mnp, reduction)(prod, axis=axis, keepdims=keepdims)
    assert r.shape == np.sum(np.ones(prod.shape), axis=axis, keepdims=keepdims).shape
    r.sum().backward()
    count = prod.numel() // max(r.numel(), 1)
    w = np.full(prod.shape, 1.0 if reduction == "sum" else 1.0 / count)
    assert x.grad.shape == sa and y.grad.shape == sb
    np.testing.assert_allclose(x.grad.data, _reduce_to(w * 3.0, sa, prod.shape), rtol=1e-12)
    np.testing.assert_allclose(y.grad.data, _reduce_to(w * 2.0, sb, prod.shape), rtol=1e-12)
