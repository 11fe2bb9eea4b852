"""The vector API: normalize, distance, cosine_similarity, project, angle. Vectors lie along
``axis`` (the last by default); other dimensions broadcast. None of them makes NaN for zero
or parallel vectors, in value or gradient.

>>> import mnp.core as mnp
>>> a, b = mnp.tensor([1.0, 0.0]), mnp.tensor([1.0, 1.0])
>>> round(mnp.cosine_similarity(a, b).item(), 4), round(mnp.angle(a, b).item(), 4)
(0.7071, 0.7854)
>>> mnp.project(b, a).tolist(), mnp.distance(a, b).item()
([1.0, 0.0], 1.0)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import Function
from ..errors import ShapeError
from ._util import check_broadcast, floating_pair, norm_axis, promote, to_tensor, unbroadcast
from .binary import add, div, sub
from .linalg import vector_norm
from .shape import broadcast_to
from .unary import clip

if TYPE_CHECKING:
    from ..tensor import Tensor


def _vector_axis(a: Tensor, b: Tensor, axis: Any, op: str) -> int:
    """Check ``a`` and ``b`` broadcast; ``axis`` as a non-negative int of the broadcast shape."""
    shape = check_broadcast(op, a.data, b.data)
    if not shape:
        raise ShapeError(f"{op}: shapes {a.shape} and {b.shape} hold no vectors "
                         f"(need at least 1 dimension)")
    return norm_axis(axis, len(shape), op)[0]


def _sum(x: np.ndarray, axis: int) -> np.ndarray:
    return np.sum(x, axis=axis, keepdims=True)


def normalize(x: Any, axis: int = -1, eps: float = 1e-12, *, p: float = 2.0,
              dim: int | None = None) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``axis`` (``torch.nn.functional.normalize``): a zero
    vector stays zero, with no NaN in value or gradient."""
    x = to_tensor(x, op="normalize")
    axes = norm_axis(axis if dim is None else dim, max(x.ndim, 1), "normalize")
    n = vector_norm(x, p, axes, keepdims=True)
    return div(x, clip(n, min=eps))


def distance(a: Any, b: Any, axis: int = -1, keepdims: bool = False, *, p: float = 2.0) -> Tensor:
    """Euclidean (or ``p``-norm) distance ``||a - b||`` along ``axis``, broadcasting ``a``
    against ``b``; the gradient where ``a == b`` is 0, not NaN.

    >>> import mnp.core as mnp
    >>> mnp.distance(mnp.zeros(4, 3), mnp.ones(3)).shape
    (4,)
    """
    a, b = floating_pair(a, b, "distance")
    ax = _vector_axis(a, b, axis, "distance")
    return vector_norm(sub(a, b), p, ax, keepdims)


class CosineSimilarity(Function):
    """``sum((a / max(||a||, eps)) * (b / max(||b||, eps)))``: PyTorch's definition, with its
    gradient (the clamp is not differentiated; the norm's gradient at 0 is 0)."""
    name = "cosine_similarity"
    numpy_only = "no kernel yet"

    def forward(self, a, b, axis=-1, eps=1e-8):
        if a.dtype != b.dtype:
            a, b = promote(a, b)
        self.shapes, self.axis = (a.shape, b.shape), axis
        a, b = np.broadcast_arrays(a, b)
        na, nb = np.sqrt(_sum(a * a, axis)), np.sqrt(_sum(b * b, axis))
        self.na, self.nb = na, nb
        self.ca = np.maximum(na, np.asarray(eps, a.dtype))
        self.cb = np.maximum(nb, np.asarray(eps, b.dtype))
        self.ua, self.ub = a / self.ca, b / self.cb
        self.y = _sum(self.ua * self.ub, axis)
        return np.squeeze(self.y, axis)

    def backward(self, g):
        g = np.expand_dims(g, self.axis)
        gy = g * self.y
        ra, rb = self.needs_input_grad
        zero = np.zeros((), g.dtype)

        def side(u_other, c, n, u_self):   # d y / d x = u_other / c - (y / c) * x / ||x||
            unit = np.where(n > 0, u_self * c / np.where(n > 0, n, 1), zero)
            return (g * u_other - gy * unit) / c

        return (unbroadcast(side(self.ub, self.ca, self.na, self.ua), self.shapes[0]) if ra else None,
                unbroadcast(side(self.ua, self.cb, self.nb, self.ub), self.shapes[1]) if rb else None)


def cosine_similarity(a: Any, b: Any, axis: int = -1, eps: float = 1e-8, *,
                      dim: int | None = None) -> Tensor:
    """Cosine of the angle between ``a`` and ``b`` along ``axis``, broadcasting, as
    ``torch.nn.functional.cosine_similarity``: each norm is clamped to at least ``eps``, so a
    zero vector gives 0."""
    a, b = floating_pair(a, b, "cosine_similarity")
    ax = _vector_axis(a, b, axis if dim is None else dim, "cosine_similarity")
    return CosineSimilarity.apply(a, b, axis=ax, eps=float(eps))


class Project(Function):
    """``(a . b / b . b) b`` along ``axis``; where ``b`` is the zero vector the projection and
    its gradients are 0."""
    name = "project"
    numpy_only = "no kernel yet"

    def forward(self, a, b, axis=-1):
        if a.dtype != b.dtype:
            a, b = promote(a, b)
        self.shapes, self.axis = (a.shape, b.shape), axis
        a, b = np.broadcast_arrays(a, b)
        bb = _sum(b * b, axis)
        nonzero, safe = bb > 0, np.where(bb > 0, bb, 1)
        zero = np.zeros((), bb.dtype)
        self.inv = np.where(nonzero, 1 / safe, zero)
        self.a, self.b = a, b
        self.s = np.where(nonzero, _sum(a * b, axis) / safe, zero)
        return self.s * b

    def backward(self, g):
        a, b, s, inv = self.a, self.b, self.s, self.inv
        gb_dot = _sum(g * b, self.axis) * inv          # (g . b) / (b . b)
        ra, rb = self.needs_input_grad
        ga = gb_dot * b if ra else None
        gb = gb_dot * (a - 2 * s * b) + s * g if rb else None
        return (unbroadcast(ga, self.shapes[0]) if ra else None,
                unbroadcast(gb, self.shapes[1]) if rb else None)


def project(a: Any, onto: Any, axis: int = -1) -> Tensor:
    """Vector projection of ``a`` onto ``onto`` along ``axis``: ``(a . onto / onto . onto)
    onto``, broadcasting. Projecting onto the zero vector gives the zero vector (and zero
    gradients), so one zero row does not spoil a batch.

    >>> import mnp.core as mnp
    >>> mnp.project(mnp.tensor([2.0, 3.0]), mnp.tensor([0.0, 5.0])).tolist()
    [0.0, 3.0]
    """
    a, onto = floating_pair(a, onto, "project")
    ax = _vector_axis(a, onto, axis, "project")
    return Project.apply(a, onto, axis=ax)


class HalfAngle(Function):
    """``2 * atan2(d, s)`` for ``d = ||u - v||``, ``s = ||u + v||`` of unit vectors ``u, v``:
    the angle between them, accurate near 0 and pi (where ``arccos`` of a rounded cosine
    loses half the digits). ``d = s = 0`` (two zero vectors) counts as cosine 0: pi / 2."""
    name = "angle"
    numpy_only = "no kernel yet"

    def forward(self, d, s):
        self.d, self.s = d, s
        self.r2 = d * d + s * s
        both = self.r2 == 0
        return np.where(both, np.asarray(np.pi / 2, d.dtype), 2 * np.arctan2(d, s))

    def backward(self, g):
        k = np.where(self.r2 > 0, 2 * g / np.where(self.r2 > 0, self.r2, 1), np.zeros((), g.dtype))
        return k * self.s, -k * self.d


def angle(a: Any, b: Any, axis: int = -1, eps: float = 1e-8) -> Tensor:
    """The angle in radians, in [0, pi], between ``a`` and ``b`` along ``axis``, broadcasting.

    Mathematically ``arccos(clip(cosine_similarity(a, b), -1, 1))``; computed as
    ``2 * atan2(||u - v||, ||u + v||)`` of the unit vectors, so parallel vectors give 0 and
    antiparallel ones pi to rounding (float32 arccos would be off by ~5e-4 there), never
    NaN, and the gradient there is 0. A zero vector (norm below ``eps``) has cosine 0 with
    everything: its angle is pi / 2.

    >>> import mnp.core as mnp
    >>> v = mnp.tensor([1.0, 2.0, 3.0])
    >>> mnp.angle(v, 3 * v).item() < 1e-6, round(mnp.angle(v, -v).item(), 5)
    (True, 3.14159)
    """
    a, b = floating_pair(a, b, "angle")
    ax = _vector_axis(a, b, axis, "angle")
    shape = np.broadcast_shapes(a.shape, b.shape)
    u, v = (normalize(t if t.shape == shape else broadcast_to(t, shape), ax, eps) for t in (a, b))
    return HalfAngle.apply(vector_norm(sub(u, v), 2, ax), vector_norm(add(u, v), 2, ax))


__all__ = ["normalize", "distance", "cosine_similarity", "project", "angle"]
