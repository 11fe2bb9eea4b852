"""mnp.nn.functional: the functions against PyTorch's, hypothesis properties of convolution
and pooling shapes, one_hot, flatten, and the errors of bad input."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp import nn
from mnp.nn import functional as F
from mnp.core.testing import F32, assert_close

NAMES = ["linear", "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
         "batch_norm", "layer_norm", "dropout", "relu", "sigmoid", "tanh", "leaky_relu", "gelu",
         "softmax", "log_softmax", "mse_loss", "l1_loss", "binary_cross_entropy",
         "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "one_hot", "embedding",
         "flatten"]
NAMES += ["rms_norm", "group_norm", "scaled_dot_product_attention"]
NAMES += ["max_pool3d", "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
          "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
          "adaptive_max_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_unpool1d",
          "max_unpool2d", "max_unpool3d", "interpolate", "upsample", "upsample_nearest",
          "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle"]
NAMES += ["silu", "mish", "elu", "selu", "celu", "softplus", "softsign", "hardswish", "hardsigmoid",
          "hardtanh", "relu6", "logsigmoid", "prelu", "glu", "softmin", "threshold", "huber_loss",
          "smooth_l1_loss", "kl_div", "poisson_nll_loss", "gaussian_nll_loss", "soft_margin_loss",
          "multilabel_soft_margin_loss", "cosine_embedding_loss", "hinge_embedding_loss",
          "margin_ranking_loss", "multi_margin_loss", "triplet_margin_loss", "cosine_similarity",
          "normalize", "pairwise_distance", "instance_norm", "local_response_norm", "dropout1d",
          "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "ctc_loss"]
NAMES += ["pad", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "unfold",
          "fold"]


def test_every_function_is_there():
    missing = [n for n in NAMES if not callable(getattr(F, n, None))]
    assert not missing
    assert sorted(F.__all__) == sorted(NAMES)


def test_functions_match_torch(torch, rng):
    tf = torch.nn.functional
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    X, T = mnp.tensor(x), torch.from_numpy(x)
    assert_close(F.conv2d(X, mnp.tensor(w), mnp.tensor(b), 2, 1),
                 tf.conv2d(T, torch.from_numpy(w), torch.from_numpy(b), 2, 1), **F32)
    assert_close(F.max_pool2d(X, (2, 3), 1, (1, 1)), tf.max_pool2d(T, (2, 3), 1, (1, 1)), **F32)
    assert_close(F.avg_pool2d(X, 3, 2, 1), tf.avg_pool2d(T, 3, 2, 1), **F32)
    x1 = x[:, :, 0, :]
    assert_close(F.max_pool1d(mnp.tensor(x1), 2), tf.max_pool1d(torch.from_numpy(x1), 2), **F32)
    assert_close(F.avg_pool1d(mnp.tensor(x1), 2, 1, 1), tf.avg_pool1d(torch.from_numpy(x1), 2, 1, 1), **F32)
    w1 = w[:, :, 0, :]
    assert_close(F.conv1d(mnp.tensor(x1), mnp.tensor(w1), None, 1, 2, 2),
                 tf.conv1d(torch.from_numpy(x1), torch.from_numpy(w1), None, 1, 2, 2), **F32)
    assert_close(F.layer_norm(X, (6, 5)), tf.layer_norm(T, (6, 5)), **F32)
    rm, rv = rng.standard_normal(3).astype(np.float32), rng.uniform(0.5, 2, 3).astype(np.float32)
    assert_close(F.batch_norm(X, mnp.tensor(rm), mnp.tensor(rv)),
                 tf.batch_norm(T, torch.from_numpy(rm), torch.from_numpy(rv)), **F32)
    rm2, rv2 = rm.copy(), rv.copy()
    rmt, rvt = torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy())
    assert_close(F.batch_norm(X, rm2, rv2, training=True, momentum=0.3),
                 tf.batch_norm(T, rmt, rvt, training=True, momentum=0.3), **F32)
    assert_close(rm2, rmt, **F32)
    assert_close(rv2, rvt, **F32)
    assert_close(F.leaky_relu(X, 0.3), tf.leaky_relu(T, 0.3), **F32)
    assert_close(F.gelu(X, approximate="tanh"), tf.gelu(T, approximate="tanh"), **F32)
    assert_close(F.softmax(X, dim=1), tf.softmax(T, dim=1), **F32)
    assert_close(F.flatten(X, 1), torch.flatten(T, 1), **F32)
    idx = rng.integers(0, 5, (2, 3))
    assert np.array_equal(F.one_hot(mnp.tensor(idx), 6).data,
                          tf.one_hot(torch.from_numpy(idx), 6).numpy())
    assert np.array_equal(F.one_hot(mnp.tensor(idx)).data, tf.one_hot(torch.from_numpy(idx)).numpy())


def test_one_hot_errors_and_dtype():
    assert F.one_hot(mnp.tensor([0, 2]), 3).dtype == np.int64
    with pytest.raises(mnp.MnpError, match="out of range"):
        F.one_hot(mnp.tensor([0, 3]), 3)
    with pytest.raises(mnp.MnpError, match="non-negative"):
        F.one_hot(mnp.tensor([-1]))
    with pytest.raises(mnp.DTypeError, match="integer"):
        F.one_hot(mnp.tensor([0.5]))


def test_flatten_views_and_errors():
    x = mnp.zeros((2, 3, 4))
    assert F.flatten(x).shape == (24,)
    assert F.flatten(x, 1).shape == (2, 12) and F.flatten(x, 0, 1).shape == (6, 4)
    assert F.flatten(x, -1).shape == (2, 3, 4)
    with pytest.raises(mnp.MnpError, match="start_dim"):
        F.flatten(x, 2, 1)


@pytest.mark.parametrize("shape, start, end", [((), 0, -1), ((), 1, -1), ((), 0, 1), ((2, 3), 2, -1),
                                               ((2, 3), -3, -1), ((2, 3), 0, 5)])
def test_flatten_dims_follow_torch(torch, shape, start, end):
    try:
        expect = tuple(torch.flatten(torch.zeros(shape), start, end).shape)
    except IndexError:
        with pytest.raises(mnp.AxisError, match=r"flatten: axis .*\(expected in"):
            F.flatten(mnp.zeros(shape), start, end)
        with pytest.raises(IndexError):
            nn.Flatten(start, end)(mnp.zeros(shape))
        return
    assert F.flatten(mnp.zeros(shape), start, end).shape == expect


def test_functional_accepts_numpy_arrays():
    y = F.linear(np.ones((2, 3), np.float32), np.ones((4, 3), np.float32))
    assert isinstance(y, mnp.Tensor) and np.all(y.data == 3)


def test_linear_refuses_mixed_dtypes_as_torch(torch):
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.nn.functional.linear(torch.ones((2, 3), dtype=torch.float64), torch.ones((4, 3)))
    with pytest.raises(mnp.DTypeError, match="linear: input dtype float64 .* weight dtype float32"):
        F.linear(mnp.ones((2, 3), dtype=mnp.float64), mnp.ones((4, 3)))


dims = st.integers(1, 9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(h=dims, w=dims, k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2),
       d=st.integers(1, 2), c=st.integers(1, 3))
def test_conv2d_shape_property(h, w, k, s, p, d, c):
    """Output size is PyTorch's floor formula; too-small inputs raise ShapeError; the input
    gradient has the input's shape."""
    x = mnp.zeros((2, c, h, w), requires_grad=True)
    wt = mnp.ones((3, c, k, k))
    oh = (h + 2 * p - d * (k - 1) - 1) // s + 1
    ow = (w + 2 * p - d * (k - 1) - 1) // s + 1
    if oh < 1 or ow < 1:
        with pytest.raises(mnp.ShapeError, match="conv2d"):
            F.conv2d(x, wt, None, s, p, d)
        return
    y = F.conv2d(x, wt, None, s, p, d)
    assert y.shape == (2, 3, oh, ow)
    y.sum().backward()
    assert x.grad.shape == x.shape
    # with an all-ones kernel the input gradient counts the windows covering each pixel
    ones = np.ones((1, c, h, w))
    counts = np.zeros((h + 2 * p, w + 2 * p))
    for i in range(oh):
        for j in range(ow):
            for a in range(k):
                for b in range(k):
                    counts[i * s + a * d, j * s + b * d] += 3
    assert np.allclose(x.grad.data[0], (ones[0] * counts[p:p + h, p:p + w]))


@settings(max_examples=40, deadline=None)
@given(h=dims, w=dims, k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2),
       data=st.data())
def test_pool_shape_and_gradient_mass_property(h, w, k, s, p, data):
    """Max pooling sends each output's gradient to exactly one input; average pooling spreads
    it with total mass equal to the share inside the input."""
    if 2 * p > k:
        with pytest.raises(mnp.MnpError, match="half"):
            F.max_pool2d(mnp.zeros((1, 1, h, w)), k, s, p)
        return
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    vals = data.draw(st.lists(st.floats(-5, 5, width=32), min_size=h * w, max_size=h * w))
    x = mnp.tensor(np.array(vals, np.float32).reshape(1, 1, h, w), requires_grad=True)
    if oh < 1 or ow < 1:
        with pytest.raises(mnp.ShapeError):
            F.max_pool2d(x, k, s, p)
        return
    y = F.max_pool2d(x, k, s, p)
    assert y.shape == (1, 1, oh, ow)
    y.sum().backward()
    assert x.grad.data.sum() == pytest.approx(oh * ow)
    x.grad = None
    F.avg_pool2d(x, k, s, p).sum().backward()
    assert x.grad.shape == x.shape and np.all(x.grad.data >= 0)
    assert x.grad.data.sum() <= oh * ow + 1e-4
