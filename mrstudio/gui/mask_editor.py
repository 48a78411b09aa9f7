"""The k–t mask editor: kind, R, ACS, seed; paint the ky–t mask by hand; its effective R and PSF, live.

Mouse: left-drag paints ky lines (a click paints one), Shift+left-drag erases; the plot
does not pan or zoom. Brush (lines per point) and Symmetric (mirror about the k-space
centre) shape the stroke. Ctrl+Z / Ctrl+Shift+Z undo and redo (the window's Edit menu
holds the shortcuts). Every change emits ``mask_changed(mask, spec)``; with **Live** on, the
window re-runs the fast methods on it at once, and **Apply** re-runs the slow ones too.
The editing itself (strokes, brush, undo) is :class:`mrstudio.workspace.mask_edit.MaskEdit`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ..core.errors import StudyError
from ..core.masks import MASK_KINDS, MaskSpec, accel_effective, load_mask, make_mask, peak_sidelobe_ratio, point_spread
from ..workspace.mask_edit import MaskEdit


class _MaskImage(pg.ImageItem):
    """An image item that turns left-button clicks and drags into strokes, in pixel coordinates."""

    stroke = QtCore.Signal(str, int, int, bool)  # phase ("begin", "move", "end"), t, ky, erase

    def mouseClickEvent(self, ev):  # noqa: N802 (Qt naming)
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            t, ky = self._pixel(ev.pos())
            erase = self._erase(ev.modifiers())
            self.stroke.emit("begin", t, ky, erase)
            self.stroke.emit("end", t, ky, erase)
            ev.accept()

    def mouseDragEvent(self, ev):  # noqa: N802
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()  # the drag is ours: the view box does not pan
        erase = self._erase(ev.modifiers())
        if ev.isStart():
            self.stroke.emit("begin", *self._pixel(ev.buttonDownPos()), erase)
        self.stroke.emit("move", *self._pixel(ev.pos()), erase)
        if ev.isFinish():
            self.stroke.emit("end", *self._pixel(ev.pos()), erase)

    @staticmethod
    def _pixel(pos) -> tuple[int, int]:
        return int(np.floor(pos.y())), int(np.floor(pos.x()))

    @staticmethod
    def _erase(modifiers) -> bool:
        return bool(modifiers & QtCore.Qt.KeyboardModifier.ShiftModifier)


class MaskEditor(QtWidgets.QWidget):
    """Edits a ``bool (T, Ny)`` mask; ``mask_changed(mask, spec)`` on every change, ``apply_requested`` on Apply,
    ``live_changed(bool)`` when Live is switched."""

    mask_changed = QtCore.Signal(object, object)
    apply_requested = QtCore.Signal()
    live_changed = QtCore.Signal(bool)
    snapshot_requested = QtCore.Signal()
    restore_requested = QtCore.Signal(str)
    written = QtCore.Signal(str)  # a path the mask was saved to

    def __init__(self, frames: int, ny: int, spec: MaskSpec | None = None, parent: QtWidgets.QWidget | None = None,
                 live: bool = True):
        super().__init__(parent)
        self.frames, self.ny = frames, ny
        spec = spec or MaskSpec()
        self.kind = QtWidgets.QComboBox()
        self.kind.addItems(MASK_KINDS)
        self.kind.setCurrentText(spec.kind)
        self.kind.setToolTip("vd-kt: variable-density k–t; poisson: Poisson disc; equispaced / uniform: regular")
        self.accel = QtWidgets.QDoubleSpinBox()
        self.accel.setRange(1.1, 128)
        self.accel.setDecimals(1)
        self.accel.setValue(spec.accel)
        self.accel.setToolTip("requested acceleration R = T·Ny / sampled lines (ACS lines included)")
        self.acs = QtWidgets.QSpinBox()
        self.acs.setRange(0, 32)
        self.acs.setValue(spec.acs)
        self.acs.setToolTip("fully sampled central lines per frame")
        self.seed = QtWidgets.QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(spec.seed)
        self.brush = QtWidgets.QSpinBox()
        self.brush.setRange(1, 16)
        self.brush.setSuffix(" lines")
        self.brush.setToolTip("ky lines painted at each point of a stroke")
        self.symmetric = QtWidgets.QCheckBox("Symmetric")
        self.symmetric.setToolTip("also paint the line mirrored about the centre of k-space")
        self.live = QtWidgets.QCheckBox("Live")
        self.live.setChecked(live)
        self.live.setToolTip("re-run zero-filled and the learned methods while you edit; CS re-runs on Apply")
        form = QtWidgets.QFormLayout()
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for label, w in (("Kind", self.kind), ("R", self.accel), ("ACS lines", self.acs), ("Seed", self.seed)):
            form.addRow(label, w)
        brush_row = QtWidgets.QHBoxLayout()
        brush_row.addWidget(self.brush, 1)
        brush_row.addWidget(self.symmetric)
        form.addRow("Brush", brush_row)
        self.info = QtWidgets.QLabel()
        self.info.setObjectName("maskInfo")
        self.info.setWordWrap(True)
        plots = pg.GraphicsLayoutWidget()
        plots.setMinimumHeight(180)
        self.mask_view = plots.addPlot(title="ky–t mask")
        self.mask_view.setLabel("bottom", "ky")
        self.mask_view.setLabel("left", "frame")
        self.mask_view.invertY(True)
        self.mask_view.setMouseEnabled(False, False)
        self.mask_view.setMenuEnabled(False)
        self.mask_view.hideButtons()
        self.mask_img = _MaskImage(axisOrder="row-major")
        self.mask_view.addItem(self.mask_img)
        plots.nextRow()
        self.psf_view = plots.addPlot(title="point-spread function (y–f)")
        plots.ci.layout.setRowStretchFactor(0, 3)
        plots.ci.layout.setRowStretchFactor(1, 2)
        hint = QtWidgets.QLabel("drag: paint lines · Shift+drag: erase · Ctrl+Z / Ctrl+Shift+Z: undo / redo")
        hint.setWordWrap(True)
        hint.setObjectName("maskHint")
        self.hint = hint
        self.psf_view.setLabel("bottom", "y")
        self.psf_view.setLabel("left", "f")
        self.psf_view.setMouseEnabled(False, False)
        self.psf_view.hideButtons()
        self.psf_img = pg.ImageItem(axisOrder="row-major")
        self.psf_img.setLookupTable(pg.colormap.get("viridis").getLookupTable(nPts=256))
        self.psf_view.addItem(self.psf_img)
        self.undo_btn = QtWidgets.QPushButton("Undo")
        self.redo_btn = QtWidgets.QPushButton("Redo")
        self.undo_btn.setToolTip("undo the last stroke or mask change (Ctrl+Z)")
        self.redo_btn.setToolTip("redo (Ctrl+Shift+Z)")
        self.load_btn = QtWidgets.QPushButton("Load…")
        self.save_btn = QtWidgets.QPushButton("Save…")
        self.apply_btn = QtWidgets.QPushButton("Apply")
        self.apply_btn.setDefault(True)
        self.apply_btn.setToolTip("use this mask for every method, CS included (Ctrl+Return)")
        self.snap_btn = QtWidgets.QPushButton("Snapshot")
        self.snap_btn.setToolTip("keep this mask with its results; pick it again from the list for an A/B view")
        self.snapshots = QtWidgets.QComboBox()
        self.snapshots.setPlaceholderText("snapshots")
        self.snapshots.setEnabled(False)
        row1, row2, row3 = QtWidgets.QHBoxLayout(), QtWidgets.QHBoxLayout(), QtWidgets.QHBoxLayout()
        for b in (self.undo_btn, self.redo_btn, self.load_btn, self.save_btn):
            b.setMinimumWidth(40)
            row1.addWidget(b)
        row2.addWidget(self.snap_btn)
        row2.addWidget(self.snapshots, 1)
        row3.addWidget(self.live)
        row3.addWidget(self.apply_btn, 1)
        self.snapshots.setMinimumContentsLength(3)
        self.snapshots.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addLayout(row3)  # Live and Apply stay in view on a short screen
        layout.addWidget(self.info)
        layout.addWidget(self.hint)
        layout.addWidget(plots, 1)
        layout.addLayout(row1)
        layout.addLayout(row2)
        self.edit = MaskEdit(np.zeros((frames, ny), bool))
        for w in (self.kind, self.accel, self.acs, self.seed):
            signal = w.currentTextChanged if isinstance(w, QtWidgets.QComboBox) else w.valueChanged
            signal.connect(self.regenerate)
        self.brush.valueChanged.connect(lambda v: setattr(self.edit, "brush", int(v)))
        self.symmetric.toggled.connect(lambda on: setattr(self.edit, "symmetric", bool(on)))
        self.live.toggled.connect(self.live_changed)
        self.mask_img.stroke.connect(self._stroke)
        self.undo_btn.clicked.connect(self.undo)
        self.redo_btn.clicked.connect(self.redo)
        self.save_btn.clicked.connect(self._save)
        self.load_btn.clicked.connect(self._load)
        self.apply_btn.clicked.connect(self.apply_requested)
        self.snap_btn.clicked.connect(self.snapshot_requested)
        self.snapshots.textActivated.connect(self.restore_requested)
        self.regenerate()
        self.edit.clear_history()  # the first mask is where the history starts
        self._update_buttons()

    @property
    def mask(self) -> np.ndarray:
        """The mask being edited, ``bool (T, Ny)`` (a new array after every change)."""
        return self.edit.mask

    def spec(self) -> MaskSpec:
        return MaskSpec(kind=self.kind.currentText(), accel=self.accel.value(), acs=self.acs.value(), seed=self.seed.value())

    def set_spec(self, spec: MaskSpec) -> None:
        """Show ``spec``'s fields and draw its mask (one change, one undo step)."""
        widgets = (self.kind, self.accel, self.acs, self.seed)
        for w in widgets:
            w.blockSignals(True)
        self.kind.setCurrentText(spec.kind)
        self.accel.setValue(spec.accel)
        self.acs.setValue(spec.acs)
        self.seed.setValue(spec.seed)
        for w in widgets:
            w.blockSignals(False)
        self.regenerate()

    def regenerate(self, *_args) -> None:
        try:
            mask = make_mask(self.spec(), self.frames, self.ny)
        except StudyError as exc:
            self.info.setText(f"<span style='color:#d33'>{exc.reason}</span>")
            return
        self.edit.set(mask)
        self._update()

    def set_mask(self, mask: np.ndarray, undoable: bool = True) -> None:
        """Show ``mask`` (from a file, a study or a snapshot)."""
        if self.edit.set(np.asarray(mask, bool), undoable=undoable) or not undoable:
            self._update()

    def undo(self) -> None:
        if self.edit.undo():
            self._update()

    def redo(self) -> None:
        if self.edit.redo():
            self._update()

    def set_snapshots(self, names: list[str]) -> None:
        self.snapshots.clear()
        self.snapshots.addItems(names)
        self.snapshots.setCurrentIndex(-1)
        self.snapshots.setEnabled(bool(names))

    def _update(self) -> None:
        mask = self.edit.mask
        self.mask_img.setImage(mask.astype(np.float32), levels=(0, 1), autoLevels=False)
        psf = point_spread(mask) if mask.any() else np.zeros(mask.shape, np.float32)
        self.psf_img.setImage(psf, levels=(0, max(float(np.sort(psf.ravel())[-2]) if psf.size > 1 else 1, 1e-6)),
                              autoLevels=False)
        n = int(mask.sum())
        r = accel_effective(mask) if n else float("inf")
        psr = peak_sidelobe_ratio(mask) if n else float("nan")
        self.info.setText(f"requested R {self.accel.value():g} · effective R <b>{r:.2f}</b> · {n} lines · "
                          f"per frame {mask.sum(1).min()}–{mask.sum(1).max()} · PSF side lobe {psr:.3f}")
        self._update_buttons()
        self.mask_changed.emit(mask, self.spec())

    def _update_buttons(self) -> None:
        self.undo_btn.setEnabled(self.edit.can_undo)
        self.redo_btn.setEnabled(self.edit.can_redo)

    def _stroke(self, phase: str, t: int, ky: int, erase: bool) -> None:
        if phase == "begin":
            changed = self.edit.begin_stroke(t, ky, erase)
        elif phase == "move":
            changed = self.edit.stroke_to(t, ky)
        else:
            self.edit.end_stroke()
            self._update_buttons()
            return
        if changed:
            self._update()

    def _paint(self, t: int, ky: int, erase: bool) -> None:
        """One click at (``t``, ``ky``) (tests and scripts)."""
        if self.edit.paint(t, ky, erase):
            self._update()

    def _save(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save mask", "mask.npy", "NumPy mask (*.npy)")
        if path:
            from ..io.atomic import atomic_path

            with atomic_path(path, force=True) as tmp:
                with open(tmp, "wb") as fh:
                    np.save(fh, self.mask)
            self.written.emit(path)

    def _load(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Load mask", "", "NumPy mask (*.npy)")
        if path:
            try:
                self.set_mask(load_mask(path, self.frames, self.ny))
            except StudyError as exc:
                QtWidgets.QMessageBox.warning(self, "Load mask", str(exc))
