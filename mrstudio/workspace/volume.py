"""The volume workspace: slice interpolation of one volume (CT or MR), several methods side by side.

Qt-free and evented like :mod:`.cine`: ``compute_*`` is pure (a worker thread may run it),
``apply_*`` stores the outcome on the caller's thread. Interpolations and hold-out scores
are kept per label, so methods can be compared; ``latest`` is the one shown and exported.
"""

from __future__ import annotations

from typing import Any

from psygnal import Signal

from ..core.jobs import CancelToken, Progress
from ..core.study import VolumeStudy
from ..interp.pipeline import InterpResult, holdout, interpolate


class VolumeEvents:
    interpolated = Signal(str)  # label
    scored = Signal(str)  # label of a hold-out


class VolumeWorkspace:
    """``study``, ``device``, ``interpolations`` (label → InterpResult), ``holdouts`` (label → scores), ``latest``."""

    def __init__(self, study: VolumeStudy, device: str = "cpu"):
        self.study, self.device = study, device
        self.interpolations: dict[str, InterpResult] = {}
        self.holdouts: dict[str, dict[str, Any]] = {}
        self.latest: str | None = None
        self.events = VolumeEvents()

    @staticmethod
    def label(method: str, model: str | None, factor: int, holdout_: bool = False) -> str:
        return f"{model or method} ×{factor}" + (" hold-out" if holdout_ else "")

    def compute_interpolation(self, method: str, model: str | None, factor: int, progress: Progress | None = None,
                              cancel: CancelToken | None = None) -> InterpResult:
        params = {"model": model} if model else {}
        return interpolate(self.study, method, factor, device=self.device, progress=progress, cancel=cancel, **params)

    def apply_interpolation(self, result: InterpResult) -> str:
        label = self.label(result.method, result.model, result.factor)
        self.interpolations[label] = result
        self.latest = label
        self.events.interpolated.emit(label)
        return label

    def compute_holdout(self, method: str, model: str | None, gap: int, progress: Progress | None = None,
                        cancel: CancelToken | None = None) -> dict[str, Any]:
        params = {"model": model} if model else {}
        return holdout(self.study, method, gap=gap, device=self.device, progress=progress, cancel=cancel, **params)

    def apply_holdout(self, scores: dict[str, Any]) -> str:
        label = self.label(scores["method"] if not scores.get("model") else scores["model"], None, scores["factor"],
                           True)
        self.holdouts[label] = scores
        self.events.scored.emit(label)
        return label
