"""The mnp plugin of mnp-optim: registers its optimizers, schedulers and the ``numpy``
reference kernels of the update steps through core's hooks."""
from __future__ import annotations

from mnp.core import hookimpl

from . import kernels, lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .rmsprop import RMSprop
from .sgd import SGD, Momentum

OPTIMIZERS = {"SGD": SGD, "Momentum": Momentum, "Adam": Adam, "AdamW": AdamW,
              "RMSprop": RMSprop, "RMSProp": RMSprop, "Adagrad": Adagrad}
SCHEDULERS = {name: getattr(lr_scheduler, name) for name in (
    "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
    "ReduceLROnPlateau", "OneCycleLR", "LambdaLR", "SequentialLR")}


@hookimpl
def mnp_register_optimizers(register) -> None:
    for name, cls in OPTIMIZERS.items():
        register(name, cls)


@hookimpl
def mnp_register_schedulers(register) -> None:
    for name, cls in SCHEDULERS.items():
        register(name, cls)


@hookimpl
def mnp_register_kernels(register) -> None:
    for name, fn in kernels.KERNELS.items():
        register("numpy", name, fn)
