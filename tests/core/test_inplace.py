"""In-place ops recorded by autograd: gradients of in-place sequences as PyTorch's, version
counters and the error on a changed saved value, leaf rules, slice assignment and views."""
import numpy as np
import pytest

import mnp.core as mnp
from mnp.core import AutogradError, DTypeError, ShapeError
from mnp.core.testing import assert_matches_torch


def _iadd(x, y):
    c = x * 2
    c += c + y
    return c


def _chain(x, y):
    c = x * 1
    c.mul_(y)
    c.add_(y, alpha=2)
    c.sub_(x)
    c.div_(y + 3)
    c.pow_(2)
    return c


def _unary(x, y):
    c = x * y
    c.sigmoid_()
    d = x * y
    d.tanh_()
    e = x - y
    e.relu_()
    f = x + 0
    f.exp_()
    return c * d + e * f


def _clamp_masked(x, y):
    c = x * y
    c.clamp_(-0.5, 0.5)
    d = x * 3
    d.masked_fill_(d > 0, 0.25)
    return c * d


def _mul_twice_and_keep_input(x, y):
    c = x + 0
    d = c + y          # add keeps no value of c: changing c later is fine
    c.mul_(y)
    c.mul_(y)
    return d * c


def _overwrites(x, y):
    c = x * 2
    c.copy_(y)
    d = x * 2
    d.fill_(3.0)
    e = x * y
    e.zero_()
    return c * x + d * x + e + x


def _setitem(x, y):
    c = x * 2
    c[0] = y[1] * 3
    c[1:, 1] = y[:2, 0]
    c[np.array([0, 2]), 0] = 5.0
    return c * c


def _setitem_mask_and_chained_views(x, y):
    c = x * 2
    m = c > 0.5
    c[m] = y[m] * 3
    v = c[1:][:, 1:]
    v.mul_(y[:2, :1])
    c[0] += 1
    return c * c


def _view_inplace(x, y):
    c = x * 2
    v = c[1:]
    v.mul_(y[:2])
    c.T[0].add_(1)
    return c * c


@pytest.mark.parametrize("fn", [_iadd, _chain, _unary, _clamp_masked, _mul_twice_and_keep_input,
                                _overwrites, _setitem, _setitem_mask_and_chained_views,
                                _view_inplace])
def test_gradients_of_in_place_sequences_match_torch(torch, rng, fn):
    x = rng.standard_normal((3, 2))
    y = rng.uniform(0.5, 1.5, (3, 2))
    assert_matches_torch(fn, fn, x, y, rng=rng, dtype=np.float64, rtol=1e-10, atol=1e-12,
                         what=fn.__name__)


def test_in_place_from_a_tensor_not_in_the_graph_joins_it(torch):
    w = mnp.tensor([1.0, 2.0], requires_grad=True)
    z = mnp.zeros(2)
    data = z.data
    z += w * 3                  # z is changed in place and gets a node, as torch's
    assert z.data is data and z.grad_fn is not None and not z.is_leaf
    (z * z).sum().backward()
    assert w.grad.tolist() == [18.0, 36.0]


def test_version_counter_counts_in_place_changes_and_is_shared_by_views():
    x = mnp.zeros(4)
    v, d = x[1:3], x.detach()
    assert x._version == 0
    x.add_(1)
    x[0] = 2.0
    d.mul_(2)
    assert x._version == v._version == d._version == 3
    y = x + 1
    assert y._version == 0


def _error_pattern(torch, mnp_fn, torch_fn):
    """Run both; they must raise together, mnp with torch's message body."""
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as t_exc:
        torch_fn()
    expected = str(t_exc.value).split(" instead")[0]
    expected = expected.replace("torch.DoubleTensor", "mnp.float64").split(": ", 1)[1]
    with pytest.raises(AutogradError) as m_exc:
        mnp_fn()
    assert expected in str(m_exc.value)
    return str(m_exc.value)


def test_changed_saved_output_raises_as_torch(torch):
    def run(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x.exp()
        y.add_(1)
        y.sum().backward()
    msg = _error_pattern(torch, lambda: run(mnp), lambda: run(torch))
    assert "backward of Exp" in msg and "changed by add_" in msg


def test_changed_saved_input_raises_as_torch(torch):
    def run(lib, under_no_grad):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([3.0, 4.0], dtype=lib.float64, requires_grad=True)
        c = x + 0
        y = c * w
        if under_no_grad:
            with lib.no_grad():
                w.mul_(2)
        else:
            c.mul_(2)
        y.sum().backward()
    for flag in (False, True):
        msg = _error_pattern(torch, lambda: run(mnp, flag), lambda: run(torch, flag))
        assert "backward of Mul" in msg and "changed by mul_" in msg


def test_in_place_after_a_node_that_keeps_no_value_is_fine(torch):
    for lib in (mnp, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        c = x * 2
        y = (c + 1).sum() + c.sum()       # add and sum keep no values of c
        c.mul_(10)
        y.backward()
        assert x.grad.tolist() == [4.0, 4.0]


def test_changing_a_factor_whose_partner_needs_no_grad_is_fine(torch):
    for lib in (mnp, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0])
        c = x + 0
        y = c * w          # only w is kept: c's gradient is w
        c.mul_(2)
        (y + c).sum().backward()
        assert x.grad.tolist() == [5.0, 6.0]


def test_leaf_requiring_grad_is_refused_outside_no_grad(torch):
    for lib, err in ((mnp, AutogradError), (torch, RuntimeError)):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        for change in (lambda: w.add_(1), lambda: w.uniform_(), lambda: w.__setitem__(0, 1.0),
                       lambda: w.zero_(), lambda: w[:1].mul_(2)):
            with pytest.raises(err, match="leaf Variable that requires grad is being used in an "
                                          "in-place operation"):
                change()
        assert w.tolist() == [1.0, 2.0]
        with lib.no_grad():
            w.mul_(2)
            w[0] = 5.0
            w.clamp_(max=4.5)
        assert w.tolist() == [4.5, 4.0] and w.requires_grad and w.is_leaf


def test_in_place_errors_as_torch(torch):
    for lib, errs in ((mnp, (DTypeError, ShapeError)), (torch, (RuntimeError, RuntimeError))):
        i = lib.tensor([1, 2])
        with pytest.raises(errs[0], match="can't be cast to the desired output type"):
            i.add_(1.5)
        with pytest.raises(errs[0], match="can't be cast to the desired output type"):
            i.div_(2)
        f = lib.zeros(3)
        with pytest.raises(errs[1], match="doesn't match the broadcast shape"):
            f.add_(lib.ones(2, 3))
        with pytest.raises(errs[0], match="boolean masks"):
            f.masked_fill_(lib.tensor([1, 0, 1]), 0.0)
        with pytest.raises(errs[1] if lib is torch else ShapeError,
                           match="doesn't match the broadcast shape"):
            lib.zeros(3, requires_grad=True).mul(1).add_(lib.ones(2, 3, requires_grad=True))


def test_in_place_on_expanded_memory_is_refused(torch):
    for lib, err in ((mnp, AutogradError), (torch, RuntimeError)):
        e = (lib.zeros(1, requires_grad=True) * 1).expand(3)
        with pytest.raises(err, match="more than one element of the written-to tensor refers "
                                      "to a single memory location"):
            e.mul_(2)


def test_no_grad_in_place_keeps_graph_of_non_leaf_and_bumps_version():
    x = mnp.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with mnp.no_grad():
        y.add_(1)
    assert y.grad_fn is not None and y._version == 1
    (y * 1).sum().backward()          # mul by a number keeps y's value, add kept none
    assert x.grad.tolist() == [2.0, 2.0]


def test_grad_mode_helpers():
    x = mnp.ones(2, requires_grad=True)

    @mnp.enable_grad
    def inner():
        return x * 2

    with mnp.no_grad():
        assert inner().requires_grad
        with mnp.enable_grad():
            assert (x * 2).requires_grad
    assert x.dim() == x.ndimension() == 1 and x.is_leaf and not (x * 2).is_leaf
    z = mnp.zeros(2)
    assert z.requires_grad_() is z and z.requires_grad
