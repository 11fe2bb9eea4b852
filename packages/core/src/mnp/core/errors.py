"""The error classes of mnp. Every error mnp raises on bad input is an `MnpError`."""
from __future__ import annotations


class MnpError(Exception):
    """Base class of every error mnp raises on purpose."""


class ShapeError(MnpError, ValueError):
    """Shapes that do not fit the op; the message names the op and the shapes."""


class AxisError(ShapeError, IndexError):
    """A dimension index out of range for the tensor (an IndexError, as in PyTorch); the
    message names the op, the axis and the valid range."""


class DTypeError(MnpError, TypeError):
    """A dtype the op cannot take; the message names the op and the dtype."""


class ArgumentError(MnpError, ValueError, TypeError):
    """An argument value the op cannot take (other than a shape or dtype); names op and value."""


class SerializationError(MnpError, ValueError):
    """An object `mnp.core.save` cannot store (names its key path and type), or a file
    `mnp.core.load` cannot read (names the file and what is wrong)."""


class PluginError(MnpError):
    """A plugin failed to load, registered a duplicate name, or a name was not found."""


class BackendError(MnpError):
    """An unknown or unavailable backend, or a kernel no backend provides."""


class GradCheckError(MnpError, AssertionError):
    """Analytic and numeric gradients disagree; names the input, index and both values."""


class AnomalyError(MnpError, FloatingPointError):
    """Raised under `detect_anomaly()` by the first op that produces NaN or Inf."""


def shape_error(op: str, *shapes: tuple, why: str = "") -> ShapeError:
    """Build a ShapeError like ``add: shapes (2, 3) and (4,) cannot be broadcast``."""
    listed = " and ".join(str(tuple(s)) for s in shapes)
    return ShapeError(f"{op}: shapes {listed} {why}".rstrip())


def axis_error(op: str, axis: int, ndim: int, extra: int = 0,
               shape: tuple | None = None) -> AxisError:
    """Build ``sum: axis 3 is out of range for a tensor of 2 dimensions (expected in [-2, 1])``
    (``of shape (2, 3)`` when ``shape`` is given); a 0-d tensor takes -1 and 0, as in
    PyTorch; ``extra`` widens the range (unsqueeze, stack)."""
    n = max(ndim + extra, 1)
    of = f"shape {tuple(shape)}" if shape is not None else f"{ndim} dimensions"
    return AxisError(f"{op}: axis {axis} is out of range for a tensor of {of} "
                     f"(expected in [{-n}, {n - 1}])")


class AutogradError(MnpError, RuntimeError):
    """Misuse of autograd: backward on a non-scalar without a gradient, a freed graph, ..."""
