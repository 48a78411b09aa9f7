"""The cine comparison workspace: one study, one mask, a reference and a layer list of methods.

Qt-free and evented (psygnal): a front end connects to ``events`` and calls the methods.
Long work is split in two so that it can run in a worker thread: ``compute`` is pure (it
reads the workspace, changes nothing) and ``apply_*`` stores the outcome on the caller's
thread, dropping it when it is stale (another mask, a layer removed or changed). ``run``
does both, synchronously, for scripts and tests.

The comparison is a **layer list** (napari's layers): ``layers`` holds the methods in their
display order, each may be hidden, removed or moved. Results are cached per (method,
parameters, mask), so going back to an earlier mask, adding a method or asking again for one
already computed costs nothing. When the mask changes, a layer without a result for the new
mask keeps showing its last one, marked **stale**; the fast, *live* methods (zero-filled and
the learned ones, :data:`LIVE_METHODS`) are meant to be recomputed at once by the front end,
the slow ones (CS) when the user asks (Apply / Run).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections import OrderedDict
from collections.abc import Iterator

import numpy as np
from psygnal import Signal

from ..core.jobs import CancelToken, Progress, check, sub_progress
from ..core.masks import MaskSpec, accel_effective, make_mask
from ..core.study import CineStudy
from ..recon.base import ReconResult
from ..recon.pipeline import run_recon, score_result
from ..recon.reference import reference_image
from .specs import (
    LIVE_METHODS,
    NEAREST,
    QUICK_METHODS,
    R_TOLERANCE,
    MethodSpec,
    cnn_spec,
    default_specs,
    loss_specs,
    trained_accel,
    unrolled_spec,
)

__all__ = ["CineWorkspace", "CineEvents", "MethodSpec", "LIVE_METHODS", "QUICK_METHODS", "NEAREST", "cnn_spec",
           "default_specs", "loss_specs", "mask_key", "trained_accel", "unrolled_spec"]

CACHE_SIZE = 64  # results kept for masks other than the current one and the snapshots (least recently used go)


def mask_key(mask: np.ndarray) -> str:
    """A short hash of a ``bool (T, Ny)`` mask (results are cached by it)."""
    m = np.ascontiguousarray(mask, bool)
    return hashlib.sha1(m.tobytes() + str(m.shape).encode()).hexdigest()[:16]


class CineEvents:
    """What a front end listens to."""

    mask_changed = Signal()  # the mask changed (results follow through results_changed)
    reference_changed = Signal()
    results_changed = Signal()  # a result arrived, went stale or went away
    layers_changed = Signal()  # a layer was added, removed, moved, hidden or shown


class CineWorkspace:
    """A comparison of reconstruction methods on one cine (see the module docstring).

    Attributes: ``study``, ``device``, ``mask_spec`` and ``mask bool (T, Ny)``, ``reference``
    (``(complex64 (T, Ny, Nx), kind)`` or ``None``), ``layers`` (the methods in display order),
    ``hidden`` (titles not shown), ``results`` (title → ``ReconResult`` for the current mask),
    ``stale`` (title → the last result of a layer under an earlier mask), ``difference``
    (``(title_a, title_b)`` shown as a signed difference, or ``None``), ``snapshots`` (name →
    ``(mask, MaskSpec)``, whose results stay cached for an A/B view), ``events``.
    """

    def __init__(self, study: CineStudy, device: str = "cpu", mask_spec: MaskSpec | None = None,
                 mask: np.ndarray | None = None):
        self.study, self.device = study, device
        self.mask_spec = mask_spec or MaskSpec()
        if mask is None:
            mask = study.mask if not study.fully_sampled else make_mask(self.mask_spec, study.frames, study.matrix[0])
        self.mask = np.asarray(mask, bool).copy()
        self.reference: tuple[np.ndarray, str] | None = None
        self.layers: list[MethodSpec] = []
        self.hidden: set[str] = set()
        self.results: dict[str, ReconResult] = {}
        self.stale: dict[str, ReconResult] = {}
        self.difference: tuple[str, str] | None = None
        self.snapshots: dict[str, tuple[np.ndarray, MaskSpec]] = {}
        self._cache: OrderedDict[tuple[MethodSpec, str], ReconResult] = OrderedDict()
        self._mags: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # title → (image, its magnitude)
        self.events = CineEvents()

    # --- mask ------------------------------------------------------------------------------
    @property
    def accel_effective(self) -> float:
        return accel_effective(self.mask)

    @property
    def key(self) -> str:
        return mask_key(self.mask)

    def set_mask(self, mask: np.ndarray, spec: MaskSpec | None = None) -> None:
        """A new mask: results for it come from the cache where known; the others show their last result, stale."""
        if spec is not None:
            self.mask_spec = spec
        mask = np.asarray(mask, bool)
        if np.array_equal(mask, self.mask):
            return
        shown = {**self.stale, **self.results}
        self.mask = mask.copy()
        key = self.key
        self.results = {}
        for layer in self.layers:
            cached = self._cache_get(layer, key)
            if cached is not None:
                self.results[layer.title] = cached
        self.stale = {t: r for t, r in shown.items() if t not in self.results}
        self.events.mask_changed.emit()
        self.events.results_changed.emit()

    def snapshot(self, name: str | None = None) -> str:
        """Keep the current mask (and so its results) under ``name`` (default "A", "B", …) for an A/B view."""
        if name is None:
            i = len(self.snapshots)
            name = chr(ord("A") + i) if i < 26 else f"#{i + 1}"
        self.snapshots[name] = (self.mask.copy(), self.mask_spec)
        return name

    def restore(self, name: str) -> None:
        """Show the snapshot ``name``'s mask again: its results come back from the cache."""
        mask, spec = self.snapshots[name]
        self.set_mask(mask, spec)

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

    # --- layers ---------------------------------------------------------------------------------
    @property
    def order(self) -> list[str]:
        """The layers' titles in display order."""
        return [s.title for s in self.layers]

    def layer(self, title: str) -> MethodSpec | None:
        return next((s for s in self.layers if s.title == title), None)

    def plan(self, specs: list[MethodSpec]) -> list[MethodSpec]:
        """Add ``specs`` as layers (a spec replaces the layer of the same title) and return those that still
        need computing under the current mask, in order; cached results are shown at once."""
        key = self.key
        todo, shown, changed = [], False, False
        for spec in specs:
            changed |= self._put_layer(spec)
            cached = self._cache_get(spec, key)
            if cached is not None:
                if self.results.get(spec.title) is not cached:
                    self.results[spec.title] = cached
                    self.stale.pop(spec.title, None)
                    shown = True
            else:
                todo.append(spec)
        if changed:
            self.events.layers_changed.emit()
        if shown or changed:
            self.events.results_changed.emit()
        return todo

    def _put_layer(self, spec: MethodSpec) -> bool:
        for i, s in enumerate(self.layers):
            if s.title == spec.title:
                if s == spec:
                    return False
                self.layers[i] = spec  # new parameters: the old result is stale
                old = self.results.pop(spec.title, None)
                if old is not None:
                    self.stale[spec.title] = old
                return True
        self.layers.append(spec)
        return True

    def remove(self, title: str) -> None:
        """Take a layer out of the comparison (its cache entries stay)."""
        self.layers = [s for s in self.layers if s.title != title]
        self.results.pop(title, None)
        self.stale.pop(title, None)
        self.hidden.discard(title)
        if self.difference and title in self.difference:
            self.difference = None
        self.events.layers_changed.emit()
        self.events.results_changed.emit()

    def move(self, title: str, index: int) -> None:
        """Move a layer to position ``index`` (clipped) in the display order."""
        spec = self.layer(title)
        if spec is None:
            return
        rest = [s for s in self.layers if s.title != title]
        index = int(np.clip(index, 0, len(rest)))
        if rest[:index] + [spec] + rest[index:] == self.layers:
            return
        self.layers = rest[:index] + [spec] + rest[index:]
        self.events.layers_changed.emit()
        self.events.results_changed.emit()

    def set_visible(self, title: str, visible: bool) -> None:
        if (title not in self.hidden) == bool(visible) or self.layer(title) is None:
            return
        (self.hidden.discard if visible else self.hidden.add)(title)
        self.events.layers_changed.emit()
        self.events.results_changed.emit()

    def set_difference(self, a: str | None, b: str | None = None) -> None:
        """Show ``|a| − |b|`` (signed) as an extra panel; ``None`` removes it."""
        new = (a, b) if a and b and a != b else None
        if new != self.difference:
            self.difference = new
            self.events.results_changed.emit()

    @property
    def difference_name(self) -> str | None:
        return f"{self.difference[0]} − {self.difference[1]}" if self.difference else None

    def live_specs(self, quick: bool | None = None) -> list[MethodSpec]:
        """The visible live layers without a result for the current mask (what a mask edit re-runs); ``quick``
        True / False: only the quick / only the other live ones."""
        return [s for s in self.layers if s.live and s.title not in self.hidden and (quick is None or s.quick == quick)
                and (s.title not in self.results or self.results[s.title].scores is None)]

    def status(self, title: str) -> str:
        """``"fresh"`` (made with the current mask), ``"updating"`` (a live layer with an older result),
        ``"stale"`` (a slow layer with an older result: re-run on Apply) or ``"missing"``."""
        if title in self.results:
            return "fresh"
        spec = self.layer(title)
        if title in self.stale:
            return "updating" if spec is not None and spec.live else "stale"
        return "missing"

    # --- methods -------------------------------------------------------------------------------
    def compute(self, spec: MethodSpec, progress: Progress | None = None, cancel: CancelToken | None = None,
                mask: np.ndarray | None = None) -> ReconResult:
        """Reconstruct with ``spec`` under ``mask`` (default: the current mask), scored against the reference (pure)."""
        ref = self.reference if self.reference is not None else self.compute_reference(cancel=cancel)
        mask = self.mask if mask is None else mask
        return run_recon(self.study, np.array(mask, bool), spec.method, device=self.device, reference=ref,
                         progress=progress, cancel=cancel, **spec.kwargs())

    def compute_many(self, specs: list[MethodSpec], progress: Progress | None = None,
                     cancel: CancelToken | None = None, mask: np.ndarray | None = None
                     ) -> Iterator[tuple[MethodSpec, ReconResult]]:
        """``(spec, result)`` for each spec under one mask (pure; a generator, so that a front end shows each
        result as it comes and a cancelled run stops between steps).

        The images come first, unscored, one per spec; then each again, scored (a new ``ReconResult`` sharing the
        image): the panels follow the mask without waiting for SSIM, and the metrics follow them.
        """
        ref = self.reference if self.reference is not None else self.compute_reference(cancel=cancel)
        mask = np.array(self.mask if mask is None else mask, bool)
        made = []
        for i, spec in enumerate(specs):
            check(cancel)
            part = sub_progress(progress, 0.8 * i / len(specs), 0.8 * (i + 1) / len(specs))
            res = run_recon(self.study, mask, spec.method, device=self.device, evaluate=False, progress=part,
                            cancel=cancel, **spec.kwargs())
            made.append((spec, res))
            yield spec, res
        for spec, res in made:
            check(cancel)
            yield spec, score_result(dataclasses.replace(res), ref)

    def apply_result(self, spec: MethodSpec, result: ReconResult) -> bool:
        """Cache ``result`` under its own mask (once scored); show it if it was made with the current mask for a
        layer as it is."""
        if result.scores is not None:  # an image not yet scored is shown, not kept: its scores may never come
            self._cache_put(spec, mask_key(result.mask), result)
        if not np.array_equal(result.mask, self.mask) or self.layer(spec.title) != spec:
            return False
        self.results[spec.title] = result
        self.stale.pop(spec.title, None)
        self.events.results_changed.emit()
        return True

    def run(self, specs: list[MethodSpec], progress: Progress | None = None,
            cancel: CancelToken | None = None) -> dict[str, ReconResult]:
        """Reference, then every spec not yet computed, synchronously (scripts and tests)."""
        self.apply_reference(self.compute_reference(progress, cancel))
        for spec in self.plan(specs):
            self.apply_result(spec, self.compute(spec, cancel=cancel))
        return self.results

    def _cache_get(self, spec: MethodSpec, key: str) -> ReconResult | None:
        res = self._cache.get((spec, key))
        if res is not None:
            self._cache.move_to_end((spec, key))
        return res

    def _cache_put(self, spec: MethodSpec, key: str, result: ReconResult) -> None:
        self._cache[(spec, key)] = result
        self._cache.move_to_end((spec, key))
        keep = {self.key} | {mask_key(m) for m, _ in self.snapshots.values()}
        for k in list(self._cache):
            if len(self._cache) <= CACHE_SIZE:
                break
            if k[1] not in keep:
                del self._cache[k]

    # --- what the views show -----------------------------------------------------------------------
    def shown(self) -> dict[str, ReconResult]:
        """The visible layers' results in display order, fresh or stale."""
        out = {}
        for spec in self.layers:
            res = self.results.get(spec.title) or self.stale.get(spec.title)
            if res is not None and spec.title not in self.hidden:
                out[spec.title] = res
        return out

    def magnitudes(self) -> tuple[dict[str, np.ndarray], str | None]:
        """Display stacks ``name → float32 (T, Ny, Nx)``: the reference first (if known), then the visible layers
        in order (stale ones included), then the difference panel if one is chosen.

        Before the reference exists, the naive image of the acquired data stands alone.
        """
        stacks: dict[str, np.ndarray] = {}
        ref_name = None
        if self.reference is not None:
            ref_name = f"Reference ({self.reference[1]})"
            stacks[ref_name] = self._magnitude(ref_name, self.reference[0])
        for title, res in self.shown().items():
            stacks[title] = self._magnitude(title, res)
        if self.difference and all(t in stacks for t in self.difference):
            a, b = self.difference
            stacks[self.difference_name] = stacks[a] - stacks[b]
        if not stacks:
            from ..recon.zerofilled import naive_image

            stacks["Acquired (zero-filled)"] = naive_image(self.study.kspace, self.mask)
        return stacks, ref_name

    def _magnitude(self, title: str, source: ReconResult | np.ndarray) -> np.ndarray:
        """``|image|`` as float32, computed once per image (views compare stacks by identity)."""
        image = source.image if isinstance(source, ReconResult) else source
        hit = self._mags.get(title)
        if hit is not None and hit[0] is image:
            return hit[1]
        mag = np.abs(image).astype(np.float32)
        self._mags[title] = (image, mag)
        return mag

    def score_text(self, title: str) -> str:
        """PSNR, SSIM and time of a scored result (``""`` for the reference or an unscored one)."""
        res = self.results.get(title) or self.stale.get(title)
        if res is None or not res.scores:
            return ""
        return f"{res.scores['psnr']:.2f} dB · SSIM {res.scores['ssim']:.3f} · {res.seconds:.2f} s"

    def model_note(self, title: str) -> tuple[str, bool]:
        """Which model made the layer's result and whether its trained R differs from the mask's:
        ``("model l2-r15, R 15", False)``; ``("", False)`` for methods without a model."""
        res = self.results.get(title) or self.stale.get(title)
        if res is None or not res.model.get("model"):
            return "", False
        name = str(res.model["model"]).removeprefix("cine-unet-").removeprefix("cine-")
        r = trained_accel(res)
        if r is None:
            return f"model {name}", False
        mask_r = accel_effective(res.mask)
        mismatch = abs(math.log(r / mask_r)) > math.log(R_TOLERANCE)
        return f"model {name}, trained R {r:g}" + (f" ≠ mask R {mask_r:.1f}" if mismatch else ""), mismatch
