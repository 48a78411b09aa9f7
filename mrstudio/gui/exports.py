"""File → Export: results as HDF5/NPZ or DICOM, the grid as a movie or PNG, an interpolated volume as DICOM.

The writing itself is :mod:`mrstudio.workspace.export` (shared with the CLI) and
:mod:`mrstudio.io.video`; this module asks where, and runs long writes as jobs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtWidgets

from ..core.errors import StudyError
from .jobs import Job

if TYPE_CHECKING:
    from .main_window import MainWindow


class Exports:
    """The window's export actions (``win`` gives the workspaces, the grid and the job bridge)."""

    def __init__(self, win: MainWindow):
        self.win = win

    def _choose_result(self, title: str) -> str | None:
        ws = self.win.session
        if ws is None or not ws.results:
            self.win.notify(title, "Nothing to export yet: run a reconstruction first.")
            return None
        names = list(ws.results)
        if len(names) == 1:
            return names[0]
        name, ok = QtWidgets.QInputDialog.getItem(self.win, title, "Result", names, len(names) - 1, False)
        return name if ok else None

    def _save_path(self, title: str, default: str, filters: str) -> str | None:
        settings = self.win.settings
        start = str(Path(str(settings.value("last_dir", ""))) / default)
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.win, title, start, filters)
        if path:
            settings.setValue("last_dir", str(Path(path).parent))
        return path or None  # the dialog asked before overwriting

    def _folder(self, title: str) -> str | None:
        return QtWidgets.QFileDialog.getExistingDirectory(self.win, title, str(self.win.settings.value("last_dir", "")))

    # --- dialogs (menu actions) ------------------------------------------------------------------
    def result_dialog(self) -> None:
        name = self._choose_result("Export result")
        path = name and self._save_path("Export result", f"{name.split()[0].lower()}.h5", "HDF5 (*.h5);;NumPy (*.npz)")
        if path:
            self.result(name, path, force=True)

    def movie_dialog(self) -> None:
        path = self._save_path("Export movie", "comparison.mp4", "MP4 video (*.mp4);;Animated GIF (*.gif)")
        if path:
            self.movie(path, force=True)

    def png_dialog(self) -> None:
        path = self._save_path("Export frame", f"frame{self.win.playback.frame_slider.value():02d}.png", "PNG (*.png)")
        if path:
            self.png(path, force=True)

    def dicom_dialog(self) -> None:
        if self.win.volume is not None:
            folder = self._folder("Export the interpolated volume into folder")
            if folder:
                self.volume_dicom(folder)
            return
        name = self._choose_result("Export DICOM")
        folder = name and self._folder("Export DICOM series into folder")
        if folder:
            self.dicom(name, folder)

    # --- the exports -------------------------------------------------------------------------------
    def result(self, name: str, path: str, force: bool = False) -> Path | None:
        from ..workspace.export import recon_provenance, write_recon

        ws = self.win.session
        res = ws.results[name]
        try:
            return write_recon(res, ws.study, path, "npz" if str(path).endswith(".npz") else "h5",
                               recon_provenance(res, ws.study, ws.mask_spec), force=force)
        except StudyError as exc:
            self.win.notify("Export result", str(exc))
            return None

    def movie(self, path: str, force: bool = False) -> Job | None:
        """The grid's stacks side by side (current window) as MP4/GIF, in the background."""
        from ..io.video import side_by_side, write_movie

        grid = self.win.grid
        if not grid.stacks:
            self.win.notify("Export movie", "Nothing to export yet.")
            return None
        frames = side_by_side(list(grid.stacks.values()), grid.levels)
        fps = self.win.playback.fps.value()
        return self.win.bridge.submit(f"movie {Path(path).name}",
                                      lambda progress=None, cancel=None: write_movie(frames, path, fps=fps, force=force))

    def png(self, path: str, force: bool = False) -> Path | None:
        from ..io.video import side_by_side, write_png

        grid = self.win.grid
        if not grid.stacks:
            return None
        t = self.win.playback.frame_slider.value()
        try:
            return write_png(side_by_side([s[t:t + 1] for s in grid.stacks.values()], grid.levels)[0], path, force=force)
        except StudyError as exc:
            self.win.notify("Export frame", str(exc))
            return None

    def _series_folder(self, folder: str, name: str, force: bool) -> Path | None:
        """``folder/NAME`` (file-system safe) for a DICOM series, or ``None`` (with a message) if taken."""
        from ..io.atomic import check_folder_target
        from ..workspace.export import series_folder

        target = series_folder(folder, name)
        try:
            return check_folder_target(target, force)
        except StudyError as exc:
            self.win.notify("Export DICOM", f"{target} {exc.reason.split(' (')[0]}; nothing written.")
            return None

    def dicom(self, name: str, folder: str, force: bool = False) -> Job | None:
        """Result ``name`` as a DICOM series in a new sub-folder of ``folder``."""
        from ..workspace.export import recon_provenance, write_recon

        ws = self.win.session
        res = ws.results[name]
        target = self._series_folder(folder, f"{ws.study.name}_{name}", force)
        if target is None:
            return None
        prov = recon_provenance(res, ws.study, ws.mask_spec)
        return self.win.bridge.submit(f"DICOM {name}", write_recon, res, ws.study, target, "dicom", prov, force=force)

    def volume_dicom(self, folder: str, force: bool = False) -> Job | None:
        """The latest interpolated volume as a DICOM series in a new sub-folder of ``folder``."""
        from ..workspace.export import write_interpolation

        ws = self.win.volume
        if ws is None or ws.latest is None:
            self.win.notify("Export DICOM", "Interpolate the volume first; there is no new volume to export.")
            return None
        r = ws.interpolations[ws.latest]
        target = self._series_folder(folder, r.study.name, force)
        if target is None:
            return None
        return self.win.bridge.submit("DICOM volume", write_interpolation, r, target, force=force)

    def send_to_pacs(self, node, name: str | None = None, anonymize: bool = False, on_done=None,
                     on_error=None) -> Job | None:
        """Result ``name`` (or, for a volume, the latest interpolation) written as DICOM into a temporary folder
        by the shared export code and sent to ``node`` (a :class:`mrstudio.pacs.Node`), as one job."""
        from ..pacs.send import check_allowed, send_written
        from ..workspace.export import recon_provenance, write_interpolation, write_recon

        if self.win.volume is not None:
            ws = self.win.volume
            r = ws.interpolations.get(ws.latest) if ws.latest else None
            write = r and (lambda folder: write_interpolation(r, folder, anonymize=anonymize))
        else:
            ws = self.win.session
            res = ws.results.get(name) if ws is not None and name else None
            prov = res and recon_provenance(res, ws.study, ws.mask_spec)
            write = res and (lambda folder: write_recon(res, ws.study, folder, "dicom", prov, anonymize=anonymize))
        error = on_error or (lambda text: self.win.notify("Send to PACS", text))
        if not write:
            error("Nothing to send yet: run a reconstruction or an interpolation first.")
            return None
        try:
            check_allowed(node, anonymize, hint="tick Anonymise")
        except StudyError as exc:
            error(str(exc))
            return None
        return self.win.bridge.submit(f"send to {node.label}", send_written, write, node, anonymize,
                                      hint="tick Anonymise", on_done=on_done)
