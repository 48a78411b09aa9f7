"""The main window: the comparison grid, its controls, and the docks around it.

Layout: the linked :class:`~mrstudio.gui.views.grid.ComparisonGrid` in the centre with
the frame / playback / display-mode / window controls under it; *Methods* (which
reconstructions to run, CNN model and its card, data consistency) on the left; the
*Mask* editor on the right; *Metrics*, *x–t profiles* and *Jobs* as tabs at the bottom.
Every computation goes through the one :class:`~mrstudio.gui.jobs.JobBridge`; the state
and the numerics live in the Qt-free workspaces (:class:`~mrstudio.workspace.cine.CineWorkspace`,
:class:`~mrstudio.workspace.volume.VolumeWorkspace`), whose events the window observes;
outcomes of background jobs are applied to them on the GUI thread.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets
from superqt import QLabeledDoubleRangeSlider, QLabeledSlider

from ..core.errors import StudyError
from ..core.masks import MaskSpec
from ..core.study import CineStudy, VolumeStudy
from ..recon.cs import CSConfig
from ..workspace.cine import CineWorkspace, MethodSpec, default_specs
from ..workspace.volume import VolumeWorkspace
from .jobs import Job, JobBridge
from .mask_editor import MaskEditor
from .panels import JobsPanel, MetricsPanel, ProfilePanel
from .views.grid import ComparisonGrid

MODES = {"Images": "image", "|Error|": "error", "Relative error": "relative"}
MAX_RECENT = 8


def _open_study_job(path: str, series: str | None = None, progress=None, cancel=None):
    from ..io import open_study

    if progress:
        progress(0.1, f"reading {Path(path).name}")
    return open_study(path, series=series)


class MethodsPanel(QtWidgets.QWidget):
    """Which methods to run: naive, CS, CNN (model chooser + its card), CNN with data consistency."""

    run_requested = QtCore.Signal()
    message = QtCore.Signal(str, str)  # title, text: shown by the main window, never blocking here

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.zero = QtWidgets.QCheckBox("Zero-filled (naive)")
        self.cs = QtWidgets.QCheckBox("CS (l1-ESPIRiT)")
        self.cnn = QtWidgets.QCheckBox("CNN")
        self.dc = QtWidgets.QCheckBox("CNN + data consistency")
        for b in (self.zero, self.cs, self.cnn):
            b.setChecked(True)
        self.model = QtWidgets.QComboBox()
        self.model.setToolTip("shipped models (models/) and checkpoints you added")
        self.add_ckpt = QtWidgets.QPushButton("Add checkpoint…")
        self.add_ckpt.clicked.connect(self._add_checkpoint)
        self.card = QtWidgets.QTextBrowser()
        self.card.setObjectName("modelCard")
        defaults = CSConfig()
        self.cs_iters = QtWidgets.QSpinBox()
        self.cs_iters.setRange(5, 1000)
        self.cs_iters.setValue(defaults.iters)
        self.cs_lam_w = self._lam_box(defaults.lam_wavelet, "l1-wavelet weight (data scaled as BART does)")
        self.cs_lam = self._lam_box(defaults.lam_temporal, "temporal total-variation weight (data scaled as BART does)")
        self.run_btn = QtWidgets.QPushButton("Run")
        self.run_btn.setDefault(True)
        self.run_btn.clicked.connect(self.run_requested)
        form = QtWidgets.QFormLayout()
        form.addRow("CS iterations", self.cs_iters)
        form.addRow("CS λ wavelet", self.cs_lam_w)
        form.addRow("CS λ temporal", self.cs_lam)
        layout = QtWidgets.QVBoxLayout(self)
        for w in (self.zero, self.cs):
            layout.addWidget(w)
        layout.addLayout(form)
        layout.addWidget(self.cnn)
        layout.addWidget(self.model)
        layout.addWidget(self.dc)
        layout.addWidget(self.add_ckpt)
        layout.addWidget(QtWidgets.QLabel("Model card"))
        layout.addWidget(self.card, 1)
        layout.addWidget(self.run_btn)
        self.model.currentIndexChanged.connect(self._show_card)
        self.refresh_models()

    def refresh_models(self, select: str | None = None) -> None:
        from ..io.model_store import CINE_TASK, list_models

        current = select or self.model.currentData()
        self.model.blockSignals(True)
        self.model.clear()
        for card in list_models(task=CINE_TASK):
            self.model.addItem(card.name, card.name)
        for path in getattr(self, "_extra", []):
            self.model.addItem(Path(path).name, path)
        self.model.blockSignals(False)
        i = self.model.findData(current) if current else -1
        self.model.setCurrentIndex(max(i, 0))
        self.cnn.setEnabled(self.model.count() > 0)
        self.dc.setEnabled(self.model.count() > 0)
        self._show_card()

    def select_model(self, name: str | None) -> None:
        if name:
            i = self.model.findData(name)
            if i >= 0:
                self.model.setCurrentIndex(i)

    def _add_checkpoint(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Add a cine checkpoint", "", "Checkpoint (*.pt)")
        if path:
            self.add_checkpoint(path)

    def add_checkpoint(self, path: str) -> None:
        """Add a ``.pt`` with its ``.json`` card (hash verified before it is listed)."""
        from ..io.model_store import load_state

        try:
            load_state(path)
        except StudyError as exc:
            self.message.emit("Add checkpoint", str(exc))
            return
        self._extra = [*getattr(self, "_extra", []), path]
        self.refresh_models(select=path)

    def _show_card(self, *_args) -> None:
        name = self.model.currentData()
        if not name:
            self.card.setHtml("<i>No CNN models found in models/.</i>")
            return
        from ..io.model_store import read_card, resolve_model

        try:
            card = read_card(resolve_model(name))
        except StudyError as exc:
            self.card.setPlainText(str(exc))
            return
        test = card.get("test") or {}
        rows = [("loss", card.get("loss")), ("R", card.get("accel")), ("mask", card.get("mask")),
                ("U-Net", json.dumps(card.get("unet"))), ("parameters", f"{card.get('parameters', 0):,}"),
                ("steps × batch", f"{card.get('steps')} × {card.get('batch')}"), ("trained on", card.get("device")),
                ("test PSNR / SSIM", f"{test.get('psnr', float('nan')):.2f} dB / {test.get('ssim', float('nan')):.3f}"
                 if test else "—"), ("sha256", (card.get("sha256") or "")[:16] + "…")]
        self.card.setHtml("<table>" + "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows) + "</table>")

    @staticmethod
    def _lam_box(value: float, tip: str) -> QtWidgets.QDoubleSpinBox:
        box = QtWidgets.QDoubleSpinBox()
        box.setDecimals(4)
        box.setRange(0.0, 1.0)
        box.setSingleStep(0.001)
        box.setValue(value)
        box.setToolTip(tip)
        return box

    def specs(self) -> list[MethodSpec]:
        out = []
        if self.zero.isChecked():
            out.append(MethodSpec("zero-filled", label="Zero-filled"))
        if self.cs.isChecked():
            params = (("iters", self.cs_iters.value()), ("lam_wavelet", round(self.cs_lam_w.value(), 6)),
                      ("lam_temporal", round(self.cs_lam.value(), 6)))
            out.append(MethodSpec("cs", params, label="CS (l1-ESPIRiT)"))
        model = self.model.currentData()
        short = Path(str(model)).stem.removeprefix("cine-unet-") if model else ""
        if self.cnn.isChecked() and model:
            out.append(MethodSpec("cnn", (("model", model),), label=f"CNN {short}"))
        if self.dc.isChecked() and model:
            out.append(MethodSpec("cnn", (("model", model), ("dc", True)), label=f"CNN {short} + DC"))
        return out


def _volume_levels(study: VolumeStudy) -> tuple[float, float]:
    """Display window of a volume: CT soft tissue/lung (−1000…400 HU), else its 0.5–99.5th percentiles."""
    if study.is_ct:
        return -1000.0, 400.0
    from ..core.profiles import display_levels

    return display_levels(study.volume)


class MainWindow(QtWidgets.QMainWindow):
    """The workstation window for one study at a time (cine or CT)."""

    def __init__(self, study: CineStudy | VolumeStudy | None = None, device: str = "cpu", autorun: bool = True,
                 settings: QtCore.QSettings | None = None, restore_geometry: bool = True):
        super().__init__()
        self.device = device
        self.autorun = autorun
        self.settings = settings or QtCore.QSettings()
        self.setWindowTitle("MR Studio")
        self.setAcceptDrops(True)
        self.resize(1600, 1000)
        self.bridge = JobBridge(self)
        self.bridge.failed.connect(self._job_failed)
        self.session: CineWorkspace | None = None  # the cine comparison (Qt-free model)
        self.volume: VolumeWorkspace | None = None  # or the volume being interpolated
        self.study: CineStudy | VolumeStudy | None = None
        self.last_message: str | None = None
        self._pending: list[MethodSpec] = []
        self._build_central()
        self._build_docks()
        self._build_menus()
        self._build_status()
        geometry = self.settings.value("geometry")
        if restore_geometry and isinstance(geometry, QtCore.QByteArray):
            self.restoreGeometry(geometry)
        if study is not None:
            self.set_study(study)

    # -- construction ----------------------------------------------------------
    def _build_central(self) -> None:
        central = QtWidgets.QWidget()
        self.setCentralWidget(central)
        layout = QtWidgets.QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        self.grid = ComparisonGrid()
        layout.addWidget(self.grid, 1)
        bar = QtWidgets.QHBoxLayout()
        self.play = QtWidgets.QPushButton("▶ Play")
        self.play.setCheckable(True)
        self.play.toggled.connect(self._toggle_play)
        self.frame_slider = QLabeledSlider(QtCore.Qt.Orientation.Horizontal)
        self.frame_slider.valueChanged.connect(self.set_frame)
        self.frame_slider.setMinimumWidth(220)
        self.fps = QtWidgets.QSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(int(self._number("fps", 20, 1, 60)))
        self.fps.setSuffix(" fps")
        self.fps.valueChanged.connect(lambda v: self.timer.setInterval(int(1000 / v)))
        self.mode = QtWidgets.QComboBox()
        self.mode.addItems(MODES)
        self.mode.currentTextChanged.connect(lambda text: self.grid.set_mode(MODES[text]))
        self.window_slider = QLabeledDoubleRangeSlider(QtCore.Qt.Orientation.Horizontal)
        self.window_slider.setDecimals(3)
        self.window_slider.setMinimumWidth(200)
        self.window_slider.valueChanged.connect(self._window_changed)
        self.auto_window = QtWidgets.QPushButton("Auto window")
        self.auto_window.clicked.connect(self._auto_window)
        for w, stretch in ((self.play, 0), (QtWidgets.QLabel("Frame"), 0), (self.frame_slider, 3), (self.fps, 0),
                           (self.mode, 0), (QtWidgets.QLabel("Window"), 0), (self.window_slider, 2),
                           (self.auto_window, 0)):
            bar.addWidget(w, stretch)
        layout.addLayout(bar)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(int(1000 / self.fps.value()))
        self.timer.timeout.connect(self._advance)
        self.grid.cursor_moved.connect(self._cursor_moved)
        self.grid.line_changed.connect(self._line_changed)

    def _build_docks(self) -> None:
        self.methods = MethodsPanel()
        self.methods.run_requested.connect(self.run_selected)
        self.methods.message.connect(self.notify)
        self.methods_dock = self._dock("Methods", self.methods, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea)
        self.mask_editor = MaskEditor(20, 128)
        self.mask_dock = self._dock("Mask", self.mask_editor, QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        self.mask_editor.apply_requested.connect(self.apply_mask)
        from .ct_panel import CTPanel, ReformatView

        self.ct_panel = CTPanel()
        self.ct_panel.run_requested.connect(self.run_ct)
        self.ct_dock = self._dock("Slice interpolation", self.ct_panel, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea)
        self.ct_dock.hide()
        self.reformat = ReformatView()
        self.metrics = MetricsPanel()
        self.profiles = ProfilePanel()
        self.jobs = JobsPanel(self.bridge)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(self.metrics, "Metrics")
        self.tabs.addTab(self.profiles, "x–t profiles")
        self.tabs.addTab(self.jobs, "Jobs")
        self.tabs.addTab(self.reformat, "Reformat")
        self.bottom_dock = self._dock("Analysis", self.tabs, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea)
        self.resizeDocks([self.methods_dock, self.mask_dock], [260, 330], QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks([self.bottom_dock], [300], QtCore.Qt.Orientation.Vertical)

    def _dock(self, title: str, widget: QtWidgets.QWidget, area) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(f"dock-{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        m = self.menuBar().addMenu("&File")
        self._action(m, "&Open study…", self.open_dialog, QtGui.QKeySequence.StandardKey.Open)
        self.recent_menu = m.addMenu("Open &recent")
        self._action(m, "Open &DICOM folder…", self.open_folder_dialog)
        self._action(m, "Open &phantom", lambda: self.open_path("phantom"))
        m.addSeparator()
        ex = m.addMenu("&Export")
        self._action(ex, "Result as HDF5 / NPZ…", self.export_result_dialog)
        self._action(ex, "Comparison movie (MP4 / GIF)…", self.export_movie_dialog)
        self._action(ex, "Current frame as PNG…", self.export_png_dialog)
        self._action(ex, "Result as DICOM series…", self.export_dicom_dialog)
        m.addSeparator()
        self._action(m, "&Quit", self.close, QtGui.QKeySequence.StandardKey.Quit)
        run = self.menuBar().addMenu("&Run")
        self._action(run, "Run selected methods", self.run_selected, "Ctrl+R")
        self._action(run, "Cancel all jobs", self.bridge.cancel_all, "Ctrl+.")
        view = self.menuBar().addMenu("&View")
        for dock in (self.methods_dock, self.mask_dock, self.bottom_dock):
            view.addAction(dock.toggleViewAction())
        self._action(view, "Reset zoom", self._reset_zoom, "Ctrl+0")
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "About MR Studio", self._about)
        self._update_recent_menu()

    def _action(self, menu: QtWidgets.QMenu, text: str, slot, shortcut=None) -> QtGui.QAction:
        act = menu.addAction(text)
        act.triggered.connect(lambda _checked=False: slot())
        if shortcut is not None:
            act.setShortcut(QtGui.QKeySequence(shortcut))
        return act

    def _build_status(self) -> None:
        from ..core.device import describe_device

        self.cursor_label = QtWidgets.QLabel("")
        self.statusBar().addPermanentWidget(self.cursor_label, 1)
        self.device_label = QtWidgets.QLabel(f"device: {describe_device(self.device)}")
        self.statusBar().addPermanentWidget(self.device_label)

    # -- studies ---------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(self.settings.value("last_dir", ""))
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open study", start, "Studies (*.h5 *.hdf5 *.mat *.npz *.dcm DICOMDIR);;All files (*)")
        if path:
            self.settings.setValue("last_dir", str(Path(path).parent))
            self.open_path(path)

    def open_folder_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Open DICOM folder",
                                                            str(self.settings.value("last_dir", "")))
        if folder:
            self.settings.setValue("last_dir", folder)
            self.open_dicom_folder(folder)

    def open_dicom_folder(self, folder: str, choose=None) -> Job | None:
        """Open a DICOM folder; with several series, ask which (``choose`` picks in tests)."""
        from ..io.dicom_read import list_series

        try:
            series = list_series(folder)
        except StudyError as exc:
            self.notify("Open DICOM folder", str(exc))
            return None
        pick = series[0]["index"]
        if len(series) > 1:
            labels = [f"#{s['number'] if s['number'] is not None else '?'} · {s['modality']} · "
                      f"{s['description'] or '(no description)'}{' [' + s['label'] + ']' if s['label'] else ''} · "
                      f"{s['kind']} {' × '.join(map(str, s.get('shape', [])))} · {s['plane']} · {s['files']} files"
                      for s in series]
            if choose is None:
                label, ok = QtWidgets.QInputDialog.getItem(self, "Choose a series", "Series:", labels, 0, False)
                if not ok:
                    return None
            else:
                label = choose(labels)
            pick = series[labels.index(label)]["index"]
        return self.open_path(folder, series=pick)

    def open_path(self, path: str, series: int | str | None = None) -> Job:
        """Read ``path`` in the background; on success it replaces the current study."""
        return self.bridge.submit(f"open {Path(path).name if path != 'phantom' else 'phantom'}", _open_study_job, path,
                                  series, on_done=lambda study: self._opened(path, study))

    def _opened(self, path: str, study) -> None:
        self.set_study(study)
        if path != "phantom":
            recent = [p for p in self._recent() if p != path]
            self.settings.setValue("recent", json.dumps([path, *recent][:MAX_RECENT]))
            self._update_recent_menu()

    def _number(self, key: str, default: float, lo: float, hi: float) -> float:
        """A numeric setting; a missing, garbled or out-of-range value gives ``default``."""
        try:
            v = float(self.settings.value(key, default))
        except (TypeError, ValueError):
            return default
        return v if lo <= v <= hi else default

    def _recent(self) -> list[str]:
        try:
            recent = json.loads(str(self.settings.value("recent", "[]")))
        except (TypeError, ValueError):
            return []
        return [str(p) for p in recent] if isinstance(recent, list) else []

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        for p in self._recent():
            self._action(self.recent_menu, p, lambda p=p: self.open_path(p))
        self.recent_menu.setEnabled(bool(self._recent()))

    def set_study(self, study: CineStudy | VolumeStudy) -> None:
        """Show ``study``; for a cine, start a session and (with ``autorun``) the default comparison."""
        self.bridge.cancel_all()
        self.study = study
        self.setWindowTitle(f"MR Studio — {study.name}")
        if isinstance(study, VolumeStudy):
            self.session = None
            self.volume = VolumeWorkspace(study, device=self.device)
            self.methods_dock.setEnabled(False)
            self.mask_dock.setEnabled(False)
            self.methods_dock.hide()
            self.mask_dock.hide()
            self.ct_dock.show()
            title = "CT volume (HU)" if study.is_ct else f"{study.modality} volume"
            self._show_stacks({title: study.volume.astype(np.float32)}, title)
            self._set_window(*_volume_levels(study))
            self.frame_slider.setValue(study.shape[0] // 2)
            self.reformat.show_volumes({"original": study.volume}, {"original": study.spacing[0]}, study.spacing[2],
                                       levels=_volume_levels(study))
            warn = "; ".join(study.meta.get("warnings", []))
            msg = f"{study.name}: {study.shape[0]} slices, {study.spacing[0]:.3g} mm"
            if warn:
                self.notify(f"{study.modality} volume", f"{msg} — {warn}")
            else:
                self.inform(msg)
            if self.autorun:  # the default: the first learned interpolator (else cubic), ×3
                labels = [m[0] for m in self.ct_panel._methods]
                pick = next((i for i, lab in enumerate(labels) if lab.startswith("HRINet")), labels.index("cubic"))
                self.ct_panel.method.setCurrentIndex(pick)
                method, model = self.ct_panel.selected()
                self.run_ct(method, model, self.ct_panel.factor.value(), False)
                self.tabs.setCurrentWidget(self.reformat)
            return
        self.ct_dock.hide()
        self.methods_dock.show()
        self.mask_dock.show()
        self.methods_dock.setEnabled(True)
        self.mask_dock.setEnabled(True)
        frames, ny = study.frames, study.matrix[0]
        spec = MaskSpec(accel=self._number("accel", 15.0, 1.5, 200.0))
        self.mask_editor.setParent(None)
        self.mask_editor = MaskEditor(frames, ny, spec)
        self.mask_editor.apply_requested.connect(self.apply_mask)
        self.mask_dock.setWidget(self.mask_editor)
        self.volume = None
        if study.fully_sampled:
            self.session = CineWorkspace(study, device=self.device, mask_spec=spec, mask=self.mask_editor.mask.copy())
        else:
            self.session = CineWorkspace(study, device=self.device)
            self.mask_editor.set_mask(self.session.mask)
        self.session.events.results_changed.connect(self._refresh_views)
        self.session.events.reference_changed.connect(self._refresh_views)
        self.frame_slider.setRange(0, frames - 1)
        self.frame_slider.setValue(0)
        self.statusBar().showMessage(f"{study.name}: {study.coils} coils, {frames} frames, "
                                     f"{ny}×{study.matrix[1]}, source {study.source}", 10000)
        self._refresh_views()
        if self.autorun:
            self.methods.select_model(default_specs(spec.accel)[-1].kwargs().get("model"))
            self.run_selected()

    # -- running ---------------------------------------------------------------
    def apply_mask(self) -> None:
        """Use the editor's mask: results are invalidated and the selected methods run again."""
        if self.session is None:
            return
        self.bridge.cancel_all()
        self.session.set_mask(self.mask_editor.mask.copy(), self.mask_editor.spec())  # views follow its events
        self.settings.setValue("accel", self.mask_editor.spec().accel)
        self.run_selected()

    def run_selected(self) -> None:
        """Run the methods ticked in the Methods dock (the reference first if it is not known yet)."""
        if self.session is None:
            return
        specs = self.session.plan(self.methods.specs())  # cached results show at once; the rest run
        if self.session.reference is None:
            self._pending = specs
            ws = self.session
            self.bridge.submit("reference", ws.compute_reference, on_done=lambda ref: self._reference_ready(ws, ref))
            return
        for spec in specs:
            self._submit(spec)

    def _reference_ready(self, ws: CineWorkspace, reference) -> None:
        if ws is not self.session:
            return
        ws.apply_reference(reference)
        specs, self._pending = self._pending, []
        for spec in specs:
            self._submit(spec)

    def _submit(self, spec: MethodSpec) -> Job:
        ws = self.session
        return self.bridge.submit(spec.title, ws.compute, spec,
                                  on_done=lambda res: ws.apply_result(spec, res) if ws is self.session else None)

    def _job_failed(self, job: Job) -> None:
        self.notify(f"{job.title} failed", job.error or "unknown error")

    def inform(self, text: str) -> None:
        """A passing message in the status bar (also kept in ``last_message``), no dialog."""
        self.last_message = text
        self.statusBar().showMessage(text.splitlines()[0], 15000)

    def notify(self, title: str, text: str) -> None:
        """A non-blocking warning (kept in ``last_message`` for tests and the status bar)."""
        self.last_message = f"{title}: {text}"
        self.statusBar().showMessage(self.last_message.splitlines()[0], 15000)
        if QtWidgets.QApplication.platformName() in ("offscreen", "minimal"):
            return
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, title, text,
                                    QtWidgets.QMessageBox.StandardButton.Ok, self)
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # -- views -----------------------------------------------------------------
    def _refresh_views(self) -> None:
        if self.session is None:
            return
        stacks, ref = self.session.magnitudes()
        titles = {}
        for name in stacks:
            res = self.session.results.get(name)
            if res is not None and res.scores:
                titles[name] = (f"<b>{name}</b> &nbsp; {res.scores['psnr']:.2f} dB · SSIM {res.scores['ssim']:.3f}"
                                f" · {res.seconds:.2f} s")
            else:
                titles[name] = f"<b>{name}</b>"
        self._show_stacks(stacks, ref, titles)
        self.metrics.update_metrics(self.session.results, self.session.accel_effective,
                                    self.session.reference[1] if self.session.reference else None,
                                    stacks, self.grid.roi_slices())

    def _show_stacks(self, stacks: dict[str, np.ndarray], ref: str | None, titles: dict[str, str] | None = None) -> None:
        first = not self.grid.stacks or next(iter(self.grid.stacks.values())).shape != next(iter(stacks.values())).shape
        self.grid.set_stacks(stacks, titles or {n: f"<b>{n}</b>" for n in stacks}, ref)
        if first:
            top = float(max(np.percentile(s, 99.9) for s in stacks.values())) * 1.5 or 1.0
            lo = float(min(s.min() for s in stacks.values()))
            self.window_slider.blockSignals(True)
            self.window_slider.setRange(min(lo, 0.0), top)
            self.window_slider.setValue(self.grid.levels)
            self.window_slider.blockSignals(False)
            self.frame_slider.setRange(0, next(iter(stacks.values())).shape[0] - 1)
        else:
            self.grid.set_window(*self.window_slider.value())
        self.grid.set_frame(self.frame_slider.value())
        pts = self.grid.line_points()
        if pts:
            self._line_changed(*pts)

    def _set_window(self, lo: float, hi: float) -> None:
        self.window_slider.blockSignals(True)
        self.window_slider.setRange(min(lo, self.window_slider.minimum()), max(hi, self.window_slider.maximum()))
        self.window_slider.setValue((lo, hi))
        self.window_slider.blockSignals(False)
        self.grid.set_window(lo, hi)

    # -- CT interpolation --------------------------------------------------------
    def run_ct(self, method: str, model: str | None, factor: int, holdout: bool) -> Job | None:
        """Interpolate the volume (or hold out slices and score) in the background."""
        ws = self.volume
        if ws is None:
            return None
        work = ws.compute_holdout if holdout else ws.compute_interpolation
        label = model or method
        return self.bridge.submit(ws.label(method, model, factor, holdout), work, method, model, factor,
                                  on_done=lambda r: self._ct_done(ws, r, label, factor, holdout))

    def _ct_done(self, ws: VolumeWorkspace, r, label: str, factor: int, holdout: bool) -> None:
        if ws is not self.volume:
            return
        study = ws.study
        if holdout:
            ws.apply_holdout(r)
            truth = r["truth"].reshape(-1, *r["truth"].shape[2:])
            pred = r["pred"].reshape(-1, *r["pred"].shape[2:])
            self._show_stacks({"held-out truth": truth, label: pred}, "held-out truth")
            scale = "HU −1000…1000" if r["intensity"]["kind"] == "hu-window" else "robust range"
            text = (f"{label}, hold-out gap {factor}: PSNR {r['psnr']:.2f} dB, SSIM {r['ssim']:.3f} "
                    f"({scale} → [0, 1]), RMSE {r['rmse']:.1f} {r['rmse_units']}, {r['seconds']:.2f} s")
        else:
            ws.apply_interpolation(r)
            new = r.study.volume
            nearest = study.volume[np.minimum(np.round(np.arange(len(new)) / factor).astype(int), study.shape[0] - 1)]
            self._show_stacks({"original (nearest)": nearest, f"{label} ×{factor}": new}, None)
            self.frame_slider.setValue(len(new) // 2 + 1)  # an inserted slice
            self.reformat.show_volumes({"original": study.volume, f"{label} ×{factor}": new},
                                       {"original": study.spacing[0], f"{label} ×{factor}": r.study.spacing[0]},
                                       study.spacing[2], levels=_volume_levels(study))
            text = (f"{label} ×{factor}: {study.shape[0]} → {new.shape[0]} slices, {r.study.spacing[0]:.3g} mm, "
                    f"{r.seconds:.2f} s on {r.device}")
        self._set_window(*_volume_levels(study))
        self.ct_panel.result.setText(text)
        self.inform(text)

    def set_frame(self, t: int) -> None:
        self.grid.set_frame(t)

    def _toggle_play(self, on: bool) -> None:
        self.play.setText("⏸ Pause" if on else "▶ Play")
        (self.timer.start if on else self.timer.stop)()

    def _advance(self) -> None:
        self.frame_slider.setValue((self.frame_slider.value() + 1) % (self.frame_slider.maximum() + 1))

    def _window_changed(self, value) -> None:
        self.grid.set_window(*value)
        pts = self.grid.line_points()
        if pts:
            self._line_changed(*pts)

    def _auto_window(self) -> None:
        from ..core.profiles import display_levels

        if self.grid.stacks:
            ref = self.grid.stacks.get(self.grid.reference_name) if self.grid.reference_name else None
            self.window_slider.setValue(display_levels(ref if ref is not None else next(iter(self.grid.stacks.values()))))

    def _reset_zoom(self) -> None:
        self.grid.reset_zoom()

    def _cursor_moved(self, y: float, x: float) -> None:
        if y < 0:  # the ROI moved: ROI statistics change
            if self.session is not None:
                stacks, _ = self.session.magnitudes()
                self.metrics.update_metrics(self.session.results, self.session.accel_effective,
                                            self.session.reference[1] if self.session.reference else None,
                                            stacks, self.grid.roi_slices())
            return
        vals = self.grid.values_at(y, x)
        text = " · ".join(f"{n.split(' (')[0]} {v:.4g}" for n, v in vals.items() if v is not None)
        self.cursor_label.setText(f"y {int(y)}, x {int(x)}, frame {self.frame_slider.value()}: {text}" if text else "")

    def _line_changed(self, p0, p1) -> None:
        if self.grid.stacks:
            self.profiles.update_profiles(self.grid.stacks, p0, p1, self.grid.levels)

    # -- export ----------------------------------------------------------------
    def _choose_result(self, title: str) -> str | None:
        if self.session is None or not self.session.results:
            self.notify(title, "Nothing to export yet: run a reconstruction first.")
            return None
        names = list(self.session.results)
        if len(names) == 1:
            return names[0]
        name, ok = QtWidgets.QInputDialog.getItem(self, title, "Result", names, len(names) - 1, False)
        return name if ok else None

    def _save_path(self, title: str, default: str, filters: str) -> str | None:
        start = str(Path(str(self.settings.value("last_dir", ""))) / default)
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, title, start, filters)
        if path:
            self.settings.setValue("last_dir", str(Path(path).parent))
        return path or None  # the dialog asked before overwriting

    def export_result_dialog(self) -> None:
        name = self._choose_result("Export result")
        path = name and self._save_path("Export result", f"{name.split()[0].lower()}.h5", "HDF5 (*.h5);;NumPy (*.npz)")
        if path:
            self.export_result(name, path, force=True)

    def export_result(self, name: str, path: str, force: bool = False) -> Path | None:
        from ..workspace.export import recon_provenance, write_recon

        ws = self.session
        res = ws.results[name]
        try:
            return write_recon(res, ws.study, path, "npz" if str(path).endswith(".npz") else "h5",
                               recon_provenance(res, ws.study, ws.mask_spec), force=force)
        except StudyError as exc:
            self.notify("Export result", str(exc))
            return None

    def export_movie_dialog(self) -> None:
        path = self._save_path("Export movie", "comparison.mp4", "MP4 video (*.mp4);;Animated GIF (*.gif)")
        if path:
            self.export_movie(path, force=True)

    def export_movie(self, path: str, force: bool = False) -> Job | None:
        """Write the grid's stacks side by side (current window) as MP4/GIF, in the background."""
        from ..io.video import side_by_side, write_movie

        if not self.grid.stacks:
            self.notify("Export movie", "Nothing to export yet.")
            return None
        frames = side_by_side(list(self.grid.stacks.values()), self.grid.levels)
        fps = self.fps.value()
        return self.bridge.submit(f"movie {Path(path).name}",
                                  lambda progress=None, cancel=None: write_movie(frames, path, fps=fps, force=force))

    def export_png_dialog(self) -> None:
        path = self._save_path("Export frame", f"frame{self.frame_slider.value():02d}.png", "PNG (*.png)")
        if path:
            self.export_png(path, force=True)

    def export_png(self, path: str, force: bool = False) -> Path | None:
        from ..io.video import side_by_side, write_png

        if not self.grid.stacks:
            return None
        t = self.frame_slider.value()
        try:
            return write_png(side_by_side([s[t:t + 1] for s in self.grid.stacks.values()], self.grid.levels)[0], path,
                             force=force)
        except StudyError as exc:
            self.notify("Export frame", str(exc))
            return None

    def export_dicom_dialog(self) -> None:
        if isinstance(self.study, VolumeStudy):
            folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Export the interpolated CT into folder",
                                                                str(self.settings.value("last_dir", "")))
            if folder:
                self.export_ct_dicom(folder)
            return
        name = self._choose_result("Export DICOM")
        if not name:
            return
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Export DICOM series into folder",
                                                            str(self.settings.value("last_dir", "")))
        if folder:
            self.export_dicom(name, folder)

    def _series_folder(self, folder: str, name: str, force: bool) -> Path | None:
        """``folder/NAME`` (file-system-safe) for a DICOM series, or ``None`` (with a message) if taken."""
        from ..io.atomic import check_folder_target
        from ..workspace.export import series_folder

        target = series_folder(folder, name)
        try:
            return check_folder_target(target, force)
        except StudyError as exc:
            self.notify("Export DICOM", f"{target} {exc.reason.split(' (')[0]}; nothing written.")
            return None

    def export_ct_dicom(self, folder: str, force: bool = False) -> Job | None:
        """Write the latest interpolated volume as a DICOM series into a new sub-folder of ``folder``."""
        from ..workspace.export import write_interpolation

        ws = self.volume
        if ws is None or ws.latest is None:
            self.notify("Export DICOM", "Interpolate the volume first; there is no new volume to export.")
            return None
        r = ws.interpolations[ws.latest]
        target = self._series_folder(folder, r.study.name, force)
        if target is None:
            return None
        return self.bridge.submit("DICOM volume", write_interpolation, r, target, force=force)

    def export_dicom(self, name: str, folder: str, force: bool = False) -> Job | None:
        """Write result ``name`` as a DICOM series into a new sub-folder of ``folder``."""
        from ..workspace.export import recon_provenance, write_recon

        ws = self.session
        res = ws.results[name]
        target = self._series_folder(folder, f"{ws.study.name}_{name}", force)
        if target is None:
            return None
        prov = recon_provenance(res, ws.study, ws.mask_spec)
        return self.bridge.submit(f"DICOM {name}", write_recon, res, ws.study, target, "dicom", prov, force=force)

    # -- drag and drop, about, closing --------------------------------------------
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:  # noqa: N802 (Qt naming)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:  # noqa: N802
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            if Path(urls[0]).is_dir():
                self.open_dicom_folder(urls[0])
            else:
                self.open_path(urls[0])
            event.acceptProposedAction()

    def _about(self) -> None:
        from .. import __version__

        QtWidgets.QMessageBox.about(self, "About MR Studio",
                                    f"<b>MR Studio {__version__}</b><br>Accelerated cine MRI reconstruction and CT slice "
                                    f"interpolation.<br>Device: {self.device_label.text()}")

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802
        self.timer.stop()
        self.bridge.cancel_all()
        self.bridge.wait_all(timeout_s=5.0)
        if self.isVisible() and QtWidgets.QApplication.platformName() not in ("offscreen", "minimal"):
            self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("fps", self.fps.value())
        super().closeEvent(event)
