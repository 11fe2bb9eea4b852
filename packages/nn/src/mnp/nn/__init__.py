"""mnp.nn: modules, layers, losses, initialisation and functional ops on mnp.core.

>>> import mnp.core as mnp
>>> from mnp import nn
>>> model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())
>>> loss = nn.MSELoss()(model(mnp.zeros((4, 2))), mnp.ones((4, 1)))
>>> loss.backward()
>>> model[0].weight.grad.shape
(4, 2)
"""
from __future__ import annotations

from ._util import ArgumentError, IndexOutOfRangeError
from .parameter import Parameter
from .module import IncompatibleKeys, Module, ModuleError, RemovableHandle, StateDictError
from .containers import ModuleDict, ModuleList, Sequential
from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .conv import Conv1d, Conv2d
from .conv3d import Conv3d
from .conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .fold import Fold, Unfold
from .padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d,
                      ConstantPad3d, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d,
                      ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d,
                      ZeroPad3d)
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten
from .linear import Dense, Identity, Linear
from .norm import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, RMSNorm
from .pool import AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss,
                     SoftmaxCrossEntropy)
from . import functional, init, utils
from .attention import MultiheadAttention
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,
                          TransformerEncoder, TransformerEncoderLayer)
from .serialization import (ModelFormatError, load, load_checkpoint, load_model,
                            load_state_dict, save, save_checkpoint, save_model, save_state_dict)
from .trainer import History, Trainer
from .callbacks import Callback, EarlyStopping, ModelCheckpoint
from . import metrics

try:
    from importlib.metadata import version as _version
    __version__ = _version("mnp-nn")
except Exception:  # running from a source tree
    __version__ = "0.0.0"
