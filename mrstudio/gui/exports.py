"""File → Export: results as HDF5/NPZ or DICOM, the grid as a movie or PNG, an interpolated volume as DICOM.

The writing itself is :mod:`mrstudio.workspace.export` (shared with the CLI) and
:mod:`mrstudio.io.video`; this module asks where, and runs long writes as jobs. Every
format gets the same choice when its target exists (:meth:`Exports.resolve`: overwrite,
keep both under a new name, or cancel), folder dialogs accept a folder that does not exist
yet (it is made), and every export ends with "written to PATH — show folder" in the status
bar. Pictures and movies are the grid as shown, with titles and metrics
(:mod:`mrstudio.gui.figure`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtWidgets

from ..core.errors import StudyError
from .jobs import Job

if TYPE_CHECKING:
    from .main_window import MainWindow


OVERWRITE, RENAME, CANCEL = "overwrite", "rename", "cancel"


def free_name(path: str | Path) -> Path:
    """``NAME-2.EXT`` (or ``-3``, …): the first that does not exist beside ``path``."""
    path = Path(path)
    stem, suffix = (path.name, "") if path.is_dir() else (path.stem, path.suffix)
    for i in range(2, 10_000):
        cand = path.with_name(f"{stem}-{i}{suffix}")
        if not cand.exists():
            return cand
    raise StudyError(path, "no free name left")


class Exports:
    """The window's export actions (``win`` gives the workspaces, the grid and the job bridge).

    ``ask(path) -> "overwrite" | "rename" | "cancel"`` decides about an existing target (a dialog; tests
    replace it).
    """

    def __init__(self, win: MainWindow):
        self.win = win
        self.ask = self._ask
        self.last_labels: list[str] = []  # the tile labels of the last picture (titles and metrics)

    @property
    def extras(self) -> tuple[str, ...]:
        """The optional rows of exported pictures and movies (``figure.EXTRAS``), remembered in the settings."""
        from .figure import EXTRAS

        chosen = str(self.win.settings.value("export_extras", "")).split(",")
        return tuple(e for e in EXTRAS if e in chosen)

    def set_extra(self, extra: str, on: bool) -> None:
        """Include (or not) the ``"error"`` or ``"xt"`` row in exported pictures and movies."""
        want = set(self.extras) | {extra} if on else set(self.extras) - {extra}
        self.win.settings.setValue("export_extras", ",".join(sorted(want)))

    def _ask(self, path: Path) -> str:
        if QtWidgets.QApplication.platformName() in ("offscreen", "minimal"):
            return CANCEL
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Question, "Export",
                                    f"{path} already exists.", parent=self.win)
        over = box.addButton("Overwrite", QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton(f"Keep both ({free_name(path).name})", QtWidgets.QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QtWidgets.QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(keep)
        box.exec()
        return OVERWRITE if box.clickedButton() is over else RENAME if box.clickedButton() is keep else CANCEL

    def resolve(self, path: str | Path, folder: bool = False) -> tuple[Path, bool] | None:
        """The one overwrite/rename choice for every format: ``(target, force)``, or ``None`` when cancelled.

        A file target is taken when it exists, a folder target (a DICOM series) when it is not empty.
        """
        path = Path(path)
        taken = path.exists() and (not folder or not path.is_dir() or any(path.iterdir()))
        if not taken:
            return path, False
        choice = self.ask(path)
        if choice == OVERWRITE:
            return path, True
        if choice == RENAME:
            return free_name(path), False
        return None

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

    def _save_path(self, title: str, default: str, filters: str) -> tuple[str, bool] | None:
        """Where to write, and whether to overwrite (asked by :meth:`resolve`, not by the file dialog)."""
        settings = self.win.settings
        start = str(Path(str(settings.value("last_dir", ""))) / default)
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(self.win, title, start, filters,
                                                             options=QtWidgets.QFileDialog.Option.DontConfirmOverwrite)
        if not path:
            return None
        if not Path(path).suffix and "*." in chosen:  # no extension typed: the chosen filter's
            path += chosen.split("*", 1)[1].split(")")[0].split()[0]
        settings.setValue("last_dir", str(Path(path).parent))
        target = self.resolve(path)
        return (str(target[0]), target[1]) if target else None

    def _folder(self, title: str) -> str | None:
        """A folder, which may be new (then it is made): a dialog that accepts a name not there yet."""
        dialog = QtWidgets.QFileDialog(self.win, title, str(self.win.settings.value("last_dir", "")))
        dialog.setAcceptMode(QtWidgets.QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QtWidgets.QFileDialog.FileMode.AnyFile)
        dialog.setOption(QtWidgets.QFileDialog.Option.DontConfirmOverwrite)
        dialog.setOption(QtWidgets.QFileDialog.Option.ShowDirsOnly)
        dialog.setLabelText(QtWidgets.QFileDialog.DialogLabel.FileName, "Folder")
        dialog.setLabelText(QtWidgets.QFileDialog.DialogLabel.Accept, "Choose")
        if not dialog.exec() or not dialog.selectedFiles():
            return None
        return self.make_folder(dialog.selectedFiles()[0])

    def make_folder(self, folder: str) -> str | None:
        """``folder``, made if it does not exist (``None`` with a message if it cannot be)."""
        path = Path(folder)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.win.notify("Export", f"{path}: cannot make this folder ({exc.strerror or exc})")
            return None
        self.win.settings.setValue("last_dir", str(path))
        return str(path)

    # --- dialogs (menu actions) ------------------------------------------------------------------
    def result_dialog(self) -> None:
        name = self._choose_result("Export result")
        chosen = name and self._save_path("Export result", f"{name.split()[0].lower()}.h5",
                                          "HDF5 (*.h5);;NumPy (*.npz)")
        if chosen:
            self.result(name, chosen[0], force=chosen[1])

    def movie_dialog(self) -> None:
        chosen = self._save_path("Export movie", "comparison.mp4", "MP4 video (*.mp4);;Animated GIF (*.gif)")
        if chosen:
            self.movie(chosen[0], force=chosen[1])

    def png_dialog(self) -> None:
        chosen = self._save_path("Export frame", f"frame{self.win.playback.frame_slider.value():02d}.png",
                                 "PNG (*.png)")
        if chosen:
            self.png(chosen[0], force=chosen[1])

    def dicom_dialog(self) -> None:
        if self.win.volume is not None:
            folder = self._folder("Export the interpolated volume into folder")
            ws = self.win.volume
            if folder and ws.latest is not None:
                from ..workspace.export import series_folder

                chosen = self.resolve(series_folder(folder, ws.interpolations[ws.latest].study.name), folder=True)
                if chosen:
                    self.volume_dicom(folder, force=chosen[1], target=chosen[0])
            elif folder:
                self.volume_dicom(folder)
            return
        name = self._choose_result("Export DICOM")
        folder = name and self._folder("Export DICOM series into folder")
        if folder:
            from ..workspace.export import series_folder

            chosen = self.resolve(series_folder(folder, f"{self.win.session.study.name}_{name}"), folder=True)
            if chosen:
                self.dicom(name, folder, force=chosen[1], target=chosen[0])

    # --- the exports -------------------------------------------------------------------------------
    def result(self, name: str, path: str, force: bool = False) -> Path | None:
        from ..workspace.export import recon_provenance, write_recon

        ws = self.win.session
        res = ws.results[name]
        try:
            out = write_recon(res, ws.study, path, "npz" if str(path).endswith(".npz") else "h5",
                              recon_provenance(res, ws.study, ws.mask_spec), force=force)
        except StudyError as exc:
            self.win.notify("Export result", str(exc))
            return None
        self.win.written(out, name)
        return out

    def movie(self, path: str, force: bool = False) -> Job | None:
        """The grid as shown (titles, metrics, display mode), every frame, as MP4/GIF; written in the background."""
        from ..io.atomic import check_target
        from ..io.video import write_movie
        from .figure import render_movie

        grid = self.win.grid
        if not grid.stacks:
            self.win.notify("Export movie", "Nothing to export yet.")
            return None
        try:
            check_target(path, force)
        except StudyError as exc:
            self.win.notify("Export movie", str(exc))
            return None
        frames = render_movie(grid, self.win.playback.frame_slider.maximum() + 1, extras=self.extras)
        fps = self.win.playback.fps.value()
        return self.win.bridge.submit(f"movie {Path(path).name}",
                                      lambda progress=None, cancel=None: write_movie(frames, path, fps=fps, force=force),
                                      on_done=lambda out: self.win.written(out, "movie"))

    def png(self, path: str, force: bool = False) -> Path | None:
        """The grid at the current frame as shown, with titles and metrics, as PNG."""
        from ..io.video import write_png
        from .figure import render_grid

        grid = self.win.grid
        if not grid.stacks:
            return None
        picture, self.last_labels = render_grid(grid, self.win.playback.frame_slider.value(), extras=self.extras)
        try:
            out = write_png(picture, path, force=force)
        except StudyError as exc:
            self.win.notify("Export frame", str(exc))
            return None
        self.win.written(out, "picture")
        return out

    def _series_folder(self, folder: str, name: str, force: bool, target: str | Path | None = None) -> Path | None:
        """``folder/NAME`` (file-system safe) for a DICOM series, or ``None`` (with a message) if taken."""
        from ..io.atomic import check_folder_target
        from ..workspace.export import series_folder

        target = Path(target) if target is not None else series_folder(folder, name)
        try:
            return check_folder_target(target, force)
        except StudyError as exc:
            self.win.notify("Export DICOM", f"{target} {exc.reason}; nothing written.")
            return None

    def dicom(self, name: str, folder: str, force: bool = False, target: str | Path | None = None) -> Job | None:
        """Result ``name`` as a DICOM series in a new sub-folder of ``folder`` (or in ``target``)."""
        from ..workspace.export import recon_provenance, write_recon

        ws = self.win.session
        res = ws.results[name]
        target = self._series_folder(folder, f"{ws.study.name}_{name}", force, target)
        if target is None:
            return None
        prov = recon_provenance(res, ws.study, ws.mask_spec)
        return self.win.bridge.submit(f"DICOM {name}", write_recon, res, ws.study, target, "dicom", prov, force=force,
                                      on_done=lambda out: self.win.written(out, f"DICOM series of {name}"))

    def volume_dicom(self, folder: str, force: bool = False, target: str | Path | None = None) -> Job | None:
        """The latest interpolated volume as a DICOM series in a new sub-folder of ``folder``."""
        from ..workspace.export import write_interpolation

        ws = self.win.volume
        if ws is None or ws.latest is None:
            self.win.notify("Export DICOM", "Interpolate the volume first; there is no new volume to export.")
            return None
        r = ws.interpolations[ws.latest]
        target = self._series_folder(folder, r.study.name, force, target)
        if target is None:
            return None
        return self.win.bridge.submit("DICOM volume", write_interpolation, r, target, force=force,
                                      on_done=lambda out: self.win.written(out, "DICOM volume"))

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
