"""einsum against PyTorch (values, gradients, dtypes, shapes) for products, diagonals,
ellipses, implicit outputs and broadcasting; float64 finite differences; a hypothesis
property test of shapes; and the equation errors."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mnp.core as mnp
from mnp.core.testing import assert_matches_torch

CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),                    # implicit output
    ("ba,Ab", [(2, 3), (4, 2)]),                    # implicit, upper case sorts first
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->ji", [(2, 2, 3)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij->", [(2, 3)]),
    ("ijk->kj", [(2, 3, 4)]),                       # a letter summed inside one operand
    ("...ij,...jk", [(5, 1, 2, 3), (4, 3, 2)]),     # broadcast ellipses, implicit
    ("i...->...", [(2, 3, 4)]),
    ("...i->i", [(2, 3)]),                          # ellipsis summed away
    ("ij,ij->ij", [(1, 3), (2, 3)]),                # size-1 broadcast of a letter
    ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 2)]),
    ("i j , j k -> i k", [(2, 3), (3, 2)]),         # spaces
    (",->", [(), ()]),
]


@pytest.mark.parametrize("eq,shapes", CASES, ids=[c[0] for c in CASES])
def test_einsum_matches_torch(torch, rng, eq, shapes):
    arrays = [rng.standard_normal(s) for s in shapes]
    assert_matches_torch(lambda *xs: mnp.einsum(eq, *xs), lambda *ts: torch.einsum(eq, *ts),
                         *arrays, rng=rng, what=eq)


def test_sublist_and_list_forms_and_dtypes(torch, rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    assert_matches_torch(lambda x, y: mnp.einsum(x, [0, 1], y, [1, 2], [0, 2]),
                         lambda x, y: torch.einsum(x, [0, 1], y, [1, 2], [0, 2]), a, b, rng=rng)
    assert_matches_torch(lambda x: mnp.einsum(x, [Ellipsis, 1]),
                         lambda x: torch.einsum(x, [Ellipsis, 1]), a, rng=rng)
    assert_matches_torch(lambda x, y: mnp.einsum("ij,jk->ik", [x, y]),
                         lambda x, y: torch.einsum("ij,jk->ik", [x, y]), a, b, rng=rng)
    mixed = mnp.einsum("ij,jk", mnp.tensor(a), mnp.tensor(b, dtype=mnp.float64))
    assert mixed.dtype == mnp.float64
    ints = mnp.einsum("ij,jk", mnp.tensor([[1, 2]]), mnp.tensor([[3], [4]]))
    assert ints.dtype == mnp.int64 and ints.tolist() == [[11]]


def test_gradients_by_finite_differences(rng):
    def f64(*shape):
        return mnp.tensor(rng.standard_normal(shape), dtype=mnp.float64, requires_grad=True)
    assert mnp.grad_check(lambda a, b: mnp.einsum("bij,bjk->bik", a, b), [f64(2, 2, 3), f64(2, 3, 2)])
    assert mnp.grad_check(lambda a, b: mnp.einsum("iij,j->i", a, b), [f64(3, 3, 2), f64(2)])
    assert mnp.grad_check(lambda a, b: mnp.einsum("...j,j->...", a, b), [f64(1, 3, 2), f64(2)])
    assert mnp.grad_check(lambda a, b: mnp.einsum("ij,ij->i", a, b), [f64(1, 3), f64(2, 3)])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_shapes_follow_the_equation(data):
    letters = data.draw(st.lists(st.sampled_from("abcde"), min_size=1, max_size=4, unique=True))
    sizes = {c: data.draw(st.integers(1, 3)) for c in letters}
    terms = [data.draw(st.lists(st.sampled_from(letters), min_size=0, max_size=3))
             for _ in range(data.draw(st.integers(1, 3)))]
    out = data.draw(st.lists(st.sampled_from(sorted({c for t in terms for c in t}) or ["a"]),
                             max_size=3, unique=True))
    out = [c for c in out if any(c in t for t in terms)]
    eq = ",".join("".join(t) for t in terms) + "->" + "".join(out)
    xs = [mnp.ones(*[sizes[c] for c in t], requires_grad=True) for t in terms]
    y = mnp.einsum(eq, *xs)
    assert y.shape == tuple(sizes[c] for c in out)
    ref = np.einsum(eq, *[x.data for x in xs])
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5)
    y.sum().backward()
    assert all(x.grad.shape == x.shape for x in xs)


def test_errors():
    a = mnp.ones(2, 3)
    for call, err, msg in (
            (lambda: mnp.einsum("ij,jk", a, mnp.ones(4, 2)), mnp.ShapeError,
             "einsum: subscript j has size 4 in operand 1"),
            (lambda: mnp.einsum("ii", a), mnp.ShapeError, "subscript i is repeated in operand 0"),
            (lambda: mnp.einsum("ijk", a), mnp.ShapeError, r"operand 0 has shape \(2, 3\)"),
            (lambda: mnp.einsum("i1", a), mnp.ArgumentError, "invalid subscript '1'"),
            (lambda: mnp.einsum("i,j", a), mnp.ArgumentError, "2 operand"),
            (lambda: mnp.einsum("ij->k", a), mnp.ArgumentError, "output subscript k appears in no"),
            (lambda: mnp.einsum("ij->ii", a), mnp.ArgumentError, "more than once"),
            (lambda: mnp.einsum("i,i", mnp.tensor([True]), mnp.tensor([True])), mnp.DTypeError, "bool")):
        with pytest.raises(err, match=msg):
            call()
