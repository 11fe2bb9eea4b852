"""Reductions: forward and gradient against PyTorch over every axis form, float64
grad_check, ties, zeros in prod, dtypes, argmax/argmin and stability of logsumexp."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.testing import F32, assert_close, assert_matches_torch

#: numpy floating-point problems that must not happen (underflow to 0 is fine)
NO_FP_WARNINGS = {"over": "raise", "invalid": "raise", "divide": "raise"}


def _dims(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


def _torch_prod(t, dim, keepdim):
    for d in sorted(((dim,) if isinstance(dim, int) else dim), key=lambda d: -(d % t.ndim)):
        t = t.prod(d, keepdim=keepdim)
    return t


# name -> (mnp call, torch call); both take (tensor, axis, keepdims)
REDUCTIONS = {
    "sum": (lambda x, a, k: mnp.sum(x, axis=a, keepdims=k),
            lambda T, t, a, k: T.sum(t, dim=_dims(a, t.ndim), keepdim=k)),
    "mean": (lambda x, a, k: mnp.mean(x, axis=a, keepdims=k),
             lambda T, t, a, k: T.mean(t, dim=_dims(a, t.ndim), keepdim=k)),
    "amax": (lambda x, a, k: mnp.amax(x, axis=a, keepdims=k),
             lambda T, t, a, k: T.amax(t, dim=_dims(a, t.ndim), keepdim=k)),
    "amin": (lambda x, a, k: mnp.amin(x, axis=a, keepdims=k),
             lambda T, t, a, k: T.amin(t, dim=_dims(a, t.ndim), keepdim=k)),
    "prod": (lambda x, a, k: mnp.prod(x, axis=a, keepdims=k),
             lambda T, t, a, k: _torch_prod(t, _dims(a, t.ndim), k)),
    "var": (lambda x, a, k: mnp.var(x, axis=a, keepdims=k),
            lambda T, t, a, k: T.var(t, dim=_dims(a, t.ndim), correction=0, keepdim=k)),
    "var_ddof1": (lambda x, a, k: mnp.var(x, axis=a, ddof=1, keepdims=k),
                  lambda T, t, a, k: T.var(t, dim=_dims(a, t.ndim), correction=1, keepdim=k)),
    "std": (lambda x, a, k: mnp.std(x, axis=a, keepdims=k),
            lambda T, t, a, k: T.std(t, dim=_dims(a, t.ndim), correction=0, keepdim=k)),
    "std_ddof1": (lambda x, a, k: x.std(axis=a, ddof=1, keepdims=k),
                  lambda T, t, a, k: T.std(t, dim=_dims(a, t.ndim), correction=1, keepdim=k)),
    "logsumexp": (lambda x, a, k: mnp.logsumexp(x, axis=a, keepdims=k),
                  lambda T, t, a, k: T.logsumexp(t, dim=_dims(a, t.ndim), keepdim=k)),
}
AXES = [None, 0, -1, (0, 2), (2, 0, 1), (1,)]


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_matches_torch(torch, rng, name, axis, keepdims):
    mfn, tfn = REDUCTIONS[name]
    a = rng.uniform(0.5, 1.5, (3, 4, 2)).astype(np.float32)
    if name in ("sum", "mean", "amax", "amin", "logsumexp"):
        a = rng.standard_normal((3, 4, 2)).astype(np.float32) * 3
    assert_matches_torch(lambda x: mfn(x, axis, keepdims), lambda t: tfn(torch, t, axis, keepdims), a,
                         rng=rng)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_on_vector_and_scalar(torch, rng, name):
    mfn, tfn = REDUCTIONS[name]
    for shape, axis in (((6,), 0), ((6,), None), ((), None)):
        if shape == () and name in ("var_ddof1", "std_ddof1"):
            continue  # one sample: n - ddof = 0 (checked in test_var_with_too_few_samples)
        a = rng.uniform(0.5, 1.5, shape).astype(np.float32)
        x, t = mnp.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, ty = mfn(x, axis, False), tfn(torch, t, axis, False)
        assert_close(y, ty, **F32, what=f"{shape} forward")
        y.backward()
        ty.backward()
        assert_close(x.grad, t.grad, **F32, what=f"{shape} grad")


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("axis", [None, 1, (0, 2)], ids=str)
def test_reduction_grad_check(rng, name, axis):
    mfn, _ = REDUCTIONS[name]
    a = rng.uniform(0.5, 1.5, (2, 3, 2))
    if name in ("amax", "amin"):
        a = rng.permutation(np.arange(12.0)).reshape(2, 3, 2) / 4  # distinct: no ties
    x = mnp.tensor(a, dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda t: mfn(t, axis, False), [x])
    assert mnp.grad_check(lambda t: mfn(t, axis, True), [x])


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "prod", "var", "std",
                                  "logsumexp"])
def test_methods_dim_and_keepdim_synonyms(rng, name):
    x = mnp.tensor(rng.uniform(0.5, 1.5, (2, 3, 4)).astype(np.float32))
    fn = getattr(mnp, name)
    ref = fn(x, axis=1, keepdims=True)
    assert ref.shape == (2, 1, 4)
    others = [getattr(x, name)(axis=1, keepdims=True), fn(x, dim=1, keepdim=True),
              getattr(x, name)(dim=-2, keepdim=True)]
    if name not in ("var", "std"):   # their third positional is ddof
        others.append(fn(x, 1, True))
    for other in others:
        assert_close(other, ref, rtol=0, atol=0)
    assert fn(x, dim=(0, -1)).shape == (3,)
    with pytest.raises(TypeError, match=name):
        fn(x, axis=0, dim=1)


def test_axis_errors_are_shape_errors():
    x = mnp.ones(2, 3)
    for fn in (mnp.sum, mnp.mean, mnp.max, mnp.prod, mnp.var, mnp.logsumexp):
        with pytest.raises(mnp.ShapeError, match="out of range"):
            fn(x, axis=2)
        with pytest.raises(mnp.ShapeError, match="repeated"):
            fn(x, axis=(1, -1))


def test_max_min_ties_share_gradient_like_torch_amax(torch):
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], np.float32)
    for name, tname in (("amax", "amax"), ("amin", "amin")):
        for axis in (None, 1, 0):
            x, t = mnp.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
            getattr(mnp, name)(x, axis=axis).sum().backward()
            dims = (0, 1) if axis is None else axis
            getattr(torch, tname)(t, dim=dims).sum().backward()
            assert_close(x.grad, t.grad, rtol=0, atol=1e-7, what=f"{name} axis={axis}")
    x = mnp.tensor(a, requires_grad=True)
    x.amax(axis=1).sum().backward()
    assert_close(x.grad, [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-7, atol=0)


@pytest.mark.parametrize("a", [[2.0, 0.0, 3.0, 4.0], [0.0, 0.0, 3.0, 4.0],
                               [[1.0, 0.0, 2.0], [0.0, 5.0, 0.0], [1.5, 2.0, -3.0]]], ids=str)
def test_prod_gradient_with_zeros(torch, a):
    a = np.asarray(a, np.float32)
    axes = [None, -1, 0] if a.ndim == 2 else [None, 0]
    for axis in axes:
        x, t = mnp.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y = mnp.prod(x, axis=axis)
        ty = t.prod() if axis is None else t.prod(axis)
        assert_close(y, ty, **F32)
        y.sum().backward()
        ty.sum().backward()
        assert np.isfinite(x.grad.data).all()
        assert_close(x.grad, t.grad, **F32, what=f"axis={axis}")
    x = mnp.tensor([2.0, 0.0, 3.0], dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(mnp.prod, [x])
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 6.0, 0.0]


def test_var_std_options_and_degenerate_cases(torch, rng):
    a = rng.standard_normal((4, 5)).astype(np.float32)
    x, t = mnp.tensor(a), torch.tensor(a)
    assert_close(mnp.var(x, 1, correction=1), t.var(1), **F32)
    assert_close(mnp.var(x, 1, True), t.var(1, True), **F32)      # PyTorch's positional form
    assert_close(mnp.std(x, correction=1), t.std(), **F32)
    assert_close(mnp.var(x, 0), np.var(a, 0), **F32)
    with pytest.raises(mnp.MnpError, match="ddof or correction"):
        mnp.var(x, ddof=1, correction=1)
    # a constant row: std's gradient is 0, as in PyTorch
    c = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]], np.float32)
    x, t = mnp.tensor(c, requires_grad=True), torch.tensor(c, requires_grad=True)
    mnp.std(x, axis=1).sum().backward()
    t.std(1, correction=0).sum().backward()
    assert x.grad.tolist()[0] == [0.0, 0.0, 0.0]
    assert_close(x.grad, t.grad, **F32)


def test_var_with_too_few_samples_gives_nan_like_torch(torch):
    x = mnp.tensor([[2.0]], requires_grad=True)
    with np.errstate(**NO_FP_WARNINGS):
        y = mnp.var(x, axis=1, ddof=1)
    with pytest.warns(UserWarning, match="degrees of freedom"):
        ty = torch.tensor([[2.0]]).var(1)
    assert np.isnan(y.data).all() and np.isnan(ty.numpy()).all()


def test_integer_and_bool_dtypes():
    i = mnp.tensor([[1, 2], [3, 4]])
    assert mnp.sum(i).dtype == mnp.int64 and mnp.sum(i).item() == 10
    assert mnp.sum(mnp.tensor([True, True, False])).item() == 2
    assert mnp.sum(mnp.tensor([True, True])).dtype == mnp.int64
    assert mnp.prod(i).dtype == mnp.int64 and mnp.prod(i).item() == 24
    assert mnp.amax(i, axis=0).tolist() == [3, 4] and mnp.max(i).dtype == mnp.int64
    assert mnp.mean(i).dtype == mnp.float32 and mnp.mean(i).item() == 2.5
    assert mnp.var(i).dtype == mnp.float32 and mnp.var(i).item() == 1.25
    assert mnp.logsumexp(mnp.tensor([0, 0])).dtype == mnp.float32
    d = mnp.tensor([1.0, 2.0], dtype=mnp.float64, requires_grad=True)
    for fn in (mnp.sum, mnp.mean, mnp.max, mnp.prod, mnp.var, mnp.std, mnp.logsumexp):
        y = fn(d)
        assert y.dtype == mnp.float64
        y.backward()
        assert d.grad.dtype == mnp.float64
        d.zero_grad()


def test_empty_reductions():
    e = mnp.zeros(0, 3)
    assert mnp.sum(e).item() == 0.0
    assert mnp.sum(e, axis=0).tolist() == [0.0, 0.0, 0.0]
    assert np.isnan(mnp.mean(e).item())
    assert mnp.max(e, axis=1).values.shape == (0,) == mnp.amax(e, axis=1).shape   # nothing per output
    assert mnp.logsumexp(e, axis=0).tolist() == [-np.inf] * 3
    for fn in (mnp.max, mnp.min, mnp.argmax, mnp.argmin):
        with pytest.raises(mnp.ShapeError, match=rf"{fn.__name__}: .*\(0, 3\)"):
            fn(e, axis=0)


# -- argmax / argmin ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_argmin_match_torch(torch, rng, name, axis, keepdims):
    a = rng.integers(0, 4, (3, 4, 2)).astype(np.float32)   # many ties: first one wins
    x = mnp.tensor(a, requires_grad=True)
    y = getattr(mnp, name)(x, axis=axis, keepdims=keepdims)
    ty = getattr(torch, name)(torch.tensor(a), dim=axis, keepdim=keepdims)
    assert y.dtype == mnp.int64 and not y.requires_grad and y.grad_fn is None
    assert y.shape == tuple(ty.shape)
    assert y.tolist() == ty.tolist()
    assert getattr(x, name)(dim=axis, keepdim=keepdims).tolist() == ty.tolist()


def test_argmax_rejects_tuple_axis_and_works_on_ints():
    x = mnp.tensor([[1, 5, 2], [7, 0, 7]])
    assert mnp.argmax(x, axis=1).tolist() == [1, 0] and mnp.argmin(x).item() == 4
    with pytest.raises(mnp.MnpError, match="argmax: axis must be an int"):
        mnp.argmax(x, axis=(0, 1))
    with pytest.raises(mnp.ShapeError, match="argmin"):
        mnp.argmin(x, axis=2)


# -- logsumexp stability --------------------------------------------------------------------
def test_logsumexp_is_stable(torch):
    big = mnp.tensor([[1000.0, 1000.0], [-1000.0, -1000.0], [1e30, 0.0]], requires_grad=True)
    y = mnp.logsumexp(big, axis=1)
    assert_close(y, [1000.0 + np.log(2.0), -1000.0 + np.log(2.0), 1e30], rtol=1e-6)
    y.sum().backward()
    assert_close(big.grad, [[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]], atol=1e-7)


def test_logsumexp_of_minus_inf_rows():
    inf = np.inf
    x = mnp.tensor([[-inf, -inf, -inf], [-inf, 0.0, -inf], [1.0, 2.0, 3.0]], requires_grad=True)
    with np.errstate(**NO_FP_WARNINGS):
        y = mnp.logsumexp(x, axis=-1)
        y.sum().backward()
    assert y.tolist()[0] == -inf and y.tolist()[1] == 0.0
    assert_close(y.data[2], np.log(np.exp([1.0, 2.0, 3.0]).sum()), **F32)
    # an all -inf row has no finite gradient to give: it gets zeros, never NaN
    assert x.grad.tolist()[0] == [0.0, 0.0, 0.0]
    assert x.grad.tolist()[1] == [0.0, 1.0, 0.0]
    assert np.isfinite(x.grad.data).all()
    assert mnp.logsumexp(mnp.tensor([inf, 0.0])).item() == inf
