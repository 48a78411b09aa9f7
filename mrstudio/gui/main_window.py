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

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from ..core.study import CineStudy, VolumeStudy
from ..workspace.cine import CineWorkspace
from ..workspace.volume import VolumeWorkspace
from .batch_dialog import batch_dialog
from .cine_controller import CineController
from .comparison_view import ComparisonView
from .exports import Exports
from .jobs import Job, JobBridge
from .mask_editor import MaskEditor
from .methods_panel import MethodsPanel
from .pacs_dialog import open_from_pacs, send_to_pacs
from .panels import JobsPanel, MetricsPanel, ProfilePanel
from .study_opener import StudyOpener
from .volume_controller import VolumeController


class MainWindow(QtWidgets.QMainWindow):
    """The workstation window for one study at a time (a cine or a volume)."""

    def __init__(self, study: CineStudy | VolumeStudy | None = None, device: str = "cpu", autorun: bool = True,
                 settings: QtCore.QSettings | None = None, restore_geometry: bool = True):
        super().__init__()
        self.device, self.autorun = device, autorun
        self.settings = settings or QtCore.QSettings()
        self.setWindowTitle("MR Studio")
        self.setAcceptDrops(True)
        self.resize(1600, 1000)
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
        self.methods.run_requested.connect(self.cine.run_selected)
        self.methods.message.connect(self.notify)
        self.methods_dock = self._dock("Methods", self.methods, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea)
        self.mask_editor = MaskEditor(20, 128)
        self.mask_dock = self._dock("Mask", self.mask_editor, QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
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
        run = self.menuBar().addMenu("&Run")
        self._action(run, "Run selected methods", self.cine.run_selected, "Ctrl+R")
        self._action(run, "Cancel all jobs", self.bridge.cancel_all, "Ctrl+.")
        view = self.menuBar().addMenu("&View")
        for dock in (self.methods_dock, self.mask_dock, self.bottom_dock):
            view.addAction(dock.toggleViewAction())
        self._action(view, "Reset zoom", self.grid.reset_zoom, "Ctrl+0")
        self._action(self.menuBar().addMenu("&Help"), "About MR Studio", self._about)

    def _action(self, menu: QtWidgets.QMenu, text: str, slot, shortcut=None) -> QtGui.QAction:
        act = menu.addAction(text)
        act.triggered.connect(lambda _checked=False: slot())
        if shortcut is not None:
            act.setShortcut(QtGui.QKeySequence(shortcut))
        return act

    def _build_status(self) -> None:
        from ..core.device import describe_device

        self.cursor_label = QtWidgets.QLabel("")
        self.view.cursor_text.connect(self.cursor_label.setText)
        self.statusBar().addPermanentWidget(self.cursor_label, 1)
        self.device_label = QtWidgets.QLabel(f"device: {describe_device(self.device)}")
        self.statusBar().addPermanentWidget(self.device_label)

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
        for dock in (self.methods_dock, self.mask_dock):
            dock.setEnabled(cine)
            dock.setVisible(cine)
        self.ct_dock.setVisible(not cine)
        self.playback.set_axis("Frame" if cine else "Slice")
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
        super().closeEvent(event)
