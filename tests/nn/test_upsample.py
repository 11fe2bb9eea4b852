"""`interpolate` and the upsampling layers against PyTorch: every mode on 3-d, 4-d and 5-d
inputs, sizes and scale factors (recomputed or not), align_corners both ways, float32 and
float64 (values, input gradients, dtypes, shapes), errors, reprs, float64 finite
differences and output shapes as properties."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp import nn
from mnp.core.testing import F32, assert_close
from mnp.nn import functional as F

F64 = {"rtol": 1e-10, "atol": 1e-12}
SPECS = [dict(size=7), dict(size=3), dict(size=1), dict(scale_factor=2),
         dict(scale_factor=1.5), dict(scale_factor=1.5, recompute_scale_factor=True),
         dict(scale_factor=0.7), dict(scale_factor=0.5), dict(scale_factor=1.4),
         dict(scale_factor=2.2)]
MODES = {1: ["nearest", "nearest-exact", "area", "linear"],
         2: ["nearest", "nearest-exact", "area", "bilinear", "bicubic"],
         3: ["nearest", "nearest-exact", "area", "trilinear"]}
SHAPES = {1: (2, 2, 5), 2: (1, 2, 3, 4), 3: (1, 1, 2, 3, 4)}


def _quirk(mode: str, dims: int, shape: tuple, spec: dict) -> bool:
    """PyTorch's 1-d and 3-d nearest backward copies an axis that keeps its size and halves
    the index of one that doubles, where its forward computes ``floor(i / scale)``: there
    torch's gradient is not its forward's adjoint (ours is; finite differences check it)."""
    s = spec.get("scale_factor")
    if mode != "nearest" or dims == 2 or s is None or spec.get("recompute_scale_factor"):
        return False
    outs = [math.floor(n * s) for n in shape[2:]]
    return any(o in (n, 2 * n) and o != n * s for o, n in zip(outs, shape[2:]))


def _compare(torch, x_np, dtype, kw, grads=True):
    tdt = getattr(torch, dtype)
    xt = torch.tensor(x_np, dtype=tdt, requires_grad=True)
    yt = torch.nn.functional.interpolate(xt, **kw)
    x = mnp.tensor(x_np, dtype=dtype, requires_grad=True)
    y = F.interpolate(x, **kw)
    what = f"interpolate{x_np.shape} {kw} {dtype}"
    assert y.shape == tuple(yt.shape) and y.dtype == dtype, what
    tol = F32 if dtype == "float32" else F64
    assert_close(y, yt, **tol, what=what)
    if grads:
        w = np.random.default_rng(3).standard_normal(y.shape)
        yt.backward(torch.tensor(w, dtype=tdt))
        (y * mnp.tensor(w, dtype=dtype)).sum().backward()
        assert_close(x.grad, xt.grad, **tol, what=f"{what} grad")


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_interpolate_matches_torch(torch, rng, dims, dtype):
    shape = SHAPES[dims]
    x = rng.standard_normal(shape)
    for mode in MODES[dims]:
        corners = [None] if mode in ("nearest", "nearest-exact", "area") else [False, True]
        for align in corners:
            for spec in SPECS:
                kw = dict(spec, mode=mode, align_corners=align)
                _compare(torch, x, dtype, kw, grads=not _quirk(mode, dims, shape, spec))


def test_size_one_inputs_and_torch_nearest_rules(torch, rng):
    x = rng.standard_normal((1, 2, 1, 3))
    for kw in [dict(size=(4, 5), mode="bilinear"), dict(size=(3, 1), mode="bicubic"),
               dict(scale_factor=(3, 0.5), mode="nearest"), dict(size=(2, 6), mode="area"),
               dict(size=(1, 3), mode="bilinear", align_corners=True),
               dict(scale_factor=1.4, mode="bilinear")]:      # 1x1.4 keeps W: copied
        _compare(torch, x, "float32", kw)
    # 2-d nearest: an axis kept or doubled is copied or halved whatever the scale
    z = np.arange(3.0).reshape(1, 1, 1, 3)
    _compare(torch, z, "float32", dict(scale_factor=2.2))
    # nearest takes integer images too
    ints = np.arange(6).reshape(1, 1, 2, 3)
    y = F.interpolate(mnp.tensor(ints), size=(3, 5))
    ty = torch.nn.functional.interpolate(torch.tensor(ints, dtype=torch.float64), size=(3, 5))
    assert y.dtype == mnp.int64 and np.array_equal(y.numpy(), ty.numpy())
    with pytest.raises(mnp.ArgumentError, match="floating point"):
        F.interpolate(mnp.tensor(ints), size=(3, 5), mode="bilinear")
    # 1-d nearest computes floor(i / 1.4) even where the size stays
    assert F.interpolate(mnp.tensor([[[0.0, 1.0]]]), scale_factor=1.4).tolist() == [[[0.0, 0.0]]]


def test_quirk_cases_have_true_adjoint_gradients():
    x = mnp.tensor(np.random.default_rng(0).standard_normal((1, 1, 3)), requires_grad=True)
    assert mnp.grad_check(lambda t: F.interpolate(t, scale_factor=2.2), [x])


def test_gradients_match_finite_differences(rng):
    x2 = mnp.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    x3 = mnp.tensor(rng.standard_normal((1, 1, 2, 3, 2)), requires_grad=True)
    for fn, x in [(lambda t: F.interpolate(t, scale_factor=1.5, mode="bilinear"), x2),
                  (lambda t: F.interpolate(t, size=(2, 3), mode="bilinear",
                                           align_corners=True), x2),
                  (lambda t: F.interpolate(t, size=(5, 3), mode="bicubic"), x2),
                  (lambda t: F.interpolate(t, size=(4, 7), mode="nearest-exact"), x2),
                  (lambda t: F.interpolate(t, size=(3, 2), mode="area"), x2),
                  (lambda t: F.interpolate(t, scale_factor=2, mode="trilinear"), x3)]:
        assert mnp.grad_check(fn, [x])


@pytest.mark.parametrize("kw,shape,match", [
    (dict(size=4, scale_factor=2), (1, 1, 3), "only one of size or scale_factor"),
    (dict(), (1, 1, 3), "either size or scale_factor"),
    (dict(size=4, align_corners=True), (1, 1, 3), "align_corners option"),
    (dict(size=4, mode="area", align_corners=False), (1, 1, 3), "align_corners option"),
    (dict(size=4, mode="linear"), (1, 1, 3, 3), "linear mode needs a 3-d input"),
    (dict(size=4, mode="bicubic"), (1, 1, 3), "bicubic mode needs a 4-d input"),
    (dict(size=4, mode="trilinear"), (1, 1, 3, 3), "trilinear mode needs a 5-d input"),
    (dict(size=4), (3, 3), "3-d, 4-d and 5-d"),
    (dict(size=4, mode="cubic"), (1, 1, 3), "mode must be one of"),
    (dict(size=(4, 4)), (1, 1, 3), "one size per spatial dimension"),
    (dict(scale_factor=(2, 2, 2)), (1, 1, 3, 3), "one factor per spatial dimension"),
    (dict(size=4, recompute_scale_factor=True), (1, 1, 3), "recompute_scale_factor"),
    (dict(scale_factor=0.2), (1, 1, 3), "greater than 0"),
    (dict(scale_factor="2"), (1, 1, 3), "scale_factor must be a number"),
    (dict(size=0, mode="bilinear"), (1, 1, 3, 3), "greater than 0"),
])
def test_interpolate_errors_where_torch_errors(torch, kw, shape, match):
    with pytest.raises((ValueError, RuntimeError, NotImplementedError, TypeError)):
        torch.nn.functional.interpolate(torch.zeros(shape), **kw)
    with pytest.raises(mnp.MnpError, match=match):
        F.interpolate(mnp.zeros(shape), **kw)


def test_antialias_is_refused_clearly():
    with pytest.raises(mnp.ArgumentError, match="antialias"):
        F.interpolate(mnp.zeros((1, 1, 3, 3)), size=2, mode="bilinear", antialias=True)


def test_layers_match_torch_and_print_like_it(torch, rng):
    x = rng.standard_normal((1, 2, 3, 4))
    for name, kw in [("Upsample", dict(scale_factor=2)),
                     ("Upsample", dict(size=(3, 5), mode="bilinear")),
                     ("Upsample", dict(scale_factor=(1.5, 2), mode="bicubic", align_corners=True)),
                     ("UpsamplingNearest2d", dict(size=5)),
                     ("UpsamplingBilinear2d", dict(scale_factor=2))]:
        ours, theirs = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
        assert repr(ours) == repr(theirs)
        xt = torch.tensor(x, dtype=torch.float32)
        assert_close(ours(mnp.tensor(x, dtype="float32")), theirs(xt), **F32, what=repr(ours))
    bilinear = nn.UpsamplingBilinear2d(size=(5, 7))(mnp.tensor(x))
    assert_close(bilinear, F.interpolate(mnp.tensor(x), size=(5, 7), mode="bilinear",
                                         align_corners=True))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=2, max_size=2),
       st.sampled_from(["nearest", "nearest-exact", "bilinear", "bicubic", "area"]),
       st.one_of(st.floats(0.5, 3.0), st.lists(st.integers(1, 8), min_size=2, max_size=2)))
def test_interpolate_output_shape_property(spatial, mode, target):
    x = mnp.tensor(np.ones((1, 2, *spatial)))
    if isinstance(target, float):
        want = tuple(math.floor(n * target) for n in spatial)
        kw = dict(scale_factor=target)
    else:
        want, kw = tuple(target), dict(size=tuple(target))
    if min(want) < 1 and mode != "area":        # area pools to an empty output, as in torch
        with pytest.raises(mnp.MnpError):
            F.interpolate(x, mode=mode, **kw)
        return
    y = F.interpolate(x, mode=mode, **kw)
    assert y.shape == (1, 2) + want
    if min(want) < 1:
        return
    # a constant image stays constant under every mode (the weights sum to one)
    assert_close(y, np.ones(y.shape), rtol=1e-6, atol=1e-6, what=f"{mode} {kw}")


def test_deprecated_forms_warn_like_torch(torch, rng):
    x = rng.standard_normal((1, 2, 3, 4)).astype(np.float32)
    for name, kw in [("upsample", dict(scale_factor=2, mode="bilinear")),
                     ("upsample_nearest", dict(size=(5, 5))),
                     ("upsample_bilinear", dict(scale_factor=1.5))]:
        with pytest.warns(UserWarning, match=f"nn.functional.{name}` is deprecated"):
            y = getattr(F, name)(mnp.tensor(x), **kw)
        with pytest.warns(UserWarning):
            ty = getattr(torch.nn.functional, name)(torch.tensor(x), **kw)
        assert_close(y, ty, **F32, what=name)
