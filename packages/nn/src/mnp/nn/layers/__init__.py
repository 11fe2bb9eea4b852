"""The layers of mnp.nn, one module per family."""
from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .conv import Conv1d, Conv2d
from .linear import Dense, Identity, Linear
from .misc import Dropout, Embedding, Flatten
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm, RMSNorm
from .pool import AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d

__all__ = ["Linear", "Dense", "Identity", "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d",
           "AvgPool1d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "RMSNorm",
           "Dropout", "Flatten", "Embedding", "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "GELU",
           "Softmax", "LogSoftmax"]
