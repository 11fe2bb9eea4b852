"""max / min over one dim as PyTorch's (values, indices) named tuples, amax / amin / aminmax,
any / all / count_nonzero, dtype= of sum / prod / mean, nansum / nanmean, var_mean / std_mean
and the mnp.core.linalg norms: values, indices, gradients and dtypes against PyTorch."""
from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.testing import assert_close, assert_matches_torch


def _distinct(rng, shape):
    return rng.permutation(np.arange(float(np.prod(shape)))).reshape(shape) / 4 - 1


# -- max / min ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim, keepdim", [(0, False), (1, True), (-1, False)])
def test_max_min_over_a_dim_give_values_and_indices_like_torch(torch, rng, name, dim, keepdim):
    a = _distinct(rng, (3, 4))
    (v, i), tv = assert_matches_torch(lambda x: getattr(x, name)(dim, keepdim),
                                      lambda t: getattr(t, name)(dim, keepdim), a, rng=rng)
    assert i.dtype == mnp.int64 and not i.requires_grad
    r = getattr(mnp, name)(mnp.tensor(a), dim=dim, keepdim=keepdim)
    assert type(r).__name__ == name and r._fields == ("values", "indices")
    assert r.indices.tolist() == tv.indices.tolist() and r[0].tolist() == r.values.tolist()
    assert getattr(mnp, name)(mnp.tensor(a), axis=dim, keepdims=keepdim).indices.tolist() \
        == tv.indices.tolist()


def test_max_over_a_dim_sends_the_gradient_to_the_first_tied_maximum(torch):
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], np.float32)
    for name in ("max", "min"):
        x, t = mnp.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        v, i = getattr(x, name)(1)
        tv, ti = getattr(t, name)(1)
        assert i.tolist() == ti.tolist() == ([1, 0] if name == "max" else [0, 0])
        v.sum().backward()
        tv.sum().backward()
        assert_close(x.grad, t.grad, rtol=0, atol=0, what=name)


def test_max_of_everything_is_0d_and_ties_share_the_gradient(torch):
    a = np.array([[1.0, 3.0], [3.0, 2.0]], np.float32)
    for name in ("max", "min"):
        y, _ = assert_matches_torch(lambda x: getattr(x, name)(), lambda t: getattr(t, name)(), a)
        assert y.shape == ()


def test_max_with_a_tensor_is_the_elementwise_maximum(torch, rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    assert_matches_torch(lambda x, y: x.max(y), lambda x, y: x.max(y), a, b)
    assert_matches_torch(lambda x, y: mnp.min(x, y), lambda x, y: torch.min(x, y), a, b)
    with pytest.raises(mnp.ArgumentError, match="max: with a tensor"):
        mnp.tensor(a).max(mnp.tensor(b), keepdim=True)


def test_max_over_a_tuple_of_dims_gives_the_values_as_amax(torch, rng):
    a = rng.standard_normal((2, 3, 4))
    assert_matches_torch(lambda x: x.max((0, 2)), lambda t: t.amax((0, 2)), a)
    assert_matches_torch(lambda x: mnp.min(x, dim=(-1,), keepdim=True),
                         lambda t: t.amin((-1,), keepdim=True), a)


def test_max_of_ints_of_0d_and_errors():
    i = mnp.tensor([[1, 5, 2], [7, 0, 7]])
    v, idx = i.max(1)
    assert v.dtype == mnp.int64 and v.tolist() == [5, 7] and idx.tolist() == [1, 0]
    v, idx = mnp.tensor(2.5).max(0)
    assert v.shape == idx.shape == () and v.item() == 2.5 and idx.item() == 0
    with pytest.raises(mnp.ShapeError, match=r"max: .*\(0, 3\)"):
        mnp.zeros(0, 3).max(0)
    assert mnp.zeros(0, 3).max(1).indices.shape == (0,)
    with pytest.raises(mnp.AxisError, match=r"min: axis 2 .*\[-2, 1\]"):
        i.min(2)
    with pytest.raises(mnp.ShapeError, match=r"max: repeated axis"):
        i.max((1, -1))
    for bad in (1.5, True, "1"):
        with pytest.raises(mnp.ArgumentError, match="max: dim must be an int"):
            i.max(bad)


def test_named_tuples_print_pickle_and_unpack():
    r = mnp.tensor([[1.0, 4.0]]).max(dim=1)
    text = repr(r)
    assert text.startswith("mnp.core.return_types.max(\nvalues=tensor(") and "indices=" in text
    back = pickle.loads(pickle.dumps(r))
    assert type(back) is mnp.return_types.max and back.indices.tolist() == [1]
    lo, hi = mnp.aminmax(mnp.tensor([3.0, -1.0]))
    assert (lo.item(), hi.item()) == (-1.0, 3.0)
    assert mnp.return_types.aminmax._fields == ("min", "max")


def test_aminmax_matches_torch(torch, rng):
    a = _distinct(rng, (3, 4))
    assert_matches_torch(lambda x: mnp.aminmax(x), lambda t: torch.aminmax(t), a)
    assert_matches_torch(lambda x: x.aminmax(dim=-1, keepdim=True),
                         lambda t: t.aminmax(dim=-1, keepdim=True), a)


def test_max_over_a_dim_gradient_in_float64(rng):
    x = mnp.tensor(_distinct(rng, (3, 4)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda t: t.max(1).values, [x])
    assert mnp.grad_check(lambda t: t.min(0, keepdim=True)[0], [x])
    assert mnp.grad_check(lambda t: mnp.aminmax(t, dim=1).max, [x])


# -- any / all / count_nonzero --------------------------------------------------------------
@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, True), ((0, -1), False)])
def test_any_all_count_nonzero_match_torch(torch, dim, keepdim):
    arrays = [np.array([[0.0, np.nan, 0.0], [1.0, 2.0, 0.0]]), np.array([[0, 0, 3], [0, 4, 5]]),
              np.array([[True, False, True], [True, True, True]]), np.zeros((0, 3))]
    for a in arrays:
        x, t = mnp.tensor(a), torch.tensor(a)
        for name in ("any", "all"):
            got = getattr(x, name)(dim=dim, keepdim=keepdim)
            want = getattr(t, name)() if dim is None else getattr(t, name)(dim, keepdim=keepdim)
            assert got.dtype == mnp.bool and got.tolist() == want.tolist(), (name, a)
        if not keepdim:
            got = mnp.count_nonzero(x, dim)
            assert got.dtype == mnp.int64 and got.tolist() == torch.count_nonzero(t, dim).tolist()


# -- dtype=, nansum, nanmean ----------------------------------------------------------------
def test_dtype_argument_converts_first(torch):
    a = np.array([[1, 2], [3, 40000]], np.int32)
    x, t = mnp.tensor(a), torch.tensor(a)
    assert x.sum().dtype == mnp.int64 and x.sum(0).tolist() == t.sum(0).tolist()
    for name, dt, tdt in (("sum", mnp.float64, torch.float64), ("prod", mnp.float32, torch.float32),
                          ("mean", mnp.float64, torch.float64)):
        got, want = getattr(x, name)(dtype=dt), getattr(t, name)(dtype=tdt)
        assert got.dtype == dt and got.item() == pytest.approx(want.item(), rel=1e-6)
    f = np.array([1.5, 2.5], np.float32)
    assert_matches_torch(lambda x: x.sum(dtype=mnp.float64), lambda t: t.sum(dtype=torch.float64), f)


def test_nansum_nanmean_match_torch(torch):
    a = np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, np.nan]])
    assert_matches_torch(lambda x: x.nansum(), lambda t: t.nansum(), a)
    assert_matches_torch(lambda x: mnp.nansum(x, dim=1), lambda t: t.nansum(1), a)
    assert_matches_torch(lambda x: x.nanmean(0), lambda t: t.nanmean(0), a[:, [0, 2]])
    assert_matches_torch(lambda x: mnp.nanmean(x, 1, keepdim=True),
                         lambda t: t.nanmean(1, keepdim=True), a[:1])
    x = mnp.tensor(a, requires_grad=True)       # an all-NaN slice: NaN, and a zero gradient
    y = x.nanmean(1)
    assert np.isnan(y.data[1]) and y.data[0] == 1.5
    y[1].backward()
    assert x.grad.tolist() == [[0.0] * 3] * 2
    assert mnp.nansum(mnp.tensor([1, 2])).item() == 3


# -- var_mean / std_mean --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
def test_var_mean_std_mean_match_torch(torch, rng, name):
    a = rng.standard_normal((3, 4))
    m, t = getattr(mnp, name), getattr(torch, name)
    assert_matches_torch(lambda x: m(x), lambda x: t(x), a)
    assert_matches_torch(lambda x: m(x, 1, keepdim=True), lambda x: t(x, 1, keepdim=True), a)
    assert_matches_torch(lambda x: m(x, (0, 1), correction=0), lambda x: t(x, (0, 1), correction=0), a)
    assert_matches_torch(lambda x: m(x, 0, False), lambda x: t(x, 0, False), a)
    assert_matches_torch(lambda x: m(x, False), lambda x: t(x, False), a)
    with pytest.raises(mnp.ArgumentError, match=f"{name}: pass unbiased or correction"):
        m(mnp.tensor(a), 0, True, correction=1)


def test_var_std_take_unbiased(torch, rng):
    a = rng.standard_normal((3, 4))
    assert_matches_torch(lambda x: x.var(1, unbiased=True), lambda t: t.var(1, unbiased=True), a)
    assert_matches_torch(lambda x: mnp.std(x, unbiased=False), lambda t: t.std(unbiased=False), a)


# -- mnp.core.linalg ------------------------------------------------------------------------
@pytest.mark.parametrize("ord", [2, 1, math.inf, -math.inf, 0.5, 3.5])
def test_linalg_vector_norm_matches_torch(torch, rng, ord):
    a = rng.standard_normal((3, 4))
    assert_matches_torch(lambda x: mnp.linalg.vector_norm(x, ord),
                         lambda t: torch.linalg.vector_norm(t, ord), a)
    assert_matches_torch(lambda x: mnp.linalg.vector_norm(x, ord, dim=(0,), keepdim=True),
                         lambda t: torch.linalg.vector_norm(t, ord, dim=(0,), keepdim=True), a)


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, math.inf, -math.inf, 2, -2])
def test_linalg_matrix_norm_matches_torch_with_gradients(torch, rng, ord):
    a = rng.standard_normal((2, 3, 4))
    assert_matches_torch(lambda x: mnp.linalg.matrix_norm(x, ord),
                         lambda t: torch.linalg.matrix_norm(t, ord), a, rtol=1e-3, atol=1e-4)
    assert_matches_torch(lambda x: mnp.linalg.matrix_norm(x, ord, dim=(0, 2), keepdim=True),
                         lambda t: torch.linalg.matrix_norm(t, ord, dim=(0, 2), keepdim=True),
                         a, rtol=1e-3, atol=1e-4)
    x = mnp.tensor(a, dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda t: mnp.linalg.matrix_norm(t, ord), [x])


def test_linalg_norm_picks_vector_or_matrix_norm_as_torch(torch, rng):
    m, v, b = rng.standard_normal((3, 4)), rng.standard_normal(5), rng.standard_normal((2, 3, 4))
    cases = [(m, {}), (m, {"ord": 2}), (m, {"ord": "nuc"}), (m, {"ord": 1, "dim": 1}),
             (v, {"ord": math.inf}), (b, {}), (b, {"dim": (1, 2), "ord": -2}),
             (b, {"dim": -1, "keepdim": True})]
    for a, kw in cases:
        assert_matches_torch(lambda x: mnp.linalg.norm(x, **kw),
                             lambda t: torch.linalg.norm(t, **kw), a, rtol=1e-3, atol=1e-4,
                             what=str(kw))
    with pytest.raises(mnp.ShapeError, match="norm: .*1-d or 2-d"):
        mnp.linalg.norm(mnp.tensor(b), ord=2)
    with pytest.raises(mnp.ShapeError, match="norm: ord 'fro'"):
        mnp.linalg.norm(mnp.tensor(v), ord="fro", dim=0)
