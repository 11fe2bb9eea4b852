"""Shape ops: forward and gradient against PyTorch, float64 grad_check, hypothesis shapes,
and the errors on bad input."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp.core.testing import F32, assert_close, assert_matches_torch

FAST = settings(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def arr(rng, *shape):
    return rng.standard_normal(shape)


# -- reshape family ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape,new", [((2, 3, 4), (6, 4)), ((2, 3, 4), (-1,)), ((2, 3, 4), (4, -1, 2)),
                                       ((6,), (1, 6, 1)), ((), (1,))])
def test_reshape_and_view_match_torch(torch, rng, shape, new):
    a = arr(rng, *shape)
    assert_matches_torch(lambda x: x.reshape(*new), lambda t: t.reshape(*new), a)
    assert_matches_torch(lambda x: mnp.view(x, new), lambda t: t.view(new), a)


def test_reshape_is_a_view_and_errors_name_both_shapes():
    x = mnp.arange(6.0)
    y = mnp.reshape(x, [2, 3])
    assert np.shares_memory(x.data, y.data)
    with pytest.raises(mnp.ShapeError, match=r"reshape: .*\(6,\).*\(4,\)"):
        x.reshape(4)
    with pytest.raises(mnp.ShapeError, match="reshape"):
        x.reshape(2.5, 2)


@pytest.mark.parametrize("start,end", [(0, -1), (1, -1), (0, 1), (1, 2), (-2, -1), (2, 2)])
def test_flatten_matches_torch(torch, rng, start, end):
    assert_matches_torch(lambda x: x.flatten(start, end), lambda t: t.flatten(start, end),
                         arr(rng, 2, 3, 4, 5))


def test_flatten_edge_cases():
    assert mnp.flatten(mnp.tensor(3.0)).shape == (1,)
    with pytest.raises(mnp.ShapeError, match="flatten"):
        mnp.flatten(mnp.zeros(2, 3, 4), 2, 1)
    with pytest.raises(mnp.ShapeError, match="flatten: axis 3"):
        mnp.flatten(mnp.zeros(2, 3, 4), 3)


@pytest.mark.parametrize("axis", [None, 0, 2, -1, (0, 2)])
def test_squeeze_matches_torch(torch, rng, axis):
    a = arr(rng, 1, 3, 1, 1)
    tf = (lambda t: t.squeeze()) if axis is None else (lambda t: t.squeeze(axis))
    assert_matches_torch(lambda x: x.squeeze(axis), tf, a)


def test_squeeze_leaves_non_unit_axis_and_accepts_dim():
    x = mnp.zeros(2, 1, 3)
    assert mnp.squeeze(x, 0).shape == (2, 1, 3)
    assert mnp.squeeze(x, dim=1).shape == (2, 3)
    with pytest.raises(mnp.ShapeError, match="squeeze: axis 3"):
        mnp.squeeze(x, 3)


@pytest.mark.parametrize("dim", [0, 1, 3, -1, -4])
def test_unsqueeze_matches_torch(torch, rng, dim):
    assert_matches_torch(lambda x: x.unsqueeze(dim), lambda t: t.unsqueeze(dim), arr(rng, 2, 3, 4))


def test_unsqueeze_out_of_range():
    with pytest.raises(mnp.ShapeError, match="unsqueeze: axis 4"):
        mnp.unsqueeze(mnp.zeros(2, 3, 4), 4)


@pytest.mark.parametrize("axis", [0, -1, (0, 2), (1, -1)])
def test_expand_dims_matches_numpy(rng, axis):
    a = arr(rng, 2, 3)
    y = mnp.expand_dims(mnp.tensor(a), axis)
    assert y.shape == np.expand_dims(a, axis).shape
    assert_close(y, np.expand_dims(a, axis))


# -- permutations -----------------------------------------------------------------------------
@pytest.mark.parametrize("perm", [(0, 1, 2), (2, 0, 1), (1, 2, 0), (-1, 0, 1)])
def test_transpose_and_permute_match_torch(torch, rng, perm):
    a = arr(rng, 2, 3, 4)
    assert_matches_torch(lambda x: mnp.transpose(x, perm), lambda t: t.permute(perm), a)
    assert_matches_torch(lambda x: x.permute(*perm), lambda t: t.permute(*perm), a)
    assert_matches_torch(lambda x: mnp.permute(x, perm), lambda t: torch.permute(t, perm), a)


def test_transpose_two_dims_and_default(torch, rng):
    a = arr(rng, 2, 3, 4)
    assert_matches_torch(lambda x: x.transpose(0, 2), lambda t: t.transpose(0, 2), a)
    assert_matches_torch(lambda x: mnp.transpose(x), lambda t: t.permute(2, 1, 0), a)
    assert_matches_torch(lambda x: x.T, lambda t: t.permute(2, 1, 0), a)
    x = mnp.tensor(a)
    assert np.shares_memory(x.permute(1, 0, 2).data, x.data)


def test_bad_permutations():
    x = mnp.zeros(2, 3, 4)
    with pytest.raises(mnp.ShapeError, match="permute: .*not a permutation.*\\(2, 3, 4\\)"):
        x.permute(0, 1)
    with pytest.raises(mnp.ShapeError, match="repeated axis"):
        mnp.transpose(x, (0, 0, 1))
    with pytest.raises(mnp.ShapeError, match="out of range"):
        x.transpose(0, 3)


@pytest.mark.parametrize("a0,a1", [(0, 2), (1, -1), (2, 2)])
def test_swapaxes_matches_torch(torch, rng, a0, a1):
    a = arr(rng, 2, 3, 4)
    assert_matches_torch(lambda x: mnp.swapaxes(x, a0, a1), lambda t: torch.swapaxes(t, a0, a1), a)
    assert_matches_torch(lambda x: x.swapdims(a0, a1), lambda t: t.swapdims(a0, a1), a)


@pytest.mark.parametrize("src,dst", [(0, -1), (-1, 0), ((0, 1), (2, 0)), ((0, 2), (1, 0))])
def test_movedim_matches_torch(torch, rng, src, dst):
    assert_matches_torch(lambda x: mnp.movedim(x, src, dst), lambda t: torch.movedim(t, src, dst),
                         arr(rng, 2, 3, 4))


# -- broadcasting -----------------------------------------------------------------------------
def test_broadcast_to_and_expand_match_torch(torch, rng):
    assert_matches_torch(lambda x: mnp.broadcast_to(x, (4, 2, 3)), lambda t: t.broadcast_to((4, 2, 3)),
                         arr(rng, 2, 1))
    assert_matches_torch(lambda x: x.expand(5, -1, 4), lambda t: t.expand(5, -1, 4), arr(rng, 3, 1))
    x = mnp.zeros(3, 1)
    assert np.shares_memory(x.expand(3, 4).data, x.data)


def test_broadcast_errors():
    with pytest.raises(mnp.ShapeError, match=r"broadcast_to: shape \(3,\) cannot be broadcast to \(2,\)"):
        mnp.broadcast_to(mnp.zeros(3), (2,))
    with pytest.raises(mnp.ShapeError, match="expand"):
        mnp.zeros(2, 3).expand(3)


# -- joining and splitting --------------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat_and_cat_match_torch(torch, rng, axis):
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for s, n in zip(shapes, (1, 2, 3)):
        s[axis] = n
    arrays = [arr(rng, *s) for s in shapes]
    assert_matches_torch(lambda *xs: mnp.concat(list(xs), axis), lambda *ts: torch.cat(ts, axis), *arrays)
    assert_matches_torch(lambda *xs: mnp.cat(xs, dim=axis), lambda *ts: torch.cat(ts, dim=axis), *arrays)


def test_concat_promotes_and_routes_gradient_only_where_needed():
    a = mnp.ones(2, requires_grad=True)
    b = mnp.tensor([1, 2])
    y = mnp.concat([a, b, mnp.zeros(1, dtype=mnp.float64)])
    assert y.dtype == np.float64 and y.tolist() == [1.0, 1.0, 1.0, 2.0, 0.0]
    (y * mnp.arange(5.0)).sum().backward()
    assert a.grad.dtype == np.float32 and a.grad.tolist() == [0.0, 1.0]


def test_concat_errors_name_both_shapes():
    with pytest.raises(mnp.ShapeError, match=r"concat: shapes \(2, 3\) and \(2, 4\)"):
        mnp.concat([mnp.zeros(2, 3), mnp.zeros(2, 4)])
    with pytest.raises(mnp.ShapeError, match=r"concat: shapes \(2, 3\) and \(3,\)"):
        mnp.cat([mnp.zeros(2, 3), mnp.zeros(3)], dim=1)
    with pytest.raises(mnp.ShapeError, match="concat: axis 2"):
        mnp.concat([mnp.zeros(2, 3)], axis=2)
    with pytest.raises(mnp.ShapeError, match="concat: zero-dimensional"):
        mnp.concat([mnp.tensor(1.0), mnp.tensor(2.0)])
    with pytest.raises(mnp.ShapeError, match="non-empty"):
        mnp.concat([])


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack_matches_torch(torch, rng, axis):
    arrays = [arr(rng, 2, 3) for _ in range(3)]
    assert_matches_torch(lambda *xs: mnp.stack(xs, axis), lambda *ts: torch.stack(ts, axis), *arrays)
    assert_matches_torch(lambda *xs: mnp.stack(list(xs), dim=axis), lambda *ts: torch.stack(ts, dim=axis),
                         *arrays)


def test_stack_errors_name_both_shapes():
    with pytest.raises(mnp.ShapeError, match=r"stack: shapes \(2, 3\) and \(3, 2\)"):
        mnp.stack([mnp.zeros(2, 3), mnp.zeros(3, 2)])
    with pytest.raises(mnp.ShapeError, match="stack: axis 3"):
        mnp.stack([mnp.zeros(2, 3)], axis=3)


@pytest.mark.parametrize("spec,axis", [(2, 0), (3, 1), (4, 1), ([1, 4], 1), ([2, 0, 3], -1), (5, 0)])
def test_split_matches_torch(torch, rng, spec, axis):
    a = arr(rng, 5, 5)
    assert_matches_torch(lambda x: x.split(spec, axis), lambda t: torch.split(t, spec, axis), a)
    assert_matches_torch(lambda x: mnp.split(x, spec, dim=axis), lambda t: t.split(spec, dim=axis), a)


def test_split_pieces_carry_their_own_gradient():
    x = mnp.arange(5.0).requires_grad_()
    p, q, r = mnp.split(x, 2)
    (q * 3).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 3.0, 3.0, 0.0]
    with pytest.raises(mnp.ShapeError, match=r"split: sizes \(2, 2\) do not add up to 5"):
        mnp.split(x, [2, 2])
    with pytest.raises(mnp.ShapeError, match="split"):
        mnp.split(x, 0)


@pytest.mark.parametrize("chunks", [1, 2, 3, 6])
def test_chunk_matches_torch(torch, rng, chunks):
    assert_matches_torch(lambda x: x.chunk(chunks, 1), lambda t: t.chunk(chunks, 1), arr(rng, 2, 5))


@pytest.mark.parametrize("shape,dim", [((3, 4, 2), 0), ((3, 4, 2), 1), ((3, 4, 2), -1), ((1,), 0)])
def test_unbind_matches_torch(torch, rng, shape, dim):
    a = arr(rng, *shape)
    assert_matches_torch(lambda x: x.unbind(dim), lambda t: t.unbind(dim), a)
    assert_matches_torch(lambda x: mnp.unbind(x, dim), lambda t: torch.unbind(t, dim), a)
    x = mnp.tensor(a, dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda t: mnp.stack([p * (i + 1) for i, p in enumerate(t.unbind(dim))]), [x])


def test_unpacking_a_tensor_matches_torch_when_pieces_are_used_unevenly(torch, rng):
    """``q, k, v = x``: pieces used twice, once, or not at all."""
    def f(x):
        q, k, v = x
        return q * k + q.exp()

    assert_matches_torch(f, f, arr(rng, 3, 2, 4))
    assert_matches_torch(lambda x: [r * 2 for r in x], lambda t: [r * 2 for r in t], arr(rng, 4, 3))


def test_unbind_errors_name_the_op():
    with pytest.raises(mnp.ShapeError, match=r"unbind: a zero-dimensional tensor"):
        mnp.unbind(mnp.tensor(1.0))
    with pytest.raises(IndexError, match="unbind"):
        mnp.zeros(2, 3).unbind(2)
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(mnp.tensor(1.0))


# -- padding, flipping, repeating -------------------------------------------------------------
@pytest.mark.parametrize("widths", [((0, 0), (1, 2)), ((2, 1), (0, 3)), ((1, 1), (1, 1))])
def test_pad_matches_torch(torch, rng, widths):
    (b0, a0), (b1, a1) = widths
    assert_matches_torch(lambda x: mnp.pad(x, widths, value=1.5),
                         lambda t: torch.nn.functional.pad(t, (b1, a1, b0, a0), value=1.5), arr(rng, 3, 4))


@pytest.mark.parametrize("widths", [1, (1, 2), ((1, 2),), [[0, 1], [2, 0], [1, 1]], 0])
def test_pad_width_forms_match_numpy(rng, widths):
    a = arr(rng, 2, 3, 2)
    x = mnp.tensor(a, requires_grad=True)
    y = mnp.pad(x, widths, value=-1)
    assert_close(y, np.pad(a.astype(np.float32), widths, constant_values=-1))
    y.sum().backward()
    assert_close(x.grad, np.ones_like(a))


def test_pad_errors():
    with pytest.raises(mnp.ShapeError, match=r"pad: .*\(2, 3\)"):
        mnp.pad(mnp.zeros(2, 3), ((1, 1), (1, 1), (1, 1)))
    with pytest.raises(mnp.ShapeError, match="non-negative"):
        mnp.pad(mnp.zeros(2, 3), -1)
    with pytest.raises(mnp.ShapeError, match="integers"):
        mnp.pad(mnp.zeros(2, 3), 1.5)


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
def test_flip_matches_torch(torch, rng, axis):
    dims = (0, 1, 2) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    assert_matches_torch(lambda x: x.flip(axis), lambda t: t.flip(dims), arr(rng, 2, 3, 4))
    x = mnp.zeros(2, 3)
    assert np.shares_memory(mnp.flip(x, dim=0).data, x.data)


@pytest.mark.parametrize("repeats,axis", [(2, None), (3, 0), (2, 1), ([1, 0, 2], 1), ([2, 1], 0),
                                          (0, 1)])
def test_repeat_is_numpys_and_matches_repeat_interleave(torch, rng, repeats, axis):
    a = arr(rng, 2, 3)
    tr = torch.tensor(repeats) if isinstance(repeats, list) else repeats
    assert_matches_torch(lambda x: mnp.repeat(x, repeats, axis), lambda t: t.repeat_interleave(tr, axis), a)
    assert_matches_torch(lambda x: x.repeat_interleave(repeats, dim=axis),
                         lambda t: torch.repeat_interleave(t, tr, dim=axis), a)
    assert_close(mnp.repeat(mnp.tensor(a), repeats, axis), np.repeat(a, repeats, axis), **F32)


def test_repeat_gradient_sums_copies_and_errors():
    x = mnp.tensor([1.0, 2.0], requires_grad=True)
    mnp.repeat(x, [3, 1]).sum().backward()
    assert x.grad.tolist() == [3.0, 1.0]
    with pytest.raises(mnp.ShapeError, match="repeat"):
        mnp.repeat(x, [1, 2, 3])
    with pytest.raises(mnp.ShapeError, match="repeat"):
        mnp.repeat(x, -1)


@pytest.mark.parametrize("sizes", [(2, 1), (1, 3), (2, 2, 1), (3, 1, 2, 2)])
def test_tensor_repeat_tiles_like_torch(torch, rng, sizes):
    assert_matches_torch(lambda x: x.repeat(*sizes), lambda t: t.repeat(*sizes), arr(rng, 2, 3))


def test_tensor_repeat_needs_a_size_per_dimension():
    with pytest.raises(mnp.ShapeError, match="repeat"):
        mnp.zeros(2, 3).repeat(2)


@pytest.mark.parametrize("reps", [2, (2,), (2, 1), (1, 2, 3), (3, 1, 1)])
def test_tile_matches_torch(torch, rng, reps):
    treps = reps if isinstance(reps, tuple) else (reps,)
    assert_matches_torch(lambda x: mnp.tile(x, reps), lambda t: torch.tile(t, treps), arr(rng, 2, 3))


# -- float64 finite differences for every op --------------------------------------------------
GRAD_CASES = {
    "reshape": lambda x: x.reshape(4, 6),
    "flatten": lambda x: mnp.flatten(x, 1),
    "transpose": lambda x: mnp.transpose(x, (2, 0, 1)),
    "permute": lambda x: x.permute(1, 2, 0),
    "swapaxes": lambda x: mnp.swapaxes(x, 0, 2),
    "movedim": lambda x: mnp.movedim(x, 0, -1),
    "squeeze": lambda x: mnp.squeeze(x[:1], 0),
    "unsqueeze": lambda x: x.unsqueeze(1),
    "expand_dims": lambda x: mnp.expand_dims(x, (0, 3)),
    "broadcast_to": lambda x: mnp.broadcast_to(x, (3, 2, 3, 4)),
    "expand": lambda x: x[:, :1].expand(2, 5, 4),
    "concat": lambda x: mnp.concat([x, x * 2], axis=1),
    "stack": lambda x: mnp.stack([x, x * x], axis=2),
    "split": lambda x: mnp.split(x, [1, 2], 1)[1],
    "chunk": lambda x: mnp.chunk(x, 2, -1)[0],
    "pad": lambda x: mnp.pad(x, ((1, 0), (0, 2), (1, 1)), value=3),
    "flip": lambda x: mnp.flip(x, (0, 2)),
    "repeat": lambda x: mnp.repeat(x, [2, 0, 1], axis=1),
    "repeat_flat": lambda x: mnp.repeat(x, 2),
    "tensor_repeat": lambda x: x.repeat(2, 1, 2),
    "tile": lambda x: mnp.tile(x, (2, 1, 1, 2)),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_grad_check(rng, name):
    x = mnp.tensor(arr(rng, 2, 3, 4), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(GRAD_CASES[name], [x])


# -- hypothesis: shapes -----------------------------------------------------------------------
dims = st.lists(st.integers(1, 4), min_size=0, max_size=4)


@FAST
@given(shape=dims, data=st.data())
def test_reshape_round_trip_and_permutations(shape, data):
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    x = mnp.tensor(a, requires_grad=True)
    perm = data.draw(st.permutations(range(len(shape))))
    y = mnp.transpose(x, perm)
    assert y.shape == tuple(shape[p] for p in perm)
    np.testing.assert_array_equal(y.data, np.transpose(a, perm))
    flat = y.reshape(-1)
    assert flat.shape == (a.size,)
    w = np.arange(a.size, dtype=np.float32)
    (flat * mnp.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.transpose(w.reshape(y.shape), np.argsort(perm)))


@FAST
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3), n=st.integers(1, 3), data=st.data())
def test_stack_and_concat_shapes(shape, n, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    ext = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    parts = []
    for k in ext:
        s = list(shape)
        s[axis] = k
        parts.append(np.ones(s, np.float32) * len(parts))
    xs = [mnp.tensor(p, requires_grad=True) for p in parts]
    y = mnp.concat(xs, axis)
    np.testing.assert_array_equal(y.data, np.concatenate(parts, axis))
    y.sum().backward()
    assert all(x.grad.shape == x.shape for x in xs)
    same = [mnp.tensor(np.full(shape, i, np.float32)) for i in range(n)]
    sax = data.draw(st.integers(-len(shape) - 1, len(shape)))
    np.testing.assert_array_equal(mnp.stack(same, sax).data, np.stack([s.data for s in same], sax))
