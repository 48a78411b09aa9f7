"""A comparison session: one study, one mask, a reference, and the results of several methods.

Qt-free: the GUI holds one and runs :meth:`Session.run` in background jobs; scripts can
use it directly. Magnitude stacks for display are cached per result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.jobs import CancelToken, Progress
from ..core.masks import MaskSpec, accel_effective, make_mask
from ..core.study import CineStudy
from .base import ReconResult
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
        """Reconstruct with ``spec`` under the current mask and score it against the reference (one run path:
        :func:`~mrstudio.recon.pipeline.run_recon`)."""
        from .pipeline import run_recon

        mask = self.mask.copy()
        ref = self.ensure_reference(cancel=cancel)
        return run_recon(self.study, mask, spec.method, device=self.device, reference=ref, progress=progress,
                         cancel=cancel, **spec.kwargs())

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


def default_specs(accel: float) -> list[MethodSpec]:
    """The comparison a study opens with: naive, CS, and the installed l2 CNN whose trained R is nearest ``accel``."""
    from ..io.model_store import nearest_model

    specs = [MethodSpec("zero-filled", label="Zero-filled"), MethodSpec("cs", label="CS (l1-ESPIRiT)")]
    card = nearest_model(accel, "l2")
    if card is not None:
        specs.append(MethodSpec("cnn", (("model", card.name),), label=f"CNN {card.name.removeprefix('cine-unet-')}"))
    return specs
