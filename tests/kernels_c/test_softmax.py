"""softmax, log_softmax and their backwards against the numpy reference (every axis, layouts,
NaN/inf slices, empty inputs) and against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from mnp.core.testing import assert_close

DTYPES = ("float32", "float64")
FORWARD = ("softmax", "log_softmax")
CASES = [((128, 10), -1), ((64, 1000), -1), ((64, 1000), 0), ((3, 4, 5), 1), ((3, 4, 5), 0),
         ((3, 4, 5), -1), ((7,), 0), ((1, 1), 1), ((2, 700, 3), 1), ((5, 300), 0), ((300, 5), 1)]


def _tol(dt):
    return {"rtol": 1e-5, "atol": 1e-6} if dt == "float32" else {"rtol": 1e-12, "atol": 1e-14}


def _same(got, expected, dt):
    """Equal within tolerance, with NaN exactly where the reference has NaN."""
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    keep = ~np.isnan(expected)
    assert_close(got[keep], expected[keep], **_tol(dt))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", FORWARD)
@pytest.mark.parametrize("shape,axis", CASES)
def test_forward(kc, ref, rng, strided, dt, name, shape, axis):
    x = (rng.standard_normal(shape) * 4).astype(dt)
    expected = ref(name, dt)(x, axis)
    _same(getattr(kc, name)(x, axis), expected, dt)
    _same(getattr(kc, name)(strided(x), axis), expected, dt)
    _same(getattr(kc, name)(np.asfortranarray(x), axis), expected, dt)
    _same(getattr(kc, name)(x, axis - x.ndim if axis >= 0 else axis + x.ndim), expected, dt)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", FORWARD)
@pytest.mark.parametrize("axis", [-1, 0])
def test_forward_special_values(kc, ref, dt, name, axis):
    inf, nan = np.inf, np.nan
    rows = [[1000.0, 0.0, -1000.0, 5.0], [50.0, 51.0, 52.0, 53.0],    # a shift is needed
            [inf, 1.0, 2.0, 3.0], [-inf, -inf, -inf, -inf],          # non-finite max: NaN (some)
            [-inf, 0.0, 1.0, -inf], [nan, 1.0, 2.0, 3.0],             # -inf entries give 0 / -inf
            [inf, nan, -inf, 0.0], [inf, inf, 1.0, 100.0], [-1e30, 1e30, 0.0, 1.0],
            [89.0, 88.0, -200.0, 0.0]]
    x = np.array(rows, dt)
    x = x if axis == -1 else np.ascontiguousarray(x.T)
    with np.errstate(all="ignore"):
        expected = ref(name, dt)(x, axis)
    got = getattr(kc, name)(x, axis)
    _same(got, expected, dt)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(expected))
    assert np.isnan(got.take(3, axis=1 + axis)).all()     # only -inf: NaN, as PyTorch
    for row in (2, 5, 6, 7):                               # +inf or NaN: NaN throughout, as PyTorch
        assert np.isnan(got.take(row, axis=1 + axis)).all(), row


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", FORWARD)
@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("width", [2, 3, 40, 5000])
def test_forward_infinite_slices_match_torch(kc, torch, dt, name, axis, width):
    # every path (short rows, long rows, columns): [inf, 1] was [nan, 0], torch gives NaN
    x = np.zeros((4, width), dt)
    x[:, 1] = 1.0
    x[0, 0] = np.inf
    x[1, :] = -np.inf
    x[2, -1] = np.nan
    x = x if axis == -1 else np.ascontiguousarray(x.T)
    got = getattr(kc, name)(x, axis)
    expected = getattr(torch, name)(torch.from_numpy(x), axis).numpy()
    _same(got, expected, dt)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", ["softmax_backward", "log_softmax_backward"])
@pytest.mark.parametrize("shape,axis", CASES)
def test_backward(kc, ref, rng, strided, dt, name, shape, axis):
    forward = name.replace("_backward", "")
    y = ref(forward, dt)((rng.standard_normal(shape) * 2).astype(dt), axis)
    g = rng.standard_normal(shape).astype(dt)
    expected = ref(name, dt)(g, y, axis)
    _same(getattr(kc, name)(g, y, axis), expected, dt)
    _same(getattr(kc, name)(strided(g), np.asfortranarray(y), axis), expected, dt)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", ["softmax_backward", "log_softmax_backward"])
def test_backward_special_values(kc, ref, dt, name):
    y = np.array([[0.0, -np.inf, 1.0, 90.0], [np.nan, 0.5, 0.25, 0.25], [-1e3, 0.0, 0.0, 0.0]], dt)
    g = np.array([[1.0, 2.0, np.inf, -1.0], [1.0, 1.0, 1.0, 1.0], [0.5, -0.5, 2.0, 0.0]], dt)
    with np.errstate(all="ignore"):
        expected = ref(name, dt)(g, y, -1)
    _same(getattr(kc, name)(g, y, -1), expected, dt)


@pytest.mark.parametrize("name", FORWARD + ("softmax_backward", "log_softmax_backward"))
def test_inputs_left_to_the_reference(kc, ref, name):
    """Empty arrays, 0-d arrays, bad axes and broadcasting shapes give what the reference gives."""
    bwd = name.endswith("_backward")
    call = (lambda x, axis: getattr(kc, name)(x, x, axis)) if bwd else getattr(kc, name)
    rcall = (lambda x, axis: ref(name)(x, x, axis)) if bwd else ref(name)
    for shape, axis in (((0, 5), -1), ((0, 5), 0), ((4, 0, 3), 0)):
        x = np.zeros(shape, np.float32)
        if x.shape[axis] == 0 and not bwd:
            with pytest.raises(ValueError):
                rcall(x, axis)
            with pytest.raises(ValueError):
                call(x, axis)
        else:
            assert call(x, axis).shape == rcall(x, axis).shape == shape
    with pytest.raises((ValueError, IndexError)):
        call(np.ones((2, 3), np.float32), 2)
    i = np.arange(6.0).reshape(2, 3).astype(np.float16)
    assert call(i, -1).dtype == rcall(i, -1).dtype
    if bwd:
        g, y = np.ones((2, 3), np.float32), np.full((1, 3), 0.5, np.float32)
        assert_close(getattr(kc, name)(g, y, -1), ref(name)(g, y, -1))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=6),
                    elements=st.floats(-50, 50)),
       data=st.data(), name=st.sampled_from(FORWARD))
def test_property_every_axis(kc, ref, x, data, name):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    if x.shape[axis] == 0:
        return
    got = getattr(kc, name)(x, axis)
    assert_close(got, ref(name, "float64")(x, axis), **_tol("float64"))
    if name == "softmax" and x.size:
        assert_close(got.sum(axis=axis), np.ones(np.delete(x.shape, axis % x.ndim)))


def test_against_torch(kc, torch, rng):
    x = rng.standard_normal((6, 9, 4)) * 3
    g = rng.standard_normal(x.shape)
    for axis in (0, 1, -1):
        for name, tfn in (("softmax", torch.softmax), ("log_softmax", torch.log_softmax)):
            tx = torch.tensor(x, requires_grad=True)
            ty = tfn(tx, axis)
            ty.backward(torch.tensor(g))
            y = getattr(kc, name)(x, axis)
            assert_close(y, ty.detach().numpy())
            assert_close(getattr(kc, name + "_backward")(g, y, axis), tx.grad.numpy())


def test_large_input_threads(kc, ref, rng):
    """Big enough to split over threads (when there are several)."""
    x = rng.standard_normal((256, 1024)).astype(np.float32)
    assert_close(kc.softmax(x, -1), ref("softmax")(x, -1), **_tol("float32"))
    assert_close(kc.log_softmax(x, 0), ref("log_softmax")(x, 0), **_tol("float32"))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("length", [10, 1000])
def test_exp_accuracy_over_the_whole_range(kc, ref, dt, length):
    """Relative accuracy of every probability, down to the subnormal ones (the float32 and
    float64 exp inside are polynomials)."""
    lowest = -110.0 if dt == "float32" else -760.0
    x = np.linspace(lowest, 0.0, length).astype(dt)[None, :].repeat(3, 0)
    expected = ref("softmax", dt)(x, -1)
    got = kc.softmax(x, -1)
    tiny = np.finfo(dt).tiny
    normal = expected >= tiny
    rtol = 4e-7 if dt == "float32" else 5e-16
    np.testing.assert_allclose(got[normal], expected[normal], rtol=rtol, atol=0)
    np.testing.assert_allclose(got[~normal], expected[~normal], rtol=0, atol=tiny * 2 ** -20)
    assert_close(kc.log_softmax(x, -1), ref("log_softmax", dt)(x, -1), **_tol(dt))
    assert_close(kc.softmax(np.ascontiguousarray(x.T), 0), expected.T, **_tol(dt))
