"""An example third-party mnp plugin: a layer, an optimizer, a dataset and a loss."""
from .datasets import checkerboard
from .layers import Swish
from .losses import FocalLoss
from .optimizers import Lion

__all__ = ["Swish", "Lion", "checkerboard", "FocalLoss"]
