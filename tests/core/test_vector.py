"""The vector API against PyTorch (value and gradient), float64 grad_check, the zero and
parallel-vector cases (no NaN), and errors."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp.core.testing import assert_close, assert_matches_torch


def arr(rng, *shape):
    return rng.standard_normal(shape)


def finite_grads(*tensors):
    for t in tensors:
        assert t.grad is None or np.isfinite(t.grad.data).all()


BROADCAST = [((4, 5), (4, 5)), ((4, 1, 5), (3, 5)), ((5,), (2, 5))]


# -- normalize --------------------------------------------------------------------------------
@pytest.mark.parametrize("axis,p", [(-1, 2), (0, 2), (1, 1), (-1, 3)])
def test_normalize_matches_torch(torch, rng, axis, p):
    F = torch.nn.functional  # noqa: N806
    assert_matches_torch(lambda x: mnp.normalize(x, axis, p=p), lambda t: F.normalize(t, p, axis),
                         arr(rng, 3, 4, 5))
    assert_matches_torch(lambda x: mnp.normalize(x, dim=axis, eps=1e-3, p=p),
                         lambda t: F.normalize(t, p, axis, eps=1e-3), arr(rng, 3, 4, 5) * 1e-3)


def test_normalize_zero_vector_stays_zero(torch):
    x = mnp.tensor([[0.0, 0.0, 0.0], [3.0, 0.0, 4.0]], requires_grad=True)
    y = mnp.normalize(x)
    assert_close(y.data, [[0.0, 0.0, 0.0], [0.6, 0.0, 0.8]])
    assert_matches_torch(mnp.normalize, lambda t: torch.nn.functional.normalize(t, dim=-1), x.data)


# -- distance ---------------------------------------------------------------------------------
@pytest.mark.parametrize("sa,sb", BROADCAST)
def test_distance_matches_torch(torch, rng, sa, sb):
    assert_matches_torch(mnp.distance, lambda a, b: torch.linalg.vector_norm(a - b, dim=-1),
                         arr(rng, *sa), arr(rng, *sb))


def test_pairwise_distance_matches_cdist(torch, rng):
    assert_matches_torch(lambda a, b: mnp.distance(a.unsqueeze(1), b.unsqueeze(0)), torch.cdist,
                         arr(rng, 4, 3), arr(rng, 5, 3))


def test_distance_options_and_zero_distance():
    a = mnp.tensor([[1.0, 2.0], [0.0, 0.0]], requires_grad=True)
    b = mnp.tensor([[1.0, 2.0], [3.0, -4.0]], requires_grad=True)
    d = mnp.distance(a, b)
    assert d.tolist() == [0.0, 5.0]
    d.sum().backward()
    assert_close(a.grad.data, [[0.0, 0.0], [-0.6, 0.8]])
    assert mnp.distance(a, b, axis=0, keepdims=True).shape == (1, 2)
    assert mnp.distance(a, b, p=1).tolist() == [0.0, 7.0]


# -- cosine similarity ------------------------------------------------------------------------
@pytest.mark.parametrize("sa,sb", BROADCAST)
def test_cosine_similarity_matches_torch(torch, rng, sa, sb):
    F = torch.nn.functional  # noqa: N806
    assert_matches_torch(mnp.cosine_similarity, lambda a, b: F.cosine_similarity(a, b, dim=-1),
                         arr(rng, *sa), arr(rng, *sb))


def test_cosine_similarity_axis_and_eps_match_torch(torch, rng):
    F = torch.nn.functional  # noqa: N806
    assert_matches_torch(lambda a, b: mnp.cosine_similarity(a, b, axis=0),
                         lambda a, b: F.cosine_similarity(a, b, dim=0), arr(rng, 4, 3), arr(rng, 4, 1))
    # norms below eps are clamped; torch's gradient treats the clamp as the identity
    small = np.array([[1e-4, 0.0, 0.0], [0.0, 0.0, 0.0]])
    assert_matches_torch(lambda a, b: mnp.cosine_similarity(a, b, dim=1, eps=1e-3),
                         lambda a, b: F.cosine_similarity(a, b, dim=1, eps=1e-3), small, arr(rng, 2, 3),
                         rtol=1e-4, atol=1e-3)


def test_cosine_similarity_of_zero_vector_is_zero():
    z = mnp.zeros(3, requires_grad=True)
    w = mnp.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = mnp.cosine_similarity(z, w)
    assert y.item() == 0.0
    y.backward()
    finite_grads(z, w)


# -- project ----------------------------------------------------------------------------------
def torch_project(a, b):
    return (a * b).sum(-1, keepdim=True) / (b * b).sum(-1, keepdim=True) * b


@pytest.mark.parametrize("sa,sb", BROADCAST)
def test_project_matches_torch(torch, rng, sa, sb):
    assert_matches_torch(mnp.project, torch_project, arr(rng, *sa), arr(rng, *sb))


def test_project_axis(torch, rng):
    assert_matches_torch(lambda a, b: mnp.project(a, b, axis=0),
                         lambda a, b: torch_project(a.T, b.T).T, arr(rng, 3, 4), arr(rng, 3, 4))


def test_project_residual_is_orthogonal(rng):
    a = mnp.tensor(arr(rng, 6, 4), dtype=mnp.float64)
    b = mnp.tensor(arr(rng, 6, 4), dtype=mnp.float64)
    r = a - mnp.project(a, b)
    assert_close((r * b).sum(axis=-1).data, np.zeros(6), atol=1e-12)


def test_project_onto_zero_is_zero():
    a = mnp.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    onto = mnp.tensor([[0.0, 0.0], [0.0, 2.0]], requires_grad=True)
    y = mnp.project(a, onto)
    assert y.tolist() == [[0.0, 0.0], [0.0, 4.0]]
    y.sum().backward()
    assert a.grad.tolist()[0] == [0.0, 0.0] and onto.grad.tolist()[0] == [0.0, 0.0]
    finite_grads(a, onto)


# -- angle ------------------------------------------------------------------------------------
@pytest.mark.parametrize("sa,sb", BROADCAST)
def test_angle_matches_torch(torch, rng, sa, sb):
    F = torch.nn.functional  # noqa: N806
    assert_matches_torch(mnp.angle, lambda a, b: torch.arccos(F.cosine_similarity(a, b, dim=-1)),
                         arr(rng, *sa), arr(rng, *sb), rtol=1e-4, atol=1e-4)


def test_angle_of_parallel_antiparallel_and_zero_vectors():
    v = mnp.tensor([[1.0, 2.0, 3.0], [0.3, -0.7, 0.1]], requires_grad=True)
    assert_close(mnp.angle(v, v * 3).data, [0.0, 0.0], atol=1e-6)
    assert_close(mnp.angle(v, v * -0.5).data, [math.pi, math.pi], atol=1e-6)
    assert_close(mnp.angle(v, mnp.zeros(3)).data, [math.pi / 2] * 2, atol=1e-6)
    assert_close(mnp.angle(mnp.tensor([1.0, 0.0]), mnp.tensor([0.0, 2.0])).data, math.pi / 2)
    (mnp.angle(v, v * 3).sum() + mnp.angle(v, -v).sum()).backward()
    finite_grads(v)
    assert_close(v.grad.data, np.zeros((2, 3)), atol=1e-4)


# -- float64 finite differences ---------------------------------------------------------------
VECTOR_GRADS = {
    "normalize": lambda a, b: mnp.normalize(a, axis=0),
    "normalize_p1": lambda a, b: mnp.normalize(a, p=1),
    "distance": lambda a, b: mnp.distance(a, b),
    "distance_axis0": lambda a, b: mnp.distance(a, b, axis=0),
    "cosine_similarity": lambda a, b: mnp.cosine_similarity(a, b),
    "project": lambda a, b: mnp.project(a, b),
    "project_axis0": lambda a, b: mnp.project(a, b, axis=0),
    "angle": lambda a, b: mnp.angle(a, b),
}


@pytest.mark.parametrize("name", sorted(VECTOR_GRADS))
def test_grad_check(rng, name):
    a = mnp.tensor(arr(rng, 3, 4), dtype=mnp.float64, requires_grad=True)
    b = mnp.tensor(arr(rng, 1, 4), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(VECTOR_GRADS[name], [a, b])


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize("op", [mnp.distance, mnp.cosine_similarity, mnp.project, mnp.angle])
def test_errors_name_op_and_shapes(op):
    name = op.__name__
    with pytest.raises(mnp.ShapeError, match=rf"{name}: shapes \(2, 3\) and \(4,\)"):
        op(mnp.zeros(2, 3), mnp.zeros(4))
    with pytest.raises(mnp.ShapeError, match=rf"{name}: axis 2"):
        op(mnp.zeros(2, 3), mnp.zeros(2, 3), axis=2)
    with pytest.raises(mnp.ShapeError, match=name):
        op(mnp.tensor(1.0), mnp.tensor(2.0))


def test_normalize_bad_axis():
    with pytest.raises(mnp.ShapeError, match="normalize: axis 3"):
        mnp.normalize(mnp.zeros(2, 3), axis=3)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), seed=st.integers(0, 1000))
def test_unit_vectors_and_bounds(shape, seed):
    g = np.random.default_rng(seed)
    a = mnp.tensor(g.standard_normal(shape), dtype=mnp.float64)
    b = mnp.tensor(g.standard_normal(shape), dtype=mnp.float64)
    n = mnp.norm(mnp.normalize(a), axis=-1)
    assert_close(n.data, np.ones(n.shape))
    c = mnp.cosine_similarity(a, b).data
    t = mnp.angle(a, b).data
    assert (np.abs(c) <= 1 + 1e-12).all() and (t >= 0).all() and (t <= math.pi).all()
    assert_close(np.cos(t), c, atol=1e-9)
