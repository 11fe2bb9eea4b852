"""The backend conformance suite: every kernel a backend registers, checked against ``numpy``.

For each kernel the backend and the ``numpy`` reference both have, and for every dtype the
kernel is registered for (float32 and float64 when it takes any), the suite calls both (the
kernel as dispatch serves it: inputs it declines run its declared fallback, a size rule
applies) on

* the cases of `mnp.core.testing.generators`: random shapes, broadcasting, dims of size 1
  and 0, non-contiguous views, and each all-contiguous case again with negative strides;
* the cases of `mnp.core.testing.sized` on both sides of every threshold the backend
  declares for the kernel (``thresholds``, per kernel and ``"*"``), or just above each rung
  of a built-in ladder of common thresholds (4,096 to 262,144 elements) when it declares
  none; these run at several thread counts (the backend's own, 1 and 2) when the backend
  registered ``set_threads``/``get_threads``, and the count in use is restored afterwards;

and compares results within the dtype's tolerance: same shapes and dtypes, integer outputs
exactly, in-place ``_step`` kernels by the buffers they update. A kernel with no generator
(its own, or that of the signature kind it was registered with: `kinds`) is reported
``skipped``, never ``passed``. A failure names the case, the inputs' shapes and
layouts and the thread count.

Layouts and odd shapes vary among the small cases only, at the backend's own thread count;
the sized cases are contiguous and alone run at every thread count. So the work grows as
small cases + thresholds x shape families x thread counts, never as a product with layouts.

>>> from mnp.core.testing import run_conformance
>>> results = run_conformance("numpy", kernels=["add"])
>>> sorted({(r.name, r.dtype, r.status) for r in results})
[('add', 'float32', 'passed'), ('add', 'float64', 'passed')]
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ..dispatch import route
from ..errors import BackendError
from ..plugins import BackendSpec, get_host
from .generators import Case, MissingReference, negative_strides
from .kinds import case_generators
from .sized import ladder, targets

REFERENCE = "numpy"
#: the dtypes of a kernel registered for every dtype
DTYPES = ("float32", "float64")
#: thread counts tried besides the backend's own, at the sizes around its thresholds
THREADS = (1, 2)
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
    case: str = ""                 # the failing case's label
    threads: int | None = None     # the backend's thread count in the failing case

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def message(self) -> str:
        """One line: kernel, dtype, status and detail."""
        return f"{self.name} [{self.dtype}] {self.status}: {self.detail}".rstrip(": ")


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
        a64, e64 = a.astype(np.float64, copy=False).ravel(), e.astype(np.float64, copy=False).ravel()
        fin_a, fin_e = np.isfinite(a64), np.isfinite(e64)
        if not (fin_a.all() and fin_e.all()):
            same_nonfinite = (np.isnan(a64) & np.isnan(e64)) | ((a64 == e64) & ~fin_e)
            finite = fin_e & fin_a
            if not np.all(same_nonfinite | finite):
                where = int(np.argmin(same_nonfinite | finite))
                raise _Mismatch(f"{path}: non-finite values where the reference has "
                                f"{'finite ones' if fin_e.any() else 'other ones'} (e.g. at flat index "
                                f"{where}: {float(a64[where]):.8g} vs reference {float(e64[where]):.8g})")
            if not finite.any():
                continue
            a64, e64 = a64[finite], e64[finite]
        err = np.abs(a64 - e64)
        ref = np.abs(e64)
        rtol, atol = TOLERANCES.get(dtype, TOLERANCES["float32"])
        limit = atol * max(1.0, float(ref.max())) + rtol * ref
        worst = max(worst, float(err.max()))
        over = err > limit
        if over.any():
            i = int(np.argmax(err - limit))
            raise _Mismatch(f"{path}: max error {float(err.max()):.3g} ({int(over.sum())} of "
                            f"{err.size} values beyond rtol={rtol}, atol={atol}; e.g. "
                            f"{float(a64[i]):.8g} vs reference {float(e64[i]):.8g})", worst)
    return worst


def _clone(a: Any) -> Any:
    """An array with the same values *and* the same strides (views stay views of a fresh
    buffer), so that every run of a case sees the layout the generator made."""
    if not isinstance(a, np.ndarray):
        return a
    if a.size == 0 or a.flags.c_contiguous:
        return a.copy()
    lo = sum(s * (n - 1) for s, n in zip(a.strides, a.shape) if s < 0)
    hi = sum(s * (n - 1) for s, n in zip(a.strides, a.shape) if s > 0)
    buf = np.empty((hi - lo) // a.itemsize + 1, a.dtype)
    out = np.ndarray(a.shape, a.dtype, buffer=buf, offset=-lo, strides=a.strides)
    out[...] = a
    return out


def _describe(args: tuple) -> str:
    """The array arguments: dtype, shape and layout."""
    parts = []
    for a in args:
        if isinstance(a, np.ndarray):
            layout = ("negative strides" if a.size > 1 and any(s < 0 for s in a.strides) else
                      "contiguous" if a.flags.c_contiguous else "non-contiguous")
            parts.append(f"{a.dtype.name}{list(a.shape)} {layout}")
    return "inputs " + ", ".join(parts) if parts else "no array inputs"


def _with_negative_strides(cases: Iterable[Case]) -> Iterator[Case]:
    """Each case, then (if all its arrays are contiguous) the same values with negative strides."""
    for case in cases:
        yield case
        arrays = [a for a in case.args if isinstance(a, np.ndarray)]
        if arrays and all(a.flags.c_contiguous for a in arrays) and any(a.size > 1 for a in arrays):
            args = tuple(negative_strides(a) if isinstance(a, np.ndarray) else a for a in case.args)
            label = case.label.removesuffix("contiguous").strip()
            yield Case(args, dict(case.kwargs), f"{label} negative strides".strip(), case.inplace)


def _same(before: np.ndarray, after: Any) -> bool:
    after = np.asarray(after)
    if before.shape != after.shape:
        return False
    with np.errstate(invalid="ignore"):
        if bool(np.all(before == after)):
            return True
    return before.dtype.kind == "f" and bool(np.array_equal(before, after, equal_nan=True))


class _Failure(Exception):
    def __init__(self, status: str, message: str, error: float = 0.0):
        super().__init__(message)
        self.status, self.error = status, error


class _Kernel:
    """One kernel and dtype under test: runs cases, keeps the count and the largest error."""

    def __init__(self, fn: Callable, ref_fn: Callable, dtype: str, set_threads: Callable[[int], None] | None):
        self.fn, self.ref_fn, self.dtype, self.set_threads = fn, ref_fn, dtype, set_threads
        self.worst, self.done = 0.0, 0
        self.case, self.threads = "", None

    def run(self, case: Case, threads: list[int | None]) -> None:
        """Check ``case`` at each thread count; raises `_Failure` at the first difference."""
        self.case, self.threads = case.label, None
        ref_args = tuple(_clone(a) for a in case.args)
        try:
            with np.errstate(all="ignore"):
                expected = self.ref_fn(*ref_args, **case.kwargs)
        except Exception as exc:
            raise _Failure("error", f"{self._where(case)}: the reference raised {type(exc).__name__}: {exc}")
        for t in threads:
            self.threads = t
            args = tuple(_clone(a) for a in case.args)
            try:
                if t is not None:
                    self.set_threads(t)
                with np.errstate(all="ignore"):
                    actual = self.fn(*args, **case.kwargs)
            except Exception as exc:
                raise _Failure("failed", f"{self._where(case, t)}: raised {type(exc).__name__}: {exc}")
            try:
                self._check(case, args, ref_args, actual, expected)
            except _Mismatch as exc:
                self.worst = max(self.worst, exc.error)
                raise _Failure("failed", f"{self._where(case, t)}: {exc}", exc.error)
            except Exception as exc:   # an output numpy cannot even compare
                raise _Failure("failed", f"{self._where(case, t)}: returned {type(actual).__name__}, which "
                                         f"does not compare with the reference ({type(exc).__name__}: {exc})")
            self.done += 1

    @staticmethod
    def _where(case: Case, threads: int | None = None) -> str:
        where = f"case {case.label!r} ({_describe(case.args)})"
        return where if threads is None else f"{where}, {threads} thread{'s' if threads != 1 else ''}"

    def _check(self, case: Case, args: tuple, ref_args: tuple, actual: Any, expected: Any) -> None:
        keep = () if case.inplace is None else case.inplace
        if case.inplace is not None:
            if actual is not None:
                raise _Mismatch(f"returned {type(actual).__name__}; an in-place _step kernel returns None")
            for i in case.inplace:
                self.worst = max(self.worst, _compare(args[i], ref_args[i], self.dtype,
                                                      f"argument {i} after the step"))
        else:
            self.worst = max(self.worst, _compare(actual, expected, self.dtype, "output"))
        changed = [i for i, (b, a) in enumerate(zip(case.args, args))
                   if i not in keep and isinstance(b, np.ndarray) and not _same(b, a)]
        if changed:
            raise _Mismatch(f"modified its input argument(s) {changed}")


def _check_kernel(name: str, dtype: str, fn: Callable, ref_fn: Callable, ref_lookup: Callable[[str], Any],
                  seed: int, sizes: list[tuple[int, bool]], threads: list[int | None],
                  set_threads: Callable[[int], None] | None, kind: str | None = None) -> ConformanceResult:
    gen, sized = case_generators(name, kind)
    if gen is None:
        return ConformanceResult(name, dtype, "skipped", detail="no input generator for this kernel")
    dt = np.dtype(dtype)
    streams: list[tuple[Callable[[], Iterable[Case]], list[int | None]]] = [
        (lambda: _with_negative_strides(gen(np.random.default_rng(seed), dt, ref_lookup)), threads[:1])]
    if sized is not None:
        for n, above in sizes:
            streams.append((lambda n=n, above=above: sized(np.random.default_rng([seed, n]), dt, ref_lookup,
                                                          n, above), threads))
    k = _Kernel(fn, ref_fn, dtype, set_threads)
    for make, counts in streams:
        try:
            for case in make():
                k.run(case, counts)
        except _Failure as exc:
            return ConformanceResult(name, dtype, exc.status, k.worst, k.done, str(exc), k.case, k.threads)
        except MissingReference as exc:
            return ConformanceResult(name, dtype, "skipped",
                                     detail=f"its inputs need reference kernel {exc.args[0]!r}, not registered")
        except Exception as exc:
            return ConformanceResult(name, dtype, "error", k.worst, k.done,
                                     f"generating inputs: {type(exc).__name__}: {exc}")
    if not k.done:
        return ConformanceResult(name, dtype, "skipped", detail="the generator produced no cases")
    return ConformanceResult(name, dtype, "passed", k.worst, k.done)


def _thread_counts(spec: BackendSpec) -> list[int | None]:
    """The backend's own count first, then `THREADS`; ``[None]`` without thread control."""
    if spec.set_threads is None or spec.get_threads is None:
        return [None]
    try:
        own = int(spec.get_threads())
    except Exception as exc:
        raise BackendError(f"backend {spec.name!r}: its get_threads() raised {type(exc).__name__}: {exc}")
    return [own] + [t for t in THREADS if t != own]


def _kernel_dtypes(registered: tuple[str, ...] | None, wanted: Iterable[str] | None) -> list[str]:
    if wanted is not None:
        return [np.dtype(d).name for d in wanted]
    return list(DTYPES if registered is None else registered)


def run_conformance(backend: str, kernels: Iterable[str] | None = None, dtypes: Iterable[str] | None = None,
                    seed: int = 0) -> list[ConformanceResult]:
    """Check every kernel of ``backend`` that ``numpy`` also has (or only ``kernels``) against
    the reference, for each of ``dtypes`` (default: the dtypes each kernel is registered for).
    Raises `BackendError` for an unknown or unavailable backend."""
    host = get_host().load()
    spec = host.backends.get(backend)
    if spec is None:
        raise BackendError(f"unknown backend {backend!r}; known: "
                           f"{', '.join(sorted(host.backends))}")
    if not spec.is_available():
        raise BackendError(f"backend {backend!r} (from {spec.provider!r}) is not available on this "
                           f"machine" + (f": {spec.description}" if spec.description else ""))
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
            raise BackendError(f"backend {backend!r} registers no kernel "
                               f"{', '.join(map(repr, unknown))}")
        names = [k for k in names if k in set(wanted)]
    wanted_dtypes = None if dtypes is None else list(dtypes)
    threads = _thread_counts(spec)
    results = []
    try:
        for name in names:
            fn, fn_dtypes, _ = spec.kernels[name]
            ref_fn, ref_dtypes, _ = ref_kernels[name]
            declared = tuple(spec.thresholds.get(name, ())) + tuple(spec.thresholds.get("*", ()))
            sizes = targets(declared) if declared else targets(ladder(name), below=False)
            for dt in _kernel_dtypes(fn_dtypes, wanted_dtypes):
                if fn_dtypes is not None and dt not in fn_dtypes:
                    results.append(ConformanceResult(name, dt, "skipped",
                                                     detail=f"registered for {', '.join(fn_dtypes)} only"))
                elif ref_dtypes is not None and dt not in ref_dtypes:
                    results.append(ConformanceResult(name, dt, "skipped",
                                                     detail=f"the reference has no {dt} kernel"))
                elif np.dtype(dt).kind != "f":
                    results.append(ConformanceResult(name, dt, "skipped",
                                                     detail="the suite generates floating-point inputs only"))
                else:
                    served = route(name, dt, backend) if (name in spec.fallbacks or
                                                          name in spec.size_rules) else fn
                    results.append(_check_kernel(name, dt, served, ref_fn, ref_lookup, seed, sizes,
                                                 threads, spec.set_threads, spec.kinds.get(name)))
    finally:
        if threads[0] is not None:
            spec.set_threads(threads[0])
    return results


def summary(results: Iterable[ConformanceResult]) -> dict[str, int]:
    """Counts by status: ``{"passed": .., "failed": .., "error": .., "skipped": ..}``."""
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return counts


def format_results(results: list[ConformanceResult], width: int = 100) -> str:
    """A text table (kernel, dtype, status, cases, max error, detail cut to ``width``), then
    every failure and error in full, then the counts."""
    lines = [f"{'kernel':<24}{'dtype':<9}{'status':<9}{'cases':>6}{'max error':>12}  detail"]
    for r in results:
        err = "" if r.max_error is None else f"{r.max_error:.3g}"
        detail = r.detail if len(r.detail) <= width else r.detail[: width - 3] + "..."
        lines.append(f"{r.name:<24}{r.dtype:<9}{r.status:<9}{r.cases:>6}{err:>12}  {detail}".rstrip())
    bad = [r for r in results if r.status in ("failed", "error")]
    if bad:
        lines.append("")
        lines.extend(r.message for r in bad)
        lines.append("")
    c = summary(results)
    lines.append(f"{c['passed']} passed, {c['failed']} failed, {c['error']} error, {c['skipped']} skipped")
    return "\n".join(lines)


def assert_backend_conforms(backend: str, kernels: Iterable[str] | None = None,
                            dtypes: Iterable[str] | None = None) -> list[ConformanceResult]:
    """Run the suite and raise ``AssertionError`` listing every failed or errored kernel
    (skipped ones do not fail). For a backend plugin's own test suite::

        def test_conforms():
            assert_backend_conforms("mybackend")
    """
    results = run_conformance(backend, kernels, dtypes)
    bad = [r for r in results if r.status in ("failed", "error")]
    if bad:
        listed = "\n".join(f"  {r.message}" for r in bad)
        raise AssertionError(f"backend {backend!r} does not conform to {REFERENCE!r} in "
                             f"{len(bad)} of {len(results)} checks:\n{listed}")
    return results
