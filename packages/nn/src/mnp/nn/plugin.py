"""The mnp plugin of mnp-nn (entry point ``nn`` in group ``mnp``): registers its layers,
losses, metrics and ``numpy`` reference kernels through core's hooks."""
from __future__ import annotations

from mnp.core import hookimpl


@hookimpl
def mnp_register_kernels(register) -> None:
    from .kernels import KERNELS
    for name, fn in KERNELS.items():
        register("numpy", name, fn)


@hookimpl
def mnp_register_layers(register) -> None:
    from . import containers, layers, rnn
    for name in layers.__all__:
        register(name, getattr(layers, name))
    for cls in (rnn.RNN, rnn.LSTM, rnn.GRU, rnn.RNNCell, rnn.LSTMCell, rnn.GRUCell):
        register(cls.__name__, cls)
    for cls in (containers.Sequential, containers.ModuleList, containers.ModuleDict):
        register(cls.__name__, cls)


@hookimpl
def mnp_register_losses(register) -> None:
    from .losses import LOSSES
    for name, cls in LOSSES.items():
        register(name, cls)


@hookimpl
def mnp_register_metrics(register) -> None:
    from .metrics import METRICS
    for name, fn in METRICS.items():
        register(name, fn)
