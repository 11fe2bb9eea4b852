"""roll / rot90 / fliplr / flipud / narrow / unflatten / meshgrid / Tensor.unfold, and the
existing repeat_interleave / tile / Tensor.repeat / movedim, against PyTorch (values,
gradients, dtypes, shapes); float64 finite differences; hypothesis shape properties; errors."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp.core.testing import assert_matches_torch


def test_roll_rot90_and_flips_match_torch(torch, rng):
    a = rng.standard_normal((2, 3, 4))
    for args in ((1,), (-5,), (2, 1), ((1, -2), (0, 2)), ((3,), (-1,))):
        assert_matches_torch(lambda x: mnp.roll(x, *args), lambda t: torch.roll(t, *args), a,
                             rng=rng, what=f"roll {args}")
    for k, dims in ((1, (0, 1)), (2, (1, 2)), (-1, (2, 0)), (7, (0, 2))):
        assert_matches_torch(lambda x: x.rot90(k, dims), lambda t: t.rot90(k, dims), a, rng=rng,
                             what=f"rot90 {k} {dims}")
    assert_matches_torch(mnp.fliplr, torch.fliplr, a, rng=rng)
    assert_matches_torch(lambda x: x.flipud(), lambda t: t.flipud(), a[0, 0], rng=rng)


def test_narrow_unflatten_and_meshgrid_match_torch(torch, rng):
    a = rng.standard_normal((3, 4))
    for dim, start, length in ((1, 1, 2), (0, -2, 2), (-1, 0, 0), (1, 4, 0)):
        assert_matches_torch(lambda x: x.narrow(dim, start, length),
                             lambda t: t.narrow(dim, start, length), a, what=f"narrow {start}")
    assert mnp.narrow(mnp.tensor(a), 1, mnp.tensor(1), 2).shape == (3, 2)
    for dim, sizes in ((1, (2, 2)), (0, (-1, 1)), (-1, [1, 4, 1])):
        assert_matches_torch(lambda x: mnp.unflatten(x, dim, sizes),
                             lambda t: torch.unflatten(t, dim, sizes), a, what=f"unflatten {sizes}")
    for indexing in ("ij", "xy"):
        assert_matches_torch(lambda *xs: mnp.meshgrid(*xs, indexing=indexing),
                             lambda *ts: torch.meshgrid(*ts, indexing=indexing),
                             rng.standard_normal(2), rng.standard_normal(3), rng.standard_normal(4),
                             rng=rng, what=indexing)
    assert_matches_torch(lambda x, y: mnp.meshgrid([x, y]), lambda x, y: torch.meshgrid([x, y], indexing="ij"),
                         rng.standard_normal(()), rng.standard_normal(3))


def test_unfold_matches_torch(torch, rng):
    a = rng.standard_normal((2, 7))
    for dim, size, step in ((1, 3, 1), (1, 3, 2), (-1, 2, 5), (0, 2, 1), (1, 7, 3), (1, 0, 2)):
        assert_matches_torch(lambda x: x.unfold(dim, size, step), lambda t: t.unfold(dim, size, step),
                             a, rng=rng, what=f"unfold {dim} {size} {step}")
    assert mnp.tensor(2.0).unfold(0, 1, 1).shape == tuple(torch.tensor(2.0).unfold(0, 1, 1).shape)


def test_existing_repeat_tile_movedim_match_torch(torch, rng):
    a = rng.standard_normal((2, 3))
    r, tr = mnp.tensor([1, 0, 2]), torch.tensor([1, 0, 2])
    cases = [(lambda x: mnp.repeat_interleave(x, 2), lambda t: torch.repeat_interleave(t, 2)),
             (lambda x: x.repeat_interleave(r, dim=1), lambda t: t.repeat_interleave(tr, dim=1)),
             (lambda x: x.repeat_interleave(3, dim=0), lambda t: t.repeat_interleave(3, dim=0)),
             (lambda x: x.tile(2), lambda t: t.tile(2)),
             (lambda x: mnp.tile(x, (2, 1, 2)), lambda t: torch.tile(t, (2, 1, 2))),
             (lambda x: x.repeat(2, 1, 3), lambda t: t.repeat(2, 1, 3)),
             (lambda x: x.repeat((1, 2)), lambda t: t.repeat((1, 2))),
             (lambda x: mnp.movedim(x.unsqueeze(0), (0, 2), (2, 0)), lambda t: torch.movedim(t.unsqueeze(0), (0, 2), (2, 0))),
             (lambda x: x.movedim(-1, 0), lambda t: t.movedim(-1, 0))]
    for i, (f, tf) in enumerate(cases):
        assert_matches_torch(f, tf, a, rng=rng, what=f"case {i}")


def test_gradients_by_finite_differences(rng):
    x = mnp.tensor(rng.standard_normal((3, 5)), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda a: mnp.roll(a, (1, -2), (0, 1)), [x])
    assert mnp.grad_check(lambda a: mnp.rot90(a, 3), [x])
    assert mnp.grad_check(lambda a: a.unfold(1, 3, 1), [x])      # overlapping windows
    assert mnp.grad_check(lambda a: a.unfold(1, 4, 1), [x])      # more offsets than windows
    assert mnp.grad_check(lambda a: mnp.meshgrid(a[0], a[1, :2])[0] * mnp.meshgrid(a[0], a[1, :2])[1], [x])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3), data=st.data())
def test_roll_and_unfold_shapes(shape, data):
    x = mnp.tensor(np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape))
    dim = data.draw(st.integers(0, len(shape) - 1))
    shift = data.draw(st.integers(-7, 7))
    rolled = mnp.roll(x, shift, dim)
    assert rolled.shape == x.shape
    np.testing.assert_array_equal(mnp.roll(rolled, -shift, dim).numpy(), x.numpy())
    size = data.draw(st.integers(0, shape[dim]))
    step = data.draw(st.integers(1, 4))
    u = x.unfold(dim, size, step)
    n = (shape[dim] - size) // step + 1
    assert u.shape == tuple(shape[:dim]) + (n,) + tuple(shape[dim + 1:]) + (size,)
    if size:
        first = np.moveaxis(x.numpy(), dim, -1)[..., :size]
        np.testing.assert_array_equal(np.moveaxis(u.numpy(), dim, -2)[..., 0, :], first)


def test_errors():
    x = mnp.ones(2, 3)
    for call, msg in ((lambda: mnp.roll(x, (1, 2), 0), "roll: shifts .* must have the same length"),
                      (lambda: mnp.roll(x, (1, 2)), "roll: 2 shifts"),
                      (lambda: mnp.rot90(x, 1, (0, 0)), "rot90: the rotation dims must differ"),
                      (lambda: mnp.rot90(mnp.ones(3)), "rot90: input must have at least 2"),
                      (lambda: mnp.fliplr(mnp.ones(3)), "fliplr"),
                      (lambda: mnp.flipud(mnp.tensor(1.0)), "flipud"),
                      (lambda: x.narrow(1, 2, 2), r"narrow: start \(2\) \+ length \(2\) exceeds"),
                      (lambda: x.narrow(1, -4, 1), "narrow: start -4 is out of range"),
                      (lambda: x.unflatten(1, (2, 2)), "unflatten: sizes .* do not multiply up to the size 3"),
                      (lambda: mnp.meshgrid(x), "meshgrid: expected 0-d or 1-d"),
                      (lambda: x.unfold(1, 4, 1), "unfold: size 4 does not fit dimension 1 of size 3"),
                      (lambda: x.unfold(1, 2, 0), "unfold: step must be positive")):
        with pytest.raises(mnp.ShapeError, match=msg):
            call()
    with pytest.raises(mnp.ArgumentError, match="meshgrid: indexing"):
        mnp.meshgrid(mnp.ones(2), indexing="yx")
    with pytest.raises(mnp.AxisError, match="roll"):
        mnp.roll(x, 1, 2)
