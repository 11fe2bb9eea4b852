"""Random numbers with PyTorch's API: `Generator`, the default generator (`manual_seed`,
`seed`, `initial_seed`, `get_rng_state`/`set_rng_state`) and the sampling functions, each
taking ``generator=``.

Generators run on numpy's PCG64: one seed always gives the same values, but not the values
PyTorch's generator gives for that seed. Shapes, dtypes, distributions and argument errors
are PyTorch's.

>>> import mnp.core as mnp
>>> g = mnp.Generator().manual_seed(0)
>>> a = mnp.rand(3, generator=g).tolist()
>>> _ = g.manual_seed(0)
>>> mnp.rand(3, generator=g).tolist() == a
True
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import dtypes as _dt
from .creation import _new, _random_dtype, _shape
from .devices import CPU, check_device
from .errors import ArgumentError, DTypeError, ShapeError
from .tensorbase import TensorBase, as_array

if TYPE_CHECKING:
    from .tensor import Tensor

#: the seed of a new `Generator`, as PyTorch's
DEFAULT_SEED = 67280421310721


def _seed_value(seed: Any, op: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ArgumentError(f"{op}: seed must be an int, got {type(seed).__name__} {seed!r}")
    seed = int(seed)
    if not -2**63 <= seed < 2**64:
        raise ArgumentError(f"{op}: seed must be within the range of uint64 or int64, got {seed}")
    return seed % 2**64


class Generator:
    """A random number generator (PyTorch's ``Generator``): pass it as ``generator=`` to any
    random function. A new one is seeded with ``DEFAULT_SEED``.

    >>> import mnp.core as mnp
    >>> g = mnp.Generator().manual_seed(7)
    >>> g.initial_seed()
    7
    """

    def __init__(self, device: Any = "cpu"):
        check_device(device, "Generator")
        self.manual_seed(DEFAULT_SEED)

    @property
    def device(self):
        """Always ``device("cpu")``."""
        return CPU

    def manual_seed(self, seed: int) -> "Generator":
        """Seed this generator; returns it."""
        self._seed = _seed_value(seed, "manual_seed")
        self.numpy = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Seed from fresh entropy; returns the seed."""
        s = int(np.random.SeedSequence().entropy % 2**64)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._seed

    def get_state(self) -> dict:
        """The state (a JSON-able dict of numpy's bit generator state)."""
        return self.numpy.bit_generator.state

    def set_state(self, state: dict) -> "Generator":
        """Restore a state from `get_state`; returns this generator."""
        if not isinstance(state, dict):
            raise ArgumentError(f"set_state: expected a state dict from get_state(), got "
                                f"{type(state).__name__}")
        g = np.random.default_rng()
        try:
            g.bit_generator.state = state
        except (TypeError, ValueError, KeyError) as exc:
            raise ArgumentError(f"set_state: not a generator state: {exc}") from None
        self.numpy = g
        return self

    def __repr__(self) -> str:
        return f"<mnp.Generator seed={self._seed}>"


#: the generator random functions use without ``generator=`` (unseeded: fresh entropy)
default_generator = Generator()
default_generator.seed()


def _gen(generator: Generator | None, op: str) -> np.random.Generator:
    if generator is None:
        return default_generator.numpy
    if not isinstance(generator, Generator):
        raise ArgumentError(f"{op}: generator must be a mnp.Generator, got "
                            f"{type(generator).__name__}")
    return generator.numpy


# -- the default generator ------------------------------------------------------------------
def manual_seed(seed: int) -> None:
    """Seed the default generator (rand, randn, randint, ..., layers' initialisation,
    dropout); `default_generator` is that generator."""
    default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from fresh entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with."""
    return default_generator.initial_seed()


def generator() -> np.random.Generator:
    """The numpy Generator behind the default generator (seeded by `manual_seed`)."""
    return default_generator.numpy


def get_rng_state() -> dict:
    """The default generator's state (a JSON-able dict) for checkpoints."""
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    """Restore the default generator's state from `get_rng_state`."""
    default_generator.set_state(state)


# -- sampling -------------------------------------------------------------------------------
def rand(*size: Any, generator: Generator | None = None, dtype: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform on ``[0, 1)``."""
    dt = _random_dtype(dtype, "rand")
    return _new(_gen(generator, "rand").random(_shape(size, "rand")).astype(dt), requires_grad)


def randn(*size: Any, generator: Generator | None = None, dtype: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal."""
    dt = _random_dtype(dtype, "randn")
    return _new(_gen(generator, "randn").standard_normal(_shape(size, "randn")).astype(dt),
                requires_grad)


def _integers(g: np.random.Generator, low: int, high: int, shape: tuple, dt: np.dtype,
              op: str) -> np.ndarray:
    if high <= low:
        raise ArgumentError(f"{op}: high ({high}) must be greater than low ({low})")
    return g.integers(low, high, size=shape).astype(dt)


def randint(low: int, high: Any = None, size: Any = None, *, generator: Generator | None = None,
            dtype: Any = None, requires_grad: bool = False, shape: Any = None) -> Tensor:
    """Integers in ``[low, high)``, as PyTorch: ``randint(high, size)`` or
    ``randint(low, high, size)`` (``shape=`` is ``size``; a 0-d tensor without one); int64."""
    if isinstance(high, (tuple, list)) and size is None:
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    size = shape if size is None else size
    size = () if size is None else (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    dt = _dt.int64 if dtype is None else _dt.to_dtype(dtype, "randint")
    if requires_grad and dt.kind != "f":
        raise DTypeError(f"randint: only floating point tensors can require gradients, got "
                         f"dtype {dt.name}")
    arr = _integers(_gen(generator, "randint"), int(low), int(high), _shape(size, "randint"), dt,
                    "randint")
    return _new(arr, requires_grad)


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ArgumentError(f"randperm: n must be an int, got {type(n).__name__} {n!r}")
    if n < 0:
        raise ArgumentError(f"randperm: n must be non-negative, got {n}")
    dt = _dt.int64 if dtype is None else _dt.to_dtype(dtype, "randperm")
    return _new(_gen(generator, "randperm").permutation(int(n)).astype(dt), requires_grad)


def _like(x: Any, dtype: Any, op: str) -> tuple[tuple, np.dtype]:
    arr = as_array(x, op=op)
    return arr.shape, arr.dtype if dtype is None else _dt.to_dtype(dtype, op)


def rand_like(x: Any, *, generator: Generator | None = None, dtype: Any = None,
              requires_grad: bool = False) -> Tensor:
    """`rand` of ``x``'s shape and dtype."""
    shape, dt = _like(x, dtype, "rand_like")
    return rand(shape, generator=generator, dtype=dt, requires_grad=requires_grad)


def randn_like(x: Any, *, generator: Generator | None = None, dtype: Any = None,
               requires_grad: bool = False) -> Tensor:
    """`randn` of ``x``'s shape and dtype."""
    shape, dt = _like(x, dtype, "randn_like")
    return randn(shape, generator=generator, dtype=dt, requires_grad=requires_grad)


def randint_like(x: Any, low: int, high: int | None = None, *,
                 generator: Generator | None = None, dtype: Any = None,
                 requires_grad: bool = False) -> Tensor:
    """`randint` of ``x``'s shape and dtype: ``randint_like(x, high)`` or ``(x, low, high)``."""
    shape, dt = _like(x, dtype, "randint_like")
    if high is None:
        low, high = 0, low
    return randint(low, high, shape, generator=generator, dtype=dt, requires_grad=requires_grad)


def _probabilities(x: Any, op: str) -> np.ndarray:
    p = as_array(x, op=op)
    if p.dtype.kind != "f":
        raise DTypeError(f"{op}: expected a floating point probability tensor, got dtype "
                         f"{p.dtype.name}")
    return p


def multinomial(input: Any, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: Generator | None = None) -> Tensor:
    """Indices sampled from the categories of each row of ``input`` (non-negative weights,
    1-d or 2-d), with or without replacement; int64 of shape ``(num_samples,)`` or
    ``(rows, num_samples)``."""
    p = _probabilities(input, "multinomial").astype(np.float64)
    if p.ndim not in (1, 2):
        raise ShapeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {p.shape}")
    n = int(num_samples)
    if n <= 0:
        raise ArgumentError(f"multinomial: cannot sample n_sample <= 0 samples (got {n})")
    rows = p.reshape(-1, p.shape[-1])
    k = rows.shape[1]
    if k == 0:
        raise ShapeError("multinomial: number of categories cannot be zero")
    if not replacement and n > k:
        raise ArgumentError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                            f"without replacement (n_sample {n}, {k} categories)")
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ArgumentError("multinomial: probability tensor contains either `inf`, `nan` or "
                            "element < 0")
    total = rows.sum(axis=1)
    if (total <= 0).any():
        raise ArgumentError("multinomial: invalid multinomial distribution (sum of "
                            "probabilities <= 0)")
    g = _gen(generator, "multinomial")
    if replacement:
        cdf = np.cumsum(rows, axis=1) / total[:, None]
        u = g.random((rows.shape[0], n))
        out = np.stack([np.searchsorted(c, ur, side="right") for c, ur in zip(cdf, u)])
        last = k - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)
        out = np.minimum(out, last[:, None])
    else:
        # the n largest of p / Exp(1): a weighted draw without replacement; as PyTorch's,
        # categories of probability 0 come last once the others are drawn
        keys = rows / g.exponential(size=rows.shape)
        out = np.argsort(-keys, axis=1, kind="stable")[:, :n]
    return _new(out.reshape(p.shape[:-1] + (n,)).astype(np.int64), False)


def bernoulli_values(t: Any, p: Any, generator: Generator | None) -> np.ndarray:
    """0/1 samples of ``t``'s shape and dtype, 1 with probability ``p`` (broadcast)."""
    shape, dt = _like(t, None, "bernoulli")
    if isinstance(p, (int, float)) and not isinstance(p, bool):
        if not 0 <= p <= 1:
            raise ArgumentError(f"bernoulli_: expects p to be in [0, 1], but got p={p}")
        prob = np.float64(p)
    else:
        prob = _probabilities(p, "bernoulli").astype(np.float64)
        if np.isnan(prob).any() or (prob < 0).any() or (prob > 1).any():
            raise ArgumentError("bernoulli: expected all probabilities p to be in [0, 1]")
        try:
            prob = np.broadcast_to(prob, shape)
        except ValueError:
            raise ShapeError(f"bernoulli_: probabilities of shape {prob.shape} do not "
                             f"broadcast to the tensor's shape {shape}") from None
    return (_gen(generator, "bernoulli").random(shape) < prob).astype(dt)


def bernoulli(input: Any, p: float | None = None, *,  # noqa: A002
              generator: Generator | None = None) -> Tensor:
    """0/1 samples: 1 with probability ``input`` (elementwise), or ``p`` for every element
    when given; the dtype of ``input``."""
    x = _probabilities(input, "bernoulli")
    return _new(bernoulli_values(x, x if p is None else p, generator), False)


def _std_ok(std: Any, op: str) -> None:
    s = as_array(std, op=op) if not isinstance(std, (int, float)) else np.asarray(std)
    if (s < 0).any():
        raise ArgumentError(f"{op}: expects std >= 0.0, but found std {s.min()}")


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *,
           generator: Generator | None = None, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Samples of N(mean, std**2): tensor ``mean`` and/or ``std`` (broadcast; their dtype), or
    numbers with ``size``."""
    tensors = [v for v in (mean, std) if isinstance(v, (TensorBase, np.ndarray))]
    if tensors:
        if size is not None:
            raise ArgumentError("normal: size is only taken with float mean and std")
        m, s = (as_array(v, op="normal") for v in (mean, std))
        dt = np.result_type(*[as_array(v).dtype for v in tensors])
        if dt.kind != "f":
            raise DTypeError(f"normal: expected floating point mean and std, got {dt.name}")
        try:
            shape = np.broadcast_shapes(m.shape, s.shape)
        except ValueError:
            raise ShapeError(f"normal: mean of shape {m.shape} and std of shape {s.shape} do "
                             f"not broadcast") from None
    else:
        if size is None:
            raise ArgumentError("normal: size is required when mean and std are numbers")
        m, s = float(mean), float(std)
        shape = _shape((size,) if isinstance(size, (int, np.integer)) else tuple(size), "normal")
        dt = _random_dtype(dtype, "normal")
    _std_ok(s, "normal")
    z = _gen(generator, "normal").standard_normal(shape)
    return _new((m + s * z).astype(dt), requires_grad)


# -- values for the in-place fills (``x.uniform_()``, ...) ------------------------------------
def _float_target(t: Any, op: str) -> tuple[tuple, np.dtype]:
    shape, dt = _like(t, None, op)
    if dt.kind != "f":
        raise DTypeError(f"{op}: expects a floating point tensor, got dtype {dt.name}")
    return shape, dt


def uniform_values(t: Any, a: float, b: float, generator: Generator | None) -> np.ndarray:
    shape, dt = _float_target(t, "uniform_")
    if a > b:
        raise ArgumentError(f"uniform_: expects to return a [from, to) range, but found "
                            f"from={a} > to={b}")
    return _gen(generator, "uniform_").uniform(a, b, shape).astype(dt)


def normal_values(t: Any, mean: float, std: float, generator: Generator | None) -> np.ndarray:
    shape, dt = _float_target(t, "normal_")
    _std_ok(std, "normal_")
    return (mean + std * _gen(generator, "normal_").standard_normal(shape)).astype(dt)


def exponential_values(t: Any, lambd: float, generator: Generator | None) -> np.ndarray:
    shape, dt = _float_target(t, "exponential_")
    if not lambd > 0:
        raise ArgumentError(f"exponential_: expects lambda > 0.0, but found lambda={lambd}")
    return (_gen(generator, "exponential_").exponential(1.0, shape) / lambd).astype(dt)


def random_values(t: Any, low: int, high: int | None, generator: Generator | None) -> np.ndarray:
    """Integers in ``[low, high)``; ``high`` None: ``random_(high)`` when only ``low`` was
    given, else up to the largest integer the dtype holds exactly (as PyTorch)."""
    shape, dt = _like(t, None, "random_")
    if high is None:
        if low != 0:
            low, high = 0, low
        elif dt.kind == "f":
            high = 2 ** (np.finfo(dt).nmant + 1) + 1
        elif dt.kind == "b":
            high = 2
        else:
            high = int(np.iinfo(dt).max)
    return _integers(_gen(generator, "random_"), int(low), int(high), shape, dt, "random_")


__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed", "generator",
           "get_rng_state", "set_rng_state", "rand", "randn", "randint", "randperm",
           "rand_like", "randn_like", "randint_like", "multinomial", "bernoulli", "normal"]
