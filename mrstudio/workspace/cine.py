"""The cine comparison workspace: one study, one mask, a reference and the results of several methods.

Qt-free and evented (psygnal): a front end connects to ``events`` and calls the methods.
Long work is split in two so that it can run in a worker thread: ``compute_*`` is pure
(it reads the workspace, changes nothing) and ``apply_*`` stores the outcome on the
caller's thread, dropping it when it is stale (another study, another mask). ``run``
does both, synchronously, for scripts and tests. Results are cached per (method,
parameters, mask), so going back to an earlier mask, or asking again for a method already
computed, costs nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from psygnal import Signal

from ..core.jobs import CancelToken, Progress
from ..core.masks import MaskSpec, accel_effective, make_mask
from ..core.study import CineStudy
from ..recon.base import ReconResult
from ..recon.pipeline import run_recon
from ..recon.reference import reference_image


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


def cnn_spec(model: str, dc: bool = False) -> MethodSpec:
    """The U-Net entry for ``model`` (a name or a .pt path), optionally with data consistency."""
    short = Path(str(model)).stem.removeprefix("cine-unet-")
    params = (("model", model), ("dc", True)) if dc else (("model", model),)
    return MethodSpec("cnn", params, label=f"CNN {short}" + (" + DC" if dc else ""))


def unrolled_spec(model: str) -> MethodSpec:
    return MethodSpec("unrolled", (("model", model),), label="Unrolled (any mask)")


def default_specs(accel: float) -> list[MethodSpec]:
    """The comparison a study opens with: naive, CS, and the installed l2 CNN whose trained R is nearest ``accel``."""
    from ..io.model_store import nearest_model

    specs = [MethodSpec("zero-filled", label="Zero-filled"), MethodSpec("cs", label="CS (l1-ESPIRiT)")]
    card = nearest_model(accel, "l2")
    if card is not None:
        specs.append(cnn_spec(card.name))
    from ..recon.unrolled import default_unrolled

    unrolled = default_unrolled()
    if unrolled is not None:
        specs.append(unrolled_spec(unrolled))
    return specs


def mask_key(mask: np.ndarray) -> str:
    """A short hash of a ``bool (T, Ny)`` mask (results are cached by it)."""
    m = np.ascontiguousarray(mask, bool)
    return hashlib.sha1(m.tobytes() + str(m.shape).encode()).hexdigest()[:16]


class CineEvents:
    """What a front end listens to."""

    mask_changed = Signal()  # the mask (and so every result) changed
    reference_changed = Signal()
    results_changed = Signal()


class CineWorkspace:
    """A comparison of reconstruction methods on one cine (see the module docstring).

    Attributes: ``study``, ``device``, ``mask_spec`` and ``mask bool (T, Ny)``, ``reference``
    (``(complex64 (T, Ny, Nx), kind)`` or ``None``), ``results`` (title → ``ReconResult`` for
    the current mask, in ``order``), ``events``.
    """

    def __init__(self, study: CineStudy, device: str = "cpu", mask_spec: MaskSpec | None = None,
                 mask: np.ndarray | None = None):
        self.study, self.device = study, device
        self.mask_spec = mask_spec or MaskSpec()
        if mask is None:
            mask = study.mask if not study.fully_sampled else make_mask(self.mask_spec, study.frames, study.matrix[0])
        self.mask = np.asarray(mask, bool)
        self.reference: tuple[np.ndarray, str] | None = None
        self.results: dict[str, ReconResult] = {}
        self.order: list[str] = []
        self._cache: dict[tuple[MethodSpec, str], ReconResult] = {}
        self.events = CineEvents()

    # --- mask ------------------------------------------------------------------------------
    @property
    def accel_effective(self) -> float:
        return accel_effective(self.mask)

    def set_mask(self, mask: np.ndarray, spec: MaskSpec | None = None) -> None:
        """A new mask: results for it come from the cache where known, the others are gone (the reference stays)."""
        self.mask = np.asarray(mask, bool).copy()
        if spec is not None:
            self.mask_spec = spec
        key = mask_key(self.mask)
        self.results = {s.title: r for (s, k), r in self._cache.items() if k == key}
        self.events.mask_changed.emit()
        self.events.results_changed.emit()

    # --- reference ---------------------------------------------------------------------------
    def compute_reference(self, progress: Progress | None = None, cancel: CancelToken | None = None
                          ) -> tuple[np.ndarray, str]:
        """The reference image and its kind (pure: does not store it)."""
        if self.reference is not None:
            return self.reference
        return reference_image(self.study, device=self.device, progress=progress, cancel=cancel)

    def apply_reference(self, reference: tuple[np.ndarray, str]) -> None:
        if self.reference is None:
            self.reference = reference
            self.events.reference_changed.emit()

    # --- methods -------------------------------------------------------------------------------
    def plan(self, specs: list[MethodSpec]) -> list[MethodSpec]:
        """The specs that still need computing under the current mask, in order (cached ones are shown at once)."""
        key = mask_key(self.mask)
        todo = []
        for spec in specs:
            if spec.title not in self.order:
                self.order.append(spec.title)
            cached = self._cache.get((spec, key))
            if cached is not None:
                self.results[spec.title] = cached
            else:
                todo.append(spec)
        if len(todo) < len(specs):
            self.events.results_changed.emit()
        return todo

    def compute(self, spec: MethodSpec, progress: Progress | None = None, cancel: CancelToken | None = None
                ) -> ReconResult:
        """Reconstruct with ``spec`` under the current mask, scored against the reference (pure)."""
        ref = self.reference if self.reference is not None else self.compute_reference(cancel=cancel)
        return run_recon(self.study, self.mask.copy(), spec.method, device=self.device, reference=ref,
                         progress=progress, cancel=cancel, **spec.kwargs())

    def apply_result(self, spec: MethodSpec, result: ReconResult) -> bool:
        """Keep ``result`` (cached by its own mask); show it only if it was made with the current mask."""
        self._cache[(spec, mask_key(result.mask))] = result
        if not np.array_equal(result.mask, self.mask):
            return False
        self.results[spec.title] = result
        if spec.title not in self.order:
            self.order.append(spec.title)
        self.events.results_changed.emit()
        return True

    def remove(self, title: str) -> None:
        """Take a result out of the comparison (its cache entries stay)."""
        self.results.pop(title, None)
        if title in self.order:
            self.order.remove(title)
        self.events.results_changed.emit()

    def run(self, specs: list[MethodSpec], progress: Progress | None = None,
            cancel: CancelToken | None = None) -> dict[str, ReconResult]:
        """Reference, then every spec not yet computed, synchronously (scripts and tests)."""
        self.apply_reference(self.compute_reference(progress, cancel))
        for spec in self.plan(specs):
            self.apply_result(spec, self.compute(spec, cancel=cancel))
        return self.results

    # --- what the views show -----------------------------------------------------------------------
    def magnitudes(self) -> tuple[dict[str, np.ndarray], str | None]:
        """Display stacks ``name → float32 (T, Ny, Nx)``: the reference first (if known), then results in order.

        Before the reference exists, the naive image of the acquired data stands alone.
        """
        stacks: dict[str, np.ndarray] = {}
        ref_name = None
        if self.reference is not None:
            ref_name = f"Reference ({self.reference[1]})"
            stacks[ref_name] = np.abs(self.reference[0]).astype(np.float32)
        rank = {t: i for i, t in enumerate(self.order)}
        for title in sorted(self.results, key=lambda t: rank.get(t, len(rank))):
            stacks[title] = np.abs(self.results[title].image).astype(np.float32)
        if not stacks:
            from ..recon.zerofilled import naive_image

            stacks["Acquired (zero-filled)"] = naive_image(self.study.kspace, self.mask)
        return stacks, ref_name

    def score_text(self, title: str) -> str:
        """PSNR, SSIM and time of a scored result (``""`` for the reference or an unscored one)."""
        res = self.results.get(title)
        if res is None or not res.scores:
            return ""
        return f"{res.scores['psnr']:.2f} dB · SSIM {res.scores['ssim']:.3f} · {res.seconds:.2f} s"
