"""File → Batch…: the comparison's method set (or the volume's interpolator) over a folder of studies.

The dialog asks for the studies and the output folder; the batch itself is
:func:`mrstudio.batch.engine.run_batch` — the code ``mrstudio batch`` runs — as one job of
the window's job layer (progress and cancel in the Jobs tab). When it ends, the window says
where the report is and offers to open it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtGui, QtWidgets

from ..batch.spec import BatchSpec

if TYPE_CHECKING:
    from .jobs import Job
    from .main_window import MainWindow


def specs_of_window(win: MainWindow) -> list[BatchSpec]:
    """What the window compares now, as batch specs: the ticked methods under the mask editor's
    kind/R/ACS/seed for a cine, the chosen interpolator and factor for a volume."""
    if win.volume is not None:
        method, model = win.ct_panel.selected()
        return [BatchSpec("interp", method, fmt="dicom", device=win.device, factor=win.ct_panel.factor.value(),
                          holdout=win.ct_panel.holdout.isChecked(), model=model)]
    mask = win.mask_editor.spec()
    return [BatchSpec("recon", s.method, fmt="h5", device=win.device if s.method in ("cnn", "unrolled") else "cpu",
                      mask=mask.kind, accel=mask.accel, acs=mask.acs, seed=mask.seed, params=s.kwargs(),
                      label=s.title if s.label else "")
            for s in win.methods.specs()]


class BatchDialog(QtWidgets.QDialog):
    """Studies folder, output folder, workers, resume; ``accepted`` when both folders are given."""

    def __init__(self, win: MainWindow, specs: list[BatchSpec]):
        super().__init__(win)
        self.setWindowTitle("Batch")
        self.specs = specs
        settings = win.settings
        self.studies = QtWidgets.QLineEdit(str(settings.value("batch/studies", "")))
        self.out = QtWidgets.QLineEdit(str(settings.value("batch/out", "")))
        self.workers = QtWidgets.QSpinBox()
        self.workers.setRange(1, max(64, os.cpu_count() or 1))
        self.workers.setValue(os.cpu_count() or 1)
        self.workers.setToolTip("Local worker processes, one thread each")
        self.resume = QtWidgets.QCheckBox("Resume a batch in this folder (skip what is done)")
        form = QtWidgets.QFormLayout(self)
        for label, edit, pick in (("Studies folder", self.studies, self._pick_studies),
                                  ("Output folder", self.out, self._pick_out)):
            row = QtWidgets.QHBoxLayout()
            row.addWidget(edit, 1)
            browse = QtWidgets.QPushButton("Browse…")
            browse.clicked.connect(pick)
            row.addWidget(browse)
            form.addRow(label, row)
        methods = ", ".join(s.title for s in specs)
        what = (f"R {specs[0].accel:g} {specs[0].mask}" if specs and specs[0].command == "recon"
                else f"×{specs[0].factor}" if specs else "")
        form.addRow("Methods", QtWidgets.QLabel(f"{methods} ({what})" if specs else "none selected"))
        form.addRow("Workers", self.workers)
        form.addRow(self.resume)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        self.ok = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Run batch")
        form.addRow(buttons)

    def _pick_studies(self) -> None:
        d = QtWidgets.QFileDialog.getExistingDirectory(self, "Folder of studies", self.studies.text())
        if d:
            self.studies.setText(d)

    def _pick_out(self) -> None:  # the non-native dialog lets the user create the folder
        dlg = QtWidgets.QFileDialog(self, "Output folder", self.out.text())
        dlg.setFileMode(QtWidgets.QFileDialog.FileMode.Directory)
        dlg.setOption(QtWidgets.QFileDialog.Option.ShowDirsOnly, True)
        if dlg.exec() and dlg.selectedFiles():
            self.out.setText(dlg.selectedFiles()[0])

    def _accept(self) -> None:
        if self.specs and self.studies.text().strip() and self.out.text().strip():
            self.accept()


def run_batch_job(win: MainWindow, studies: str, out: str, specs: list[BatchSpec], workers: int | None = None,
                  resume: bool = False) -> Job:
    """Find the studies and run the batch as one job; on success the window reports where the report is."""
    from ..batch.engine import run_batch
    from ..batch.studies import find_studies

    def work(progress=None, cancel=None) -> Any:
        return run_batch(find_studies([studies]), specs, out, workers=workers, resume=resume, progress=progress,
                         cancel=cancel)

    def done(summary) -> None:
        win.last_batch = summary
        win.inform(f"Batch: {summary.done} done, {summary.failed} failed, {summary.skipped} skipped in "
                   f"{summary.seconds:.0f} s — report written to {summary.report}")
        if QtWidgets.QApplication.platformName() not in ("offscreen", "minimal"):
            box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Information, "Batch finished",
                                        f"{summary.done} done, {summary.failed} failed, {summary.skipped} skipped.\n"
                                        f"Report: {summary.report}", QtWidgets.QMessageBox.StandardButton.Close, win)
            show = box.addButton("Open report", QtWidgets.QMessageBox.ButtonRole.ActionRole)
            show.clicked.connect(lambda: QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(summary.report)))
            box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

    return win.bridge.submit(f"Batch over {Path(studies).name or studies}", work, on_done=done)


def batch_dialog(win: MainWindow) -> Job | None:
    """File → Batch…: ask, remember the folders, run."""
    specs = specs_of_window(win)
    if not specs:
        win.notify("Batch", "Tick at least one method first.")
        return None
    dlg = BatchDialog(win, specs)
    if not dlg.exec():
        return None
    win.settings.setValue("batch/studies", dlg.studies.text())
    win.settings.setValue("batch/out", dlg.out.text())
    return run_batch_job(win, dlg.studies.text(), dlg.out.text(), specs, dlg.workers.value(), dlg.resume.isChecked())
