"""`parameters_to_vector` and `vector_to_parameters` (PyTorch's ``torch.nn.utils``)."""
from __future__ import annotations

from typing import Any, Iterable

import mnp.core as mnp
from mnp.core import ArgumentError, ShapeError, Tensor, as_tensor



def _tensors(parameters: Any, op: str) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        raise ArgumentError(f"{op}: expected an iterable of Tensors, got a single Tensor")
    out = list(parameters)
    for i, p in enumerate(out):
        if not isinstance(p, Tensor):
            raise ArgumentError(f"{op}: parameter {i} is a {type(p).__name__}, not a Tensor")
    return out


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All ``parameters`` flattened and concatenated into one 1-d tensor (differentiable)."""
    params = _tensors(parameters, "parameters_to_vector")
    if not params:
        raise ArgumentError("parameters_to_vector: received no parameters")
    return mnp.concat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Any, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-d ``vec`` into ``parameters`` in place."""
    op = "vector_to_parameters"
    v = as_tensor(vec, op=op)
    if v.ndim != 1:
        raise ShapeError(f"{op}: expected a 1-d vector, got shape {v.shape}")
    params = _tensors(parameters, op)
    total = sum(p.data.size for p in params)
    if total != v.shape[0]:
        raise ShapeError(f"{op}: the vector has {v.shape[0]} elements, the parameters "
                         f"{total}")
    offset = 0
    for p in params:
        n = p.data.size
        p.data[...] = v.data[offset:offset + n].reshape(p.data.shape)
        offset += n
