"""The cine comparison in the window: binds a :class:`~mrstudio.workspace.cine.CineWorkspace` to the grid,
the metrics and the mask editor, and runs its work as jobs (reference first)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.masks import MaskSpec
from ..core.study import CineStudy
from ..workspace.cine import CineWorkspace, MethodSpec, default_specs
from .jobs import Job
from .mask_editor import MaskEditor

if TYPE_CHECKING:
    from .main_window import MainWindow


class CineController:
    """``ws`` is the current workspace (``None`` while a volume is shown)."""

    def __init__(self, win: MainWindow):
        self.win = win
        self.ws: CineWorkspace | None = None
        self._pending: list[MethodSpec] = []

    def show(self, study: CineStudy) -> None:
        """A new workspace for ``study``; with ``autorun``, the default comparison."""
        win = self.win
        frames, ny = study.frames, study.matrix[0]
        spec = MaskSpec(accel=win.number_setting("accel", 15.0, 1.5, 200.0))
        win.mask_editor.setParent(None)
        win.mask_editor = MaskEditor(frames, ny, spec)
        win.mask_editor.apply_requested.connect(self.apply_mask)
        win.mask_dock.setWidget(win.mask_editor)
        if study.fully_sampled:
            self.ws = CineWorkspace(study, device=win.device, mask_spec=spec, mask=win.mask_editor.mask.copy())
        else:
            self.ws = CineWorkspace(study, device=win.device)
            win.mask_editor.set_mask(self.ws.mask)
        self.ws.events.results_changed.connect(self.refresh)
        self.ws.events.reference_changed.connect(self.refresh)
        win.playback.frame_slider.setRange(0, frames - 1)
        win.playback.frame_slider.setValue(0)
        win.statusBar().showMessage(f"{study.name}: {study.coils} coils, {frames} frames, {ny}×{study.matrix[1]}, "
                                    f"source {study.source}", 10000)
        self.refresh()
        if win.autorun:
            cnn = next((s for s in default_specs(spec.accel) if s.method == "cnn"), None)
            win.methods.select_model(cnn.kwargs().get("model") if cnn else None)
            self.run_selected()

    def apply_mask(self) -> None:
        """Use the editor's mask: results not cached for it go, the selected methods run (views follow the events)."""
        if self.ws is None:
            return
        self.win.bridge.cancel_all()
        self.ws.set_mask(self.win.mask_editor.mask.copy(), self.win.mask_editor.spec())
        self.win.settings.setValue("accel", self.win.mask_editor.spec().accel)
        self.run_selected()

    def run_selected(self) -> None:
        """Run the methods ticked in the Methods dock (the reference first if it is not known yet)."""
        ws = self.ws
        if ws is None:
            return
        specs = ws.plan(self.win.methods.specs())  # cached results show at once; the rest run
        if ws.reference is None:
            self._pending = specs
            self.win.bridge.submit("reference", ws.compute_reference, on_done=lambda ref: self._reference_ready(ws, ref))
            return
        for spec in specs:
            self._submit(spec)

    def _reference_ready(self, ws: CineWorkspace, reference) -> None:
        if ws is not self.ws:
            return
        ws.apply_reference(reference)
        specs, self._pending = self._pending, []
        for spec in specs:
            self._submit(spec)

    def _submit(self, spec: MethodSpec) -> Job:
        ws = self.ws
        return self.win.bridge.submit(spec.title, ws.compute, spec,
                                      on_done=lambda res: ws.apply_result(spec, res) if ws is self.ws else None)

    def refresh(self) -> None:
        """Show the workspace's stacks with their captions, and its metrics."""
        if self.ws is None:
            return
        stacks, ref = self.ws.magnitudes()
        titles = {}
        for name in stacks:
            score = self.ws.score_text(name)
            titles[name] = f"<b>{name}</b>" + (f" &nbsp; {score}" if score else "")
        self.win.show_stacks(stacks, ref, titles)
        self.update_metrics(stacks)

    def update_metrics(self, stacks=None) -> None:
        ws = self.ws
        if ws is None:
            return
        stacks = stacks if stacks is not None else ws.magnitudes()[0]
        self.win.metrics.update_metrics(ws.results, ws.accel_effective, ws.reference[1] if ws.reference else None,
                                        stacks, self.win.grid.roi_slices())
