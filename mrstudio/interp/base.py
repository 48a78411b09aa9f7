"""The interpolator registry.

An interpolator takes a volume ``float32 (Z, Y, X)`` (HU), the slice positions ``z``
``float64 (Z,)`` in mm along the slice normal (increasing), and ``alphas`` ``float
(P, K)`` for the ``P = Z − 1`` gaps between neighbours, and returns ``float32 (P, K, Y, X)``:
slice ``k`` of gap ``i`` lies at ``z[i] + alphas[i, k] · (z[i+1] − z[i])``. Keyword
arguments: ``device``, ``progress``, ``cancel`` and the method's own parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.errors import StudyError

Interpolator = Callable[..., np.ndarray]


@dataclass(frozen=True)
class InterpInfo:
    name: str
    func: Interpolator
    summary: str
    uses_torch: bool = False


REGISTRY: dict[str, InterpInfo] = {}


def register_interp(name: str, summary: str, uses_torch: bool = False) -> Callable[[Interpolator], Interpolator]:
    """Decorator: add an interpolator to :data:`REGISTRY` under ``name``."""

    def _wrap(func: Interpolator) -> Interpolator:
        REGISTRY[name] = InterpInfo(name, func, summary, uses_torch)
        return func

    return _wrap


def get_interp(name: str) -> InterpInfo:
    from . import classical, learned  # noqa: F401  (register the methods)

    if name not in REGISTRY:
        raise StudyError("--method", f"unknown interpolation method {name!r} (choose from {', '.join(sorted(REGISTRY))})")
    return REGISTRY[name]
