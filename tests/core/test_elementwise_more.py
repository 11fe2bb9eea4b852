"""The rounding, special and trigonometric elementwise ops against PyTorch: values, gradients,
dtypes, broadcasting, special values (NaN, infinities, signed zeros) and errors; float64
finite differences for the differentiable ones."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp.core.testing import assert_matches_torch

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -1.5, 1e30, 1e-30]


def _m(name, **kw):
    return lambda t: getattr(t, name)(**kw)


def _t(name, **kw):
    """A torch function by name, looked up when called (torch is optional)."""
    import importlib
    return lambda *ts: getattr(importlib.import_module("torch"), name)(*ts, **kw)


# name -> (mnp function, torch function, domain, differentiable)
UNARY = {
    "erf": (mnp.erf, _t("erf"), (-3, 3), True),
    "erfc": (mnp.erfc, _t("erfc"), (-3, 5), True),
    "erfinv": (mnp.erfinv, _t("erfinv"), (-0.95, 0.95), True),
    "rsqrt": (mnp.rsqrt, _t("rsqrt"), (0.2, 3), True),
    "log2": (mnp.log2, _t("log2"), (0.2, 3), True),
    "log10": (mnp.log10, _t("log10"), (0.2, 3), True),
    "exp2": (mnp.exp2, _t("exp2"), (-3, 3), True),
    "expm1": (mnp.expm1, _t("expm1"), (-3, 3), True),
    "log1p": (mnp.log1p, _t("log1p"), (-0.8, 3), True),
    "tan": (mnp.tan, _t("tan"), (-1.3, 1.3), True),
    "asin": (mnp.asin, _t("asin"), (-0.9, 0.9), True),
    "acos": (mnp.acos, _t("acos"), (-0.9, 0.9), True),
    "atan": (mnp.atan, _t("atan"), (-3, 3), True),
    "sinh": (mnp.sinh, _t("sinh"), (-3, 3), True),
    "cosh": (mnp.cosh, _t("cosh"), (-3, 3), True),
    "asinh": (mnp.asinh, _t("asinh"), (-3, 3), True),
    "acosh": (mnp.acosh, _t("acosh"), (1.2, 4), True),
    "atanh": (mnp.atanh, _t("atanh"), (-0.9, 0.9), True),
    "frac": (mnp.frac, _t("frac"), (-3, 3), True),
    "nan_to_num": (mnp.nan_to_num, _t("nan_to_num"), (-3, 3), True),
    "floor": (mnp.floor, _t("floor"), (-3, 3), False),
    "ceil": (mnp.ceil, _t("ceil"), (-3, 3), False),
    "trunc": (mnp.trunc, _t("trunc"), (-3, 3), False),
    "fix": (mnp.fix, _t("fix"), (-3, 3), False),
    "round": (mnp.round, _t("round"), (-3, 3), False),
    "round_2": (lambda x: mnp.round(x, decimals=2), _t("round", decimals=2), (-3, 3), False),
    "round_-1": (lambda x: mnp.round(x, decimals=-1), _t("round", decimals=-1), (-30, 30), False),
    "sgn": (mnp.sgn, _t("sgn"), (-3, 3), False),
}
METHOD = {"round_2": "round", "round_-1": "round"}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_matches_torch(torch, rng, name, dtype):
    mfn, tfn, (lo, hi), _ = UNARY[name]
    x = rng.uniform(lo, hi, (3, 4))
    assert_matches_torch(mfn, tfn, x, rng=rng, dtype=dtype, what=name)
    assert_matches_torch(mfn, tfn, np.float64(0.3 * lo + 0.7 * hi), rng=rng, dtype=dtype, what=name)
    method = METHOD.get(name, name)
    kw = {"decimals": int(name.split("_")[1])} if name in METHOD else {}
    t = mnp.tensor(x, dtype=dtype)
    np.testing.assert_array_equal(getattr(t, method)(**kw).numpy(), mfn(t).numpy())


@pytest.mark.parametrize("name", sorted(n for n, v in UNARY.items() if v[3]))
def test_unary_grad_check(rng, name):
    mfn, _, (lo, hi), _ = UNARY[name]
    x = rng.uniform(lo, hi, (2, 3))
    if name == "frac":    # no integers inside the finite-difference stencil
        x = np.where(np.abs(x - np.round(x)) < 0.01, x + 0.05, x)
    assert mnp.grad_check(mfn, [mnp.tensor(x, dtype=mnp.float64, requires_grad=True)])


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_special_values_match_torch(torch, name):
    mfn, tfn, _, _ = UNARY[name]
    for dtype in ("float32", "float64"):
        x = np.array(SPECIAL, dtype)      # sign/sgn of NaN is 0, as PyTorch
        with np.errstate(all="ignore"):
            y = mfn(mnp.tensor(x)).numpy()
        ty = tfn(torch.tensor(x)).numpy()
        assert y.dtype == ty.dtype
        np.testing.assert_allclose(y, ty, rtol=2e-6, atol=0, equal_nan=True, err_msg=name)
        zero = ty == 0
        np.testing.assert_array_equal(np.signbit(y[zero]), np.signbit(ty[zero]), err_msg=name)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_integer_and_bool_inputs_match_torch(torch, name):
    """Float ops compute integers in the default float dtype; rounding keeps int tensors
    as they are; bool tensors are refused where PyTorch refuses them."""
    mfn, tfn, _, _ = UNARY[name]
    for values in ([-3, 0, 2, 7], [True, False]):
        try:
            expected = tfn(torch.tensor(values))
        except (RuntimeError, NotImplementedError):
            op = "trunc" if name == "fix" else METHOD.get(name, name)
            with pytest.raises(mnp.DTypeError, match=op):
                mfn(mnp.tensor(values))
            continue
        with np.errstate(all="ignore"):
            y = mfn(mnp.tensor(values))
        assert str(y.dtype) == str(expected.dtype).rsplit(".", 1)[-1], name
        np.testing.assert_allclose(y.numpy().astype(float), expected.numpy().astype(float),
                                   rtol=1e-6, equal_nan=True)
        assert not y.requires_grad


def test_rounding_has_zero_gradient_and_round_is_half_to_even():
    x = mnp.tensor([0.5, 1.5, 2.5, -0.5, -2.5, 0.125, 0.375], dtype=mnp.float64, requires_grad=True)
    assert mnp.round(x).tolist()[:5] == [0.0, 2.0, 2.0, -0.0, -2.0]
    assert mnp.round(x, decimals=2).tolist()[5:] == [0.12, 0.38]
    y = mnp.floor(x) + mnp.ceil(x) + mnp.round(x) + mnp.trunc(x) + mnp.sign(x) + mnp.round(x, 1)
    y.sum().backward()
    assert x.grad.tolist() == [0.0] * 7


def test_round_decimals_on_an_integer_tensor_is_refused():
    assert mnp.round(mnp.tensor([3, 4])).dtype == mnp.int64
    with pytest.raises(mnp.DTypeError, match="round: decimals=1"):
        mnp.round(mnp.tensor([3, 4]), decimals=1)


def test_nan_to_num_values_dtypes_and_gradient(torch):
    vals = [np.nan, np.inf, -np.inf, 1.5]
    for dtype in ("float16", "float32", "float64"):
        for kw in ({}, {"nan": 1.0, "posinf": 2.0, "neginf": -3.0}, {"posinf": 7.0}):
            y = mnp.nan_to_num(mnp.tensor(vals, dtype=dtype), **kw)
            ty = torch.nan_to_num(torch.tensor(vals, dtype=getattr(torch, dtype)), **kw)
            assert y.dtype == np.dtype(dtype)
            np.testing.assert_array_equal(y.numpy(), ty.numpy())
    x = mnp.tensor(vals, requires_grad=True)
    mnp.nan_to_num(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 1.0]
    assert mnp.nan_to_num(mnp.tensor([1, 2])).tolist() == [1, 2]


def test_erfinv_inverts_erf_in_float64():
    y = np.linspace(-0.999999, 0.999999, 101)
    x = mnp.erfinv(mnp.tensor(y, dtype=mnp.float64))
    np.testing.assert_allclose(mnp.erf(x).numpy(), y, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("dtype", [mnp.float16, mnp.float32, mnp.float64])
def test_log10_is_exact_at_powers_of_ten(dtype):
    exponents = [0, 1, 2, 3, 4] + ([8, 20, 30] if dtype != mnp.float16 else [])
    x = mnp.tensor([10.0 ** e for e in exponents], dtype=dtype)
    assert mnp.log10(x).tolist() == [float(e) for e in exponents]


def test_unary_functions_are_methods():
    x = mnp.tensor([0.25, 0.5])
    for name in ("erf", "erfc", "erfinv", "rsqrt", "log2", "log10", "exp2", "expm1", "log1p",
                 "tan", "asin", "arcsin", "acos", "arccos", "atan", "arctan", "sinh", "cosh",
                 "asinh", "arcsinh", "acosh", "arccosh", "atanh", "arctanh", "frac",
                 "nan_to_num", "floor", "ceil", "trunc", "fix", "round", "sgn", "sign"):
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(getattr(x, name)().numpy(), getattr(mnp, name)(x).numpy())


# -- binary ---------------------------------------------------------------------------------
SHAPES = [((3, 4), (3, 4)), ((2, 1, 3), (4, 1)), ((3,), ())]

# name -> (mnp function, torch function, domain of a, domain of b)
BINARY = {
    "atan2": (mnp.atan2, _t("atan2"), (-2, 2), (-2, 2)),
    "arctan2": (mnp.arctan2, _t("arctan2"), (-2, 2), (-2, 2)),
    "hypot": (mnp.hypot, _t("hypot"), (-2, 2), (-2, 2)),
    "logaddexp": (mnp.logaddexp, _t("logaddexp"), (-3, 3), (-3, 3)),
    "logaddexp2": (mnp.logaddexp2, _t("logaddexp2"), (-3, 3), (-3, 3)),
    "copysign": (mnp.copysign, _t("copysign"), (-2, 2), (-2, 2)),
    "remainder": (mnp.remainder, _t("remainder"), (-5, 5), (0.7, 1.9)),
    "remainder_neg": (mnp.remainder, _t("remainder"), (-5, 5), (-1.9, -0.7)),
    "fmod": (mnp.fmod, _t("fmod"), (-5, 5), (-1.9, 1.9)),
    "div_trunc": (lambda a, b: mnp.div(a, b, rounding_mode="trunc"),
                  _t("div", rounding_mode="trunc"), (-5, 5), (-1.9, 1.9)),
    "div_floor": (lambda a, b: mnp.div(a, b, rounding_mode="floor"),
                  _t("div", rounding_mode="floor"), (-5, 5), (-1.9, 1.9)),
    "lerp_half": (lambda a, b: mnp.lerp(a, b, 0.3), lambda a, b: a.lerp(b, 0.3), (-2, 2), (-2, 2)),
    "lerp_high": (lambda a, b: mnp.lerp(a, b, 0.8), lambda a, b: a.lerp(b, 0.8), (-2, 2), (-2, 2)),
    "clamp_min_tensor": (lambda a, b: mnp.clamp(a, min=b), lambda a, b: a.clamp(min=b), (-2, 2), (-2, 2)),
    "clamp_max_tensor": (lambda a, b: mnp.clamp_max(a, b), lambda a, b: a.clamp_max(b), (-2, 2), (-2, 2)),
}
SMOOTH = {"atan2", "arctan2", "hypot", "logaddexp", "logaddexp2", "copysign", "remainder",
          "remainder_neg", "fmod", "lerp_half", "lerp_high"}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("sa,sb", SHAPES)
def test_binary_matches_torch(torch, rng, name, sa, sb):
    mfn, tfn, da, db = BINARY[name]
    a, b = rng.uniform(*da, sa), rng.uniform(*db, sb)
    for dtype in ("float32", "float64"):
        assert_matches_torch(mfn, tfn, a, b, rng=rng, dtype=dtype, what=name)


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_binary_grad_check(rng, name):
    mfn, _, da, db = BINARY[name]
    a, b = rng.uniform(*da, (2, 3)), rng.uniform(*db, (3,))
    q = a / b                       # keep a / b away from the integers (steps of % and fmod)
    a = np.where(np.abs(q - np.round(q)) < 0.02, a + 0.1 * b, a)
    assert mnp.grad_check(mfn, [mnp.tensor(a, dtype=mnp.float64, requires_grad=True),
                                mnp.tensor(b, dtype=mnp.float64, requires_grad=True)])


def test_binary_functions_are_methods(rng):
    a, b = mnp.tensor(rng.uniform(-3, 3, (2, 3))), mnp.tensor(rng.uniform(0.5, 2, (3,)))
    for name in ("atan2", "arctan2", "hypot", "logaddexp", "logaddexp2", "copysign",
                 "remainder", "fmod", "floor_divide"):
        np.testing.assert_array_equal(getattr(a, name)(b).numpy(), getattr(mnp, name)(a, b).numpy())
    np.testing.assert_array_equal(a.div(b, rounding_mode="floor").numpy(), (a // b).numpy())
    np.testing.assert_array_equal(a.lerp(b, 0.5).numpy(), mnp.lerp(a, b, 0.5).numpy())


def test_lerp_tensor_weight_matches_torch(torch, rng):
    s, e, w = rng.normal(size=(3, 1)), rng.normal(size=(3, 4)), rng.uniform(-0.5, 1.5, (4,))
    for dtype in ("float32", "float64"):
        assert_matches_torch(mnp.lerp, torch.lerp, s, e, w, rng=rng, dtype=dtype)
    assert mnp.grad_check(mnp.lerp, [mnp.tensor(v, dtype=mnp.float64, requires_grad=True)
                                     for v in (s, e, w)])


def test_lerp_errors_name_the_op():
    f32, f64 = mnp.ones(2), mnp.ones(2, dtype=mnp.float64)
    with pytest.raises(mnp.DTypeError, match="lerp: end has dtype float64"):
        mnp.lerp(f32, f64, 0.5)
    with pytest.raises(mnp.DTypeError, match="lerp: expected floating"):
        mnp.lerp(mnp.tensor([1, 2]), mnp.tensor([3, 4]), 0.5)
    with pytest.raises(mnp.ShapeError, match="lerp"):
        mnp.lerp(mnp.ones(2), mnp.ones(3), 0.5)
    assert mnp.lerp(f32, f32, mnp.tensor(0.5, dtype=mnp.float64)).dtype == mnp.float32


@pytest.mark.parametrize("name", ["hypot", "logaddexp", "logaddexp2"])
def test_float_only_binary_ops_refuse_integers(torch, name):
    with pytest.raises(NotImplementedError):
        getattr(torch, name)(torch.tensor([1, 2]), torch.tensor([3, 4]))
    with pytest.raises(mnp.DTypeError, match=name):
        getattr(mnp, name)(mnp.tensor([1, 2]), mnp.tensor([3, 4]))
    assert getattr(mnp, name)(mnp.tensor([1, 2]), mnp.tensor([3.0, 4.0])).dtype == mnp.float32


def test_binary_special_values_match_torch(torch):
    # without 1e-30: PyTorch's float32 remainder overflows in 1e30 / 1e-30 and gives NaN
    values = SPECIAL[:-1]
    a = np.array([x for x in values for _ in values], np.float64)
    b = np.array([y for _ in values for y in values], np.float64)
    for name in ("atan2", "hypot", "logaddexp", "logaddexp2", "copysign", "remainder", "fmod",
                 "floor_divide", "div_trunc", "div_floor"):
        mfn, tfn = (BINARY[name][:2] if name in BINARY
                    else (mnp.floor_divide, torch.floor_divide))
        for dtype in ("float32", "float64"):
            with np.errstate(all="ignore"):
                y = mfn(mnp.tensor(a, dtype=dtype), mnp.tensor(b, dtype=dtype)).numpy()
            ty = tfn(torch.tensor(a.astype(dtype)), torch.tensor(b.astype(dtype))).numpy()
            np.testing.assert_allclose(y, ty, rtol=2e-6, atol=1e-7, equal_nan=True, err_msg=name)
            zero = (ty == 0) & (y == 0)
            np.testing.assert_array_equal(np.signbit(y[zero]), np.signbit(ty[zero]), err_msg=name)


def test_binary_special_gradients_match_torch(torch):
    """atan2 at the origin (0), hypot at the origin (NaN), copysign at 0 and -0.0."""
    a, b = [0.0, 3.0, 0.0, -2.0, 2.0], [0.0, 4.0, -1.0, -0.0, 0.0]
    for name in ("atan2", "hypot", "copysign", "logaddexp"):
        ma, mb = (mnp.tensor(v, dtype=mnp.float64, requires_grad=True) for v in (a, b))
        ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
        with np.errstate(all="ignore"):
            getattr(mnp, name)(ma, mb).sum().backward()
        getattr(torch, name)(ta, tb).sum().backward()
        for m, t in ((ma, ta), (mb, tb)):
            np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-12, equal_nan=True,
                                       err_msg=name)


# -- remainder, fmod, floor_divide, div rounding modes on integers ---------------------------
INT_DIV = {"remainder": "remainder", "fmod": "fmod", "floor_divide": "floor_divide"}


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_integer_division_ops_match_torch(torch, dtype):
    a = np.array([-7, -6, -1, 0, 1, 6, 7, 2**30], dtype)
    b = np.array([[3], [-3], [1], [-5]], dtype)
    cases = [(getattr(mnp, n), getattr(torch, n)) for n in INT_DIV] + [
        (lambda x, y, m=m: mnp.div(x, y, rounding_mode=m),
         lambda x, y, m=m: torch.div(x, y, rounding_mode=m)) for m in ("trunc", "floor")] + [
        (lambda x, y: x % y, lambda x, y: x % y), (lambda x, y: x // y, lambda x, y: x // y)]
    for mfn, tfn in cases:
        for x, y in ((a, b), (b, a[a != 0])):
            out, expected = mfn(mnp.tensor(x), mnp.tensor(y)), tfn(torch.tensor(x), torch.tensor(y))
            assert str(out.dtype) == str(expected.dtype).rsplit(".", 1)[-1]
            np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_division_operators_with_scalars_match_torch(torch):
    i = np.array([-7, 7, 3])
    f = np.array([-2.5, 1.5, 0.5], np.float32)
    for x in (i, f):
        for s in (2, -2, 2.5):
            for fn in (lambda t: t % s, lambda t: s % t, lambda t: t // s, lambda t: s // t):
                out, expected = fn(mnp.tensor(x)), fn(torch.tensor(x))
                assert str(out.dtype) == str(expected.dtype).rsplit(".", 1)[-1]
                np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)


def test_integer_division_by_zero_and_bool_operands_are_refused():
    i = mnp.tensor([1, 2])
    for fn in (mnp.remainder, mnp.fmod, mnp.floor_divide,
               lambda a, b: mnp.div(a, b, rounding_mode="trunc")):
        with pytest.raises(mnp.ArgumentError, match="integer division by zero"):
            fn(i, mnp.tensor([1, 0]))
        with pytest.raises(mnp.DTypeError, match="bool"):
            fn(mnp.tensor([True]), mnp.tensor([True]))
    with pytest.raises(mnp.ArgumentError, match="remainder: integer division by zero"):
        i % 0
    assert (mnp.tensor([1.0]) % 0).numpy()[0] != (mnp.tensor([1.0]) % 0).numpy()[0]   # NaN
    with pytest.raises(mnp.ArgumentError, match="rounding_mode"):
        mnp.div(i, 2, rounding_mode="round")


def test_division_gradients_follow_torch(torch):
    a, b = [5.0, -3.0, 4.5], [2.0, 2.0, -1.5]
    for name, fn in (("remainder", lambda x, y: x % y), ("fmod", torch.fmod),
                     ("div_floor", lambda x, y: torch.div(x, y, rounding_mode="floor")),
                     ("div_trunc", lambda x, y: torch.div(x, y, rounding_mode="trunc"))):
        mfn = {"remainder": lambda x, y: x % y, "fmod": mnp.fmod}.get(name) or BINARY[name][0]
        assert_matches_torch(mfn, fn, a, b, dtype="float64", what=name)
    x = mnp.tensor([5.0, -3.0], requires_grad=True)
    y = x // 2
    assert y.tolist() == [2.0, -2.0] and y.requires_grad
    with pytest.raises(mnp.AutogradError, match="floor_divide"):
        y.sum().backward()


# -- clamp with tensor bounds ---------------------------------------------------------------
def test_clamp_tensor_bounds_gradients_match_torch(torch):
    """PyTorch's rules, min > max included: the result is max and max gets the gradient."""
    x = [1.0, 2.0, 3.0, 0.0, 1.5, -1.0]
    lo = [1.5, 1.5, 1.5, 1.0, 1.5, 2.0]
    hi = [2.5, 2.5, 1.0, 0.5, 1.5, 0.0]
    for dtype in ("float32", "float64"):
        assert_matches_torch(lambda a, b, c: mnp.clamp(a, b, c), torch.clamp, x, lo, hi, dtype=dtype)
        assert_matches_torch(lambda a, b: mnp.clip(a, b), torch.clip, x, lo, dtype=dtype)
        assert_matches_torch(lambda a, c: a.clamp(max=c), lambda a, c: a.clamp(max=c), x, hi,
                             dtype=dtype)
    assert_matches_torch(lambda a, c: mnp.clamp(a, 0.5, c),
                         lambda a, c: torch.clamp(a, torch.tensor(0.5), c), x, hi)


def test_clamp_tensor_bounds_broadcast_promote_and_check(torch, rng):
    x, lo, hi = rng.normal(size=(4,)), rng.normal(size=(3, 1)) - 1, rng.normal(size=(3, 1)) + 1
    assert_matches_torch(mnp.clamp, torch.clamp, x, lo, hi, rng=rng)
    assert mnp.grad_check(mnp.clamp, [mnp.tensor(v, dtype=mnp.float64, requires_grad=True)
                                      for v in (x, lo, hi)])
    i = mnp.tensor([-7, 7, 3])
    assert mnp.clamp(i, mnp.tensor([0]), mnp.tensor([1])).tolist() == [0, 1, 1]
    assert mnp.clamp(i, mnp.tensor([0.5])).dtype == mnp.float32
    assert mnp.clamp(mnp.ones(2), mnp.tensor(0.5, dtype=mnp.float64)).dtype == mnp.float32
    assert mnp.clamp_min(i, 1).dtype == mnp.int64 and mnp.clamp_min(i, 1.5).dtype == mnp.float32
    assert mnp.clamp(mnp.tensor([np.nan, 1.0]), mnp.tensor(0.0)).numpy()[0] != 0
    with pytest.raises(mnp.ShapeError, match="clamp"):
        mnp.clamp(mnp.ones(4), mnp.ones(2))
    with pytest.raises(mnp.ArgumentError, match="clip"):
        mnp.clamp(mnp.ones(4))
