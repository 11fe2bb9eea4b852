"""`detect_anomaly()`: stop at the first op whose forward or backward makes NaN or Inf."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

from . import autograd
from .engine import SliceGrad
from .errors import AnomalyError


def _bad(a: Any) -> str | None:
    if isinstance(a, SliceGrad):
        a = a.value
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
        return None
    if np.isnan(a).any():
        return "NaN"
    if np.isinf(a).any():
        return "Inf"
    return None


class _Detector:
    def on_forward(self, name: str, seconds: float, inputs: Any, out: Any) -> None:
        what = _bad(out)
        if what and not any(_bad(x) for x in inputs):
            shapes = ", ".join(str(getattr(x, "shape", ())) for x in inputs)
            raise AnomalyError(f"{name}: forward produced {what} from finite inputs of "
                               f"shapes {shapes} (output shape {np.shape(out)})")

    def on_backward(self, name: str, seconds: float, grads: Any) -> None:
        for i, g in enumerate(grads if isinstance(grads, tuple) else (grads,)):
            what = _bad(g)
            if what:
                raise AnomalyError(f"{name}: backward produced {what} in the gradient of "
                                   f"input {i} (shape {np.shape(g)})")


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise `AnomalyError` naming the first op that creates NaN/Inf (forward or backward)::

        with mnp.detect_anomaly():
            mnp.log(mnp.tensor([-1.0]))   # AnomalyError: log: forward produced NaN ...
    """
    det = _Detector()
    autograd._observers.append(det)
    try:
        with np.errstate(all="ignore"):
            yield
    finally:
        autograd._observers.remove(det)
