"""The reconstructor contract and the method registry.

A reconstructor is a function
``(kspace, mask, *, maps, device, progress, cancel, **params) -> complex64 (T, Ny, Nx)``
taking undersampled k-space ``complex64 (C, T, Ny, Nx)`` (zeros where not acquired)
and its mask ``bool (T, Ny)``. It is registered under its CLI name with
:func:`register`. Method modules import only numpy at module level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..core.jobs import CancelToken, Progress
from ..core.registry import MethodInfo, Registry


class Reconstructor(Protocol):
    def __call__(self, kspace: np.ndarray, mask: np.ndarray, *, maps: np.ndarray | None = None,
                 device: str = "cpu", progress: Progress | None = None, cancel: CancelToken | None = None,
                 **params: Any) -> np.ndarray: ...


REGISTRY = Registry("method")
register = REGISTRY.register  # decorator: ``@register(name, summary, uses_torch=False)``


def get_method(name: str) -> MethodInfo:
    return REGISTRY.info(name)


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
    load_seconds: float = 0.0  # one-time model loading, not part of ``seconds``
    model: dict[str, Any] = field(default_factory=dict)  # name, sha256, path of the model that made it


def undersample(kspace: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Zero the k-space lines ``mask`` does not acquire; ``(C, T, Ny, Nx)`` × ``(T, Ny)``."""
    return (kspace * mask[None, :, :, None]).astype(np.complex64, copy=False)
