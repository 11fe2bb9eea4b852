"""The plugin module named by this distribution's ``mnp`` entry point."""
from mnp.core import hookimpl

from .datasets import checkerboard
from .layers import Swish
from .losses import FocalLoss
from .optimizers import Lion


@hookimpl
def mnp_register_layers(register) -> None:
    register("Swish", Swish)


@hookimpl
def mnp_register_optimizers(register) -> None:
    register("Lion", Lion)


@hookimpl
def mnp_register_datasets(register) -> None:
    register("checkerboard", checkerboard)


@hookimpl
def mnp_register_losses(register) -> None:
    register("FocalLoss", FocalLoss)
