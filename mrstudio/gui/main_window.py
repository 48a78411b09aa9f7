"""The main window: builds the widgets, wires them to the controllers, and shows what they compute.

Layout: the :class:`~mrstudio.gui.comparison_view.ComparisonView` (linked grid and playback
bar) in the centre; *Methods* on the left (or *Slice
interpolation* for a volume); the *Mask* editor on the right; *Metrics*, *x–t profiles*,
*Jobs* and *Reformat* as tabs at the bottom. State and numerics live in the Qt-free
workspaces (:mod:`mrstudio.workspace`), bound to the widgets by
:class:`~mrstudio.gui.cine_controller.CineController` and
:class:`~mrstudio.gui.volume_controller.VolumeController`; every computation goes through
the one :class:`~mrstudio.gui.jobs.JobBridge`, and its outcome is applied on the GUI thread.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from ..core.errors import StudyError
from ..core.masks import MaskSpec
from ..core.study import CineStudy, VolumeStudy
from ..workspace.cine import CineWorkspace
from ..workspace.volume import VolumeWorkspace
from .batch_dialog import batch_dialog
from .cine_controller import CineController
from .comparison_view import ComparisonView
from .exports import Exports
from .jobs import Job, JobBridge
from .layers_panel import LayersPanel
from .mask_editor import MaskEditor
from .methods_panel import MethodsPanel
from .pacs_dialog import open_from_pacs, send_to_pacs
from .panels import JobsPanel, MetricsPanel, ProfilePanel
from .shortcuts import show_shortcuts
from .study_opener import StudyOpener
from .volume_controller import VolumeController


def default_size(avail: QtCore.QSize) -> tuple[int, int]:
    """The first window size: 1600 × 1000, or the available screen less a margin."""
    return min(1600, avail.width() - 40), min(1000, avail.height() - 60)


def scrolled(widget: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """``widget`` in a frameless scroll area (a dock may then be smaller than its content)."""
    area = QtWidgets.QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    area.setWidget(widget)
    return area


class MainWindow(QtWidgets.QMainWindow):
    """The workstation window for one study at a time (a cine or a volume)."""

    def __init__(self, study: CineStudy | VolumeStudy | None = None, device: str = "cpu", autorun: bool = True,
                 settings: QtCore.QSettings | None = None, restore_geometry: bool = True):
        super().__init__()
        self.device, self.autorun = device, autorun
        self.settings = settings or QtCore.QSettings()
        self.setWindowTitle("MR Studio")
        self.setAcceptDrops(True)
        self._fitted_once = not restore_geometry  # --screenshot and benchmarks: a fixed size, whatever the screen
        self.resize(*(default_size(self.screen().availableGeometry().size()) if restore_geometry else (1600, 1000)))
        self.bridge = JobBridge(self)
        self.bridge.failed.connect(lambda job: self.notify(f"{job.title} failed", job.error or "unknown error"))
        self.study: CineStudy | VolumeStudy | None = None
        self.last_message: str | None = None
        self.last_batch = None  # the summary of the last File → Batch… run
        self.cine, self.volumes, self.exports = CineController(self), VolumeController(self), Exports(self)
        self._build_central()
        self._build_docks()
        self._build_menus()
        self._build_status()
        geometry = self.settings.value("geometry")
        if restore_geometry and isinstance(geometry, QtCore.QByteArray):
            self.restoreGeometry(geometry)
        if restore_geometry:
            self.fit_to_screen()
        if study is not None:
            self.set_study(study)

    @property
    def session(self) -> CineWorkspace | None:
        """The cine comparison shown (Qt-free model), if any."""
        return self.cine.ws

    @property
    def volume(self) -> VolumeWorkspace | None:
        """The volume being interpolated (Qt-free model), if any."""
        return self.volumes.ws

    # -- construction ----------------------------------------------------------
    def _build_central(self) -> None:
        self.profiles = ProfilePanel()
        self.view = ComparisonView(self.profiles, fps=int(self.number_setting("fps", 20, 1, 60)))
        self.setCentralWidget(self.view)
        self.grid, self.playback = self.view.grid, self.view.playback
        self.frame_slider, self.window_slider = self.playback.frame_slider, self.playback.window_slider
        self.view.roi_moved.connect(lambda: self.cine.update_metrics())
        self.show_stacks = self.view.show_stacks
        for key, delta in ((QtCore.Qt.Key.Key_Right, 1), (QtCore.Qt.Key.Key_Left, -1)):
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(key), self)
            shortcut.activated.connect(lambda d=delta: self.playback.step(d))
        QtGui.QShortcut(QtGui.QKeySequence(QtCore.Qt.Key.Key_Space), self).activated.connect(self.playback.play.toggle)

    def _build_docks(self) -> None:
        from .ct_panel import CTPanel, ReformatView

        self.methods = MethodsPanel()
        self.methods.restore(self.json_setting("methods"))
        self.methods.run_requested.connect(self.cine.run_selected)
        self.methods.message.connect(self.notify)
        self.layers = LayersPanel()
        self.layers.visibility_changed.connect(self.cine.set_visible)
        self.layers.move_requested.connect(lambda t, i: self.session and self.session.move(t, i))
        self.layers.remove_requested.connect(lambda t: self.session and self.session.remove(t))
        self.layers.add_losses_requested.connect(self.cine.add_all_losses)
        self.layers.difference_requested.connect(lambda a, b: self.session and self.session.set_difference(a, b))
        self.layers_dock = self._dock("Layers", self.layers, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea)
        self.methods_dock = self._dock("Methods", scrolled(self.methods), QtCore.Qt.DockWidgetArea.LeftDockWidgetArea)
        self.mask_editor = MaskEditor(20, 128, live=self.settings.value("mask/live", "true") in (True, "true"))
        self.mask_scroll = scrolled(self.mask_editor)
        self.mask_dock = self._dock("Mask", self.mask_scroll, QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        self.mask_editor.apply_requested.connect(self.cine.apply_mask)
        self.ct_panel = CTPanel()
        self.ct_panel.run_requested.connect(self.volumes.run)
        self.ct_dock = self._dock("Slice interpolation", self.ct_panel, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea)
        self.ct_dock.hide()
        self.reformat, self.metrics = ReformatView(), MetricsPanel()
        self.tabs = QtWidgets.QTabWidget()
        for widget, title in ((self.metrics, "Metrics"), (self.profiles, "x–t profiles"),
                              (JobsPanel(self.bridge), "Jobs"), (self.reformat, "Reformat")):
            self.tabs.addTab(widget, title)
        self.bottom_dock = self._dock("Analysis", self.tabs, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea)
        self.arrange_docks()

    def _dock(self, title: str, widget: QtWidgets.QWidget, area) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(f"dock-{title}")
        dock.setFeatures(dock.features() | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        m = self.menuBar().addMenu("&File")
        self._action(m, "&Open study…", lambda: self.opener.open_dialog(), QtGui.QKeySequence.StandardKey.Open)
        self.opener = StudyOpener(self, m.addMenu("Open &recent"))
        self._action(m, "Open &DICOM folder…", self.opener.open_folder_dialog)
        self._action(m, "Open from &PACS…", lambda: open_from_pacs(self))
        self._action(m, "Open &phantom", lambda: self.opener.open_path("phantom"))
        m.addSeparator()
        self._action(m, "&Batch…", lambda: batch_dialog(self), "Ctrl+B")
        ex = m.addMenu("&Export")
        for text, slot in (("Result as HDF5 / NPZ…", self.exports.result_dialog),
                           ("Comparison movie (MP4 / GIF)…", self.exports.movie_dialog),
                           ("Current frame as PNG…", self.exports.png_dialog),
                           ("Result as DICOM series…", self.exports.dicom_dialog),
                           ("Send to PACS…", lambda: send_to_pacs(self))):
            self._action(ex, text, slot)
        m.addSeparator()
        self._action(m, "&Quit", self.close, QtGui.QKeySequence.StandardKey.Quit)
        edit = self.menuBar().addMenu("&Edit")
        self._action(edit, "&Undo mask edit", lambda: self.mask_editor.undo(), QtGui.QKeySequence.StandardKey.Undo)
        self._action(edit, "&Redo mask edit", lambda: self.mask_editor.redo(), "Ctrl+Shift+Z")
        self._action(edit, "&Apply mask (re-run slow methods)", lambda: self.cine.apply_mask(), "Ctrl+Return")
        self._action(edit, "&Snapshot the mask (A/B)", lambda: self.cine.snapshot())
        run = self.menuBar().addMenu("&Run")
        self._action(run, "Run selected methods", self.cine.run_selected, "Ctrl+R")
        self._action(run, "Add all losses at this R", self.cine.add_all_losses)
        self._action(run, "Cancel all jobs", self.bridge.cancel_all, "Ctrl+.")
        view = self.menuBar().addMenu("&View")
        for dock in (self.layers_dock, self.methods_dock, self.mask_dock, self.bottom_dock):
            view.addAction(dock.toggleViewAction())
        self._action(view, "Reset zoom", self.grid.reset_zoom, "Ctrl+0")
        self._action(view, "Fit the window to the screen", self.fit_to_screen)
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts and mouse", lambda: show_shortcuts(self), "F1")
        self._action(help_menu, "About MR Studio", self._about)

    def _action(self, menu: QtWidgets.QMenu, text: str, slot, shortcut=None) -> QtGui.QAction:
        act = menu.addAction(text)
        act.triggered.connect(lambda _checked=False: slot())
        if shortcut is not None:
            act.setShortcut(QtGui.QKeySequence(shortcut))
        return act

    def _build_status(self) -> None:
        from ..core.device import describe_device

        self.cursor_label = QtWidgets.QLabel("")
        self.cursor_label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.view.cursor_text.connect(self.cursor_label.setText)
        self.statusBar().addPermanentWidget(self.cursor_label, 1)
        self.written_label = QtWidgets.QLabel("")
        self.written_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.written_label.setOpenExternalLinks(True)
        self.written_label.setVisible(False)
        self.statusBar().addPermanentWidget(self.written_label)
        self.device_label = QtWidgets.QLabel(f"device: {describe_device(self.device)}")
        self.statusBar().addPermanentWidget(self.device_label)

    def json_setting(self, key: str) -> dict:
        """A dict kept as JSON in the settings (a missing or garbled value gives ``{}``)."""
        try:
            value = json.loads(str(self.settings.value(key, "{}")))
        except (TypeError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def saved_mask_spec(self) -> MaskSpec:
        """The mask kind, R, ACS and seed of the last session (R alone in older settings)."""
        saved = self.json_setting("mask")
        accel = self.number_setting("accel", 15.0, 1.5, 200.0)
        try:
            return MaskSpec(kind=str(saved.get("kind", "vd-kt")), accel=accel, acs=int(saved.get("acs", 2)),
                            seed=int(saved.get("seed", 0)))
        except (StudyError, TypeError, ValueError):
            return MaskSpec(accel=accel)

    def save_mask_spec(self, spec: MaskSpec) -> None:
        self.settings.setValue("accel", spec.accel)
        self.settings.setValue("mask", json.dumps({"kind": spec.kind, "acs": spec.acs, "seed": spec.seed}))

    def set_mask_editor(self, editor: MaskEditor) -> None:
        """Show ``editor`` in the Mask dock (the one it replaces is deleted)."""
        self.mask_editor = editor
        self.mask_scroll.setWidget(editor)

    def arrange_docks(self) -> None:
        """Dock sizes for the screen: narrow side docks and a low analysis strip on small screens."""
        screen = self.screen().availableGeometry()
        small = screen.width() < 1600 or screen.height() < 900
        if small:
            self.tabifyDockWidget(self.layers_dock, self.methods_dock)
            self.layers_dock.raise_()
        else:
            self.splitDockWidget(self.layers_dock, self.methods_dock, QtCore.Qt.Orientation.Vertical)
        self.resizeDocks([self.layers_dock, self.mask_dock], [230 if small else 270, 290 if small else 340],
                         QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks([self.bottom_dock], [170 if small else 280], QtCore.Qt.Orientation.Vertical)

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        if not self._fitted_once:  # the window manager's frame is known once the window is shown
            self._fitted_once = True
            QtCore.QTimer.singleShot(0, self.fit_to_screen)

    def fit_to_screen(self) -> None:
        """Keep the whole window on its screen: shrink it to the available area and move it inside."""
        avail = self.screen().availableGeometry()
        frame = self.frameGeometry()
        extra = frame.size() - self.geometry().size()  # the window manager's frame
        w = min(self.width(), avail.width() - extra.width())
        h = min(self.height(), avail.height() - extra.height())
        if (w, h) != (self.width(), self.height()):
            self.resize(w, h)
        frame = self.frameGeometry()
        x = min(max(frame.x(), avail.x()), avail.right() - frame.width() + 1)
        y = min(max(frame.y(), avail.y()), avail.bottom() - frame.height() + 1)
        if (x, y) != (frame.x(), frame.y()):
            self.move(x, y)

    def written(self, path: str | Path, what: str = "") -> None:
        """Say where an export went: "written to PATH — show folder" in the status bar."""
        path = Path(path)
        folder = path if path.is_dir() else path.parent
        self.last_message = f"{what + ' ' if what else ''}written to {path}"
        self.written_label.setText(f"{html.escape(self.last_message)} — <a href='{folder.as_uri()}'>show folder</a>")
        self.written_label.setVisible(True)
        self.statusBar().showMessage(self.last_message, 15000)

    def number_setting(self, key: str, default: float, lo: float, hi: float) -> float:
        """A numeric setting; a missing, garbled or out-of-range value gives ``default``."""
        try:
            v = float(self.settings.value(key, default))
        except (TypeError, ValueError):
            return default
        return v if lo <= v <= hi else default

    # -- studies ---------------------------------------------------------------
    def open_path(self, path: str, series: int | str | None = None) -> Job:
        """Read ``path`` in the background; on success it replaces the current study."""
        return self.opener.open_path(path, series)

    def set_study(self, study: CineStudy | VolumeStudy) -> None:
        """Show ``study``: a cine in the comparison, a volume in the interpolation workspace."""
        self.bridge.cancel_all()
        self.study = study
        self.setWindowTitle(f"MR Studio — {study.name}")
        cine = isinstance(study, CineStudy)
        for dock in (self.methods_dock, self.mask_dock, self.layers_dock):
            dock.setEnabled(cine)
            dock.setVisible(cine)
        self.ct_dock.setVisible(not cine)
        self.playback.set_axis("Frame" if cine else "Slice")
        self.playback.set_presets(ct=not cine and study.is_ct)
        if cine:
            self.volumes.ws = None
            self.cine.show(study)
        else:
            self.cine.ws = None
            self.volumes.show(study)

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

    # -- drag and drop, about, closing --------------------------------------------
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:  # noqa: N802 (Qt naming)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:  # noqa: N802
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            (self.opener.open_dicom_folder if Path(urls[0]).is_dir() else self.opener.open_path)(urls[0])
            event.acceptProposedAction()

    def _about(self) -> None:
        from .. import __version__

        QtWidgets.QMessageBox.about(self, "About MR Studio",
                                    f"<b>MR Studio {__version__}</b><br>Accelerated cine MRI reconstruction and slice "
                                    f"interpolation.<br>{self.device_label.text()}")

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802
        self.playback.timer.stop()
        self.bridge.cancel_all()
        self.bridge.wait_all(timeout_s=5.0)
        if self.isVisible() and QtWidgets.QApplication.platformName() not in ("offscreen", "minimal"):
            self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("fps", self.playback.fps.value())
        self.settings.setValue("methods", json.dumps(self.methods.state()))
        self.settings.setValue("mask/live", self.mask_editor.live.isChecked())
        if self.session is not None:
            self.save_mask_spec(self.mask_editor.spec())
        super().closeEvent(event)
