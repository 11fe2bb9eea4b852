"""gather / scatter / index_* / masked ops / take / nonzero against PyTorch (values, gradients,
dtypes, shapes), float64 finite differences, and the errors for bad index dtypes and ranges."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.testing import assert_matches_torch

IDX = np.array([[2, 0, 1, 2], [1, 1, 0, 0], [0, 2, 2, 1]])   # (3, 4) into a (3, 5) or (4, 4) input


def _pair(torch, a):
    return mnp.tensor(a), torch.tensor(a)


def test_gather_matches_torch(torch, rng):
    for dim, shape, idx in ((0, (4, 4), IDX), (1, (3, 5), IDX), (-1, (3, 5), IDX[:2, :3]),
                            (0, (5,), np.array([4, 0, 0]))):
        i, ti = _pair(torch, idx)
        assert_matches_torch(lambda x: mnp.gather(x, dim, i), lambda t: torch.gather(t, dim, ti),
                             rng.standard_normal(shape), rng=rng, what=f"dim {dim}")
    i, ti = _pair(torch, IDX)
    assert_matches_torch(lambda x: x.gather(1, i), lambda t: t.gather(1, ti),
                         rng.standard_normal((3, 5)), dtype=np.float64)
    y = mnp.gather(mnp.tensor([[1, 2], [3, 4]]), 1, mnp.tensor([[1, 1], [0, 0]]))
    assert y.dtype == mnp.int64 and y.tolist() == [[2, 2], [3, 3]]


@pytest.mark.filterwarnings("ignore:The reduce argument")
def test_scatter_and_scatter_add_match_torch(torch, rng):
    uniq = np.array([[2, 0, 1], [1, 2, 0]])          # no duplicate along dim 1: defined
    i, ti = _pair(torch, uniq)
    src = rng.standard_normal((2, 3))             # (torch's backward needs src shaped as index)
    assert_matches_torch(lambda x, s: mnp.scatter(x, 1, i, s),
                         lambda x, s: torch.scatter(x, 1, ti, s), rng.standard_normal((3, 3)), src,
                         rng=rng, what="scatter")
    assert_matches_torch(lambda x: x.scatter(1, i, value=2.5), lambda t: t.scatter(1, ti, value=2.5),
                         rng.standard_normal((2, 3)), what="scatter value")
    dup, tdup = _pair(torch, IDX)
    for dim, shape in ((0, (3, 4)), (1, (3, 3))):
        assert_matches_torch(lambda x, s: mnp.scatter_add(x, dim, dup, s),
                             lambda x, s: torch.scatter_add(x, dim, tdup, s),
                             rng.standard_normal(shape), rng.standard_normal((3, 4)), rng=rng,
                             what=f"scatter_add dim {dim}")
    assert_matches_torch(lambda x, s: x.scatter(0, dup, s, reduce="add"),
                         lambda x, s: x.scatter_add(0, tdup, s),
                         rng.standard_normal((3, 4)), rng.standard_normal((3, 4)))
    x, s = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))   # (torch: forward only)
    np.testing.assert_allclose(
        mnp.tensor(x).scatter(0, dup, mnp.tensor(s), reduce="multiply").numpy(),
        torch.tensor(x).scatter(0, tdup, torch.tensor(s), reduce="multiply").numpy(), rtol=1e-6)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_matches_torch(torch, rng, reduce):
    i, ti = _pair(torch, IDX)
    x = rng.standard_normal((3, 4))
    src = rng.standard_normal((3, 4))
    src[0, 1] = 0.0                                   # a zero factor for prod
    for include in (True, False):
        assert_matches_torch(
            lambda a, s: mnp.scatter_reduce(a, 0, i, s, reduce, include_self=include),
            lambda a, s: torch.scatter_reduce(a, 0, ti, s, reduce, include_self=include),
            x, src, rng=rng, what=f"{reduce} include_self={include}")


def test_src_larger_than_index_uses_its_leading_block(torch, rng):
    """Only ``src[:3, :4]`` is read; the rest gets zero gradient (torch's own backward
    rejects this case, so the forward is compared and the gradient checked directly)."""
    x, s = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    for name in ("scatter", "scatter_add"):
        ours = getattr(mnp, name)(mnp.tensor(x), 0, mnp.tensor(IDX[:, :4] % 3), mnp.tensor(s))
        theirs = getattr(torch, name)(torch.tensor(x), 0, torch.tensor(IDX[:, :4] % 3), torch.tensor(s))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    src = mnp.tensor(s, requires_grad=True)
    mnp.scatter_add(mnp.tensor(x), 0, mnp.tensor(IDX), src).sum().backward()
    expected = np.zeros((4, 5))
    expected[:3, :4] = 1
    np.testing.assert_array_equal(src.grad.numpy(), expected)


def test_scatter_reduce_ties_and_integers(torch):
    x = np.array([[1.0, 5.0, 3.0]])
    s = np.array([[5.0, 5.0, 2.0]])
    i = np.array([[1, 1, 0]])
    assert_matches_torch(lambda a, b: a.scatter_reduce(1, mnp.tensor(i), b, "amax"),
                         lambda a, b: a.scatter_reduce(1, torch.tensor(i), b, "amax"), x, s)
    ints = mnp.scatter_reduce(mnp.tensor([[1, 2, 3]]), 1, mnp.tensor([[0, 0]]),
                              mnp.tensor([[2, 4]]), "mean")
    assert ints.dtype == mnp.int64 and ints.tolist() == [[2, 2, 3]]


def test_index_ops_match_torch(torch, rng):
    i, ti = _pair(torch, np.array([2, 0, 2]))
    assert_matches_torch(lambda x: mnp.index_select(x, 1, i), lambda t: torch.index_select(t, 1, ti),
                         rng.standard_normal((2, 3, 2)), rng=rng)
    assert_matches_torch(lambda x, s: x.index_add(1, i, s, alpha=2.0),
                         lambda x, s: x.index_add(1, ti, s, alpha=2.0),
                         rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 3, 2)), rng=rng)
    u, tu = _pair(torch, np.array([2, 0]))
    assert_matches_torch(lambda x, s: mnp.index_copy(x, 0, u, s),
                         lambda x, s: torch.index_copy(x, 0, tu, s),
                         rng.standard_normal((3, 2)), rng.standard_normal((2, 2)), rng=rng)
    n, tn = _pair(torch, np.array([-1, 0]))
    assert_matches_torch(lambda x: x.index_fill(1, n, -3.0), lambda t: t.index_fill(1, tn, -3.0),
                         rng.standard_normal((2, 3)), rng=rng)
    p, tp = _pair(torch, np.array([2, 0]))           # (torch's backward of a tensor value needs
    assert_matches_torch(lambda x, v: x.index_fill(1, p, v.sum()),   # indices >= 0)
                         lambda x, v: x.index_fill(1, tp, v.sum()),
                         rng.standard_normal((2, 3)), rng.standard_normal(2), rng=rng)


def test_masked_ops_match_torch(torch, rng):
    m = rng.random((2, 3)) > 0.4
    tm = torch.tensor(m)
    mm = mnp.tensor(m)
    assert_matches_torch(lambda x: mnp.masked_select(x, mm), lambda t: torch.masked_select(t, tm),
                         rng.standard_normal(3), rng=rng, what="masked_select broadcast")
    assert_matches_torch(lambda x: x.masked_fill(mm, 0.5), lambda t: t.masked_fill(tm, 0.5),
                         rng.standard_normal((2, 3)), rng=rng, what="masked_fill")
    assert_matches_torch(lambda x, v: mnp.masked_fill(x, mm, v.sum()),
                         lambda x, v: torch.masked_fill(x, tm, v.sum()),
                         rng.standard_normal(3), rng.standard_normal(2), rng=rng,
                         what="masked_fill tensor value, broadcast input")
    assert_matches_torch(lambda x, s: x.masked_scatter(mm, s), lambda x, s: x.masked_scatter(tm, s),
                         rng.standard_normal(3), rng.standard_normal(7), rng=rng,
                         what="masked_scatter")
    y = mnp.masked_fill(mnp.tensor([1, 2, 3]), mnp.tensor([True, False, True]), 2.7)
    assert y.dtype == mnp.int64 and y.tolist() == [2, 2, 2]


def test_take_and_take_along_dim_match_torch(torch, rng):
    i, ti = _pair(torch, np.array([[5, 1], [0, 5]]))
    assert_matches_torch(lambda x: mnp.take(x, i), lambda t: torch.take(t, ti),
                         rng.standard_normal((2, 3)), rng=rng)
    x = rng.standard_normal((2, 3))                  # negatives count from the end (forward: torch's
    neg = np.array([-1, -6, 2])                      # backward rejects them)
    np.testing.assert_array_equal(mnp.take(mnp.tensor(x), mnp.tensor(neg)).numpy(),
                                  torch.take(torch.tensor(x), torch.tensor(neg)).numpy())
    j, tj = _pair(torch, np.array([[2], [-3]]))
    assert_matches_torch(lambda x: mnp.take_along_dim(x, j, 1),
                         lambda t: torch.take_along_dim(t, tj, 1), rng.standard_normal((2, 3)))
    k, tk = _pair(torch, np.array([[[0, 1]]]))        # broadcast against (2, 3, 4) outside dim 2
    assert_matches_torch(lambda x: x.take_along_dim(k, 2), lambda t: t.take_along_dim(tk, 2),
                         rng.standard_normal((2, 3, 4)), rng=rng)
    assert_matches_torch(lambda x: mnp.take_along_dim(x, i), lambda t: torch.take_along_dim(t, ti),
                         rng.standard_normal((2, 3)), rng=rng)


def test_nonzero_argwhere_and_where(torch, rng):
    a = (rng.random((3, 4)) > 0.5) * rng.standard_normal((3, 4))
    for x in (a, a[0], np.float32(2.0), np.zeros((2, 0))):
        ours, theirs = mnp.tensor(x), torch.tensor(x)
        nz, tnz = mnp.nonzero(ours), torch.nonzero(theirs)
        assert nz.dtype == mnp.int64 and nz.shape == tuple(tnz.shape)
        np.testing.assert_array_equal(nz.numpy(), tnz.numpy())
        np.testing.assert_array_equal(mnp.argwhere(ours).numpy(), torch.argwhere(theirs).numpy())
        for o, t in zip(ours.nonzero(as_tuple=True), torch.nonzero(theirs, as_tuple=True),
                        strict=True):
            np.testing.assert_array_equal(o.numpy(), t.numpy())
        for o, t in zip(mnp.where(ours > 0), torch.where(theirs > 0), strict=True):
            np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_gradients_by_finite_differences(rng):
    f64 = lambda a: mnp.tensor(a, dtype=mnp.float64, requires_grad=True)  # noqa: E731
    i = mnp.tensor(IDX)
    x, s = f64(rng.standard_normal((3, 4))), f64(rng.standard_normal((3, 5)))
    s.data[1, 1] = 0.0
    for reduce in ("sum", "prod", "mean", "amax"):
        assert mnp.grad_check(lambda a, b: mnp.scatter_reduce(a, 0, i, b, reduce), [x, s])
    assert mnp.grad_check(lambda a: mnp.gather(a, 0, i), [f64(rng.standard_normal((4, 4)))])
    v = mnp.tensor([1, 0])
    assert mnp.grad_check(lambda a, b: mnp.index_add(a, 1, v, b), [x, f64(rng.standard_normal((3, 2)))])
    m = mnp.tensor(rng.random((3, 4)) > 0.5)
    assert mnp.grad_check(lambda a, b: a.masked_scatter(m, b), [x, f64(rng.standard_normal(12))])


def test_bad_index_dtypes_are_errors():
    x = mnp.ones(2, 3)
    f32 = mnp.tensor([[0.0]])
    i32 = mnp.tensor([0], dtype=mnp.int32)
    for call in (lambda: mnp.gather(x, 1, f32), lambda: x.scatter_add(1, f32, x),
                 lambda: mnp.index_select(x, 1, mnp.tensor([0.0])), lambda: mnp.take(x, i32),
                 lambda: mnp.take_along_dim(x, i32.reshape(1, 1), 1),
                 lambda: mnp.index_copy(x, 1, i32, mnp.ones(2, 1)),
                 lambda: mnp.index_fill(x, 1, i32, 0.0), lambda: mnp.gather(x, 1, [[0]])):
        with pytest.raises(mnp.DTypeError, match="(index|indices) must .*int64"):
            call()
    assert mnp.gather(x, 1, mnp.tensor([[1]], dtype=mnp.int32)).shape == (1, 1)  # as torch
    with pytest.raises(mnp.DTypeError, match="masked_fill: mask must have dtype bool, got int64"):
        x.masked_fill(mnp.tensor([1, 0, 1]), 0.0)
    with pytest.raises(mnp.DTypeError, match="masked_select"):
        mnp.masked_select(x, mnp.tensor([1, 0, 1]))


def test_out_of_range_and_shape_errors():
    x = mnp.ones(2, 3)
    cases = [(lambda: mnp.gather(x, 1, mnp.tensor([[3]])), "gather: index 3 is out of bounds for dimension 1 with size 3"),
             (lambda: mnp.gather(x, 1, mnp.tensor([[-1]])), "gather: index -1 is out of bounds"),
             (lambda: mnp.scatter(x, 0, mnp.tensor([[2]]), x), "scatter: index 2 .* dimension 0 with size 2"),
             (lambda: mnp.index_select(x, 1, mnp.tensor([5])), "index_select: index 5 .* size 3"),
             (lambda: mnp.index_add(x, 0, mnp.tensor([-1]), mnp.ones(1, 3)), "index_add: index -1"),
             (lambda: mnp.take(x, mnp.tensor([6])), "take: index 6 .* size 6"),
             (lambda: mnp.take_along_dim(x, mnp.tensor([[-4]]), 1), "take_along_dim: index -4"),
             (lambda: mnp.gather(x, 1, mnp.tensor([0, 1])), "same number of dimensions"),
             (lambda: mnp.gather(x, 1, mnp.tensor([[0], [0], [0]])), "larger than input"),
             (lambda: mnp.scatter_add(x, 1, mnp.tensor([[0, 1]]), mnp.ones(1, 1)), "larger than src"),
             (lambda: mnp.index_select(x, 1, mnp.tensor([[0]])), "vector"),
             (lambda: mnp.index_add(x, 1, mnp.tensor([0]), mnp.ones(2, 2)), r"index_add: source \(2, 2\)"),
             (lambda: mnp.masked_scatter(x, x > 0, mnp.ones(5)), "5 elements, fewer than the 6"),
             (lambda: mnp.masked_fill(x, mnp.tensor([True, False]), 0.0), "masked_fill"),
             (lambda: mnp.masked_fill(x, x > 0, mnp.ones(1)), "0-d")]
    for call, msg in cases:
        with pytest.raises(mnp.ShapeError, match=msg):
            call()
    with pytest.raises(mnp.ArgumentError, match="scatter_reduce: reduce must be one of"):
        mnp.scatter_reduce(x, 0, mnp.tensor([[0]]), x, "max")
    with pytest.raises(mnp.AxisError, match="gather"):
        mnp.gather(x, 2, mnp.tensor([[0]]))


def test_in_place_forms(torch, rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    i = np.array([[0, 2, 1, 0]])
    m = a > 0
    calls = [("scatter_", (0, i, a[:1])), ("scatter_add_", (0, i, a[:1])),
             ("index_add_", (1, np.array([3, 3]), a[:, :2])), ("index_copy_", (0, np.array([2]), a[:1])),
             ("index_fill_", (1, np.array([1]), -1.0)), ("masked_fill_", (m, 0.0)),
             ("masked_scatter_", (m, a.reshape(-1)))]
    for name, args in calls:
        ours, theirs = mnp.tensor(a), torch.tensor(a)
        conv = [mnp.tensor(v) if isinstance(v, np.ndarray) else v for v in args]
        tconv = [torch.tensor(v) if isinstance(v, np.ndarray) else v for v in args]
        assert getattr(ours, name)(*conv) is ours
        getattr(theirs, name)(*tconv)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), err_msg=name)
    ours = mnp.tensor(a)
    ours.scatter_reduce_(0, mnp.tensor(i), mnp.tensor(a[:1]), "amax", include_self=False)
    theirs = torch.tensor(a).scatter_reduce_(0, torch.tensor(i), torch.tensor(a[:1]), "amax",
                                             include_self=False)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    with pytest.raises(mnp.AutogradError, match="masked_fill_: .*leaf Variable"):
        mnp.ones(2, requires_grad=True).masked_fill_(mnp.tensor([True, False]), 0.0)
    with pytest.raises(mnp.ShapeError, match=r"masked_fill_: output with shape \[3\]"):
        mnp.ones(3).masked_fill_(mnp.ones(2, 3) > 0, 0.0)


@pytest.mark.parametrize("name", ["scatter_", "scatter_add_", "index_add_", "index_copy_",
                                  "masked_scatter_"])
def test_in_place_forms_are_recorded_by_autograd(torch, rng, name):
    """As in PyTorch, the in-place forms on a tensor in the graph, with an operand that
    requires grad, pass gradients to both."""
    a = rng.standard_normal((3, 4))         # float64 on both sides
    src = rng.standard_normal((3, 4))
    args = {"scatter_": (0, np.array([[0, 2, 1, 0]])), "scatter_add_": (0, np.array([[0, 2, 1, 0]])),
            "index_add_": (1, np.array([3, 3])), "index_copy_": (0, np.array([2])),
            "masked_scatter_": (a > 0,)}[name]
    part = {"scatter_": src[:1], "scatter_add_": src[:1], "index_add_": src[:, :2],
            "index_copy_": src[:1], "masked_scatter_": src.reshape(-1)}[name]

    def run(lib, tensor):
        x, s = tensor(a, requires_grad=True), tensor(part, requires_grad=True)
        y = x * 2
        getattr(y, name)(*[tensor(v) if isinstance(v, np.ndarray) else v for v in args], s)
        (y * tensor(src)).sum().backward()
        return y.detach().numpy(), x.grad.numpy(), s.grad.numpy()

    ours = run(mnp, lambda v, **k: mnp.tensor(v, **k))
    theirs = run(torch, lambda v, **k: torch.tensor(v, **k))
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-12, atol=1e-12, err_msg=name)


def test_where_with_one_value_is_an_error():
    with pytest.raises(mnp.ArgumentError, match="where: pass both values"):
        mnp.where(mnp.tensor([True]), 1.0)


def test_amax_without_self_shares_the_gradient_among_contributors_only():
    x = mnp.tensor([2.0, 0.0], requires_grad=True)     # x[0] equals the result, but is left out
    s = mnp.tensor([1.0, 2.0], requires_grad=True)
    mnp.scatter_reduce(x, 0, mnp.tensor([0, 0]), s, "amax", include_self=False).sum().backward()
    assert s.grad.tolist() == [0.0, 1.0] and x.grad.tolist() == [0.0, 1.0]
