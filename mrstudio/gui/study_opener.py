"""File → Open: studies, DICOM folders (with the series browser table when there are several), recent files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtWidgets

from ..core.errors import StudyError
from .jobs import Job

if TYPE_CHECKING:
    from .main_window import MainWindow

MAX_RECENT = 8


def _open_study_job(path: str, series: int | str | None = None, progress=None, cancel=None):
    from ..io import open_study

    if progress:
        progress(0.1, f"reading {Path(path).name}")
    return open_study(path, series=series)


def series_label(s: dict) -> str:
    """One row of the series chooser: number, modality, description, stack, kind and shape, plane, files."""
    number = s["number"] if s["number"] is not None else "?"
    stack = f" [{s['label']}]" if s["label"] else ""
    shape = " × ".join(map(str, s.get("shape", [])))
    return (f"#{number} · {s['modality']} · {s['description'] or '(no description)'}{stack} · {s['kind']} {shape} · "
            f"{s['plane']} · {s['files']} files")


class StudyOpener:
    """Opens studies in the background for ``win``; a study read successfully replaces the current one."""

    def __init__(self, win: MainWindow, recent_menu: QtWidgets.QMenu):
        self.win = win
        self.recent_menu = recent_menu
        self.update_recent_menu()

    def open_dialog(self) -> None:
        settings = self.win.settings
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self.win, "Open study", str(settings.value("last_dir", "")),
            "Studies (*.h5 *.hdf5 *.mat *.npz *.dcm DICOMDIR);;All files (*)")
        if path:
            settings.setValue("last_dir", str(Path(path).parent))
            self.open_path(path)

    def open_folder_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self.win, "Open DICOM folder",
                                                            str(self.win.settings.value("last_dir", "")))
        if folder:
            self.win.settings.setValue("last_dir", folder)
            self.open_dicom_folder(folder)

    def open_dicom_folder(self, folder: str, choose=None) -> Job | None:
        """Open a DICOM folder; with several series, the series browser asks which (``choose(labels) -> label``
        picks in tests and scripts)."""
        from ..io.dicom_read import list_series

        try:
            series = list_series(folder)
        except StudyError as exc:
            self.win.notify("Open DICOM folder", str(exc))
            return None
        pick = series[0]["index"]
        if len(series) > 1:
            if choose is None:
                from .series_browser import SeriesBrowser

                browser = SeriesBrowser(series, folder, self.win)
                if not browser.exec() or browser.chosen is None:
                    return None
                pick = browser.chosen
            else:
                labels = [series_label(s) for s in series]
                pick = series[labels.index(choose(labels))]["index"]
        return self.open_path(folder, series=pick)

    def open_path(self, path: str, series: int | str | None = None) -> Job:
        """Read ``path`` in the background; on success it replaces the current study."""
        name = Path(path).name if path != "phantom" else "phantom"
        return self.win.bridge.submit(f"open {name}", _open_study_job, path, series,
                                      on_done=lambda study: self._opened(path, study))

    def _opened(self, path: str, study) -> None:
        self.win.set_study(study)
        if path != "phantom":
            recent = [p for p in self.recent() if p != path]
            self.win.settings.setValue("recent", json.dumps([path, *recent][:MAX_RECENT]))
            self.update_recent_menu()

    def recent(self) -> list[str]:
        """The recently opened paths (a garbled setting gives none)."""
        try:
            recent = json.loads(str(self.win.settings.value("recent", "[]")))
        except (TypeError, ValueError):
            return []
        return [str(p) for p in recent] if isinstance(recent, list) else []

    def update_recent_menu(self) -> None:
        self.recent_menu.clear()
        for p in self.recent():
            act = self.recent_menu.addAction(p)
            act.triggered.connect(lambda _checked=False, p=p: self.open_path(p))
        self.recent_menu.setEnabled(bool(self.recent()))
