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
    order: list[str] = field(default_factory=list)  # display order of result titles (first queued first)

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
            if spec.title not in self.order:
                self.order.append(spec.title)

    def magnitudes(self) -> tuple[dict[str, np.ndarray], str | None]:
        """Display stacks ``name → float32 (T, Ny, Nx)``: the reference first (if known), then results.

        Returns the stacks and the reference's name (``None`` before the reference exists).
        """
        stacks: dict[str, np.ndarray] = {}
        ref_name = None
        if self.reference is not None:
            ref_name = f"Reference ({self.reference[1]})"
            stacks[ref_name] = np.abs(self.reference[0]).astype(np.float32)
        rank = {t: i for i, t in enumerate(self.order)}
        for title in sorted(self.results, key=lambda t: rank.get(t, len(rank))):
            stacks[title] = np.abs(self.results[title].image).astype(np.float32)
        return stacks, ref_name


def default_specs(accel: float, models: list[str] | None = None) -> list[MethodSpec]:
    """The comparison a study opens with: naive, CS, and the shipped l2 CNN nearest to ``accel``."""
    specs = [MethodSpec("zero-filled", label="Zero-filled"), MethodSpec("cs", label="CS (l1-ESPIRiT)")]
    model = nearest_model(accel, "l2", models)
    if model:
        specs.append(MethodSpec("cnn", (("model", model),), label=f"CNN {model.removeprefix('cine-unet-')}"))
    return specs


def nearest_model(accel: float, loss: str = "l2", models: list[str] | None = None) -> str | None:
    """The shipped ``cine-unet-{loss}-r{R}`` whose R is nearest to ``accel`` (in log R), if any."""
    import math

    if models is None:
        from ..train.checkpoint import list_models

        models = [c["name"] for c in list_models("cine-unet-")]
    best, dist = None, math.inf
    for name in models:
        if not name.startswith(f"cine-unet-{loss}-r"):
            continue
        try:
            r = float(name.rsplit("-r", 1)[1])
        except ValueError:
            continue
        d = abs(math.log(r / accel))
        if d < dist:
            best, dist = name, d
    return best
