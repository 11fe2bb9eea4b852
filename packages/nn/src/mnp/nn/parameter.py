"""`Parameter`: a Tensor that a `Module` registers as one of its learnable weights."""
from __future__ import annotations

from typing import Any

import numpy as np

from mnp.core import Tensor


class Parameter(Tensor):
    """A Tensor (sharing ``data``'s memory when it is a Tensor or array) with
    ``requires_grad=True``; assigning one to a Module attribute registers it.

    >>> import mnp.core as mnp
    >>> from mnp.nn import Parameter
    >>> p = Parameter(mnp.zeros(2))
    >>> p.requires_grad, isinstance(p, mnp.Tensor)
    (True, True)
    """
    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True):
        if data is None:
            data = np.empty(0, np.float32)
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
