"""The softmax family: softmax, log_softmax and safe_log against PyTorch, float64 grad_check,
stability for huge logits, and the kernels the ops go through."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core import dispatch
from mnp.core.numpy_backend import softmax as numpy_softmax
from mnp.core.testing import F32, assert_close, assert_matches_torch

#: numpy floating-point problems that must not happen (underflow to 0 is fine)
NO_FP_WARNINGS = {"over": "raise", "invalid": "raise", "divide": "raise"}


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,axis", [((5,), -1), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1),
                                        ((2, 3, 4), 1), ((2, 3, 4), -3), ((1, 1), 0)])
def test_softmax_family_matches_torch(torch, rng, name, shape, axis):
    a = rng.standard_normal(shape).astype(np.float32) * 3
    assert_matches_torch(lambda x: getattr(mnp, name)(x, axis=axis),
                         lambda t: getattr(torch, name)(t, dim=axis), a, rng=rng)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_synonyms_methods_and_defaults(rng, name):
    x = mnp.tensor(rng.standard_normal((2, 3, 4)).astype(np.float32))
    fn = getattr(mnp, name)
    ref = fn(x, axis=1)
    for other in (fn(x, dim=1), getattr(x, name)(1), getattr(x, name)(dim=-2), fn(x, 1)):
        assert_close(other, ref, rtol=0, atol=0)
    assert_close(fn(x), fn(x, axis=2), rtol=0, atol=0)   # last axis by default
    with pytest.raises(TypeError, match=name):
        fn(x, axis=0, dim=1)
    with pytest.raises(mnp.ShapeError, match=rf"{name}: axis 3 is out of range .*\(2, 3, 4\)"):
        fn(x, axis=3)
    with pytest.raises(mnp.ShapeError, match=name):
        fn(x, axis=(0, 1))
    assert fn(mnp.tensor([1, 2, 3])).dtype == mnp.float32   # ints become floats


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, -1])
def test_softmax_family_grad_check(rng, name, axis):
    x = mnp.tensor(rng.standard_normal((3, 4)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda t: getattr(mnp, name)(t, axis=axis), [x])


def test_softmax_properties(rng):
    x = mnp.tensor(rng.standard_normal((4, 6)).astype(np.float32) * 5)
    p = mnp.softmax(x, axis=1)
    assert (p.data > 0).all()
    assert_close(p.data.sum(1), np.ones(4), rtol=1e-6)
    assert_close(mnp.softmax(x + 100.0, axis=1), p, rtol=1e-5, atol=1e-7)   # shift-invariant
    assert_close(mnp.exp(mnp.log_softmax(x, axis=1)), p, rtol=1e-5, atol=1e-7)


def test_stable_for_huge_logits(torch):
    logits = [[1000.0, 0.0, -1000.0], [1e4, 1e4, 1e4], [-1e4, -1e4, -1e4], [3e38, 0.0, 1.0]]
    with np.errstate(**NO_FP_WARNINGS):
        x = mnp.tensor(logits, requires_grad=True)
        ls = mnp.log_softmax(x, axis=1)
        sm = mnp.softmax(x, axis=1)
        (ls[:, 0].sum() + sm[:, 1].sum()).backward()
    assert np.isfinite(ls.data).all() and np.isfinite(sm.data).all()
    assert np.isfinite(x.grad.data).all()
    assert ls.tolist()[0] == [0.0, -1000.0, -2000.0]
    assert sm.tolist()[0] == [1.0, 0.0, 0.0]
    assert_close(sm.data[1], [1 / 3] * 3, rtol=1e-6)
    assert_close(sm.data[2], [1 / 3] * 3, rtol=1e-6)
    t = torch.tensor(logits)
    assert_close(ls, torch.log_softmax(t, 1), **F32)
    assert_close(sm, torch.softmax(t, 1), **F32)


def test_infinite_logits_behave_like_torch(torch):
    inf = np.inf
    logits = [[-inf, 0.0, 1.0], [-inf, -inf, 2.0], [-inf, -inf, -inf]]
    x = mnp.tensor(logits)
    t = torch.tensor(logits)
    with np.errstate(**NO_FP_WARNINGS):
        sm, ls = mnp.softmax(x), mnp.log_softmax(x)
    np.testing.assert_allclose(sm.data, torch.softmax(t, -1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(ls.data, torch.log_softmax(t, -1).numpy(), rtol=1e-6)
    assert sm.tolist()[1] == [0.0, 0.0, 1.0]
    assert np.isnan(sm.data[2]).all()   # nothing to normalise, as in PyTorch


def test_a_positive_infinity_makes_its_whole_slice_nan_like_torch(torch):
    inf = np.inf
    logits = [[inf, 1.0, -inf], [inf, inf, 0.0], [2.0, 1.0, 0.0]]
    x, t = mnp.tensor(logits), torch.tensor(logits)
    for name in ("softmax", "log_softmax"):
        got, expect = getattr(mnp, name)(x, 1), getattr(torch, name)(t, 1).numpy()
        np.testing.assert_array_equal(np.isnan(got.numpy()), np.isnan(expect))
        np.testing.assert_allclose(got.numpy()[2], expect[2], rtol=1e-6)
    assert np.isnan(mnp.softmax(x, 1).numpy()[0]).all()


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [1, 0])
def test_the_reference_kernels_give_torchs_nan_slices(torch, name, axis):
    # the op passes the kernel's answer through: the kernels themselves follow PyTorch
    inf, nan = np.inf, np.nan
    x = np.array([[inf, 1.0, 0.0], [-inf, -inf, -inf], [nan, 1.0, 2.0], [-inf, 0.0, 1.0],
                  [inf, inf, -inf], [1.0, 2.0, 3.0]])
    x = x if axis == 1 else np.ascontiguousarray(x.T)
    with np.errstate(**NO_FP_WARNINGS):
        got = getattr(numpy_softmax, name)(x, axis)
    expected = getattr(torch, name)(torch.from_numpy(x), axis).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got[~np.isnan(expected)], expected[~np.isnan(expected)], rtol=1e-12)


def test_softmax_of_a_scalar_is_one():
    x = mnp.tensor(3.0, requires_grad=True)
    y = mnp.softmax(x)
    assert y.shape == () and y.item() == 1.0
    y.backward()
    assert x.grad.item() == 0.0
    assert mnp.log_softmax(mnp.tensor(3.0)).item() == 0.0


# -- safe_log -------------------------------------------------------------------------------
def test_safe_log_matches_torch_log_of_clamp(torch):
    a = np.array([[0.0, 1e-20, 1e-12, 0.3], [2.0, -1.0, 5e-13, 1e-6]], np.float32)
    eps = 1e-12
    x, t = mnp.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = mnp.safe_log(x), torch.log(torch.clamp(t, min=eps))
    assert np.isfinite(y.data).all()
    assert_close(y, ty, **F32)
    g = np.arange(1.0, 9.0, dtype=np.float32).reshape(2, 4)
    y.backward(mnp.tensor(g))
    ty.backward(torch.tensor(g))
    assert_close(x.grad, t.grad, rtol=1e-5, atol=0)
    # below eps the input has no influence: zero gradient, never inf
    assert x.grad.data[0, 0] == 0 and x.grad.data[1, 1] == 0 and x.grad.data[1, 2] == 0


def test_safe_log_eps_method_and_grad_check(rng):
    x = mnp.tensor([0.0, 0.05, 0.5])
    assert_close(mnp.safe_log(x, eps=0.1), np.log([0.1, 0.1, 0.5]), rtol=1e-6)
    assert_close(x.safe_log(eps=0.1), mnp.safe_log(x, eps=0.1), rtol=0, atol=0)
    assert_close(mnp.safe_log(x), np.log([1e-12, 0.05, 0.5]), rtol=1e-6)
    p = mnp.tensor(rng.uniform(0.1, 2.0, (3, 3)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(mnp.safe_log, [p])
    with pytest.raises(mnp.MnpError, match="safe_log: eps"):
        mnp.safe_log(x, eps=0.0)


def test_safe_log_in_float16_stays_finite():
    h = mnp.tensor([0.0, 0.5], dtype=mnp.float16)   # 1e-12 underflows in float16
    y = mnp.safe_log(h)
    assert y.dtype == mnp.float16 and np.isfinite(y.data).all()
    assert y.data[0] == np.log(np.finfo(np.float16).tiny).astype(np.float16)


# -- the kernels ----------------------------------------------------------------------------
def test_kernels_are_registered_and_used(monkeypatch, rng):
    names = ("softmax", "log_softmax", "softmax_backward", "log_softmax_backward")
    numpy_backend = next(b for b in mnp.backends() if b["name"] == "numpy")
    assert set(names) <= set(numpy_backend["kernels"])
    calls = []
    f32 = np.dtype("float32")
    for name in names:
        real = dispatch.kernel(name, f32)
        monkeypatch.setitem(dispatch._cache, (name, f32),
                            lambda *a, _r=real, _n=name: calls.append(_n) or _r(*a))
    x = mnp.tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    (mnp.softmax(x, 0).sum() + mnp.log_softmax(x, 1)[0, 0]).backward()
    assert sorted(calls) == sorted(names)


def test_backward_kernels_match_definitions(rng):
    f64 = np.dtype("float64")
    x, g = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    y = dispatch.kernel("softmax", f64)(x, 1)
    # the Jacobian of softmax is diag(y) - y y^T, row by row
    expect = np.stack([(np.diag(r) - np.outer(r, r)) @ gr for r, gr in zip(y, g)])
    assert_close(dispatch.kernel("softmax_backward", f64)(g, y, 1), expect, rtol=1e-10, atol=1e-12)
    ly = dispatch.kernel("log_softmax", f64)(x, 1)
    expect = np.stack([(np.eye(4) - np.exp(r)[None, :]).T @ gr for r, gr in zip(ly, g)])
    assert_close(dispatch.kernel("log_softmax_backward", f64)(g, ly, 1), expect,
                 rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, axis", [((3, 0), -1), ((3, 0), 0), ((0,), 0), ((0, 4), 1),
                                         ((2, 0, 3), 1)])
def test_empty_input_gives_an_empty_output_as_torch(torch, name, shape, axis):
    x = mnp.zeros(shape, requires_grad=True)
    t = torch.zeros(shape, requires_grad=True)
    y, ty = getattr(mnp, name)(x, axis), getattr(torch, name)(t, axis)
    assert y.shape == tuple(ty.shape) and y.dtype == mnp.float32
    y.sum().backward()
    ty.sum().backward()
    assert x.grad.shape == tuple(t.grad.shape) == shape
