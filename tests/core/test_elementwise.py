"""Elementwise ops: forward and gradient against PyTorch, float64 grad_check, dtype rules,
operators (reflected and in place), comparisons and numerical stability."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.testing import F32, assert_close, assert_matches_torch

# -- helpers ------------------------------------------------------------------------------


def _f32(rng, shape, low=None, high=None):
    if low is None:
        return rng.standard_normal(shape).astype(np.float32)
    return rng.uniform(low, high, shape).astype(np.float32)


def _f64(rng, shape, low=-2.0, high=2.0):
    return mnp.tensor(rng.uniform(low, high, shape), dtype=mnp.float64, requires_grad=True)


# -- binary ops -----------------------------------------------------------------------------
BROADCAST_CASES = [((3, 4), (3, 4)), ((3, 1, 4), (5, 4)), ((2, 3), ()), ((), (2, 3)),
                   ((4, 1), (1, 5)), ((1,), (2, 3))]

# name -> (torch function, domain of a, domain of b); None = standard normal
BINARY = {
    "add": ("add", None, None),
    "sub": ("sub", None, None),
    "mul": ("mul", None, None),
    "div": ("div", None, (0.5, 2.0)),
    "pow": ("pow", (0.5, 2.0), (-1.5, 1.5)),
    "maximum": ("maximum", None, None),
    "minimum": ("minimum", None, None),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("sa,sb", BROADCAST_CASES)
def test_binary_matches_torch(torch, rng, name, sa, sb):
    tname, da, db = BINARY[name]
    a = _f32(rng, sa, *(da or ()))
    b = _f32(rng, sb, *(db or ()))
    assert_matches_torch(getattr(mnp, name), getattr(torch, tname), a, b, rng=rng)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_method_matches_function(rng, name):
    a = mnp.tensor(_f32(rng, (2, 3), 0.5, 2.0))
    b = mnp.tensor(_f32(rng, (3,), 0.5, 2.0))
    assert_close(getattr(a, name)(b), getattr(mnp, name)(a, b), rtol=0, atol=0)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_grad_check(rng, name):
    _, da, db = BINARY[name]
    a = _f64(rng, (3, 1, 2), *(da or (-2, 2)))
    b = _f64(rng, (4, 2), *(db or (-2, 2)))
    if name in ("maximum", "minimum"):  # no near-ties inside the finite-difference stencil
        assert np.abs(a.data - b.data).min() > 1e-3
    assert mnp.grad_check(getattr(mnp, name), [a, b])


def test_maximum_minimum_ties_split_gradient(torch):
    a = np.array([1.0, 2.0, 3.0], np.float32)
    b = np.array([1.0, 5.0, 3.0], np.float32)
    for name in ("maximum", "minimum"):
        ma, mb = mnp.tensor(a, requires_grad=True), mnp.tensor(b, requires_grad=True)
        ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        getattr(mnp, name)(ma, mb).sum().backward()
        getattr(torch, name)(ta, tb).sum().backward()
        assert_close(ma.grad, ta.grad, what=name)
        assert_close(mb.grad, tb.grad, what=name)
        assert ma.grad.tolist()[0] == 0.5


def test_pow_edge_gradients_match_torch(torch):
    # exponent 0 at base 0: the base gradient is 0, not NaN
    x = mnp.tensor([0.0, 1.5], requires_grad=True)
    (x ** 0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    # gradient in the exponent at base 0 is 0, and the base gradient is inf, as PyTorch
    a, b = [0.0, 2.0], [0.5, 0.5]
    ma, mb = mnp.tensor(a, requires_grad=True), mnp.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (ma ** mb).sum().backward()
    (ta ** tb).sum().backward()
    assert_close(ma.grad, ta.grad, **F32)
    assert_close(mb.grad, tb.grad, **F32)


POW_EDGES = ([0.0, 0.0, 0.0, 0.0, 0.0, -2.0, -2.0, -2.0, 2.0, 0.0, 1.5],
             [-1.0, -0.5, 0.0, 0.5, 2.0, 2.0, 0.5, -1.0, -1.0, 1.0, 0.0])


def test_pow_special_gradients_match_torch_exactly(torch):
    """Base 0 with a negative exponent: -inf in the exponent; a negative base: NaN; the
    exponent's gradient is 0 where the base is 0 and the exponent >= 0 (PyTorch's rules)."""
    for dt in ("float32", "float64"):
        ma, mb = (mnp.tensor(v, dtype=dt, requires_grad=True) for v in POW_EDGES)
        ta, tb = (torch.tensor(v, dtype=getattr(torch, dt), requires_grad=True) for v in POW_EDGES)
        with np.errstate(all="ignore"):
            out = ma ** mb
            out.backward(mnp.ones_like(out))
        tout = ta ** tb
        tout.backward(torch.ones_like(tout))
        for m, t in ((out, tout), (ma.grad, ta.grad), (mb.grad, tb.grad)):
            np.testing.assert_array_equal(np.isnan(m.numpy()), t.detach().isnan().numpy())
            np.testing.assert_allclose(m.numpy(), t.detach().numpy(), rtol=1e-6)
    assert mb.grad.tolist()[0] == -np.inf and np.isnan(mb.grad.tolist()[5])


@pytest.mark.parametrize("base", [0.0, -2.0, 2.0])
def test_pow_scalar_base_exponent_gradient_matches_torch(torch, base):
    e = [-2.0, 0.0, 3.0]
    m, t = mnp.tensor(e, requires_grad=True), torch.tensor(e, requires_grad=True)
    with np.errstate(all="ignore"):
        (base ** m).sum().backward()
    (base ** t).sum().backward()
    np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-6)


def test_pow_zero_exponent_ignores_an_infinite_incoming_gradient(torch):
    ma, mb = mnp.tensor([0.0, 1.0], requires_grad=True), mnp.tensor([0.0, 1.0], requires_grad=True)
    ta, tb = torch.tensor([0.0, 1.0], requires_grad=True), torch.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(all="ignore"):
        (ma ** mb).backward(mnp.tensor([np.inf, 1.0]))
    (ta ** tb).backward(torch.tensor([float("inf"), 1.0]))
    np.testing.assert_array_equal(ma.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(mb.grad.numpy(), tb.grad.numpy())


# -- where ----------------------------------------------------------------------------------
@pytest.mark.parametrize("sc,sa,sb", [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), (3, 4)),
                                      ((4,), (2, 4), ()), ((2, 1, 3), (3,), (4, 1))])
def test_where_matches_torch(torch, rng, sc, sa, sb):
    cond = rng.random(sc) > 0.5
    a, b = _f32(rng, sa), _f32(rng, sb)
    assert_matches_torch(lambda x, y: mnp.where(mnp.tensor(cond), x, y),
                         lambda x, y: torch.where(torch.tensor(cond), x, y), a, b, rng=rng)


def test_where_scalars_method_and_grad_check(rng):
    x = mnp.tensor([[-1.0, 2.0], [3.0, -4.0]])
    assert mnp.where(x > 0, x, 0.0).tolist() == [[0.0, 2.0], [3.0, 0.0]]
    assert x.where(x > 0, -1.0).tolist() == [[-1.0, 2.0], [3.0, -1.0]]
    assert mnp.where(x > 0, 1.0, 0.0).dtype == mnp.float32
    cond = mnp.tensor(rng.random((3, 1)) > 0.5)
    assert mnp.grad_check(lambda a, b: mnp.where(cond, a, b), [_f64(rng, (3, 2)), _f64(rng, (2,))])


# -- unary ops ------------------------------------------------------------------------------
def _F(name, **kw):
    """A torch.nn.functional call, resolved when the test runs (torch is optional)."""
    return lambda T, t: getattr(T.nn.functional, name)(t, **kw)


def _m(name):
    return lambda T, t: getattr(t, name)()


# name -> (mnp function, torch function of (torch, tensor), domain or None for N(0, 1))
UNARY = {
    "neg": (mnp.neg, lambda T, t: -t, None),
    "abs": (mnp.abs, _m("abs"), None),
    "exp": (mnp.exp, _m("exp"), None),
    "log": (mnp.log, _m("log"), (0.2, 3.0)),
    "log1p": (mnp.log1p, _m("log1p"), (-0.8, 3.0)),
    "expm1": (mnp.expm1, _m("expm1"), None),
    "sqrt": (mnp.sqrt, _m("sqrt"), (0.2, 3.0)),
    "sin": (mnp.sin, _m("sin"), None),
    "cos": (mnp.cos, _m("cos"), None),
    "tanh": (mnp.tanh, _m("tanh"), None),
    "sigmoid": (mnp.sigmoid, _m("sigmoid"), None),
    "relu": (mnp.relu, _m("relu"), None),
    "leaky_relu": (mnp.leaky_relu, _F("leaky_relu"), None),
    "leaky_relu_0.2": (lambda x: mnp.leaky_relu(x, negative_slope=0.2),
                       _F("leaky_relu", negative_slope=0.2), None),
    "gelu": (mnp.gelu, _F("gelu"), (-4.0, 4.0)),
    "gelu_tanh": (lambda x: mnp.gelu(x, approximate="tanh"), _F("gelu", approximate="tanh"),
                  (-4.0, 4.0)),
    "softplus": (mnp.softplus, _F("softplus"), (-30.0, 30.0)),
    "softplus_beta": (lambda x: mnp.softplus(x, beta=2.0, threshold=5.0),
                      _F("softplus", beta=2.0, threshold=5.0), (-5.0, 5.0)),
    "clip": (lambda x: mnp.clip(x, -0.5, 0.7), lambda T, t: t.clamp(-0.5, 0.7), None),
    "clamp_min": (lambda x: mnp.clamp(x, min=0.1), lambda T, t: t.clamp(min=0.1), None),
    "clip_max": (lambda x: x.clip(max=0.3), lambda T, t: t.clip(max=0.3), None),
    "sign": (mnp.sign, _m("sign"), None),
}
KINKS = np.array([0.0, -0.5, 0.7, 0.1, 0.3])  # where abs/relu/clip are not differentiable


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(), (7,), (3, 4, 2)])
def test_unary_matches_torch(torch, rng, name, shape):
    mfn, tfn, dom = UNARY[name]
    assert_matches_torch(mfn, lambda t: tfn(torch, t), _f32(rng, shape, *(dom or ())), rng=rng)


@pytest.mark.parametrize("name", sorted(set(UNARY) - {"sign"}))
def test_unary_grad_check(rng, name):
    mfn, _, dom = UNARY[name]
    x = rng.uniform(*(dom or (-2.0, 2.0)), (2, 5))
    near = np.abs(x[..., None] - KINKS).min(-1) < 0.02
    while near.any():   # keep kinks out of the finite-difference stencil
        x = np.where(near, x + 0.03, x)
        near = np.abs(x[..., None] - KINKS).min(-1) < 0.02
    assert mnp.grad_check(mfn, [mnp.tensor(x, dtype=mnp.float64, requires_grad=True)])


def test_sign_has_zero_gradient():
    x = mnp.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    y = mnp.sign(x)
    assert y.tolist() == [-1.0, 0.0, 1.0]
    (y * 5).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("name", ["abs", "relu"])
def test_kink_gradient_at_zero_matches_torch(torch, name):
    m = mnp.tensor([0.0, -1.0, 2.0], requires_grad=True)
    t = torch.tensor([0.0, -1.0, 2.0], requires_grad=True)
    getattr(mnp, name)(m).sum().backward()
    getattr(torch, name)(t).sum().backward()
    assert_close(m.grad, t.grad, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["neg", "abs", "exp", "log", "log1p", "expm1", "sqrt", "sin",
                                  "cos", "tanh", "sigmoid", "relu", "leaky_relu", "gelu",
                                  "softplus", "sign"])
def test_unary_method_matches_function(rng, name):
    x = mnp.tensor(_f32(rng, (2, 3), 0.1, 2.0))
    assert_close(getattr(x, name)(), getattr(mnp, name)(x), rtol=0, atol=0)


def test_unary_on_int_tensor_gives_float32():
    x = mnp.tensor([1, 2, 3])
    for fn in (mnp.exp, mnp.log, mnp.sqrt, mnp.sigmoid, mnp.tanh):
        assert fn(x).dtype == mnp.float32
    for fn in (mnp.neg, mnp.abs, mnp.sign):
        assert fn(x).dtype == mnp.int64
    assert mnp.clip(x, 2, 3).dtype == mnp.int64
    assert mnp.clip(x, 1.5, 2.5).tolist() == [1.5, 2.0, 2.5]


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(mnp.MnpError, match="gelu"):
        mnp.gelu(mnp.ones(2), approximate="erf")


# -- numerical stability --------------------------------------------------------------------
def test_sigmoid_and_friends_are_stable_at_extremes(torch):
    vals = [-1000.0, -100.0, 0.0, 100.0, 1000.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no overflow warnings either
        for dt in (mnp.float32, mnp.float64):
            x = mnp.tensor(vals, dtype=dt, requires_grad=True)
            y = mnp.sigmoid(x)
            assert y.tolist() == [0.0, pytest.approx(0.0, abs=1e-40), 0.5, 1.0, 1.0]
            y.sum().backward()
            assert np.isfinite(x.grad.data).all()
            assert x.grad.tolist()[0] == 0.0 and x.grad.tolist()[2] == 0.25
        x = mnp.tensor(vals, requires_grad=True)
        t = torch.tensor(vals, requires_grad=True)
        sp, tsp = mnp.softplus(x), torch.nn.functional.softplus(t)
        assert_close(sp, tsp, **F32)
        sp.sum().backward()
        tsp.sum().backward()
        assert_close(x.grad, t.grad, rtol=1e-6, atol=1e-30)
        assert x.grad.tolist()[0] == 0.0 and x.grad.tolist()[2:] == [0.5, 1.0, 1.0]
        assert mnp.tanh(mnp.tensor(vals)).tolist() == [-1.0, -1.0, 0.0, 1.0, 1.0]


# -- operators ------------------------------------------------------------------------------
OPERATORS = {
    "+": (lambda a, b: a + b), "-": (lambda a, b: a - b), "*": (lambda a, b: a * b),
    "/": (lambda a, b: a / b), "**": (lambda a, b: a ** b),
}


@pytest.mark.parametrize("op", sorted(OPERATORS))
@pytest.mark.parametrize("sa,sb", [((3, 1, 4), (5, 4)), ((2, 3), ())])
def test_operators_match_torch(torch, rng, op, sa, sb):
    fn = OPERATORS[op]
    a, b = _f32(rng, sa, 0.5, 2.0), _f32(rng, sb, 0.5, 2.0)
    assert_matches_torch(fn, fn, a, b, rng=rng)


@pytest.mark.parametrize("op", sorted(OPERATORS))
@pytest.mark.parametrize("scalar", [2, 1.5])
def test_scalar_and_reflected_operators_match_torch(torch, rng, op, scalar):
    fn = OPERATORS[op]
    a = _f32(rng, (3, 2), 0.5, 2.0)
    assert_matches_torch(lambda t: fn(t, scalar), lambda t: fn(t, scalar), a, rng=rng)
    assert_matches_torch(lambda t: fn(scalar, t), lambda t: fn(scalar, t), a, rng=rng)


def test_unary_minus_and_abs_operators(torch, rng):
    a = _f32(rng, (2, 3))
    assert_matches_torch(lambda t: -t, lambda t: -t, a, rng=rng)
    assert_matches_torch(lambda t: abs(t), lambda t: abs(t), a, rng=rng)


def test_reflected_with_numpy_array_returns_tensor():
    x = mnp.tensor([1.0, 2.0])
    y = np.array([10.0, 20.0], np.float32) + x
    assert isinstance(y, mnp.Tensor) and y.tolist() == [11.0, 22.0]


@pytest.mark.parametrize("op,expect", [("+=", [3.0, 4.0]), ("-=", [-1.0, 0.0]),
                                       ("*=", [2.0, 4.0]), ("/=", [0.5, 1.0])])
def test_inplace_operators_on_no_grad_tensor(op, expect):
    x = mnp.tensor([1.0, 2.0])
    data = x.data
    ns = {"x": x}
    exec(f"x {op} 2", ns)
    assert ns["x"] is x and x.data is data and x.tolist() == expect
    # a tensor operand that broadcasts
    y = mnp.tensor([[1.0, 2.0], [3.0, 4.0]])
    ns = {"y": y, "o": mnp.tensor([1.0, 2.0])}
    exec(f"y {op} o", ns)
    assert ns["y"] is y
    base = np.array([[1.0, 2.0], [3.0, 4.0]])
    expected = {"+=": base + [1, 2], "-=": base - [1, 2], "*=": base * [1, 2],
                "/=": base / [1, 2]}[op]
    assert_close(y, expected)


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/="])
def test_inplace_on_tensor_requiring_grad_raises(op):
    w = mnp.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(mnp.MnpError, match="in-place"):
        exec(f"w {op} 1.0", {"w": w})
    assert w.tolist() == [1.0, 2.0]
    with mnp.no_grad():   # how optimizers update parameters
        ns = {"w": w}
        exec(f"w {op} 2.0", ns)
    assert ns["w"] is w and w.requires_grad and w.tolist() != [1.0, 2.0]


COMPARISONS = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
               ">": np.greater, ">=": np.greater_equal}


@pytest.mark.parametrize("op", sorted(COMPARISONS))
def test_comparisons_give_bool_without_grad(op):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], np.float32)
    b = np.array([2.0, 2.0, 2.0], np.float32)
    x = mnp.tensor(a, requires_grad=True)
    for other, ref in ((mnp.tensor(b), b), (2.0, 2.0), (2, 2)):
        r = eval(f"x {op} other", {"x": x, "other": other})
        assert isinstance(r, mnp.Tensor) and r.dtype == mnp.bool
        assert not r.requires_grad and r.grad_fn is None
        assert r.tolist() == COMPARISONS[op](a, ref).tolist()
    # reflected: scalar on the left
    r = eval(f"2.0 {op} x", {"x": x})
    assert r.tolist() == COMPARISONS[op](2.0, a).tolist()


# -- dtype rules ----------------------------------------------------------------------------
def test_dtype_rules_follow_pytorch(torch):
    f32 = mnp.tensor([1.0, 2.0])
    f64 = mnp.tensor([1.0, 2.0], dtype=mnp.float64)
    i64 = mnp.tensor([1, 2])
    assert f32.dtype == mnp.float32 and mnp.tensor(1.5).dtype == mnp.float32
    assert (f32 + 1.5).dtype == mnp.float32 and (1.5 * f32).dtype == mnp.float32
    assert (f64 + 1.5).dtype == mnp.float64 and (f64 * 2).dtype == mnp.float64
    assert (f32 + f64).dtype == mnp.float64 and (f64 - f32).dtype == mnp.float64
    assert (i64 + 1.5).dtype == mnp.float32 and (2.5 * i64).dtype == mnp.float32
    assert (i64 + 1).dtype == mnp.int64 and (i64 + f32).dtype == mnp.float32
    assert (i64 / 2).dtype == mnp.float32 and (i64 / i64).dtype == mnp.float32
    assert (i64 ** 2).dtype == mnp.int64 and (i64 ** 0.5).dtype == mnp.float32
    assert mnp.add(1.5, 2.5).dtype == mnp.float32
    # the same promotions in PyTorch
    tf32, ti64 = torch.tensor([1.0, 2.0]), torch.tensor([1, 2])
    assert str((ti64 + 1.5).dtype) == "torch.float32"
    assert str((ti64 / ti64).dtype) == "torch.float32"
    assert str((tf32 + tf32.double()).dtype) == "torch.float64"
    # gradients come back in each input's own dtype
    a = mnp.tensor([1.0, 2.0], requires_grad=True)
    b = mnp.tensor([3.0, 4.0], dtype=mnp.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == mnp.float32 and b.grad.dtype == mnp.float64
    assert a.grad.tolist() == [3.0, 4.0] and b.grad.tolist() == [1.0, 2.0]


def test_wrong_dtypes_raise_dtype_error():
    with pytest.raises(mnp.DTypeError, match="requires_grad"):
        mnp.tensor([1, 2], requires_grad=True)
    with pytest.raises(mnp.DTypeError):
        mnp.tensor([1, 2]).requires_grad_()
    with pytest.raises(mnp.DTypeError, match="pow"):
        mnp.tensor([1, 2]) ** -1
    with pytest.raises(mnp.DTypeError, match="sub"):
        mnp.tensor([True]) - mnp.tensor([False])
    with pytest.raises(mnp.DTypeError, match="neg"):
        -mnp.tensor([True, False])
    with pytest.raises(mnp.DTypeError):
        mnp.add(mnp.tensor([1.0]), "a")


def test_float16_stays_float16():
    h = mnp.tensor([1.0, 2.0], dtype=mnp.float16, requires_grad=True)
    y = mnp.sigmoid(h * 2.0 + 1)
    assert y.dtype == mnp.float16
    y.sum().backward()
    assert h.grad.dtype == mnp.float16


def test_errors_name_the_op_and_shapes():
    a, b = mnp.ones(2, 3), mnp.ones(4)
    for name in ("add", "sub", "mul", "div", "pow", "maximum", "minimum"):
        with pytest.raises(mnp.ShapeError, match=rf"{name}: shapes \(2, 3\) and \(4,\)"):
            getattr(mnp, name)(a, b)
    with pytest.raises(mnp.ShapeError, match=r"lt: shapes \(2, 3\) and \(4,\)"):
        a < b
