"""The error classes of mnp.optim; each is an `mnp.core.MnpError`."""
from __future__ import annotations

from mnp.core import MnpError
from mnp.core.gradclip import NonFiniteNormError as _NonFiniteNormError


class OptimizerError(MnpError, ValueError):
    """Bad optimizer input: a hyperparameter out of range, a bad parameter list, or a
    state dict that does not fit the optimizer's parameters."""


class SchedulerError(OptimizerError):
    """Bad learning-rate scheduler input, or a schedule stepped past its end."""


class GradScalerError(MnpError, RuntimeError):
    """`GradScaler` calls out of order (``unscale_`` twice, ``update`` with nothing recorded, ...)."""


#: `clip_grad_norm_(..., error_if_nonfinite=True)` met a NaN or infinite total norm
#: (one class, shared with `mnp.nn.utils.clip_grad_norm_`)
NonFiniteNormError = _NonFiniteNormError
