"""Pooling options against PyTorch: dilation, ceil_mode, return_indices, count_include_pad,
divisor_override (forward, input gradient, indices, output shapes, errors, model files)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp import nn
from mnp.core.testing import F32, assert_close
from mnp.nn import functional as F

F64 = {"rtol": 1e-10, "atol": 1e-12}
SHAPES = {1: [(2, 2, 7), (3, 8)], 2: [(2, 2, 7, 6), (2, 5, 8)]}     # odd/even, unbatched


def _run(fn, x_np, dtype, w_np, on_torch):
    """Output, indices (or None) and input gradient of ``fn`` (mnp or torch) on ``x_np``."""
    import torch
    if on_torch:
        x = torch.tensor(x_np, dtype=getattr(torch, dtype), requires_grad=True)
    else:
        x = mnp.tensor(x_np, dtype=dtype, requires_grad=True)
    out = fn(x)
    y, idx = out if isinstance(out, tuple) else (out, None)
    w = np.random.default_rng(5).standard_normal(tuple(y.shape)) if w_np is None else w_np
    if isinstance(x, mnp.Tensor):
        (y * mnp.tensor(w, dtype=dtype)).sum().backward()
    else:
        y.backward(torch.tensor(w, dtype=getattr(torch, dtype)))
    to_np = lambda t: None if t is None else (t.detach().numpy() if hasattr(t, "detach") else t.numpy())
    return to_np(y), to_np(idx), to_np(x.grad), idx


def _check(ours, theirs, x_np, dtype, what, w_np=None):
    """``ours`` raises an MnpError exactly when ``theirs`` raises; otherwise all agree."""
    try:
        ty, ti, tg, _ = _run(theirs, x_np, dtype, w_np, True)
    except RuntimeError:
        with pytest.raises(mnp.MnpError):
            ours(mnp.tensor(x_np, dtype=dtype))
        return False
    y, i, g, idx = _run(ours, x_np, dtype, w_np, False)
    tol = F32 if dtype == "float32" else F64
    assert y.shape == ty.shape, f"{what}: shape {y.shape} != torch {ty.shape}"
    assert y.dtype == ty.dtype, f"{what}: dtype {y.dtype} != torch {ty.dtype}"
    assert_close(y, ty, **tol, what=f"{what}: output")
    assert_close(g, tg, **tol, what=f"{what}: grad")
    if ti is not None:
        assert idx.dtype == mnp.int64 and not idx.requires_grad, what
        assert np.array_equal(i, ti), f"{what}: indices\n{i}\n!= torch\n{ti}"
    return True


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_pool_options_match_torch(torch, rng, dims, dtype):
    ours, theirs = getattr(F, f"max_pool{dims}d"), getattr(torch.nn.functional, f"max_pool{dims}d")
    kernels = [2, 3] + ([(3, 2)] if dims == 2 else [])
    ran = 0
    for shape in SHAPES[dims]:
        x_np = rng.standard_normal(shape)
        for k, s, p, d, ceil in itertools.product(kernels, [None, 1, 2], [0, 1], [1, 2], [False, True]):
            kw = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil,
                      return_indices=True)
            ran += _check(lambda x, kw=kw: ours(x, **kw), lambda x, kw=kw: theirs(x, **kw), x_np, dtype,
                          f"max_pool{dims}d{shape} {kw}")
    assert ran > 40


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_avg_pool_options_match_torch(torch, rng, dims, dtype):
    ours, theirs = getattr(F, f"avg_pool{dims}d"), getattr(torch.nn.functional, f"avg_pool{dims}d")
    kernels = [2, 3] + ([(3, 2)] if dims == 2 else [])
    overrides = [None, 3] if dims == 2 else [None]
    ran = 0
    for shape in SHAPES[dims]:
        x_np = rng.standard_normal(shape)
        for k, s, p, ceil, cip, div in itertools.product(kernels, [None, 1, 2], [0, 1],
                                                         [False, True], [True, False], overrides):
            if div is not None and not cip:
                continue                            # the override ignores count_include_pad
            kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=cip)
            if dims == 2:
                kw["divisor_override"] = div
            ran += _check(lambda x, kw=kw: ours(x, **kw), lambda x, kw=kw: theirs(x, **kw), x_np, dtype,
                          f"avg_pool{dims}d{shape} {kw}")
    assert ran > 40


@pytest.mark.parametrize("dims", [1, 2])
def test_layers_match_torch_and_print_like_it(torch, rng, dims):
    cases = [(f"MaxPool{dims}d", (3, 2, 1), dict(dilation=2, return_indices=True, ceil_mode=True)),
             (f"MaxPool{dims}d", (2,), dict(ceil_mode=True)),
             (f"AvgPool{dims}d", (3, 2, 1), dict(ceil_mode=True, count_include_pad=False))]
    if dims == 2:
        cases.append(("AvgPool2d", (2, 1), dict(ceil_mode=True, divisor_override=2)))
    for name, args, kw in cases:
        ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
        assert repr(ours) == repr(theirs)
        assert _check(ours, theirs, rng.standard_normal(SHAPES[dims][0]), "float32", repr(ours))


def _ties_nan_inf(rng):
    x = rng.integers(0, 3, (2, 3, 9, 8)).astype(np.float64)      # many ties
    x[0, 0, 2, 2] = x[0, 0, 4, 4] = x[0, 0, 7, 1] = np.nan       # NaN windows
    x[0, 1, 2:5, 3] = np.nan                                     # windows holding several NaNs
    x[1, 0] = -np.inf                                            # a plane of -inf
    x[1, 1, :4, :4] = -np.inf                                    # -inf windows next to padding
    x[1, 2, ::2] = np.inf
    return x


def _check_max_cases(torch, x, cases):
    for k, s, p, d, ceil in cases:
        kw = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil, return_indices=True)
        for dtype in ["float32", "float64"]:
            assert _check(lambda t, kw=kw: F.max_pool2d(t, **kw),
                          lambda t, kw=kw: torch.nn.functional.max_pool2d(t, **kw),
                          x, dtype, f"2d {kw}")
            assert _check(lambda t, kw=kw: F.max_pool1d(t, **kw),
                          lambda t, kw=kw: torch.nn.functional.max_pool1d(t, **kw),
                          x[0, :, 3], dtype, f"1d {kw}")


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")    # NaN/inf in the loss
def test_dilated_ties_nan_and_inf_like_torch(torch, rng):
    _check_max_cases(torch, _ties_nan_inf(rng), [(2, 1, 1, 2, False), (3, 2, 1, 2, True),
                                                 (2, 2, 1, 3, True), (3, 1, 0, 2, False)])


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_ceil_mode_ties_nan_and_inf_like_torch(torch, rng):
    """Ceil mode runs the backend's ``max_pool2d_forward``, whose contract (docs/kernels.md)
    is PyTorch's: the last NaN of a window wins."""
    _check_max_cases(torch, _ties_nan_inf(rng), [(2, 2, 1, 1, True), (3, 2, 1, 1, True),
                                                 (2, 1, 0, 1, False)])


@pytest.mark.parametrize("fn,kw", [
    (F.max_pool2d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (F.max_pool2d, dict(kernel_size=(2, 3), stride=(1, 2), padding=1, dilation=(2, 1))),
    (F.max_pool2d, dict(kernel_size=2, stride=2, dilation=2, ceil_mode=True)),
    (F.max_pool1d, dict(kernel_size=3, stride=2, dilation=2, padding=1, ceil_mode=True)),
    (F.avg_pool2d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    (F.avg_pool2d, dict(kernel_size=(3, 2), stride=2, ceil_mode=True)),
    (F.avg_pool2d, dict(kernel_size=3, stride=2, padding=1, divisor_override=4)),
    (F.avg_pool1d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
])
def test_new_paths_grad_check_float64(rng, fn, kw):
    shape = (2, 2, 7) if fn in (F.max_pool1d, F.avg_pool1d) else (2, 2, 7, 6)
    x = mnp.tensor(rng.standard_normal(shape), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda t: fn(t, **kw), [x])


def _torch_out(size, k, s, p, d, ceil):
    """PyTorch's output-size rule (pooling_output_shape)."""
    span = d * (k - 1) + 1
    out = (size + 2 * p - span + ((s - 1) if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 12), k=st.integers(1, 4), s=st.integers(1, 4), p=st.integers(0, 2),
       d=st.integers(1, 3), ceil=st.booleans(), kind=st.sampled_from(["max", "avg"]))
def test_output_length_follows_torch_formula(size, k, s, p, d, ceil, kind):
    if kind == "avg":
        d = 1
    x = mnp.zeros((1, 2, size))
    expected = _torch_out(size, k, s, p, d, ceil)
    call = (lambda: F.max_pool1d(x, k, s, p, d, ceil)) if kind == "max" else \
        (lambda: F.avg_pool1d(x, k, s, p, ceil))
    if 2 * p > k or expected < 1:
        with pytest.raises(mnp.MnpError, match=f"{kind}_pool1d"):
            call()
    else:
        assert call().shape == (1, 2, expected)
        x2 = mnp.zeros((1, 1, size, 3))
        f2 = F.max_pool2d if kind == "max" else F.avg_pool2d
        extra = dict(dilation=(d, 1)) if kind == "max" else {}
        assert f2(x2, (k, 1), (s, 1), (p, 0), ceil_mode=ceil, **extra).shape == (1, 1, expected, 3)


@pytest.mark.parametrize("kw", [dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=2, dilation=2, ceil_mode=True),
                                dict(kernel_size=(3, 2), stride=1, dilation=(1, 3))])
def test_indices_rebuild_the_max(rng, kw):
    x = mnp.tensor(rng.standard_normal((2, 3, 9, 8)))
    y, idx = F.max_pool2d(x, return_indices=True, **kw)
    flat = x.flatten(2).numpy()
    rebuilt = np.take_along_axis(flat, idx.numpy().reshape(2, 3, -1), axis=2)
    assert np.array_equal(rebuilt, y.flatten(2).numpy())
    y1, idx1 = F.max_pool1d(x[:, :, 0], return_indices=True, kernel_size=3, dilation=2, ceil_mode=True)
    assert np.array_equal(np.take_along_axis(x[:, :, 0].numpy(), idx1.numpy(), axis=2), y1.numpy())


def test_model_with_new_options_round_trips(tmp_path, rng):
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1),
        nn.MaxPool2d(3, 1, 1, dilation=2, ceil_mode=True),
        nn.AvgPool2d((3, 2), 2, 1, ceil_mode=True, count_include_pad=False, divisor_override=5),
        nn.Flatten(2),
        nn.MaxPool1d(2, ceil_mode=True),
        nn.AvgPool1d(3, 2, 1, ceil_mode=True, count_include_pad=False))
    x = mnp.tensor(rng.standard_normal((2, 2, 9, 7)).astype(np.float32))
    nn.save(model, tmp_path / "m.safetensors")
    again = nn.load(tmp_path / "m.safetensors")
    assert repr(again) == repr(model)
    for a, b in zip(again, model):
        assert a.get_config() == b.get_config()
    assert again[2].divisor_override == 5 and again[5].count_include_pad is False
    assert np.array_equal(again(x).numpy(), model(x).numpy())
    pool = nn.MaxPool1d(3, 2, 1, dilation=2, return_indices=True, ceil_mode=True)
    nn.save(nn.Sequential(pool), tmp_path / "p.safetensors")
    loaded = nn.load(tmp_path / "p.safetensors")[0]
    assert loaded.get_config() == pool.get_config() and loaded.return_indices
    x1 = mnp.tensor(rng.standard_normal((2, 3, 10)))
    for u, v in zip(loaded(x1), pool(x1)):
        assert np.array_equal(u.numpy(), v.numpy())


def test_bad_options_name_op_and_values():
    x = mnp.zeros((1, 1, 6, 6))
    with pytest.raises(mnp.MnpError, match=r"max_pool2d: dilation must be >= 1, got 0"):
        F.max_pool2d(x, 2, dilation=0)
    with pytest.raises(mnp.MnpError, match=r"max_pool2d: padding \(2, 2\).*half.*kernel_size \(3, 3\)"):
        F.max_pool2d(x, 3, padding=2, dilation=2)          # PyTorch checks the kernel itself
    with pytest.raises(mnp.MnpError, match=r"avg_pool2d: divisor_override.*got 0"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(mnp.MnpError, match=r"AvgPool2d|avg_pool2d"):
        nn.AvgPool2d(2, divisor_override=-1)(x)
    with pytest.raises(mnp.ShapeError, match=r"max_pool1d.*\(1, 1, 5\).*too small.*dilation \(3,\)"):
        F.max_pool1d(mnp.zeros((1, 1, 5)), 3, dilation=3)
    with pytest.raises(mnp.ShapeError, match=r"avg_pool2d.*too small"):
        F.avg_pool2d(mnp.zeros((1, 1, 1, 1)), 3, stride=1, ceil_mode=True)
