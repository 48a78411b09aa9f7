"""The interpolator registry.

An interpolator takes a volume ``float32 (Z, Y, X)`` (HU), the slice positions ``z``
``float64 (Z,)`` in mm along the slice normal (increasing), and ``alphas`` ``float
(P, K)`` for the ``P = Z − 1`` gaps between neighbours, and returns ``float32 (P, K, Y, X)``:
slice ``k`` of gap ``i`` lies at ``z[i] + alphas[i, k] · (z[i+1] − z[i])``. Keyword
arguments: ``device``, ``progress``, ``cancel`` and the method's own parameters.
"""

from __future__ import annotations

from ..core.registry import MethodInfo, Registry

REGISTRY = Registry("interpolation method")
register_interp = REGISTRY.register  # decorator: ``@register_interp(name, summary, uses_torch=False)``


def get_interp(name: str) -> MethodInfo:
    from . import classical, learned, throughplane  # noqa: F401  (register the methods)

    return REGISTRY.info(name)
