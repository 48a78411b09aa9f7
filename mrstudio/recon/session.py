"""A comparison session: one study, one mask, a reference, and the results of several methods.

Qt-free: the GUI holds one and runs :meth:`Session.run` in background jobs; scripts can
use it directly. Magnitude stacks for display are cached per result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.jobs import CancelToken, Progress
from ..core.masks import MaskSpec, accel_effective, make_mask
from ..core.metrics import score
from ..core.study import CineStudy
from .base import ReconResult, undersample
from .reference import reference_image


@dataclass(frozen=True)
class MethodSpec:
    """One entry of the comparison: a method and its parameters, with a display label."""

    method: str
    params: tuple[tuple[str, Any], ...] = ()
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.method

    def kwargs(self) -> dict[str, Any]:
        return dict(self.params)


@dataclass
class Session:
    study: CineStudy
    mask_spec: MaskSpec = field(default_factory=MaskSpec)
    mask: np.ndarray | None = None
    device: str = "cpu"
    reference: tuple[np.ndarray, str] | None = None
    results: dict[str, ReconResult] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mask is None:
            self.mask = self.study.mask if not self.study.fully_sampled else make_mask(
                self.mask_spec, self.study.frames, self.study.matrix[0])

    @property
    def accel_effective(self) -> float:
        return accel_effective(self.mask)

    def set_mask(self, mask: np.ndarray, spec: MaskSpec | None = None) -> None:
        """A new mask invalidates every result (the reference stays)."""
        self.mask = mask.astype(bool)
        if spec is not None:
            self.mask_spec = spec
        self.results.clear()

    def ensure_reference(self, progress: Progress | None = None, cancel: CancelToken | None = None) -> tuple[np.ndarray, str]:
        if self.reference is None:
            self.reference = reference_image(self.study, device=self.device, progress=progress, cancel=cancel)
        return self.reference

    def run(self, spec: MethodSpec, progress: Progress | None = None, cancel: CancelToken | None = None) -> ReconResult:
        """Reconstruct with ``spec`` under the current mask and score it against the reference."""
        from .base import get_method

        mask = self.mask.copy()
        k = undersample(self.study.kspace, mask)
        t0 = time.perf_counter()
        img = get_method(spec.method).func(k, mask, device=self.device, progress=progress, cancel=cancel, **spec.kwargs())
        secs = time.perf_counter() - t0
        ref, kind = self.ensure_reference(cancel=cancel)
        res = ReconResult(image=np.asarray(img, np.complex64), method=spec.method, mask=mask, seconds=secs,
                          device=self.device, params=spec.kwargs(), scores=score(img, ref).as_dict(), reference_kind=kind)
        return res

    def store(self, spec: MethodSpec, result: ReconResult) -> None:
        """Keep ``result`` if it was made with the current mask (a late job after a mask change is dropped)."""
        if np.array_equal(result.mask, self.mask):
            self.results[spec.title] = result
