"""mnp.core.testing's PyTorch parity helpers pass on agreement and fail on every kind of
disagreement: value, gradient, dtype, shape, output count and a missing gradient."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.testing import assert_matches_torch, assert_parameter_grads_match, copy_parameters


def test_agreeing_functions_pass_and_return_outputs(torch, rng):
    y, ty = assert_matches_torch(lambda a, b: a * b + mnp.tanh(a), lambda a, b: a * b + a.tanh(),
                                 rng.standard_normal((3, 4)), rng.standard_normal(4), rng=rng)
    assert y.shape == (3, 4) and tuple(ty.shape) == (3, 4) and y.dtype == mnp.float32


def test_tuple_outputs_are_compared_one_by_one(torch, rng):
    a = rng.standard_normal((5, 2))
    ys, _ = assert_matches_torch(lambda x: mnp.split(x, 2), lambda t: torch.split(t, 2), a)
    assert len(ys) == 3
    with pytest.raises(AssertionError, match="3 outputs, torch gives 2"):
        assert_matches_torch(lambda x: mnp.split(x, 2), lambda t: torch.split(t, 3), a)
    with pytest.raises(AssertionError, match="output 1"):
        assert_matches_torch(lambda x: (x, x * 2), lambda t: (t, t * 3), a)


def test_wrong_value_fails(torch, rng):
    with pytest.raises(AssertionError, match="key 3: output 0"):
        assert_matches_torch(mnp.tanh, torch.sin, rng.standard_normal(4), what="key 3")


def test_wrong_gradient_fails(torch, rng):
    # same values, but the mnp side lets only half the gradient through
    def half_grad(x):
        return x * 0.5 + x.detach() * 0.5

    with pytest.raises(AssertionError, match="grad of input 0"):
        assert_matches_torch(half_grad, lambda t: t, rng.standard_normal(4))


def test_missing_gradient_fails(torch, rng):
    with pytest.raises(AssertionError, match="grad of input 1: None"):
        assert_matches_torch(lambda x, y: x + y.detach(), lambda x, y: x + y,
                             rng.standard_normal(3), rng.standard_normal(3))


def test_wrong_dtype_and_shape_fail(torch, rng):
    a = rng.standard_normal((2, 3))
    with pytest.raises(AssertionError, match="dtype float64"):
        assert_matches_torch(lambda x: x.astype(mnp.float64), lambda t: t, a)
    with pytest.raises(AssertionError, match=r"shape \(3, 2\) != torch \(2, 3\)"):
        assert_matches_torch(lambda x: x.T, lambda t: t, a)


def test_a_zero_tensor_gradient_from_torch_is_compared(torch):
    """torch.sgn's gradient is a ZeroTensor, which plain ``.numpy()`` refuses."""
    assert_matches_torch(mnp.sgn, torch.sgn, np.array([-1.5, 2.0]))
    with pytest.raises(AssertionError, match="grad of input 0"):
        assert_matches_torch(lambda x: mnp.sgn(x) + x - x.detach(), torch.sgn, np.array([-1.5, 2.0]))


def test_tolerances_are_applied(torch):
    a = np.array([1.0, 2.0])
    assert_matches_torch(lambda x: x * 1.001, lambda t: t, a, rtol=1e-2)
    with pytest.raises(AssertionError):
        assert_matches_torch(lambda x: x * 1.001, lambda t: t, a)


class _One:
    """The smallest thing with named parameters: one weight."""

    def __init__(self, w):
        self.weight = mnp.tensor(w, dtype=mnp.float32, requires_grad=True)

    def named_parameters(self):
        return iter([("weight", self.weight)])


def test_copy_parameters_and_parameter_grads(torch, rng):
    ours, theirs = _One(rng.standard_normal((2, 3))), torch.nn.Linear(3, 2, bias=False)
    copy_parameters(ours, theirs)
    np.testing.assert_array_equal(theirs.weight.detach().numpy(), ours.weight.data)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    (mnp.tensor(x) @ ours.weight.T).sum().backward()
    theirs(torch.from_numpy(x)).sum().backward()
    assert_parameter_grads_match(ours, theirs)
    ours.weight.grad = ours.weight.grad * 2
    with pytest.raises(AssertionError, match="layer weight"):
        assert_parameter_grads_match(ours, theirs, what="layer ")
