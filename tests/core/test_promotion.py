"""Type promotion of the binary ops against PyTorch: tensor with tensor (n-d and 0-d, where a
0-d operand only counts when its category is higher), tensor with Python scalar, across
bool, int and float dtypes; and the combinations PyTorch refuses."""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import mnp.core as mnp

DTYPES = ["bool", "int32", "int64", "float16", "float32", "float64"]
OPERANDS = ([("nd", d) for d in DTYPES] + [("0d", d) for d in DTYPES]
            + [("py", v) for v in (True, 3, 2.5)])
PAIRS = [(a, b) for a, b in itertools.product(OPERANDS, repeat=2) if "py" not in (a[0], b[0])
         or a[0] != b[0]]
OPS = {
    "add": lambda M, a, b: a + b,
    "sub": lambda M, a, b: a - b,
    "mul": lambda M, a, b: a * b,
    "div": lambda M, a, b: a / b,
    "pow": lambda M, a, b: a ** b,
    "where": lambda M, a, b: M.where(M.tensor([True, False, True]), a, b),
    "eq": lambda M, a, b: a == b,
}


def _make(M, kind, value):
    if kind == "py":
        return value
    data = np.ones((3,) if kind == "nd" else (), dtype=value)
    return M.tensor(data if value == "bool" else data * 2)


def _ids(pairs):
    return [f"{a[0]}-{a[1]}-{b[0]}-{b[1]}" for a, b in pairs]


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("a, b", PAIRS, ids=_ids(PAIRS))
def test_binary_result_dtype_matches_torch(torch, name, a, b):
    op = OPS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expect = op(torch, _make(torch, *a), _make(torch, *b))
        except (RuntimeError, TypeError):      # NotImplementedError is a RuntimeError
            with pytest.raises(mnp.MnpError):
                op(mnp, _make(mnp, *a), _make(mnp, *b))
            return
        got = op(mnp, _make(mnp, *a), _make(mnp, *b))
    assert got.dtype.name == str(expect.dtype).replace("torch.", "")
    np.testing.assert_allclose(got.numpy().astype(np.float64),
                               expect.double().numpy() if expect.dtype != torch.bool
                               else expect.numpy(), rtol=1e-3)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize("a, b", PAIRS, ids=_ids(PAIRS))
def test_maximum_minimum_follow_torch_result_type(torch, name, a, b):
    """PyTorch's maximum takes tensors only; mnp also takes a Python scalar, promoted by
    ``torch.result_type``'s rule."""
    expect = torch.result_type(_make(torch, *a), _make(torch, *b))
    got = getattr(mnp, name)(_make(mnp, *a), _make(mnp, *b))
    assert got.dtype.name == str(expect).replace("torch.", "")


def test_zero_d_operands_do_not_widen_nd_ones():
    x = mnp.ones(3)                                   # float32
    assert (x + mnp.tensor(1.0, dtype=mnp.float64)).dtype == mnp.float32
    assert (mnp.ones(3, dtype=mnp.int32) + mnp.tensor(2)).dtype == mnp.int32
    assert (mnp.ones(3, dtype=mnp.int32) + mnp.tensor(1.5, dtype=mnp.float64)).dtype == mnp.float64
    w = mnp.tensor(2.0, dtype=mnp.float64, requires_grad=True)
    (x * w).sum().backward()
    assert w.grad.dtype == mnp.float64 and w.grad.item() == 3.0


def test_sub_with_a_bool_operand_raises():
    for a, b in ((mnp.ones(2), True), (mnp.ones(2, dtype=mnp.bool), mnp.ones(2)), (True, mnp.ones(2))):
        with pytest.raises(mnp.DTypeError, match="sub: .*bool"):
            mnp.sub(a, b)
