"""mnp.core: n-d tensors on numpy storage with reverse-mode autograd.

>>> import mnp.core as mnp
>>> x = mnp.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x ** 2).sum().backward()
>>> x.grad.tolist()
[2.0, 4.0, 6.0]
"""
from __future__ import annotations

from .. import _hints  # noqa: F401  (`from mnp import nn` without mnp-nn says what to install)
from .errors import (AnomalyError, ArgumentError, AutogradError, AxisError, BackendError, DTypeError,
                     GradCheckError, MnpError, PluginError, SerializationError, ShapeError)
from .dtypes import (bool_, float16, float32, float64, get_default_dtype, int32, int64,
                     set_default_dtype)
from .tensor import Tensor
from .tensorbase import Size
from .devices import device
from .autograd import (Function, enable_grad, inference_mode, is_grad_enabled, no_grad,
                       set_grad_enabled)
from .engine import grad
from .serialization import load, save
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
                       linspace, ones, ones_like, tensor, zeros, zeros_like)
from .random import (Generator, bernoulli, default_generator, generator, get_rng_state,
                     initial_seed, manual_seed, multinomial, normal, rand, rand_like, randint,
                     randint_like, randn, randn_like, randperm, seed, set_rng_state)
from .ops import *  # noqa: F401,F403
from .ops import __dict__ as _ops_namespace
from . import return_types  # the named tuples of max(dim), sort, topk, ...
import importlib as _importlib
linalg = _importlib.import_module(".linalg", __name__)  # torch.linalg's names (not ops.linalg)
from .ops._util import unbroadcast  # the backward of every broadcasting op (for op authors)
from .dispatch import backends, get_backend, kernel, set_backend, use_backend
from .hookspecs import hookimpl, hookspec
from .plugins import PluginHost, lookup, plugins, registry, use_host
from .gradcheck import grad_check, gradcheck
from .profiler import Profiler, profile
from .anomaly import detect_anomaly
from .threads import (are_deterministic_algorithms_enabled, get_num_threads, set_num_threads,
                      use_deterministic_algorithms)

bool = bool_  # noqa: A001  (mnp.bool, as in the API)

try:
    from importlib.metadata import version as _version
    __version__ = _version("mnp-core")
except Exception:  # running from a source tree
    __version__ = "0.0.0"

import types as _types

__all__ = [n for n, v in dict(globals()).items()
           if not n.startswith("_") and not isinstance(v, _types.ModuleType)]
del _ops_namespace
