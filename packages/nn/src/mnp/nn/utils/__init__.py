"""`mnp.nn.utils`: gradient clipping, flattening parameters into one vector and back, and
`mnp.nn.utils.rnn` (variable-length sequences), with PyTorch's names.

>>> import mnp.core as mnp
>>> from mnp import nn
>>> lin = nn.Linear(3, 2)
>>> nn.utils.parameters_to_vector(lin.parameters()).shape
(8,)
"""
from __future__ import annotations

from mnp.core.gradclip import NonFiniteNormError, clip_grad_norm_, clip_grad_value_

from . import rnn
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters", "NonFiniteNormError", "rnn"]
