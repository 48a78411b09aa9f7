"""The main window: builds the widgets, wires them to the controllers, and shows what they compute.

Layout: the :class:`~mrstudio.gui.comparison_view.ComparisonView` (linked grid and playback
bar) in the centre; *Methods* on the left (or *Slice
interpolation* for a volume); the *Mask* editor on the right; *Metrics*, *x–t profiles*,
*Jobs* and *Reformat* as tabs at the bottom. State and numerics live in the Qt-free
workspaces (:mod:`mrstudio.workspace`), bound to the widgets by
:class:`~mrstudio.gui.cine_controller.CineController` and
:class:`~mrstudio.gui.volume_controller.VolumeController`; every computation goes through
the one :class:`~mrstudio.gui.jobs.JobBridge`, and its outcome is applied on the GUI thread.
The menus (:mod:`~mrstudio.gui.menus`), the docks (:mod:`~mrstudio.gui.docks`), the status bar, the
window's size on its screen and the saved settings each have their own module; this one builds and wires.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from ..core.study import CineStudy, VolumeStudy
from ..workspace.cine import CineWorkspace
from ..workspace.volume import VolumeWorkspace
from .cine_controller import CineController
from .comparison_view import ComparisonView
from .docks import add_dock, arrange_docks, scrolled
from .exports import Exports
from .jobs import Job, JobBridge, freeze_gc_after_startup
from .layers_panel import LayersPanel
from .mask_editor import MaskEditor
from .menus import build_menus
from .methods_panel import MethodsPanel
from .panels import JobsPanel, MetricsPanel, ProfilePanel
from .settings import json_setting, number_setting, save_mask_spec
from .status_bar import StatusBar
from .study_opener import StudyOpener
from .volume_controller import VolumeController
from .window_size import default_size, fit_to_screen, restore_saved_geometry


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
        freeze_gc_after_startup(self.bridge)
        self.bridge.failed.connect(lambda job: self.notify(f"{job.title} failed", job.error or "unknown error"))
        self.study: CineStudy | VolumeStudy | None = None
        self.last_message: str | None = None
        self.last_batch = None  # the summary of the last File → Batch… run
        self.cine, self.volumes, self.exports = CineController(self), VolumeController(self), Exports(self)
        self._build_central()
        self._build_docks()
        self.opener = StudyOpener(self, QtWidgets.QMenu("Open &recent", self))
        build_menus(self)
        self.status = StatusBar(self.device, self)
        self.setStatusBar(self.status)
        self.view.cursor_text.connect(self.status.cursor_label.setText)
        if restore_geometry:
            restore_saved_geometry(self, self.settings)
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
        self.view = ComparisonView(self.profiles, fps=int(number_setting(self.settings, "fps", 20, 1, 60)))
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
        self.methods.restore(json_setting(self.settings, "methods"))
        self.methods.run_requested.connect(self.cine.run_selected)
        self.methods.message.connect(self.notify)
        self.layers = LayersPanel()
        self.layers.visibility_changed.connect(self.cine.set_visible)
        self.layers.move_requested.connect(lambda t, i: self.session and self.session.move(t, i))
        self.layers.remove_requested.connect(lambda t: self.session and self.session.remove(t))
        self.layers.add_losses_requested.connect(self.cine.add_all_losses)
        self.layers.difference_requested.connect(lambda a, b: self.session and self.session.set_difference(a, b))
        self.layers_dock = add_dock(self, "Layers", self.layers, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea)
        self.methods_dock = add_dock(self, "Methods", scrolled(self.methods), QtCore.Qt.DockWidgetArea.LeftDockWidgetArea)
        self.mask_editor = MaskEditor(20, 128, live=self.settings.value("mask/live", "true") in (True, "true"))
        self.mask_scroll = scrolled(self.mask_editor)
        self.mask_dock = add_dock(self, "Mask", self.mask_scroll, QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        self.mask_editor.apply_requested.connect(self.cine.apply_mask)
        self.ct_panel = CTPanel()
        self.ct_panel.run_requested.connect(self.volumes.run)
        self.ct_dock = add_dock(self, "Slice interpolation", self.ct_panel, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea)
        self.ct_dock.hide()
        self.reformat, self.metrics = ReformatView(), MetricsPanel()
        self.tabs = QtWidgets.QTabWidget()
        for widget, title in ((self.metrics, "Metrics"), (self.profiles, "x–t profiles"),
                              (JobsPanel(self.bridge), "Jobs"), (self.reformat, "Reformat")):
            self.tabs.addTab(widget, title)
        self.bottom_dock = add_dock(self, "Analysis", self.tabs, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea)
        arrange_docks(self, self.layers_dock, self.methods_dock, self.mask_dock, self.bottom_dock)

    def set_mask_editor(self, editor: MaskEditor) -> None:
        """Show ``editor`` in the Mask dock (the one it replaces is deleted)."""
        self.mask_editor = editor
        self.mask_scroll.setWidget(editor)

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        if not self._fitted_once:  # the window manager's frame is known once the window is shown
            self._fitted_once = True
            QtCore.QTimer.singleShot(0, self, lambda: fit_to_screen(self))

    def written(self, path: str | Path, what: str = "") -> None:
        """Say where an export went: "written to PATH — show folder" in the status bar."""
        self.last_message = self.status.show_written(path, what)

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

    # -- drag and drop, closing -----------------------------------------------
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:  # noqa: N802 (Qt naming)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:  # noqa: N802
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            (self.opener.open_dicom_folder if Path(urls[0]).is_dir() else self.opener.open_path)(urls[0])
            event.acceptProposedAction()

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
            save_mask_spec(self.settings, self.mask_editor.spec())
        super().closeEvent(event)
