"""Benchmark workloads, one module per workload (``w<N>_<name>.py``), found by `discover`.

A workload module defines:

- ``ID`` (``"W1"``), ``TITLE``, and ``FIGURES``: ``{figure: (unit, higher_is_better)}``;
- ``PER_BACKEND`` (run mnp once per backend) and ``THREADED`` (run once per thread count);
- optionally ``PROCESS_PER_CASE = True``: each case gets its own fresh worker process (for
  figures that depend on what ran before in the process: peak RSS, allocator state);
- ``cases(opts) -> list[dict]``: the parameter sets (``opts`` holds the runner's options);
- ``measure(framework, case, repeat, opts) -> {figure: [samples]}``: runs inside a fresh worker
  process, with ``framework`` ``"mnp"`` (backend chosen by ``MNP_BACKEND``) or ``"torch"``.

Adding W3 is adding ``w3_digits_mlp.py`` with these names.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType


def discover() -> dict[str, ModuleType]:
    """``{ID: module}`` for every ``w<N>_*.py`` here, in ID order."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if re.fullmatch(r"w\d+_\w+", info.name):
            mod = importlib.import_module(f"{__name__}.{info.name}")
            found[mod.ID] = mod
    return dict(sorted(found.items(), key=lambda kv: int(kv[0][1:])))
