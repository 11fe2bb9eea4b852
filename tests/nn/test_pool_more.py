"""Adaptive, 3-d and power-average pooling, max unpooling and the pixel and channel shuffles
against PyTorch (values, input gradients, indices, dtypes, shapes, errors, reprs), float64
finite differences and output shapes as properties."""
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


def _run(fn, x_np, dtype, on_torch):
    """Output, indices (or None) and input gradient of ``fn`` on ``x_np``."""
    import torch
    if on_torch:
        x = torch.tensor(x_np, dtype=getattr(torch, dtype), requires_grad=True)
    else:
        x = mnp.tensor(x_np, dtype=dtype, requires_grad=True)
    out = fn(x)
    y, idx = out if isinstance(out, tuple) else (out, None)
    w = np.random.default_rng(5).standard_normal(tuple(y.shape))
    if on_torch:
        y.backward(torch.tensor(w, dtype=getattr(torch, dtype)))
    else:
        (y * mnp.tensor(w, dtype=dtype)).sum().backward()
    return y, idx, x.grad


def check(ours, theirs, x_np, dtype, what):
    """``ours`` raises an MnpError exactly when ``theirs`` raises; otherwise values, dtypes,
    input gradients and indices agree. True when it ran."""
    try:
        ty, ti, tg = _run(theirs, x_np, dtype, True)
    except (RuntimeError, ValueError):
        with pytest.raises(mnp.MnpError):
            ours(mnp.tensor(x_np, dtype=dtype))
        return False
    y, i, g = _run(ours, x_np, dtype, False)
    tol = F32 if dtype == "float32" else F64
    assert y.shape == tuple(ty.shape), f"{what}: shape {y.shape} != torch {tuple(ty.shape)}"
    assert y.dtype == dtype, f"{what}: dtype {y.dtype}"
    assert_close(y, ty, **tol, what=f"{what}: output")
    assert_close(g, tg, **tol, what=f"{what}: grad")
    if ti is not None:
        assert i.dtype == mnp.int64 and not i.requires_grad, what
        assert np.array_equal(i.numpy(), ti.numpy()), f"{what}: indices\n{i}\n!= torch\n{ti}"
    return True


# -- adaptive pooling ----------------------------------------------------------------------------
ADAPTIVE = {1: [((2, 3, 7), [3, 1, 7, 4, 10]), ((3, 5), [2, (4,)])],
            2: [((2, 2, 7, 5), [(3, 4), 1, (1, 1), (2, 5), (None, 3), (3, None), (9, 2)]),
                ((2, 6, 4), [(3, 2), 4])],
            3: [((1, 2, 5, 3, 4), [(2, 2, 3), 1, (None, 2, 4)])]}


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adaptive_pooling_matches_torch(torch, rng, dims, dtype):
    tf = torch.nn.functional
    for shape, sizes in ADAPTIVE[dims]:
        x = rng.standard_normal(shape)
        for out in sizes:
            for kind in ("avg", "max"):
                name = f"adaptive_{kind}_pool{dims}d"
                kw = {"return_indices": True} if kind == "max" else {}
                assert check(lambda t, o=out, kw=kw: getattr(F, name)(t, o, **kw),
                             lambda t, o=out, kw=kw: getattr(tf, name)(t, o, **kw),
                             x, dtype, f"{name}{shape} {out}")


@pytest.mark.filterwarnings("ignore:invalid value")
def test_adaptive_max_ties_nan_and_inf_match_torch(torch, rng):
    x = rng.integers(0, 3, (2, 3, 7, 5)).astype(np.float64)      # many ties
    x[0, 0, 1, 1] = x[0, 0, 2, 3] = np.nan                         # two NaNs in one window
    x[1, 0] = -np.inf
    for out in [(3, 2), (2, 2), 4]:
        check(lambda t, o=out: F.adaptive_max_pool2d(t, o, True),
              lambda t, o=out: torch.nn.functional.adaptive_max_pool2d(t, o, True),
              x, "float64", f"ties {out}")


def test_adaptive_avg_pool_fast_paths(rng):
    x = mnp.tensor(rng.standard_normal((2, 3, 6, 4)), requires_grad=True)
    assert type(F.adaptive_avg_pool2d(x, 1).grad_fn).__name__ == "Mean"     # global mean
    assert type(F.adaptive_avg_pool2d(x, (3, 2)).grad_fn).__name__ == "AvgPool2dFunction"
    assert type(F.adaptive_max_pool2d(x, (3, 2)).grad_fn).__name__ == "MaxPool2dFunction"
    assert type(F.adaptive_max_pool2d(x, (4, 3)).grad_fn).__name__ == "AdaptiveMaxPoolFunction"


def test_adaptive_pooling_errors_and_layers(torch):
    x = mnp.zeros((1, 2, 5, 7))
    for bad in [-1, (2,), (2, 3, 4), 2.5, "3"]:
        with pytest.raises(mnp.ArgumentError):
            F.adaptive_avg_pool2d(x, bad)
    with pytest.raises(mnp.ShapeError, match="adaptive_max_pool2d"):
        F.adaptive_max_pool2d(mnp.zeros((5, 7)), 2)
    assert F.adaptive_avg_pool2d(x, 0).shape == (1, 2, 0, 0)
    for name, args in [("AdaptiveAvgPool2d", ((None, 3),)), ("AdaptiveMaxPool2d", (3, True)),
                       ("AdaptiveAvgPool1d", (3,)), ("AdaptiveMaxPool1d", (2,)),
                       ("AdaptiveAvgPool3d", ((2, None, 1),)), ("AdaptiveMaxPool3d", (1,))]:
        ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(ours) == repr(theirs)
    y, i = nn.AdaptiveMaxPool2d((2, 3), return_indices=True)(x)
    assert y.shape == (1, 2, 2, 3) and i.dtype == mnp.int64


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=2, max_size=2),
       st.lists(st.one_of(st.none(), st.integers(1, 9)), min_size=2, max_size=2))
def test_adaptive_pool_output_shape_property(spatial, out):
    x = mnp.tensor(np.arange(2.0 * spatial[0] * spatial[1]).reshape(1, 2, *spatial))
    want = tuple(s if o is None else o for s, o in zip(spatial, out))
    y = F.adaptive_avg_pool2d(x, tuple(out))
    m, i = F.adaptive_max_pool2d(x, tuple(out), return_indices=True)
    assert y.shape == m.shape == i.shape == (1, 2) + want
    # every window is non-empty: the means lie within the input's range, maxima come from it
    assert (y.numpy() >= x.numpy().min()).all() and (y.numpy() <= x.numpy().max()).all()
    plane = x.numpy().reshape(1, 2, -1)
    assert np.array_equal(np.take_along_axis(plane, i.numpy().reshape(1, 2, -1), 2),
                          m.numpy().reshape(1, 2, -1))


# -- 3-d pooling -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pool3d_options_match_torch(torch, rng, dtype):
    tf = torch.nn.functional
    ran = 0
    for shape in [(1, 2, 5, 4, 6), (2, 3, 4, 5)]:       # unbatched with ties
        x = rng.standard_normal(shape) if len(shape) == 5 else rng.integers(0, 3, shape) * 1.0
        for k, s, p, ceil, d in [(2, None, 0, False, 1), ((3, 2, 2), (1, 2, 1), 1, True, 1),
                                 (2, 1, 1, True, 2), ((3, 2, 2), None, 1, False, 2)]:
            kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=ceil, dilation=d,
                      return_indices=True)
            ran += check(lambda t, kw=kw: F.max_pool3d(t, **kw),
                         lambda t, kw=kw: tf.max_pool3d(t, **kw), x, dtype, f"max3d {kw}")
        for k, s, p, ceil, cip, div in [(2, None, 0, False, True, None),
                                        ((3, 2, 2), (1, 2, 1), 1, True, False, None),
                                        (2, 1, 1, True, True, 5), (3, 2, 1, False, False, None)]:
            kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=cip,
                      divisor_override=div)
            ran += check(lambda t, kw=kw: F.avg_pool3d(t, **kw),
                         lambda t, kw=kw: tf.avg_pool3d(t, **kw), x, dtype, f"avg3d {kw}")
    assert ran >= 14


def test_pool3d_layers_match_torch(torch, rng):
    x = rng.standard_normal((1, 2, 4, 5, 5))
    for name, args, kw in [("MaxPool3d", (3, 2, 1), dict(return_indices=True, ceil_mode=True)),
                           ("MaxPool3d", ((2, 3, 2),), {}),
                           ("AvgPool3d", (2,), dict(ceil_mode=True, count_include_pad=False))]:
        ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
        assert repr(ours) == repr(theirs)
        assert check(ours, theirs, x, "float32", repr(ours))
    with pytest.raises(mnp.ArgumentError, match="max_pool3d"):
        F.max_pool3d(mnp.zeros((1, 1, 4, 4, 4)), 2, padding=2)
    with pytest.raises(mnp.ShapeError, match="avg_pool3d"):
        F.avg_pool3d(mnp.zeros((4, 4, 4)), 2)


# -- power-average pooling -------------------------------------------------------------------
@pytest.mark.parametrize("dims", [1, 2])
def test_lp_pool_matches_torch(torch, rng, dims):
    shape = (2, 3, 7) if dims == 1 else (2, 3, 5, 6)
    x = np.abs(rng.standard_normal(shape)) + 0.1
    name = f"lp_pool{dims}d"
    for p, k, s, ceil in [(2, 2, None, False), (3.0, 3, 2, True), (1.5, 2, 1, False),
                          (float("inf"), 3, 2, True)]:
        for dtype in ["float32", "float64"]:
            assert check(lambda t: getattr(F, name)(t, p, k, s, ceil),
                         lambda t: getattr(torch.nn.functional, name)(t, p, k, s, ceil), x,
                         dtype, f"{name} {p} {k} {s} {ceil}")
    layer = f"LPPool{dims}d"
    assert repr(getattr(nn, layer)(2, 3)) == repr(getattr(torch.nn, layer)(2, 3))
    assert check(getattr(nn, layer)(2, 3, 2), getattr(torch.nn, layer)(2, 3, 2), x, "float32",
                 layer)


# -- max unpooling ---------------------------------------------------------------------------
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_unpool_inverts_torch_pooling_indices(torch, rng, dims):
    shape = {1: (2, 3, 9), 2: (2, 3, 5, 6), 3: (1, 2, 4, 5, 4)}[dims]
    pool_t = getattr(torch.nn.functional, f"max_pool{dims}d")
    x = torch.tensor(rng.standard_normal(shape))
    ran = 0
    for k, s, p, size in [(2, None, 0, None), (3, 2, 1, None), (3, 1, 1, None),
                          (2, 2, 0, list(shape[2:]))]:     # odd sizes: one more than default
        y, idx = pool_t(x, k, s, p, return_indices=True)
        ours = lambda t: getattr(F, f"max_unpool{dims}d")(t, mnp.from_numpy(idx.numpy()), k, s,
                                                          p, size)
        theirs = lambda t: getattr(torch.nn.functional, f"max_unpool{dims}d")(t, idx, k, s, p,
                                                                               size)
        for dtype in ["float32", "float64"]:       # torch's invalid indices must fail here too
            ran += check(ours, theirs, y.numpy(), dtype, f"unpool{dims}d {k} {s} {p} {size}")
    assert ran >= 4


def test_max_unpool_takes_mnp_pooling_indices_and_checks_them(torch, rng):
    x = mnp.tensor(rng.standard_normal((1, 2, 4, 5)))
    y, idx = nn.MaxPool2d(2, return_indices=True, ceil_mode=True)(x)
    unpool = nn.MaxUnpool2d(2)
    assert repr(unpool) == repr(torch.nn.MaxUnpool2d(2))
    z = unpool(y, idx, output_size=x.shape)
    assert z.shape == x.shape
    kept = z.numpy() != 0
    assert kept.sum() == y.numel() and np.array_equal(z.numpy()[kept], x.numpy()[kept])
    with pytest.raises(mnp.ArgumentError, match="between"):
        unpool(y, idx, output_size=(9, 9))
    with pytest.raises(mnp.ArgumentError, match="2 or 4"):
        unpool(y, idx, output_size=(5,))
    with pytest.raises(IndexError, match="invalid max index"):
        F.max_unpool2d(y, idx + 99, 2)
    with pytest.raises(mnp.ShapeError, match="indices"):
        F.max_unpool2d(y, idx[:, :1], 2)
    with pytest.raises(mnp.ArgumentError, match="int64"):
        F.max_unpool2d(y, idx.float(), 2)


# -- shuffles --------------------------------------------------------------------------------
def test_shuffles_match_torch(torch, rng):
    tf = torch.nn.functional
    for fn, arg, shape in [("pixel_shuffle", 2, (2, 8, 3, 2)), ("pixel_shuffle", 3, (9, 2, 2)),
                           ("pixel_shuffle", 2, (2, 2, 4, 1, 3)),
                           ("pixel_unshuffle", 2, (2, 3, 4, 6)), ("pixel_unshuffle", 3, (1, 3, 3)),
                           ("channel_shuffle", 2, (2, 6, 3)), ("channel_shuffle", 3, (1, 6, 2, 2))]:
        assert check(lambda t: getattr(F, fn)(t, arg), lambda t: getattr(tf, fn)(t, arg),
                     rng.standard_normal(shape), "float64", f"{fn}{shape}")
    for fn, arg, shape in [("pixel_shuffle", 2, (2, 5, 3, 3)), ("pixel_unshuffle", 2, (2, 5, 3, 4)),
                           ("pixel_shuffle", 2, (4, 3)), ("channel_shuffle", 2, (2, 5, 3))]:
        with pytest.raises(mnp.ShapeError, match=fn):
            getattr(F, fn)(mnp.zeros(shape), arg)
    with pytest.raises(mnp.ArgumentError, match="upscale_factor"):
        F.pixel_shuffle(mnp.zeros((1, 4, 2, 2)), 0)
    for name in ["PixelShuffle", "PixelUnshuffle", "ChannelShuffle"]:
        assert repr(getattr(nn, name)(2)) == repr(getattr(torch.nn, name)(2))


# -- float64 finite differences --------------------------------------------------------------
def test_gradients_match_finite_differences(rng):
    x3 = mnp.tensor(rng.standard_normal((1, 2, 5, 3)), requires_grad=True)
    x5 = mnp.tensor(rng.standard_normal((1, 1, 3, 4, 3)), requires_grad=True)
    pos = mnp.tensor(np.abs(rng.standard_normal((1, 2, 5, 3))) + 0.5, requires_grad=True)
    small = mnp.tensor(rng.standard_normal((1, 2, 3, 3)), requires_grad=True)
    idx = mnp.tensor(np.array([0, 4, 6, 11, 13, 16, 20, 22, 24]).reshape(1, 1, 3, 3).repeat(2, 1))
    cases = [(lambda t: F.adaptive_avg_pool2d(t, (3, 2)), x3),
             (lambda t: F.adaptive_max_pool2d(t, (2, 2)), x3),
             (lambda t: F.adaptive_avg_pool3d(t, (2, 3, 2)), x5),
             (lambda t: F.avg_pool3d(t, 2, 1, 1, True, False), x5),
             (lambda t: F.max_pool3d(t, 2, 1, 1), x5),
             (lambda t: F.lp_pool2d(t, 3, 2, 1), pos),
             (lambda t: F.pixel_shuffle(t.reshape(1, 2, 3, 3).repeat(1, 2, 1, 1), 2), small),
             (lambda t: F.max_unpool2d(t, idx, 2, output_size=(5, 5)), small)]
    for fn, x in cases:
        assert mnp.grad_check(fn, [x])


def test_model_files_keep_the_new_layers(tmp_path, rng):
    model = nn.Sequential(nn.AdaptiveAvgPool2d((None, 3)),
                          nn.Upsample(scale_factor=(2, 1.5), mode="bicubic", align_corners=True),
                          nn.PixelUnshuffle(2), nn.LPPool2d(3, 2), nn.AdaptiveMaxPool2d(2),
                          nn.UpsamplingBilinear2d(size=3), nn.ChannelShuffle(4))
    nn.save(model, tmp_path / "m.safetensors")
    again = nn.load(tmp_path / "m.safetensors")
    assert repr(again) == repr(model)
    x = mnp.tensor(np.abs(rng.standard_normal((1, 2, 5, 4))))
    assert np.array_equal(again(x).numpy(), model(x).numpy())
    pools = nn.Sequential(nn.MaxPool3d(2, 1, 1), nn.AvgPool3d(2, divisor_override=3),
                          nn.AdaptiveAvgPool3d((1, None, 2)))
    nn.save(pools, tmp_path / "p.safetensors")
    x = mnp.tensor(rng.standard_normal((1, 2, 4, 5, 6)))
    assert np.array_equal(nn.load(tmp_path / "p.safetensors")(x).numpy(), pools(x).numpy())
