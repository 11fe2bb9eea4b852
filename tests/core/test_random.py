"""Random numbers: Generator and the default generator, determinism per generator, shapes,
dtypes and distributions of every sampler, in-place fills, argument errors as PyTorch's."""
import numpy as np
import pytest

import mnp.core as mnp
from mnp.core import ArgumentError, DTypeError, ShapeError

SAMPLERS = {
    "rand": lambda g: mnp.rand(2, 3, generator=g),
    "randn": lambda g: mnp.randn((4,), generator=g),
    "randint": lambda g: mnp.randint(10, (5,), generator=g),
    "randperm": lambda g: mnp.randperm(6, generator=g),
    "multinomial": lambda g: mnp.multinomial(mnp.tensor([0.2, 0.3, 0.5]), 2, generator=g),
    "bernoulli": lambda g: mnp.bernoulli(mnp.full((4,), 0.5), generator=g),
    "normal": lambda g: mnp.normal(mnp.zeros(3), 2.0, generator=g),
    "rand_like": lambda g: mnp.rand_like(mnp.zeros(3, dtype=mnp.float64), generator=g),
    "uniform_": lambda g: mnp.zeros(3).uniform_(-1, 1, generator=g),
    "exponential_": lambda g: mnp.zeros(3).exponential_(generator=g),
    "random_": lambda g: mnp.zeros(3, dtype=mnp.int64).random_(3, 9, generator=g),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_same_seed_same_values_per_generator(name):
    draw = SAMPLERS[name]
    g1, g2 = mnp.Generator().manual_seed(3), mnp.Generator().manual_seed(3)
    mnp.manual_seed(99)
    a = draw(g1).tolist()
    mnp.rand(5)                        # the default generator does not disturb g1 and g2
    assert draw(g2).tolist() == a
    state = g1.get_state()
    b = draw(g1).tolist()
    assert draw(mnp.Generator().set_state(state)).tolist() == b
    mnp.manual_seed(3)
    assert draw(None).tolist() == a    # the default generator seeded alike gives the same


def test_generator_and_default_seeds(torch):
    g = mnp.Generator()
    assert g.initial_seed() == torch.Generator().initial_seed()
    assert g.manual_seed(-1).initial_seed() == torch.Generator().manual_seed(-1).initial_seed()
    s = g.seed()
    assert g.initial_seed() == s
    mnp.manual_seed(5)
    assert mnp.initial_seed() == 5 and mnp.default_generator.initial_seed() == 5
    state = mnp.get_rng_state()
    a = mnp.randn(3).tolist()
    mnp.set_rng_state(state)
    assert mnp.randn(3).tolist() == a
    assert mnp.generator() is mnp.default_generator.numpy
    with pytest.raises(ArgumentError, match="seed must be an int"):
        g.manual_seed(1.5)
    with pytest.raises(ArgumentError, match="generator must be a mnp.Generator"):
        mnp.rand(2, generator=np.random.default_rng(0))


def test_shapes_and_dtypes_as_torch(torch):
    g, tg = mnp.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    p, tp = mnp.tensor([[0.1, 0.9], [0.5, 0.5]]), torch.tensor([[0.1, 0.9], [0.5, 0.5]])
    pairs = [
        (mnp.randint(3, 8, (2, 2), generator=g), torch.randint(3, 8, (2, 2), generator=tg)),
        (mnp.randint(4, (3,)), torch.randint(4, (3,))),
        (mnp.randperm(5, generator=g), torch.randperm(5, generator=tg)),
        (mnp.multinomial(p, 3, replacement=True, generator=g),
         torch.multinomial(tp, 3, replacement=True, generator=tg)),
        (mnp.multinomial(p[0], 2), torch.multinomial(tp[0], 2)),
        (mnp.bernoulli(p, generator=g), torch.bernoulli(tp, generator=tg)),
        (mnp.bernoulli(p, 0.3), torch.bernoulli(tp, 0.3)),
        (mnp.normal(0.0, 1.0, (2, 3)), torch.normal(0.0, 1.0, (2, 3))),
        (mnp.normal(mnp.zeros(2, 1, dtype=mnp.float64), mnp.ones(3, dtype=mnp.float64)),
         torch.normal(torch.zeros(2, 1, dtype=torch.float64), torch.ones(3, dtype=torch.float64))),
        (mnp.normal(1.0, mnp.ones(2)), torch.normal(1.0, torch.ones(2))),
        (mnp.randint_like(mnp.zeros(2), 5), torch.randint_like(torch.zeros(2), 5)),
        (mnp.randn_like(mnp.zeros(2, dtype=mnp.float64)),
         torch.randn_like(torch.zeros(2, dtype=torch.float64))),
        (mnp.empty_like(mnp.zeros(2, dtype=mnp.int32)), torch.empty_like(torch.zeros(2, dtype=torch.int32))),
    ]
    for m, t in pairs:
        assert m.shape == tuple(t.shape) and m.dtype.name == str(t.dtype).split(".")[1], (m, t)


def test_distributions_with_fixed_seed():
    g = mnp.Generator().manual_seed(1)
    n = 20000
    u = mnp.zeros(n, dtype=mnp.float64).uniform_(2, 4, generator=g).numpy()
    assert 2 <= u.min() and u.max() < 4 and abs(u.mean() - 3) < 0.02 and abs(u.var() - 1 / 3) < 0.02
    z = mnp.zeros(n, dtype=mnp.float64).normal_(1, 2, generator=g).numpy()
    assert abs(z.mean() - 1) < 0.05 and abs(z.std() - 2) < 0.05
    e = mnp.zeros(n, dtype=mnp.float64).exponential_(4.0, generator=g).numpy()
    assert e.min() >= 0 and abs(e.mean() - 0.25) < 0.01
    b = mnp.zeros(n).bernoulli_(0.3, generator=g).numpy()
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.015
    r = mnp.zeros(n, dtype=mnp.int64).random_(5, generator=g).numpy()
    assert r.min() == 0 and r.max() == 4
    probs = np.array([0.0, 1.0, 3.0, 6.0])
    m = mnp.multinomial(mnp.tensor(probs), n, replacement=True, generator=g).numpy()
    assert np.abs(np.bincount(m, minlength=4) / n - probs / 10).max() < 0.015
    rows = mnp.multinomial(mnp.tensor(np.tile(probs, (n // 10, 1))), 3, generator=g).numpy()
    assert (rows != 0).all() and all(len(set(r)) == 3 for r in rows[:50])
    first = np.bincount(rows[:, 0], minlength=4) / len(rows)
    assert np.abs(first - probs / 10).max() < 0.05     # the first draw follows the weights
    perm = mnp.randperm(50, generator=g).numpy()
    assert sorted(perm) == list(range(50))
    ints = mnp.randint(-3, 3, (n,), generator=g).numpy()
    assert ints.min() == -3 and ints.max() == 2


def test_argument_errors_as_torch(torch):
    cases = [
        (lambda L: L.multinomial(L.tensor([0.5, -0.1]), 1), ArgumentError),
        (lambda L: L.multinomial(L.tensor([0.5, 0.5]), 3), ArgumentError),
        (lambda L: L.multinomial(L.tensor([0.0, 0.0]), 1, True), ArgumentError),
        (lambda L: L.multinomial(L.ones(2, 2, 2), 1), ShapeError),
        (lambda L: L.multinomial(L.tensor([0.5, 0.5]), 0), ArgumentError),
        (lambda L: L.bernoulli(L.tensor([0.5, 1.5])), ArgumentError),
        (lambda L: L.zeros(2).bernoulli_(1.5), ArgumentError),
        (lambda L: L.normal(L.zeros(2), -1.0), ArgumentError),
        (lambda L: L.zeros(2).normal_(0.0, -1.0), ArgumentError),
        (lambda L: L.zeros(2).uniform_(1.0, 0.0), ArgumentError),
        (lambda L: L.zeros(2).exponential_(-1.0), ArgumentError),
        (lambda L: L.randperm(-1), ArgumentError),
        (lambda L: L.randint(5, 5, (2,)), ArgumentError),
        (lambda L: L.zeros(2, dtype=L.int64).uniform_(), DTypeError),
    ]
    # without replacement, categories of probability 0 are drawn once the others are used
    for lib in (mnp, torch):
        assert lib.multinomial(lib.tensor([0.0, 1.0, 0.0]), 2).tolist()[0] == 1
    for i, (case, err) in enumerate(cases):
        with pytest.raises(err):
            case(mnp)
        with pytest.raises(RuntimeError):
            case(torch)


def test_fills_work_on_parameters_under_no_grad():
    w = mnp.zeros(3, requires_grad=True)
    with mnp.no_grad():
        w.uniform_(0.5, 1.0)
        assert ((w.numpy() >= 0.5) & (w.numpy() < 1.0)).all()
        w.fill_(2.0)
        w.zero_()
    assert w.tolist() == [0.0, 0.0, 0.0] and w.requires_grad and w._version == 3


def test_fill_in_the_graph_cuts_the_old_value_as_torch(torch):
    for lib in (mnp, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        c = x * 2
        c.uniform_(3.0, 4.0)
        (c * x).sum().backward()
        assert np.allclose(np.asarray(x.grad), np.asarray(c.detach()))   # c acts as a constant
