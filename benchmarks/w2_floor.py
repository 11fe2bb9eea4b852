"""Where W2's time goes: the same 16x16 step timed four ways, interleaved in one process.

* ``torch``: PyTorch (one thread);
* ``numpy by hand``: the forward and the two gradients written out in numpy, no graph;
* ``minimal engine``: the smallest reverse-mode engine of this design, a Python class per op
  with forward and backward side by side, a creation counter and a heap-ordered backward,
  and no checks at all (no broadcasting, dtypes, shapes, grad mode, hooks);
* ``mnp``: mnp.core on each installed backend.

The first two bound what any framework built on numpy calls can reach; the third shows what
the design costs before any of mnp's checks. Run::

    python benchmarks/w2_floor.py [--rounds 15] [--calls 3000]
"""
from __future__ import annotations

import argparse
import heapq
import itertools
import os
import timeit

os.environ.setdefault("MNP_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from workloads.w2_overhead import step_by_hand  # noqa: E402

_counter = itertools.count()


class _Node:
    """A tensor of the minimal engine: data, grad, and the op that made it."""
    __slots__ = ("data", "grad", "op")

    def __init__(self, data, op=None):
        self.data, self.grad, self.op = data, None, op

    def __mul__(self, other):
        return _Mul.apply(self, other)

    def __add__(self, other):
        return _Add.apply(self, other)

    def relu(self):
        return _Relu.apply(self)

    def sum(self):
        return _Sum.apply(self)

    def backward(self):
        grads = {id(self): np.ones((), self.data.dtype)}
        heap = [(-self.op.seq, id(self), self)]
        while heap:
            _, key, t = heapq.heappop(heap)
            for p, g in zip(t.op.inputs, t.op.backward(grads.pop(key))):
                if p.op is None:
                    p.grad = g if p.grad is None else p.grad + g
                elif id(p) in grads:
                    grads[id(p)] = grads[id(p)] + g
                else:
                    grads[id(p)] = g
                    heapq.heappush(heap, (-p.op.seq, id(p), p))


class _Op:
    @classmethod
    def apply(cls, *inputs):
        op = cls()
        op.inputs, op.seq = inputs, next(_counter)
        return _Node(op.forward(*[t.data for t in inputs]), op)


_ZERO = np.zeros((), np.float32)


class _Mul(_Op):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        return g * self.b, g * self.a


class _Add(_Op):
    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, g


class _Relu(_Op):
    def forward(self, x):
        self.x = x
        return np.maximum(x, _ZERO)

    def backward(self, g):
        return (g * (self.x > _ZERO),)


class _Sum(_Op):
    def forward(self, x):
        self.shape = x.shape
        return x.sum()

    def backward(self, g):
        out = np.empty(self.shape, g.dtype)
        out[...] = g
        return (out,)


def steps(a_np: np.ndarray, b_np: np.ndarray, backends: dict[str, str]) -> dict:
    """name -> a callable running one forward+backward of W2; fills ``backends`` with the
    mnp backend to select before timing each mnp step."""
    out = {}
    try:
        import torch
        torch.set_num_threads(1)
        ta, tb = (torch.tensor(v, requires_grad=True) for v in (a_np, b_np))

        def torch_step():
            ((ta * tb + ta).relu()).sum().backward()
        out["torch"] = torch_step
    except ImportError:
        pass
    out["numpy by hand"] = step_by_hand(a_np, b_np)
    na, nb = _Node(a_np), _Node(b_np)
    out["minimal engine"] = lambda: ((na * nb + na).relu()).sum().backward()
    import mnp.core as mnp
    ma, mb = mnp.tensor(a_np, requires_grad=True), mnp.tensor(b_np, requires_grad=True)
    for row in mnp.backends():
        if row["available"]:
            out[f"mnp {row['name']}"] = lambda: ((ma * mb + ma).relu()).sum().backward()
            backends[f"mnp {row['name']}"] = row["name"]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--calls", type=int, default=3000)
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((16, 16), dtype=np.float32) for _ in range(2))
    backends: dict[str, str] = {}
    fns = steps(a, b, backends)
    import mnp.core as mnp
    best = {name: float("inf") for name in fns}
    for r in range(args.rounds + 1):                     # interleaved: the machine drifts
        for name, fn in fns.items():
            if name in backends:
                mnp.set_backend(backends[name])
            t = timeit.timeit(fn, number=args.calls) / args.calls
            if r:                                        # round 0 warms up
                best[name] = min(best[name], t)
    ref = best.get("torch")
    print(f"{'W2 step':16s} {'us':>8s}  {'/ torch':>8s}")
    for name, t in best.items():
        ratio = f"{t / ref:8.3f}" if ref else f"{'-':>8s}"
        print(f"{name:16s} {t * 1e6:8.2f}  {ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
