"""The reconstructor contract and the method registry.

A reconstructor is a function
``(kspace, mask, *, maps, device, progress, cancel, **params) -> complex64 (T, Ny, Nx)``
taking undersampled k-space ``complex64 (C, T, Ny, Nx)`` (zeros where not acquired)
and its mask ``bool (T, Ny)``. It is registered under its CLI name with
:func:`register`. Method modules import only numpy at module level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..core.errors import StudyError
from ..core.jobs import CancelToken, Progress


class Reconstructor(Protocol):
    def __call__(self, kspace: np.ndarray, mask: np.ndarray, *, maps: np.ndarray | None = None,
                 device: str = "cpu", progress: Progress | None = None, cancel: CancelToken | None = None,
                 **params: Any) -> np.ndarray: ...


@dataclass(frozen=True)
class MethodInfo:
    name: str
    func: Reconstructor
    summary: str
    uses_torch: bool = False


REGISTRY: dict[str, MethodInfo] = {}


def register(name: str, summary: str, uses_torch: bool = False) -> Callable[[Reconstructor], Reconstructor]:
    """Decorator: add a reconstructor to :data:`REGISTRY` under ``name``."""

    def _wrap(func: Reconstructor) -> Reconstructor:
        REGISTRY[name] = MethodInfo(name, func, summary, uses_torch)
        return func

    return _wrap


def get_method(name: str) -> MethodInfo:
    if name not in REGISTRY:
        raise StudyError("--method", f"unknown method {name!r} (choose from {', '.join(sorted(REGISTRY))})")
    return REGISTRY[name]


@dataclass
class ReconResult:
    """A reconstruction and where it came from.

    ``image`` is ``complex64 (T, Ny, Nx)`` on the scale of the input data.
    """

    image: np.ndarray
    method: str
    mask: np.ndarray
    seconds: float
    device: str
    params: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, Any] | None = None
    reference_kind: str | None = None
    reference: np.ndarray | None = field(default=None, repr=False)  # magnitude (T, Ny, Nx) it was scored against


def undersample(kspace: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Zero the k-space lines ``mask`` does not acquire; ``(C, T, Ny, Nx)`` × ``(T, Ny)``."""
    return (kspace * mask[None, :, :, None]).astype(np.complex64, copy=False)
