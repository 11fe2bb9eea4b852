"""`Module.summary`: a table of layers, output shapes and parameter counts, found by running
the model once on zeros with forward hooks."""
from __future__ import annotations

from typing import Any

import numpy as np

from mnp.core import Tensor, no_grad
from mnp.core.autograd import _make

from ._util import ArgumentError


def _shape_of(out: Any) -> str:
    if isinstance(out, Tensor):
        return str(list(out.shape))
    if isinstance(out, (tuple, list)):
        return ", ".join(_shape_of(o) for o in out)
    return "-"


def _inputs(input_shape: Any, dtype: Any) -> list[Tensor]:
    shapes = input_shape
    if isinstance(shapes, (int, np.integer)):
        shapes = [(int(shapes),)]
    elif shapes and all(isinstance(s, (tuple, list)) for s in shapes):
        shapes = [tuple(s) for s in shapes]
    else:
        shapes = [tuple(shapes)]
    try:
        dt = np.dtype(np.float32 if dtype is None else dtype)
        return [_make(np.zeros(tuple(int(d) for d in s), dt), False, None) for s in shapes]
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"summary: bad input_shape {input_shape!r}: {exc}") from None


def summarize(model, input_shape: Any, dtype: Any = None) -> str:
    """The text of ``model.summary(input_shape, dtype)``."""
    named = list(model.named_modules())
    shapes: dict[int, str] = {}
    handles = []
    for _, m in named[1:]:
        handles.append(m.register_forward_hook(
            lambda mod, args, out: shapes.__setitem__(id(mod), _shape_of(out))))
    modes = [(m, m.training) for _, m in named]
    inputs = _inputs(input_shape, dtype)
    model.eval()
    try:
        with no_grad():
            out = model(*inputs)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.__dict__["training"] = mode
    rows = [("Layer", "Type", "Output Shape", "Param #")]
    for name, m in named[1:]:
        indent = "  " * name.count(".")
        count = sum(p.numel() for p in m.parameters())
        rows.append((indent + name, type(m).__name__, shapes.get(id(m), "-"), f"{count:,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    line = "-" * (sum(widths) + 6)
    fmt = lambda r: f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]:>{widths[3]}}"
    total = model.num_parameters()
    trainable = model.num_parameters(only_trainable=True)
    text = [f"{type(model).__name__} summary (input {', '.join(str(list(i.shape)) for i in inputs)}, "
            f"output {_shape_of(out)})", line, fmt(rows[0]), line]
    text += [fmt(r) for r in rows[1:]]
    text += [line, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
             f"Non-trainable params: {total - trainable:,}"]
    return "\n".join(text)
