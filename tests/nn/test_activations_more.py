"""The added activations (SiLU, Mish, ELU, SELU, CELU, Softplus, Softsign, Hardswish,
Hardsigmoid, Hardtanh, ReLU6, LogSigmoid, PReLU, GLU, Softmin, Threshold) against PyTorch:
values and gradients (at the kinks too), float64 finite differences, reprs, state dicts,
errors and registration."""
from __future__ import annotations

import numpy as np
import pytest

import mnp.core as mnp
from mnp import nn
from mnp.nn import functional as F
from mnp.core.testing import (F32, assert_close, assert_matches_torch,
                              assert_parameter_grads_match, copy_parameters)

F64 = {"rtol": 1e-10, "atol": 1e-12}
# the kinks of every piecewise activation, far tails, and ordinary points
POINTS = np.array([-40.0, -6.0, -3.0, -2.5, -1.0, -0.3, 0.0, 0.7, 1.0, 2.0, 3.0, 5.5, 6.0, 7.0,
                   25.0, 40.0])

# name, mnp form, torch form (given torch.nn.functional)
CASES = [
    ("silu", F.silu, lambda T: T.silu),
    ("mish", F.mish, lambda T: T.mish),
    ("elu", lambda x: F.elu(x, alpha=0.7), lambda T: lambda x: T.elu(x, alpha=0.7)),
    ("selu", F.selu, lambda T: T.selu),
    ("celu", lambda x: F.celu(x, 2.0), lambda T: lambda x: T.celu(x, 2.0)),
    ("softplus", lambda x: F.softplus(x, 2.0, 10.0), lambda T: lambda x: T.softplus(x, 2.0, 10.0)),
    ("softsign", F.softsign, lambda T: T.softsign),
    ("hardswish", F.hardswish, lambda T: T.hardswish),
    ("hardtanh", lambda x: F.hardtanh(x, -1.0, 2.0), lambda T: lambda x: T.hardtanh(x, -1.0, 2.0)),
    ("relu6", F.relu6, lambda T: T.relu6),
    ("logsigmoid", F.logsigmoid, lambda T: T.logsigmoid),
    ("threshold", lambda x: F.threshold(x, 1.0, -5.0), lambda T: lambda x: T.threshold(x, 1.0, -5.0)),
    ("softmin", lambda x: F.softmin(x, dim=0), lambda T: lambda x: T.softmin(x, dim=0)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,fn,tfn", CASES, ids=[c[0] for c in CASES])
def test_activation_matches_torch_at_kinks_and_tails(torch, name, fn, tfn, dtype):
    tol = F32 if dtype == np.float32 else F64
    assert_matches_torch(fn, tfn(torch.nn.functional), POINTS, dtype=dtype, what=name, **tol)


def test_hardsigmoid_matches_torch(torch):
    # torch's float64 hardsigmoid backward uses a float32 1/6: compare at float32 precision
    for dtype in (np.float32, np.float64):
        assert_matches_torch(F.hardsigmoid, torch.nn.functional.hardsigmoid, POINTS, dtype=dtype)


def test_kink_gradients_are_torchs():
    x = mnp.tensor([-3.0, 0.0, 3.0, 6.0], dtype=mnp.float64, requires_grad=True)
    F.relu6(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 0.0]
    x.grad = None
    F.hardswish(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.5, 1.0, 1.0]
    x.grad = None
    F.hardtanh(x, -3.0, 3.0).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize("name,fn,tfn", CASES + [("hardsigmoid", F.hardsigmoid, None)],
                         ids=[c[0] for c in CASES] + ["hardsigmoid"])
def test_activation_grad_check_float64(rng, name, fn, tfn):
    # away from the kinks, where the derivative is defined
    x = rng.uniform(-8, 8, 24)
    x = x[np.min(np.abs(x[:, None] - np.array([-3.0, -1.0, 0.0, 1.0, 2.0, 3.0, 6.0])), axis=1) > 0.05]
    t = mnp.tensor(x, dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(fn, [t])


def test_logsigmoid_is_stable():
    y = F.logsigmoid(mnp.tensor([-1000.0, 1000.0], dtype=mnp.float32)).tolist()
    assert y == [-1000.0, 0.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("shape,dim", [((4, 6), -1), ((2, 4, 3), 1), ((6,), 0)])
def test_glu_matches_torch(torch, rng, shape, dim, dtype):
    tol = F32 if dtype == np.float32 else F64
    assert_matches_torch(lambda x: F.glu(x, dim), lambda x: torch.nn.functional.glu(x, dim),
                         rng.standard_normal(shape), rng=rng, dtype=dtype, **tol)
    assert_matches_torch(nn.GLU(dim), torch.nn.GLU(dim), rng.standard_normal(shape), rng=rng,
                         dtype=dtype, **tol)


@pytest.mark.filterwarnings("ignore:Implicit dimension")
@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 5), (2, 4, 3, 3), (5,), ()])
def test_softmin_implicit_dim_matches_torch(torch, rng, shape):
    assert_matches_torch(nn.Softmin(), torch.nn.Softmin(), rng.standard_normal(shape), rng=rng)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("num,shape", [(1, (3, 4)), (4, (3, 4)), (4, (2, 4, 5)), (3, (2, 3, 2, 2)),
                                       (1, (5,)), (1, ())])
def test_prelu_matches_torch(torch, rng, num, shape, dtype):
    tol = F32 if dtype == np.float32 else F64
    ours = nn.PReLU(num, dtype=dtype)
    theirs = torch.nn.PReLU(num, dtype=getattr(torch, np.dtype(dtype).name))
    ours.weight.data[...] = rng.uniform(-1, 1, num)
    copy_parameters(ours, theirs)
    x = rng.standard_normal(shape)
    if x.ndim:
        x.flat[0] = 0.0                    # the kink: the slope's side, as torch
    assert_matches_torch(ours, theirs, x, rng=rng, dtype=dtype, **tol)
    assert ours.weight.grad.dtype == dtype
    assert_parameter_grads_match(ours, theirs, **tol)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]


def test_prelu_grad_check_float64(rng):
    x = rng.standard_normal((3, 4, 2))
    x[np.abs(x) < 0.05] = 0.5
    xt = mnp.tensor(x, dtype=mnp.float64, requires_grad=True)
    w = mnp.tensor(rng.uniform(0, 1, 4), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda x, w: F.prelu(x, w), [xt, w])


def test_prelu_loads_a_torch_state_dict(torch):
    theirs = torch.nn.PReLU(3, init=0.1)
    ours = nn.PReLU(3)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert_close(ours.weight, np.full(3, 0.1), rtol=0, atol=1e-7)


def test_reprs_match_torch(torch):
    pairs = [("PReLU", (3,)), ("PReLU", ()), ("ELU", ()), ("ELU", (0.5, True)), ("CELU", (2,)),
             ("SELU", (True,)), ("SELU", ()), ("SiLU", (True,)), ("Mish", ()),
             ("Softplus", (2, 10)), ("Softsign", ()), ("Hardswish", (True,)),
             ("Hardsigmoid", ()), ("Hardtanh", ()), ("Hardtanh", (-2, 3, True)), ("ReLU6", ()),
             ("ReLU6", (True,)), ("LogSigmoid", ()), ("GLU", ()), ("GLU", (1,)),
             ("Softmin", ()), ("Softmin", (1,)), ("Threshold", (0.1, 20)),
             ("Threshold", (1.0, 2.0, True))]
    for name, args in pairs:
        assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args)), name


def test_layers_match_their_functional_forms(rng):
    x = mnp.tensor(rng.standard_normal((3, 4)), dtype=mnp.float32)
    for layer, fn in [(nn.SiLU(), F.silu), (nn.Mish(), F.mish), (nn.ELU(0.5), lambda x: F.elu(x, 0.5)),
                      (nn.SELU(), F.selu), (nn.CELU(), F.celu), (nn.Softplus(), F.softplus),
                      (nn.Softsign(), F.softsign), (nn.Hardswish(), F.hardswish),
                      (nn.Hardsigmoid(), F.hardsigmoid), (nn.Hardtanh(), F.hardtanh),
                      (nn.ReLU6(), F.relu6), (nn.LogSigmoid(), F.logsigmoid),
                      (nn.Threshold(0.1, 2.0), lambda x: F.threshold(x, 0.1, 2.0))]:
        assert_close(layer(x), fn(x), rtol=0, atol=0, what=type(layer).__name__)


def test_softmin_dtype_matches_torch(torch, rng):
    assert_matches_torch(lambda x: F.softmin(x, 1, dtype=mnp.float64),
                         lambda x: torch.nn.functional.softmin(x, 1, dtype=torch.float64),
                         rng.standard_normal((3, 4)), rng=rng)


def test_integer_input_is_promoted():
    assert F.elu(mnp.tensor([-1, 2])).dtype == mnp.float32
    assert F.hardtanh(mnp.tensor([-3, 0, 3])).tolist() == [-1.0, 0.0, 1.0]


def test_added_layers_take_lists_and_arrays():
    x = np.random.default_rng(0).standard_normal((2, 4, 6)).astype(np.float32)
    for layer in (nn.SiLU(), nn.ELU(), nn.Hardtanh(), nn.PReLU(4), nn.GLU(1), nn.Softmin(1),
                  nn.InstanceNorm1d(4), nn.LocalResponseNorm(2), nn.Dropout2d().eval()):
        expect = layer(mnp.tensor(x))
        for form in (x, x.tolist()):
            got = layer(form)
            assert got.dtype == expect.dtype == mnp.float32
            np.testing.assert_array_equal(got.numpy(), expect.numpy())


def test_errors():
    with pytest.raises(mnp.ArgumentError, match="hardtanh: min_val cannot be greater"):
        F.hardtanh(mnp.zeros(3), 2.0, 1.0)
    with pytest.raises(mnp.ArgumentError, match="Hardtanh: min_val"):
        nn.Hardtanh(2.0, 1.0)
    with pytest.raises(mnp.ArgumentError, match="celu: alpha cannot be 0"):
        F.celu(mnp.zeros(3), 0.0)
    with pytest.raises(mnp.ArgumentError, match="CELU"):
        nn.CELU(0.0)
    with pytest.raises(mnp.ShapeError, match=r"glu: .*dimension 1 .*\(3, 5\) is size 5"):
        F.glu(mnp.zeros((3, 5)), 1)
    with pytest.raises(mnp.ShapeError, match="glu: does not support 0-d"):
        F.glu(mnp.zeros(()))
    with pytest.raises(mnp.ShapeError, match=r"prelu: 3 parameters .*\(2, 4\) with 4 channels"):
        F.prelu(mnp.zeros((2, 4)), mnp.ones(3))
    with pytest.raises(mnp.ShapeError, match=r"prelu: 3 parameters .*\(3,\) with 1 channels"):
        nn.PReLU(3)(mnp.zeros(3))
    with pytest.raises(mnp.DTypeError, match="prelu: input dtype float64 does not match the weight dtype float32"):
        nn.PReLU()(mnp.zeros(3, dtype=mnp.float64))
    with pytest.raises(mnp.ArgumentError, match="PReLU: num_parameters"):
        nn.PReLU(0)


def test_layers_are_registered():
    for name in ("SiLU", "Mish", "ELU", "SELU", "CELU", "Softplus", "Softsign", "Hardswish",
                 "Hardsigmoid", "Hardtanh", "ReLU6", "LogSigmoid", "PReLU", "GLU", "Softmin",
                 "Threshold"):
        assert mnp.lookup("layers", name) is getattr(nn, name), name


def test_added_layers_survive_save_and_load(tmp_path, rng):
    model = nn.Sequential(nn.SiLU(), nn.Mish(True), nn.ELU(0.5), nn.SELU(), nn.CELU(2),
                          nn.Softplus(2, 10), nn.Softsign(), nn.Hardswish(), nn.Hardsigmoid(),
                          nn.Hardtanh(-2, 3), nn.ReLU6(), nn.LogSigmoid(), nn.PReLU(4, init=0.1),
                          nn.Softmin(1), nn.Threshold(0.1, 2.0),
                          nn.InstanceNorm1d(4, affine=True, track_running_stats=True),
                          nn.LocalResponseNorm(3), nn.Dropout1d(0.2), nn.AlphaDropout(0.1),
                          nn.FeatureAlphaDropout(), nn.GLU(1))
    model[12].weight.data[...] = rng.uniform(0, 1, 4)
    x = mnp.tensor(rng.standard_normal((2, 4, 6)), dtype=mnp.float32)
    model.train()(x)                                     # moves the running statistics
    model.eval()
    nn.save(model, tmp_path / "m.safetensors")
    loaded = nn.load(tmp_path / "m.safetensors").eval()
    assert repr(loaded) == repr(model)
    assert_close(loaded(x), model(x), rtol=0, atol=0)
