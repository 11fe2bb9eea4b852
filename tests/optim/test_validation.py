"""Bad optimizer input raises OptimizerError (an MnpError and a ValueError) naming the
optimizer and the offending value."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import optim


def _p(*shape):
    return mnp.zeros(*(shape or (2,)), requires_grad=True)


BAD_OPTIONS = [
    ("SGD", dict(lr=-0.1), r"SGD: invalid learning rate lr=-0\.1"),
    ("SGD", dict(lr=0.1, momentum=-0.5), r"momentum=-0\.5"),
    ("SGD", dict(lr=0.1, weight_decay=-1e-4), r"weight_decay=-0\.0001"),
    ("SGD", dict(lr=0.1, nesterov=True), r"nesterov=True needs momentum > 0.*momentum=0"),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), r"dampening=0\.1"),
    ("Momentum", dict(lr=-1.0), r"Momentum: invalid learning rate"),
    ("Adam", dict(lr=-1e-3), r"Adam: invalid learning rate"),
    ("Adam", dict(betas=(1.0, 0.999)), r"beta parameter at index 0: 1\.0"),
    ("Adam", dict(betas=(0.9, -0.1)), r"beta parameter at index 1: -0\.1"),
    ("Adam", dict(betas=(0.9,)), r"betas must be a pair"),
    ("Adam", dict(eps=-1e-8), r"eps=-1e-08"),
    ("AdamW", dict(weight_decay=-0.01), r"AdamW: invalid weight_decay=-0\.01"),
    ("RMSprop", dict(alpha=-0.5), r"alpha=-0\.5"),
    ("RMSprop", dict(eps=-1.0), r"eps=-1\.0"),
    ("RMSprop", dict(momentum=-0.1), r"momentum=-0\.1"),
    ("Adagrad", dict(lr_decay=-0.1), r"lr_decay=-0\.1"),
    ("Adagrad", dict(initial_accumulator_value=-1.0), r"initial_accumulator_value=-1\.0"),
]


@pytest.mark.parametrize("name,kw,message", BAD_OPTIONS,
                         ids=[f"{n}-{'-'.join(k)}" for n, k, _ in BAD_OPTIONS])
def test_bad_hyperparameters(name, kw, message):
    with pytest.raises(optim.OptimizerError, match=message) as info:
        getattr(optim, name)([_p()], **kw)
    assert isinstance(info.value, mnp.MnpError) and isinstance(info.value, ValueError)


def test_bad_option_in_a_group_names_the_group():
    with pytest.raises(optim.OptimizerError, match=r"param group 1: invalid learning rate"):
        optim.SGD([{"params": [_p()]}, {"params": [_p()], "lr": -1.0}], lr=0.1)
    opt = optim.Adam([_p()])
    with pytest.raises(optim.OptimizerError, match=r"param group 1: invalid beta"):
        opt.add_param_group({"params": [_p()], "betas": (0.9, 1.5)})
    assert len(opt.param_groups) == 1


def test_bad_parameter_lists():
    frozen = mnp.zeros(3)
    with pytest.raises(optim.OptimizerError, match=r"parameter 1 \(shape \(3,\)\) does not require grad"):
        optim.SGD([_p(), frozen], lr=0.1)
    with pytest.raises(optim.OptimizerError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(optim.OptimizerError, match="empty parameter list"):
        optim.Adam(iter([]))
    with pytest.raises(optim.OptimizerError, match="param group 0: got an empty parameter list"):
        optim.Adam([{"params": []}])
    with pytest.raises(optim.OptimizerError, match="single Tensor"):
        optim.SGD(_p(), lr=0.1)
    with pytest.raises(optim.OptimizerError, match="got a set"):
        optim.SGD({_p()}, lr=0.1)
    with pytest.raises(optim.OptimizerError, match="is a ndarray, not a Tensor"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(optim.OptimizerError, match="no 'params' entry"):
        optim.SGD([{"lr": 0.1}], lr=0.1)
    x = _p()
    with pytest.raises(optim.OptimizerError, match="not a leaf"):
        optim.SGD([x * 2], lr=0.1)
    with pytest.raises(optim.OptimizerError, match="more than once"):
        optim.SGD([x, x], lr=0.1)


def test_parameter_in_two_groups():
    a, b = _p(), _p()
    with pytest.raises(optim.OptimizerError, match=r"param group 1: parameters \[0\] already belong"):
        optim.SGD([{"params": [a, b]}, {"params": [a]}], lr=0.1)
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(optim.OptimizerError, match="already belong"):
        opt.add_param_group({"params": [b, a]})
    opt.add_param_group({"params": [b], "lr": 0.5})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0  # filled from the defaults


def test_required_default_must_be_set_by_each_group():
    class Custom(optim.Optimizer):
        def __init__(self, params, lr=optim.required):
            super().__init__(params, {"lr": lr})

    with pytest.raises(optim.OptimizerError, match="must set 'lr'"):
        Custom([_p()])
    assert Custom([{"params": [_p()], "lr": 0.1}]).param_groups[0]["lr"] == 0.1
    opt = Custom([{"params": [_p()], "lr": 0.1}])
    w = opt.param_groups[0]["params"][0]
    w.grad = mnp.ones(2)
    with pytest.raises(optim.OptimizerError, match="Custom defines no update rule"):
        opt.step()


def test_gradient_of_the_wrong_shape():
    w = _p(2, 3)
    opt = optim.SGD([w], lr=0.1)
    w.grad = mnp.ones(3, 2)
    with pytest.raises(mnp.ShapeError, match=r"SGD.step: gradient of shape \(3, 2\) does not "
                                             r"match its parameter of shape \(2, 3\)"):
        opt.step()
