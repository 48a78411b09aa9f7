"""The cine comparison in the window: binds a :class:`~mrstudio.workspace.cine.CineWorkspace` to the grid,
the layer list, the metrics and the mask editor, and runs its work as jobs (reference first).

The **live loop**: every edit of the mask (a stroke, kind, R, ACS, seed, undo) goes to the
workspace at once — layers without a result for the new mask keep their last one, badged —
and 30 ms later one generator job recomputes the visible *quick* live layers (zero-filled,
the U-Net) on that mask, each panel updating as its image comes and its scores after;
250 ms after the last edit another job does the other live layers (the unrolled network).
A newer edit cancels the jobs it supersedes. Slow layers (CS) stay *stale* until Apply.
On a study's first run the slow methods wait until the live ones are shown.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6 import QtCore

from ..core.masks import MaskSpec
from ..core.study import CineStudy
from ..workspace.cine import CineWorkspace, MethodSpec, loss_specs
from .jobs import Job
from .mask_editor import MaskEditor
from .settings import save_mask_spec, saved_mask_spec

if TYPE_CHECKING:
    from .main_window import MainWindow

LIVE_DEBOUNCE_MS = 30  # coalesces the mouse moves of a drag: then zero-filled and the U-Net follow
PAUSE_MS = 250  # the other live methods (the unrolled network, ~1 s) follow when the editing pauses this long
BADGES = {"stale": "<span style='background:#b35900;color:#fff'>&nbsp;stale: Apply re-runs&nbsp;</span>",
          "updating": "<span style='color:#fc3'>updating…</span>"}


class CineController:
    """``ws`` is the current workspace (``None`` while a volume is shown)."""

    def __init__(self, win: MainWindow):
        self.win = win
        self.ws: CineWorkspace | None = None
        self._pending: list[MethodSpec] = []  # waiting for the reference
        self._deferred: list[MethodSpec] = []  # slow methods of the first run: after the live ones
        self._live: list[tuple[Job, str, list[MethodSpec]]] = []  # live jobs with their mask hash and specs
        self._timer, self._pause_timer = QtCore.QTimer(), QtCore.QTimer()
        for timer, ms, quick in ((self._timer, LIVE_DEBOUNCE_MS, True), (self._pause_timer, PAUSE_MS, False)):
            timer.setSingleShot(True)
            timer.setInterval(ms)
            timer.timeout.connect(lambda quick=quick: self.live_update(quick))
        self._refresh_due = False

    # --- a study ------------------------------------------------------------------------------
    def show(self, study: CineStudy) -> None:
        """A new workspace for ``study``; with ``autorun``, the default comparison."""
        win = self.win
        frames, ny = study.frames, study.matrix[0]
        spec = saved_mask_spec(win.settings)
        ed = MaskEditor(frames, ny, spec, live=win.mask_editor.live.isChecked())
        win.set_mask_editor(ed)
        ed.mask_changed.connect(self.mask_edited)
        ed.apply_requested.connect(self.apply_mask)
        ed.live_changed.connect(lambda on: self.mask_edited(ed.mask, ed.spec()) if on else None)
        ed.snapshot_requested.connect(self.snapshot)
        ed.restore_requested.connect(self.restore)
        ed.written.connect(lambda path: win.written(path, "mask"))
        if study.fully_sampled:
            self.ws = CineWorkspace(study, device=win.device, mask_spec=spec, mask=ed.mask.copy())
        else:
            self.ws = CineWorkspace(study, device=win.device)
            ed.set_mask(self.ws.mask, undoable=False)
        self._live, self._pending, self._deferred = [], [], []
        self.ws.events.results_changed.connect(self.schedule_refresh)
        self.ws.events.reference_changed.connect(self.schedule_refresh)
        self.ws.events.layers_changed.connect(self.schedule_refresh)
        win.playback.frame_slider.setRange(0, frames - 1)
        win.playback.frame_slider.setValue(0)
        win.statusBar().showMessage(f"{study.name}: {study.coils} coils, {frames} frames, {ny}×{study.matrix[1]}, "
                                    f"source {study.source}", 10000)
        if win.autorun:  # the grid fills when the reference comes (the acquired data's naive image would cost a
            self.run_selected(defer_slow=True)  # blocking FFT, and the import of scipy.fft, on the GUI thread)
        else:
            self.refresh()

    # --- the live loop ---------------------------------------------------------------------------
    def mask_edited(self, mask, spec: MaskSpec) -> None:
        """The editor's mask changed: with Live on it becomes the workspace's mask, and the live layers follow."""
        ws = self.ws
        if ws is None or not self.win.mask_editor.live.isChecked():
            return
        ws.set_mask(mask, spec)
        self._timer.start()
        self._pause_timer.start()

    def live_update(self, quick: bool | None = None) -> Job | None:
        """Recompute the visible live layers (``quick``: True / False, only those / the others) on the current mask
        in one job; live jobs for an older mask are cancelled."""
        ws = self.ws
        if ws is None:
            return None
        key = ws.key
        running: set[MethodSpec] = set()
        for job, job_key, specs in self._live:
            if not job.active:
                continue
            if job_key == key:
                running.update(specs)
            else:
                self.win.bridge.cancel(job.id)
        self._live = [entry for entry in self._live if entry[0].active and entry[1] == key]
        specs = [s for s in ws.live_specs(quick) if s not in running]
        if ws.reference is None:  # the reference job runs them when it is done
            self._pending = list(dict.fromkeys([*self._pending, *specs]))
            return None
        if not specs:
            return None
        done: list[Job] = []
        job = self.win.bridge.submit("live update", ws.compute_many, specs, mask=ws.mask.copy(),
                                     on_yield=lambda pair: self._apply(ws, *pair),
                                     on_done=lambda _r: self._live_done(ws, done[0]))
        done.append(job)
        self._live.append((job, key, specs))
        return job

    @property
    def live_active(self) -> bool:
        """Whether a live update is running."""
        return any(job.active for job, _, _ in self._live)

    def _live_done(self, ws: CineWorkspace, finished: Job) -> None:
        """A live job returned (its status still says running): start the deferred slow methods once no other
        live job runs (submitted at once, so that the bridge is never seen idle in between)."""
        others = any(job.active for job, _, _ in self._live if job is not finished)
        if ws is self.ws and self._deferred and not others:
            specs, self._deferred = self._deferred, []
            for spec in ws.plan(specs):
                self._submit(spec)

    def _apply(self, ws: CineWorkspace, spec: MethodSpec, result) -> None:
        if ws is self.ws:
            ws.apply_result(spec, result)

    # --- runs -------------------------------------------------------------------------------------
    def apply_mask(self) -> None:
        """Use the editor's mask for every layer: cached results show, the live layers update, the rest re-run."""
        ws = self.ws
        if ws is None:
            return
        ed = self.win.mask_editor
        ws.set_mask(ed.mask.copy(), ed.spec())
        save_mask_spec(self.win.settings, ed.spec())
        self._run(list(ws.layers) or self.win.methods.specs())

    def run_selected(self, defer_slow: bool = False) -> None:
        """Add the methods ticked in the Methods dock as layers and run what is not cached (the reference first).

        With ``defer_slow`` (the first run of a study), slow methods start when the live ones are done, so that
        zero-filled and the learned panels fill first.
        """
        self._run(self.win.methods.specs(), defer_slow)

    def add_all_losses(self) -> None:
        """One U-Net layer per installed loss, each trained nearest the mask's R."""
        if self.ws is not None:
            self._run(loss_specs(self.ws.accel_effective))

    def _run(self, specs: list[MethodSpec], defer_slow: bool = False) -> None:
        ws = self.ws
        if ws is None:
            return
        todo = ws.plan(specs)  # cached results show at once; the rest run
        live = [s for s in todo if s.live and s.title not in ws.hidden]
        slow = [s for s in todo if not s.live and s.title not in ws.hidden]
        if ws.reference is None:
            self._pending = list(dict.fromkeys([*self._pending, *live, *slow]))
            if not any(j.title == "reference" and j.active for j in self.win.bridge.jobs.values()):
                self.win.bridge.submit("reference", ws.compute_reference,
                                       on_done=lambda ref: self._reference_ready(ws, ref, defer_slow))
            return
        if live:
            self.live_update()
        if defer_slow and self.live_active:
            self._deferred += slow
        else:
            for spec in slow:
                self._submit(spec)

    def _reference_ready(self, ws: CineWorkspace, reference, defer_slow: bool = False) -> None:
        if ws is not self.ws:
            return
        ws.apply_reference(reference)
        specs, self._pending = self._pending, []
        self._run(specs, defer_slow)

    def _submit(self, spec: MethodSpec) -> Job:
        ws = self.ws
        return self.win.bridge.submit(spec.title, ws.compute, spec, mask=ws.mask.copy(),
                                      on_done=lambda res: ws.apply_result(spec, res) if ws is self.ws else None)

    # --- layers and snapshots --------------------------------------------------------------------
    def set_visible(self, title: str, visible: bool) -> None:
        """Show or hide a layer; a live one shown again follows the current mask (a slow one waits for Apply)."""
        if self.ws is not None:
            self.ws.set_visible(title, visible)
            if visible:
                self.live_update()

    def snapshot(self) -> None:
        if self.ws is not None:
            name = self.ws.snapshot()
            self.win.mask_editor.set_snapshots(list(self.ws.snapshots))
            self.win.inform(f"mask snapshot {name} kept (R {self.ws.accel_effective:.2f}); pick it to compare")

    def restore(self, name: str) -> None:
        ws = self.ws
        if ws is not None and name in ws.snapshots:
            mask, spec = ws.snapshots[name]
            self.win.mask_editor.set_spec(spec)
            self.win.mask_editor.set_mask(mask)  # through the editor: the live loop follows

    # --- what the window shows ---------------------------------------------------------------------
    def schedule_refresh(self) -> None:
        """Refresh once after the events of this turn of the event loop (results often come in bursts)."""
        if not self._refresh_due:
            self._refresh_due = True
            QtCore.QTimer.singleShot(0, self.refresh)

    def refresh(self) -> None:
        """Show the workspace's stacks with their captions, its layer list and its metrics."""
        self._refresh_due = False
        ws = self.ws
        if ws is None:
            return
        stacks, ref = ws.magnitudes()
        titles = {name: self.caption(name) for name in stacks}
        signed = {ws.difference_name} if ws.difference_name in stacks else set()
        self.win.show_stacks(stacks, ref, titles, signed=signed)
        self.win.layers.set_layers([(s.title, s.title not in ws.hidden, ws.status(s.title), ws.model_note(s.title))
                                    for s in ws.layers])
        self.update_metrics(stacks)

    def caption(self, name: str) -> str:
        """A panel's title: name, scores, model (flagged when trained at another R), stale badge."""
        ws = self.ws
        text = f"<b>{html.escape(name)}</b>"
        status = ws.status(name)
        if status in BADGES:
            text += " " + BADGES[status]
        score = ws.score_text(name)
        if score:
            text += f"<br>{score}"
        note, mismatch = ws.model_note(name)
        if note:
            note = html.escape(note)
            text += f"<br><span style='color:#f66'>⚠ {note}</span>" if mismatch else f"<br><small>{note}</small>"
        return text

    def update_metrics(self, stacks=None) -> None:
        ws = self.ws
        if ws is None:
            return
        stacks = stacks if stacks is not None else ws.magnitudes()[0]
        shown = ws.shown()
        self.win.metrics.update_metrics(shown, ws.accel_effective, ws.reference[1] if ws.reference else None,
                                        stacks, self.win.grid.roi_slices(),
                                        stale={t for t in shown if ws.status(t) != "fresh"})
