"""mnp.nn.init: fan computation as PyTorch's, gains, bounds and statistics, in-place fills."""
from __future__ import annotations

import math

import numpy as np
import pytest

import mnp.core as mnp
from mnp.nn import init

SHAPES = [(30, 20), (16, 8, 3, 3), (5, 4, 7), (6, 2, 2, 3, 4)]


@pytest.mark.parametrize("shape", SHAPES)
def test_fan_in_fan_out_like_torch(torch, shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_fan_in_and_fan_out(mnp.empty(*shape)) == expected
    assert init.calculate_fan_in_and_fan_out(mnp.empty(*shape)) == expected


def test_fan_needs_two_dimensions():
    with pytest.raises(mnp.ShapeError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(mnp.empty(5))


@pytest.mark.parametrize("nl,param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                      ("tanh", None), ("relu", None), ("leaky_relu", None),
                                      ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)),
                                      ("selu", None)])
def test_calculate_gain_like_torch(torch, nl, param):
    assert init.calculate_gain(nl, param) == pytest.approx(torch.nn.init.calculate_gain(nl, param))


def test_unknown_nonlinearity():
    with pytest.raises(mnp.MnpError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def _stats(t):
    return float(t.data.mean()), float(t.data.std()), float(np.abs(t.data).max())


def test_uniform_and_normal():
    mnp.manual_seed(0)
    t = mnp.empty(200, 300)
    assert init.uniform_(t, -2.0, 3.0) is t
    assert t.data.min() >= -2.0 and t.data.max() < 3.0 and abs(t.data.mean() - 0.5) < 0.05
    init.normal_(t, 1.5, 0.5)
    mean, std, _ = _stats(t)
    assert abs(mean - 1.5) < 0.01 and abs(std - 0.5) < 0.01
    assert t.dtype == np.float32
    init.trunc_normal_(t, 0.0, 1.0, -1.0, 1.0)
    assert t.data.min() >= -1.0 and t.data.max() <= 1.0


def test_constant_zeros_ones_eye():
    t = mnp.empty(3, 4)
    assert np.all(init.zeros_(t).data == 0)
    assert np.all(init.ones_(t).data == 1)
    assert np.all(init.constant_(t, 2.5).data == 2.5)
    assert np.array_equal(init.eye_(t).data, np.eye(3, 4))


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
def test_xavier(torch, shape):
    mnp.manual_seed(1)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(mnp.empty(*shape))
    t = init.xavier_uniform_(mnp.empty(*shape), gain=2.0)
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    _, std, top = _stats(t)
    assert top <= bound and top > 0.98 * bound and abs(std - bound / math.sqrt(3)) < 0.02 * bound
    t = init.xavier_normal_(mnp.empty(*shape))
    assert abs(_stats(t)[1] - math.sqrt(2 / (fan_in + fan_out))) < 0.03 * math.sqrt(2 / (fan_in + fan_out))


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nl,a", [("relu", 0), ("leaky_relu", math.sqrt(5)), ("leaky_relu", 0.1)])
def test_kaiming(torch, mode, nl, a):
    mnp.manual_seed(2)
    shape = (128, 64, 3, 3)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(mnp.empty(*shape))
    fan = fan_in if mode == "fan_in" else fan_out
    gain = torch.nn.init.calculate_gain(nl, a)
    t = init.kaiming_uniform_(mnp.empty(*shape), a=a, mode=mode, nonlinearity=nl)
    bound = gain * math.sqrt(3 / fan)
    _, std, top = _stats(t)
    assert top <= bound and top > 0.98 * bound and abs(std - gain / math.sqrt(fan)) < 0.02 * std
    t = init.kaiming_normal_(mnp.empty(*shape), a=a, mode=mode, nonlinearity=nl)
    assert abs(_stats(t)[1] - gain / math.sqrt(fan)) < 0.02 * gain / math.sqrt(fan)
    ref = torch.nn.init.kaiming_normal_(torch.empty(shape), a=a, mode=mode, nonlinearity=nl)
    assert abs(float(ref.std()) - gain / math.sqrt(fan)) < 0.02 * gain / math.sqrt(fan)


def test_he_aliases_and_bad_mode():
    assert init.he_uniform_ is init.kaiming_uniform_ and init.he_normal_ is init.kaiming_normal_
    with pytest.raises(mnp.MnpError, match="mode"):
        init.kaiming_uniform_(mnp.empty(3, 3), mode="fan_avg")


def test_init_in_place_on_parameters_and_reproducible():
    from mnp.nn import Parameter
    p = Parameter(mnp.zeros(4, 5))
    data = p.data
    mnp.manual_seed(5)
    out = init.kaiming_uniform_(p)                 # allowed on a tensor requiring grad
    assert out is p and p.data is data and p.requires_grad
    first = p.data.copy()
    mnp.manual_seed(5)
    init.kaiming_uniform_(p)
    assert np.array_equal(first, p.data)
