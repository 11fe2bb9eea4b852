"""Dimension arguments on 0-d (and small) tensors, and dtype arguments of the creation
functions, against PyTorch: the same calls succeed, and those PyTorch refuses raise an mnp
error naming the op (an out-of-range dimension is an IndexError, as in PyTorch)."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp

# (name, mnp call, torch call) on x = a 0-d tensor and m = a (2, 3) tensor
DIM_CALLS = [
    ("squeeze", lambda x, d: x.squeeze(d), lambda x, d: x.squeeze(d)),
    ("unsqueeze", lambda x, d: x.unsqueeze(d), lambda x, d: x.unsqueeze(d)),
    ("swapaxes", lambda x, d: x.transpose(0, d), lambda x, d: x.transpose(0, d)),
    ("sum", lambda x, d: x.sum(d), lambda x, d: x.sum(d)),
    ("mean", lambda x, d: x.mean(d), lambda x, d: x.mean(d)),
    ("amax", lambda x, d: x.amax(d), lambda x, d: x.amax(d)),
    ("amin", lambda x, d: x.amin(d), lambda x, d: x.amin(d)),
    ("max", lambda x, d: x.max(d).values, lambda x, d: x.max(d).values),
    ("min", lambda x, d: x.min(d).indices, lambda x, d: x.min(d).indices),
    ("argmax", lambda x, d: x.argmax(d), lambda x, d: x.argmax(d)),
    ("prod", lambda x, d: x.prod(d), lambda x, d: x.prod(d)),
    ("var", lambda x, d: x.var(d), lambda x, d: x.var(d, correction=0)),
    ("logsumexp", lambda x, d: x.logsumexp(d), lambda x, d: x.logsumexp(d)),
    ("softmax", lambda x, d: x.softmax(d), lambda x, d: x.softmax(d)),
    ("log_softmax", lambda x, d: x.log_softmax(d), lambda x, d: x.log_softmax(d)),
    ("flatten", lambda x, d: x.flatten(d), lambda x, d: x.flatten(d)),
    ("flip", lambda x, d: x.flip(d), lambda x, d: x.flip(d)),
    ("movedim", lambda x, d: x.movedim(d, 0), lambda x, d: x.movedim(d, 0)),
    ("stack", lambda x, d: mnp.stack([x, x], d), lambda x, d: __import__("torch").stack([x, x], d)),
]


@pytest.mark.parametrize("name, mcall, tcall", DIM_CALLS, ids=[c[0] for c in DIM_CALLS])
@pytest.mark.parametrize("shape", [(), (2, 3)])
@pytest.mark.parametrize("d", [-4, -3, -2, -1, 0, 1, 2, 3, 10])
def test_dim_arguments_follow_torch(torch, name, mcall, tcall, shape, d):
    a = np.arange(1.0, 1.0 + np.prod(shape, dtype=int)).reshape(shape)
    try:
        expect = tcall(torch.tensor(a), d)
    except IndexError:
        with pytest.raises(mnp.AxisError) as info:
            mcall(mnp.tensor(a), d)
        assert isinstance(info.value, IndexError)
        msg = str(info.value)
        assert msg.startswith(f"{name}:") and f"axis {d}" in msg, msg
        n = max(len(shape) + (1 if name in ("unsqueeze", "stack") else 0), 1)
        assert f"[{-n}, {n - 1}]" in msg, msg
        return
    got = mcall(mnp.tensor(a), d)
    assert got.shape == tuple(expect.shape)
    np.testing.assert_allclose(got.numpy(), expect.numpy(), rtol=1e-6)


def test_squeeze_of_a_0d_tensor_checks_its_dim():
    with pytest.raises(mnp.AxisError, match=r"squeeze: axis 10 .* 0 dimensions .*\[-1, 0\]"):
        mnp.tensor(3.0).squeeze(10)
    assert mnp.tensor(3.0).squeeze(-1).shape == ()


# creation functions with a dtype: (name, mnp call, torch call)
CREATE = [
    ("zeros", lambda m, dt: m.zeros(2, dtype=dt), lambda t, dt: t.zeros(2, dtype=dt)),
    ("ones", lambda m, dt: m.ones(2, dtype=dt), lambda t, dt: t.ones(2, dtype=dt)),
    ("empty", lambda m, dt: m.empty(2, dtype=dt), lambda t, dt: t.empty(2, dtype=dt)),
    ("full", lambda m, dt: m.full((2,), 1, dtype=dt), lambda t, dt: t.full((2,), 1, dtype=dt)),
    ("eye", lambda m, dt: m.eye(2, dtype=dt), lambda t, dt: t.eye(2, dtype=dt)),
    ("arange", lambda m, dt: m.arange(0, 3, dtype=dt), lambda t, dt: t.arange(0, 3, dtype=dt)),
    ("linspace", lambda m, dt: m.linspace(0, 1, 3, dtype=dt), lambda t, dt: t.linspace(0, 1, 3, dtype=dt)),
    ("rand", lambda m, dt: m.rand(2, dtype=dt), lambda t, dt: t.rand(2, dtype=dt)),
    ("randn", lambda m, dt: m.randn(2, dtype=dt), lambda t, dt: t.randn(2, dtype=dt)),
    ("randint", lambda m, dt: m.randint(0, 2, (2,), dtype=dt),
     lambda t, dt: t.randint(0, 2, (2,), dtype=dt)),
    ("zeros_like", lambda m, dt: m.zeros_like(m.ones(2), dtype=dt),
     lambda t, dt: t.zeros_like(t.ones(2), dtype=dt)),
]
DTYPES = ["float16", "float32", "float64", "int32", "int64", "bool"]


@pytest.mark.parametrize("name, mcall, tcall", CREATE, ids=[c[0] for c in CREATE])
@pytest.mark.parametrize("dtype", DTYPES)
def test_creation_dtype_arguments_follow_torch(torch, name, mcall, tcall, dtype):
    try:
        expect = tcall(torch, getattr(torch, dtype))
    except (NotImplementedError, RuntimeError):
        with pytest.raises(mnp.DTypeError, match=f"^{name}: .*{dtype}"):
            mcall(mnp, getattr(mnp, dtype))
        return
    got = mcall(mnp, getattr(mnp, dtype))
    assert got.dtype.name == dtype and got.shape == tuple(expect.shape)
    if name not in ("empty", "rand", "randn", "randint"):
        np.testing.assert_array_equal(got.numpy(), expect.numpy())


def test_linspace_bool_raises():
    with pytest.raises(mnp.DTypeError, match="linspace: dtype bool"):
        mnp.linspace(0, 1, 3, dtype=bool)
