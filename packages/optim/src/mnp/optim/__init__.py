"""mnp.optim: optimizers, learning-rate schedulers, gradient clipping and loss scaling.

>>> import mnp.core as mnp
>>> from mnp import optim
>>> w = mnp.tensor([2.0, -3.0], requires_grad=True)
>>> opt = optim.SGD([w], lr=0.25)
>>> for _ in range(50):
...     opt.zero_grad()
...     (w * w).sum().backward()
...     opt.step()
>>> max(abs(v) for v in w.tolist()) < 1e-6
True

Update rules, argument names and state-dict layouts follow PyTorch's ``torch.optim``.
Updates run through named kernels (``sgd_step``, ``adam_step``, ...) so a faster backend
can replace them; float16 parameters are updated through float32 master copies.
"""
from __future__ import annotations

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip import clip_grad_norm_, clip_grad_value_
from .errors import GradScalerError, NonFiniteNormError, OptimizerError, SchedulerError
from .grad_scaler import GradScaler
from .optimizer import Optimizer, required
from .registry import create
from .rmsprop import RMSProp, RMSprop
from .sgd import SGD, Momentum

__all__ = ["Optimizer", "SGD", "Momentum", "Adam", "AdamW", "RMSprop", "RMSProp", "Adagrad",
           "lr_scheduler", "clip_grad_norm_", "clip_grad_value_", "GradScaler", "create",
           "required", "OptimizerError", "SchedulerError", "GradScalerError",
           "NonFiniteNormError"]
