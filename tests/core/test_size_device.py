"""Tensor.size(), Size, Tensor.device, Tensor.to and Tensor.cpu, against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.errors import ArgumentError, AxisError

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3), (2, 0, 4), (1, 2, 3, 4)])
def test_size_matches_torch(shape):
    x, t = mnp.zeros(shape), torch.zeros(shape)
    s = x.size()
    assert isinstance(s, mnp.Size) and isinstance(s, tuple)
    assert tuple(s) == tuple(t.size()) == x.shape
    assert s.numel() == t.size().numel() == x.numel()
    for d in range(-len(shape), len(shape)):
        assert x.size(d) == t.size(d) and type(x.size(d)) is int


@pytest.mark.parametrize("shape,dim", [((2, 3), 2), ((2, 3), -3), ((4,), 1), ((), 0), ((), -1)])
def test_size_of_a_dim_out_of_range_is_an_index_error(shape, dim):
    with pytest.raises(IndexError):
        torch.zeros(shape).size(dim)
    with pytest.raises(AxisError, match=rf"size: (axis|dimension) {dim}") as info:
        mnp.zeros(shape).size(dim)
    assert isinstance(info.value, IndexError)
    assert (str(shape) if shape else "no dimensions") in str(info.value)


@pytest.mark.parametrize("dim", [True, 1.0, "0"])
def test_size_dim_must_be_an_int(dim):
    with pytest.raises(ArgumentError, match="size: dim must be an int"):
        mnp.zeros(2, 3).size(dim)


def test_size_accepts_numpy_ints_and_slices_stay_sizes():
    s = mnp.zeros(2, 3, 4).size()
    assert mnp.zeros(2, 3).size(np.int64(1)) == 3
    assert isinstance(s[1:], mnp.Size) and s[1:] == (3, 4)
    assert isinstance(s + (5,), mnp.Size) and s + (5,) == (2, 3, 4, 5)
    assert s[0] == 2 and repr(s) == "mnp.Size([2, 3, 4])"
    with pytest.raises(TypeError):
        s + [5]                                              # as tuple + list


def test_device_is_cpu():
    x = mnp.ones(2)
    assert isinstance(x.device, mnp.device)
    assert x.device == mnp.device("cpu") == "cpu" == mnp.device("cpu", 0) == mnp.device("cpu:0")
    assert repr(x.device) == repr(torch.ones(2).device) == "device(type='cpu')"
    assert str(x.device) == "cpu" and x.device != "cuda"
    assert hash(mnp.device("cpu")) == hash(x.device)
    assert mnp.device(x.device) == x.device


@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "mps", "meta", "cpu:x"])
def test_other_devices_raise_naming_the_backends(spec):
    x = mnp.ones(2)
    names = [b["name"] for b in mnp.backends() if b["available"]]
    for call in (lambda: x.to(spec), lambda: x.to(device=spec), lambda: mnp.device(spec),
                 lambda: x.to(spec, mnp.float64)):
        with pytest.raises(ArgumentError, match="mnp runs on the CPU") as info:
            call()
        assert repr(spec) in str(info.value)
        assert all(n in str(info.value) for n in names)


def test_to_returns_self_when_nothing_changes():
    x, t = mnp.ones(2, 3), torch.ones(2, 3)
    for args, kw in [(("cpu",), {}), ((mnp.device("cpu"),), {}), ((mnp.float32,), {}),
                     (("cpu", mnp.float32), {}), ((), {"device": "cpu"}),
                     ((), {"dtype": mnp.float32, "device": "cpu"}), ((mnp.ones(1),), {}),
                     (("cpu",), {"non_blocking": True})]:
        assert x.to(*args, **kw) is x
    assert t.to("cpu") is t and t.to(torch.float32) is t       # the behaviour mirrored
    assert x.cpu() is x and t.cpu() is t


def test_to_copy_makes_a_new_tensor():
    x = mnp.ones(2, 3)
    assert x.to("cpu", mnp.float32, False, False) is x        # torch's positional flags
    assert torch.ones(2).to("cpu", torch.float32, False, True) is not None
    z = x.to(mnp.float32, False, True)
    assert z is not x and z.tolist() == x.tolist()
    y = x.to("cpu", copy=True)
    assert y is not x and not np.shares_memory(y.data, x.data)
    np.testing.assert_array_equal(y.data, x.data)


def test_to_converts_dtype_in_every_spelling():
    x = mnp.tensor([1.5, -2.0, 3.25], requires_grad=True)
    other = mnp.zeros(1, dtype=mnp.float64)
    for y in (x.to(mnp.float64), x.to("cpu", mnp.float64), x.to(other),
              x.to(dtype=mnp.float64), x.to(dtype=mnp.float64, device=mnp.device("cpu")),
              x.to("float64"), x.to(np.float64)):
        assert y.dtype == np.float64 and y.tolist() == [1.5, -2.0, 3.25]
    y = x.to(mnp.float64)
    y.sum().backward()                       # differentiable, as astype
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 1.0, 1.0]
    assert x.to(mnp.int64).tolist() == [1, -2, 3]


def test_to_rejects_doubled_or_bad_arguments():
    x = mnp.ones(2)
    with pytest.raises(ArgumentError, match="to: the dtype is given twice"):
        x.to(mnp.float64, dtype=mnp.float32)
    with pytest.raises(ArgumentError, match="to: the device is given twice"):
        x.to("cpu", device="cpu")
    with pytest.raises(ArgumentError, match=r"to: expected \(device, dtype, non_blocking"):
        x.to("cpu", mnp.float64, mnp.float32)
    with pytest.raises(mnp.DTypeError, match="to: "):
        x.to(object)
