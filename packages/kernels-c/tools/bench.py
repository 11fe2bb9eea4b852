"""Measure the C kernels against numpy in the same process (interleaved, medians and bests).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python packages/kernels-c/tools/bench.py gemm
    python packages/kernels-c/tools/bench.py gemm --sizes 256,512 --threads 1 --dtype float64
    python packages/kernels-c/tools/bench.py crossover        # where numpy's BLAS starts to win
    python packages/kernels-c/tools/bench.py overhead         # per-call cost on 16x16 inputs
    python packages/kernels-c/tools/bench.py conv --threads 1 # conv2d forward / backward parts
    python packages/kernels-c/tools/bench.py kernels          # softmax, layer norm, optimizer
                                                              # steps, ... vs their numpy reference

OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, where the machine sets them, slow a current numpy down:
unset both in the benchmark command only (never in tests or CI). The OpenBLAS kernel in use
and the thread counts are printed. One JSON object per line.
"""
from __future__ import annotations

import argparse
import ctypes
import glob
import json
import os
import statistics
import time

import numpy as np

from mnp.kernels_c import _ext as kc


def _openblas():
    """numpy's bundled OpenBLAS through ctypes (corename, thread count), or None."""
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs",
                                  "libscipy_openblas*.so"))
    for path in libs:
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_", "64_"), ("scipy_", ""), ("", "")):
            try:
                name = getattr(lib, f"{prefix}openblas_get_corename{suffix}")
                setn = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}")
            except AttributeError:
                continue
            name.restype = ctypes.c_char_p
            return name, setn
    return None


def _set_threads(n: int, blas) -> None:
    kc.set_num_threads(n)
    if blas is not None:
        blas[1](ctypes.c_int(n))


def _time(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_gemm(sizes, threads, dtype, budget, blas, settle):
    rng = np.random.default_rng(0)
    for nt in threads:
        _set_threads(nt, blas)
        for n in sizes:
            a = rng.standard_normal((n, n)).astype(dtype)
            b = rng.standard_normal((n, n)).astype(dtype)
            flop = 2.0 * n ** 3
            mine, ref = [], []
            kc.gemm_blocked(a, b, False, False, nt), a @ b            # warm up
            rounds = max(7, int(budget / flop))
            if nt > 1 and settle > 0:
                rounds = min(rounds, 40)
            for _ in range(rounds):
                # two threaded runtimes: let the other one's spinning threads go idle first
                if nt > 1:
                    time.sleep(settle)
                ref.append(_time(lambda: a @ b))
                if nt > 1:
                    time.sleep(settle)
                mine.append(_time(lambda: kc.gemm_blocked(a, b, False, False, nt)))
            row = {"bench": "gemm", "n": n, "dtype": dtype, "threads": nt, "rounds": rounds,
                   "c_gflops_median": round(flop / statistics.median(mine) / 1e9, 1),
                   "c_gflops_best": round(flop / min(mine) / 1e9, 1),
                   "numpy_gflops_median": round(flop / statistics.median(ref) / 1e9, 1),
                   "numpy_gflops_best": round(flop / min(ref) / 1e9, 1)}
            row["ratio_median"] = round(statistics.median(ref) / statistics.median(mine), 3)
            print(json.dumps(row), flush=True)


def bench_crossover(threads, dtype, blas):
    rng = np.random.default_rng(0)
    for nt in threads:
        _set_threads(nt, blas)
        for n in (8, 16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024):
            a = rng.standard_normal((n, n)).astype(dtype)
            b = rng.standard_normal((n, n)).astype(dtype)
            reps = max(3, int(3e7 / n ** 3))
            mine, ref = [], []
            for _ in range(7):
                ref.append(_time(lambda: [a @ b for _ in range(reps)]) / reps)
                mine.append(_time(lambda: [kc.gemm_blocked(a, b, False, False, nt)
                                           for _ in range(reps)]) / reps)
            print(json.dumps({"bench": "crossover", "n": n, "dtype": dtype, "threads": nt,
                              "c_us": round(statistics.median(mine) * 1e6, 2),
                              "numpy_us": round(statistics.median(ref) * 1e6, 2),
                              "c_over_numpy": round(statistics.median(mine) / statistics.median(ref), 3)}),
                  flush=True)


def bench_overhead():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((16, 16)).astype(np.float32)
    b = rng.standard_normal((16, 16)).astype(np.float32)
    row = rng.standard_normal(16).astype(np.float32)
    cases = {"add": (kc.add, np.add, (a, b)), "add_row_broadcast": (kc.add, np.add, (a, row)),
             "mul": (kc.mul, np.multiply, (a, b)),
             "relu": (kc.relu, lambda x: np.maximum(x, 0, dtype=x.dtype), (a,)),
             "relu_backward": (kc.relu_backward, lambda g, x: g * (x > 0), (a, b)),
             "sum_all": (kc.sum, lambda x, ax, k: np.sum(x, axis=ax, keepdims=k, dtype=x.dtype),
                         (a, None, False)),
             "gemm_16": (kc.gemm, np.matmul, (a, b))}
    reps = 20000
    for name, (mine, ref, args) in cases.items():
        tm, tr = [], []
        for _ in range(7):
            tr.append(_time(lambda: [ref(*args) for _ in range(reps)]) / reps)
            tm.append(_time(lambda: [mine(*args) for _ in range(reps)]) / reps)
        print(json.dumps({"bench": "overhead", "op": name, "shape": "16x16 float32",
                          "c_ns": round(min(tm) * 1e9), "numpy_ns": round(min(tr) * 1e9),
                          "speedup": round(min(tr) / min(tm), 2)}), flush=True)


def bench_conv(threads, dtype, shape, out_channels, kernel, stride, padding):
    """conv2d_forward and conv2d_backward split by output (dx, dw, db alone and together),
    interleaved, ms per call."""
    rng = np.random.default_rng(0)
    n, c, h, w_ = shape
    x = rng.standard_normal((n, c, h, w_)).astype(dtype)
    w = rng.standard_normal((out_channels, c, kernel, kernel)).astype(dtype)
    b = rng.standard_normal(out_channels).astype(dtype)
    y = kc.conv2d_forward(x, w, b, stride, padding, 1)
    g = rng.standard_normal(y.shape).astype(dtype)
    cases = {"forward": lambda: kc.conv2d_forward(x, w, b, stride, padding, 1)}
    for name, need in (("backward_dx", (1, 0, 0)), ("backward_dw", (0, 1, 0)),
                       ("backward_db", (0, 0, 1)), ("backward_all", (1, 1, 1))):
        cases[name] = (lambda need: lambda: kc.conv2d_backward(g, x, w, stride, padding, 1,
                                                               *map(bool, need)))(need)
    for nt in threads:
        kc.set_num_threads(nt)
        times = {k: [] for k in cases}
        for fn in cases.values():
            fn()
        for _ in range(9):
            for k, fn in cases.items():
                reps = 5
                times[k].append(_time(lambda: [fn() for _ in range(reps)]) / reps)
        row = {"bench": "conv", "shape": list(shape), "out_channels": out_channels,
               "kernel": kernel, "stride": stride, "padding": padding, "dtype": dtype,
               "threads": nt}
        for k, v in times.items():
            row[k + "_ms"] = round(statistics.median(v) * 1e3, 3)
            row[k + "_best_ms"] = round(min(v) * 1e3, 3)
        print(json.dumps(row), flush=True)


def _kernel_cases(dtype):
    """(label, kernel name, args factory) for `bench_kernels`: typical sizes of each kernel."""
    rng = np.random.default_rng(0)
    f = lambda *shape: rng.standard_normal(shape).astype(dtype)
    pos = lambda *shape: rng.uniform(0.1, 1.0, shape).astype(dtype)
    n = 200_000
    sm = {s: f(*s) for s in ((128, 10), (64, 1000))}
    ln_x, ln_g, ln_b = f(128, 256), pos(256), f(256)
    return [
        *[(f"softmax {s}", "softmax", lambda s=s: (sm[s], -1)) for s in sm],
        *[(f"log_softmax {s}", "log_softmax", lambda s=s: (sm[s], -1)) for s in sm],
        *[(f"softmax_backward {s}", "softmax_backward", lambda s=s: (f(*s), sm[s], -1)) for s in sm],
        *[(f"log_softmax_backward {s}", "log_softmax_backward", lambda s=s: (f(*s), -pos(*s), -1))
          for s in sm],
        ("softmax (64, 1000) axis 0", "softmax", lambda: (sm[(64, 1000)], 0)),
        ("layer_norm_forward (128, 256)", "layer_norm_forward", lambda: (ln_x, ln_g, ln_b, 1e-5)),
        ("layer_norm_backward (128, 256)", "layer_norm_backward",
         lambda: (f(128, 256), ln_x, ln_g, ln_x.mean(1), pos(128))),
        ("rmsprop_step 200k", "rmsprop_step",
         lambda: (f(n), f(n), pos(n), f(n), 1e-2, 0.99, 1e-8, 0.9, 1e-4)),
        ("rmsprop_centered_step 200k", "rmsprop_centered_step",
         lambda: (f(n), f(n), pos(n) + 1, f(n) * 0.1, f(n), 1e-2, 0.99, 1e-8, 0.9, 0.0)),
        ("adagrad_step 200k", "adagrad_step", lambda: (f(n), f(n), pos(n), 3, 1e-2, 0.0, 1e-10, 0.0)),
        *[(f"{k} (256, 256)", k, lambda: (pos(256, 256),)) for k in ("sqrt", "neg", "abs")],
        *[(f"{k} (16, 16)", k, lambda: (f(16, 16),)) for k in ("neg", "abs")],
        *[(f"{k} (256, 256)", k, lambda: (f(256, 256), f(256, 256))) for k in ("maximum", "minimum")],
        ("argmax (64, 1000) axis 1", "argmax", lambda: (f(64, 1000), 1, False)),
        ("argmax (64, 1000) axis 0", "argmax", lambda: (f(64, 1000), 0, False)),
        ("argmin (256, 256) all", "argmin", lambda: (f(256, 256), None, False)),
        *_activation_cases(f),
    ]


ACT_SHAPES = ((16, 16), (128, 256), (256, 1024))


def _activation_cases(f):
    """leaky_relu, gelu (both forms), their backwards, erf, sign and min at the typical sizes."""
    cases = []
    for s in ACT_SHAPES:
        cases += [
            (f"leaky_relu {s}", "leaky_relu", lambda s=s: (f(*s), 0.01)),
            (f"leaky_relu_backward {s}", "leaky_relu_backward", lambda s=s: (f(*s), f(*s), 0.01)),
            *[(f"gelu {a} {s}", "gelu", lambda s=s, a=a: (f(*s), a)) for a in ("none", "tanh")],
            *[(f"gelu_backward {a} {s}", "gelu_backward", lambda s=s, a=a: (f(*s), f(*s), a))
              for a in ("none", "tanh")],
            (f"erf {s}", "erf", lambda s=s: (f(*s),)),
            (f"sign {s}", "sign", lambda s=s: (f(*s),)),
            (f"min {s} all", "min", lambda s=s: (f(*s), None, False)),
            (f"min {s} axis 1", "min", lambda s=s: (f(*s), (1,), False)),
        ]
    return cases


def bench_kernels(threads, dtype, only):
    """Each kernel at a typical size against its numpy reference, interleaved, us per call
    (median of 9 rounds). Each side gets its own copy of the arguments (in-place steps)."""
    from mnp.core.dispatch import resolve

    for nt in threads:
        kc.set_num_threads(nt)
        for label, name, make in _kernel_cases(dtype):
            if only and not any(o in label for o in only):
                continue
            ref = resolve(name, np.dtype(dtype), backend="numpy")[0]
            mine = getattr(kc, name)
            a_mine, a_ref = make(), None
            a_ref = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in a_mine)
            mine(*a_mine), ref(*a_ref)
            one = _time(lambda: mine(*a_mine))
            reps = max(1, min(20000, int(0.02 / max(one, 1e-7))))
            tm, tr = [], []
            with np.errstate(all="ignore"):
                for _ in range(9):
                    tr.append(_time(lambda: [ref(*a_ref) for _ in range(reps)]) / reps)
                    tm.append(_time(lambda: [mine(*a_mine) for _ in range(reps)]) / reps)
            print(json.dumps({"bench": "kernels", "case": label, "dtype": dtype, "threads": nt,
                              "c_us": round(statistics.median(tm) * 1e6, 2),
                              "numpy_us": round(statistics.median(tr) * 1e6, 2),
                              "speedup": round(statistics.median(tr) / statistics.median(tm), 2)}),
                  flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["gemm", "crossover", "overhead", "conv", "kernels"])
    p.add_argument("--sizes", default="512,1024,2048")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--dtype", default="float32")
    p.add_argument("--shape", default="64,16,28,28", help="conv: input N,C,H,W")
    p.add_argument("--out-channels", type=int, default=32, help="conv")
    p.add_argument("--kernel", type=int, default=3, help="conv: square kernel size")
    p.add_argument("--stride", type=int, default=1, help="conv")
    p.add_argument("--padding", type=int, default=1, help="conv")
    p.add_argument("--only", default="", help="kernels: comma list of case substrings")
    p.add_argument("--budget", type=float, default=6e11, help="flops per measurement series")
    p.add_argument("--settle", type=float, default=0.05,
                   help="seconds of sleep between threaded calls of the two libraries")
    args = p.parse_args()
    blas = _openblas()
    print(json.dumps({"openblas_core": blas[0]().decode() if blas else None,
                      "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
                      "build": kc.build_info()}), flush=True)
    threads = [int(t) for t in args.threads.split(",")]
    if args.what == "gemm":
        bench_gemm([int(s) for s in args.sizes.split(",")], threads, args.dtype, args.budget, blas,
                   args.settle)
    elif args.what == "crossover":
        bench_crossover(threads, args.dtype, blas)
    elif args.what == "conv":
        bench_conv(threads, args.dtype, tuple(int(v) for v in args.shape.split(",")),
                   args.out_channels, args.kernel, args.stride, args.padding)
    elif args.what == "kernels":
        bench_kernels(threads, args.dtype, [o for o in args.only.split(",") if o])
    else:
        bench_overhead()


if __name__ == "__main__":
    main()
