"""The backend conformance suite: every kernel a backend registers, checked against ``numpy``.

For each kernel the backend and the ``numpy`` reference both have, and for float32 and
float64, the suite calls both on the cases of `mnp.core.testing.generators` (several random
shapes, broadcasting, non-contiguous views) and compares results within the dtype's
tolerance: same shapes and dtypes, integer outputs exactly, in-place ``_step`` kernels by the
buffers they update. A kernel with no generator is reported ``skipped``, never ``passed``.

>>> from mnp.core.testing import run_conformance
>>> results = run_conformance("numpy", kernels=["add"])
>>> sorted({(r.name, r.dtype, r.status) for r in results})
[('add', 'float32', 'passed'), ('add', 'float64', 'passed')]
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable

import numpy as np

from ..errors import BackendError
from ..plugins import get_host
from .generators import GENERATORS, MissingReference

REFERENCE = "numpy"
DTYPES = ("float32", "float64")
#: per dtype: |actual - expected| <= atol * max(1, max|expected|) + rtol * |expected|
TOLERANCES = {"float16": (1e-2, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-9, 1e-12)}


@dataclass
class ConformanceResult:
    """One kernel and dtype: ``status`` is ``passed``, ``failed``, ``skipped`` or ``error``
    (the reference itself could not run the cases). ``cases`` counts the cases that passed
    (a failure stops at the first failing case, named in ``detail``); ``max_error`` is the
    largest absolute difference seen."""
    name: str
    dtype: str
    status: str
    max_error: float | None = None
    cases: int = 0
    detail: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


class _Mismatch(Exception):
    def __init__(self, message: str, error: float = 0.0):
        super().__init__(message)
        self.error = error


def _leaves(value: Any, path: str = "out") -> list[tuple[str, Any]]:
    if isinstance(value, (tuple, list)):
        out = []
        for i, v in enumerate(value):
            out.extend(_leaves(v, f"{path}[{i}]"))
        return out
    return [(path, value)]


def _compare(actual: Any, expected: Any, dtype: str, what: str) -> float:
    """Largest absolute error between two results; raises `_Mismatch` beyond tolerance."""
    act, exp = _leaves(actual, what), _leaves(expected, what)
    if len(act) != len(exp):
        raise _Mismatch(f"{what}: {len(act)} outputs, the reference gives {len(exp)}")
    worst = 0.0
    for (path, a), (_, e) in zip(act, exp):
        if e is None or a is None:
            if (a is None) != (e is None):
                raise _Mismatch(f"{path}: got {'None' if a is None else type(a).__name__}, "
                                f"the reference gives {'None' if e is None else type(e).__name__}")
            continue
        a, e = np.asarray(a), np.asarray(e)
        if a.shape != e.shape:
            raise _Mismatch(f"{path}: shape {a.shape}, the reference gives {e.shape}")
        if a.dtype != e.dtype:
            raise _Mismatch(f"{path}: dtype {a.dtype.name}, the reference gives {e.dtype.name}")
        if e.size == 0:
            continue
        if e.dtype.kind != "f":
            bad = int(np.count_nonzero(a != e))
            if bad:
                raise _Mismatch(f"{path}: {bad} of {e.size} {e.dtype.name} values differ")
            continue
        a64, e64 = a.astype(np.float64), e.astype(np.float64)
        same_nonfinite = (np.isnan(a64) & np.isnan(e64)) | ((a64 == e64) & ~np.isfinite(e64))
        finite = np.isfinite(e64) & np.isfinite(a64)
        if not np.all(same_nonfinite | finite):
            raise _Mismatch(f"{path}: non-finite values where the reference has "
                            f"{'finite ones' if np.isfinite(e64).any() else 'other ones'}")
        if not finite.any():
            continue
        err = np.abs(a64[finite] - e64[finite])
        ref = np.abs(e64[finite])
        rtol, atol = TOLERANCES.get(dtype, TOLERANCES["float32"])
        limit = atol * max(1.0, float(ref.max())) + rtol * ref
        worst = max(worst, float(err.max()))
        over = err > limit
        if over.any():
            i = int(np.argmax(err - limit))
            raise _Mismatch(f"{path}: max error {float(err.max()):.3g} ({int(over.sum())} of "
                            f"{err.size} values beyond rtol={rtol}, atol={atol}; e.g. "
                            f"{float(a64[finite][i]):.8g} vs reference {float(e64[finite][i]):.8g})",
                            worst)
    return worst


def _snapshot(args: tuple) -> list[Any]:
    return [a.copy() if isinstance(a, np.ndarray) else None for a in args]


def _run_kernel(name: str, dtype: str, fn: Callable, ref_fn: Callable, ref_lookup: Callable[[str], Any],
                seed: int) -> ConformanceResult:
    gen = GENERATORS.get(name)
    if gen is None:
        return ConformanceResult(name, dtype, "skipped", detail="no input generator for this kernel")
    try:
        ref_cases = list(gen(np.random.default_rng(seed), np.dtype(dtype), ref_lookup))
        test_cases = list(gen(np.random.default_rng(seed), np.dtype(dtype), ref_lookup))
    except MissingReference as exc:
        return ConformanceResult(name, dtype, "skipped",
                                 detail=f"its inputs need reference kernel {exc.args[0]!r}, not registered")
    except Exception as exc:
        return ConformanceResult(name, dtype, "error", detail=f"generating inputs: {type(exc).__name__}: {exc}")
    worst, done = 0.0, 0
    for rc, tc in zip(ref_cases, test_cases):
        where = f"case {tc.label!r}" if tc.label else f"case {done}"
        before = _snapshot(tc.args)
        try:
            with np.errstate(all="ignore"):
                expected = ref_fn(*rc.args, **rc.kwargs)
        except Exception as exc:
            return ConformanceResult(name, dtype, "error", worst, done,
                                     f"{where}: the reference raised {type(exc).__name__}: {exc}")
        try:
            with np.errstate(all="ignore"):
                actual = fn(*tc.args, **tc.kwargs)
        except Exception as exc:
            return ConformanceResult(name, dtype, "failed", worst, done,
                                     f"{where}: raised {type(exc).__name__}: {exc}")
        try:
            if tc.inplace is not None:
                if actual is not None:
                    raise _Mismatch(f"returned {type(actual).__name__}; an in-place _step kernel "
                                    f"returns None")
                for i in tc.inplace:
                    worst = max(worst, _compare(tc.args[i], rc.args[i], dtype, f"argument {i} after the step"))
                changed = [i for i, (b, a) in enumerate(zip(before, tc.args))
                           if i not in tc.inplace and b is not None and not _same(b, a)]
            else:
                worst = max(worst, _compare(actual, expected, dtype, "output"))
                changed = [i for i, (b, a) in enumerate(zip(before, tc.args))
                           if b is not None and not _same(b, a)]
            if changed:
                raise _Mismatch(f"modified its input argument(s) {changed}")
        except _Mismatch as exc:
            return ConformanceResult(name, dtype, "failed", max(worst, exc.error), done, f"{where}: {exc}")
        done += 1
    if not done:
        return ConformanceResult(name, dtype, "skipped", detail="the generator produced no cases")
    return ConformanceResult(name, dtype, "passed", worst, done)


def _same(before: np.ndarray, after: Any) -> bool:
    after = np.asarray(after)
    return before.shape == after.shape and bool(np.array_equal(before, after, equal_nan=before.dtype.kind == "f"))


def run_conformance(backend: str, kernels: Iterable[str] | None = None, dtypes: Iterable[str] = DTYPES,
                    seed: int = 0) -> list[ConformanceResult]:
    """Check every kernel of ``backend`` that ``numpy`` also has (or only ``kernels``) against
    the reference, for each of ``dtypes``. Raises `BackendError` for an unknown or unavailable
    backend."""
    host = get_host().load()
    spec = host.backends.get(backend)
    if spec is None:
        raise BackendError(f"run_conformance: unknown backend {backend!r}; known: "
                           f"{', '.join(sorted(host.backends))}")
    if not spec.is_available():
        raise BackendError(f"run_conformance: backend {backend!r} (from {spec.provider!r}) is not "
                           f"available on this machine")
    ref = host.backends.get(REFERENCE)
    ref_kernels = ref.kernels if ref is not None else {}

    def ref_lookup(kname: str) -> Callable | None:
        entry = ref_kernels.get(kname)
        return entry[0] if entry is not None else None

    names = sorted(set(spec.kernels) & set(ref_kernels))
    if kernels is not None:
        wanted = list(kernels)
        unknown = [k for k in wanted if k not in spec.kernels]
        if unknown:
            raise BackendError(f"run_conformance: backend {backend!r} registers no kernel "
                               f"{', '.join(map(repr, unknown))}")
        names = [k for k in names if k in set(wanted)]
    results = []
    for name in names:
        fn, fn_dtypes, _ = spec.kernels[name]
        ref_fn, ref_dtypes, _ = ref_kernels[name]
        for dt in dtypes:
            dt = np.dtype(dt).name
            if fn_dtypes is not None and dt not in fn_dtypes:
                results.append(ConformanceResult(name, dt, "skipped",
                                                 detail=f"registered for {', '.join(fn_dtypes)} only"))
            elif ref_dtypes is not None and dt not in ref_dtypes:
                results.append(ConformanceResult(name, dt, "skipped",
                                                 detail=f"the reference has no {dt} kernel"))
            else:
                results.append(_run_kernel(name, dt, fn, ref_fn, ref_lookup, seed))
    return results


def summary(results: Iterable[ConformanceResult]) -> dict[str, int]:
    """Counts by status: ``{"passed": .., "failed": .., "error": .., "skipped": ..}``."""
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return counts


def format_results(results: list[ConformanceResult], width: int = 100) -> str:
    """A text table: kernel, dtype, status, cases, max error, detail."""
    lines = [f"{'kernel':<24}{'dtype':<9}{'status':<9}{'cases':>6}{'max error':>12}  detail"]
    for r in results:
        err = "" if r.max_error is None else f"{r.max_error:.3g}"
        detail = r.detail if len(r.detail) <= width else r.detail[: width - 3] + "..."
        lines.append(f"{r.name:<24}{r.dtype:<9}{r.status:<9}{r.cases:>6}{err:>12}  {detail}".rstrip())
    c = summary(results)
    lines.append(f"{c['passed']} passed, {c['failed']} failed, {c['error']} error, {c['skipped']} skipped")
    return "\n".join(lines)


def assert_backend_conforms(backend: str, kernels: Iterable[str] | None = None,
                            dtypes: Iterable[str] = DTYPES) -> list[ConformanceResult]:
    """Run the suite and raise ``AssertionError`` listing every failed or errored kernel
    (skipped ones do not fail). For a backend plugin's own test suite::

        def test_conforms():
            assert_backend_conforms("mybackend")
    """
    results = run_conformance(backend, kernels, dtypes)
    bad = [r for r in results if r.status in ("failed", "error")]
    if bad:
        listed = "\n".join(f"  {r.name} [{r.dtype}] {r.status}: {r.detail}" for r in bad)
        raise AssertionError(f"backend {backend!r} does not conform to {REFERENCE!r} in "
                             f"{len(bad)} of {len(results)} checks:\n{listed}")
    return results
