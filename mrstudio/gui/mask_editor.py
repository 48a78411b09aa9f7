"""The k–t mask editor: kind, R, ACS, seed; the ky–t mask, its effective R and its PSF, live.

Click (or drag with the left button) on the mask to add samples, with Shift to erase.
Save/load ``.npy``; "Apply" asks the main window to re-run the chosen methods.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ..core.errors import StudyError
from ..core.masks import MASK_KINDS, MaskSpec, accel_effective, load_mask, make_mask, peak_sidelobe_ratio, point_spread


class _MaskImage(pg.ImageItem):
    """An image item that reports left-button clicks/drags in pixel coordinates."""

    painted = QtCore.Signal(int, int, bool)  # t, ky, erase

    def mouseClickEvent(self, ev):  # noqa: N802 (Qt naming)
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            self._emit(ev.pos(), ev.modifiers())
            ev.accept()

    def mouseDragEvent(self, ev):  # noqa: N802
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            self._emit(ev.pos(), ev.modifiers())
            ev.accept()

    def _emit(self, pos, modifiers) -> None:
        ky, t = int(np.floor(pos.x())), int(np.floor(pos.y()))
        self.painted.emit(t, ky, bool(modifiers & QtCore.Qt.KeyboardModifier.ShiftModifier))


class MaskEditor(QtWidgets.QWidget):
    """Edits a ``bool (T, Ny)`` mask; ``mask_changed(mask, spec)`` on every change, ``apply_requested`` on Apply."""

    mask_changed = QtCore.Signal(object, object)
    apply_requested = QtCore.Signal()

    def __init__(self, frames: int, ny: int, spec: MaskSpec | None = None, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.frames, self.ny = frames, ny
        spec = spec or MaskSpec()
        form = QtWidgets.QFormLayout()
        self.kind = QtWidgets.QComboBox()
        self.kind.addItems(MASK_KINDS)
        self.kind.setCurrentText(spec.kind)
        self.accel = QtWidgets.QDoubleSpinBox()
        self.accel.setRange(1.1, 128)
        self.accel.setDecimals(1)
        self.accel.setValue(spec.accel)
        self.acs = QtWidgets.QSpinBox()
        self.acs.setRange(0, 32)
        self.acs.setValue(spec.acs)
        self.seed = QtWidgets.QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(spec.seed)
        for label, w in (("Kind", self.kind), ("R", self.accel), ("ACS lines", self.acs), ("Seed", self.seed)):
            form.addRow(label, w)
        self.info = QtWidgets.QLabel()
        self.info.setObjectName("maskInfo")
        plots = pg.GraphicsLayoutWidget()
        plots.setMinimumHeight(260)
        self.mask_view = plots.addPlot(title="ky–t mask (click: add, shift-click: erase)")
        self.mask_view.setLabel("bottom", "ky")
        self.mask_view.setLabel("left", "frame")
        self.mask_view.invertY(True)
        self.mask_img = _MaskImage(axisOrder="row-major")
        self.mask_view.addItem(self.mask_img)
        plots.nextRow()
        self.psf_view = plots.addPlot(title="point-spread function (y–f)")
        self.psf_view.setLabel("bottom", "y")
        self.psf_view.setLabel("left", "f")
        self.psf_img = pg.ImageItem(axisOrder="row-major")
        self.psf_img.setLookupTable(pg.colormap.get("viridis").getLookupTable(nPts=256))
        self.psf_view.addItem(self.psf_img)
        buttons = QtWidgets.QHBoxLayout()
        self.load_btn = QtWidgets.QPushButton("Load…")
        self.save_btn = QtWidgets.QPushButton("Save…")
        self.apply_btn = QtWidgets.QPushButton("Apply")
        self.apply_btn.setDefault(True)
        for b in (self.load_btn, self.save_btn, self.apply_btn):
            buttons.addWidget(b)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.info)
        layout.addWidget(plots, 1)
        layout.addLayout(buttons)
        self.mask = np.zeros((frames, ny), bool)
        for w in (self.kind, self.accel, self.acs, self.seed):
            signal = w.currentTextChanged if isinstance(w, QtWidgets.QComboBox) else w.valueChanged
            signal.connect(self.regenerate)
        self.mask_img.painted.connect(self._paint)
        self.save_btn.clicked.connect(self._save)
        self.load_btn.clicked.connect(self._load)
        self.apply_btn.clicked.connect(self.apply_requested)
        self.regenerate()

    def spec(self) -> MaskSpec:
        return MaskSpec(kind=self.kind.currentText(), accel=self.accel.value(), acs=self.acs.value(), seed=self.seed.value())

    def regenerate(self, *_args) -> None:
        try:
            self.set_mask(make_mask(self.spec(), self.frames, self.ny))
        except StudyError as exc:
            self.info.setText(f"<span style='color:#d33'>{exc.reason}</span>")

    def set_mask(self, mask: np.ndarray) -> None:
        self.mask = mask.astype(bool).copy()
        self._update()

    def _update(self) -> None:
        self.mask_img.setImage(self.mask.astype(np.float32), levels=(0, 1), autoLevels=False)
        psf = point_spread(self.mask) if self.mask.any() else np.zeros(self.mask.shape, np.float32)
        self.psf_img.setImage(psf, levels=(0, max(float(np.sort(psf.ravel())[-2]) if psf.size > 1 else 1, 1e-6)),
                              autoLevels=False)
        n = int(self.mask.sum())
        r = accel_effective(self.mask) if n else float("inf")
        psr = peak_sidelobe_ratio(self.mask) if n else float("nan")
        self.info.setText(f"requested R {self.accel.value():g} · effective R <b>{r:.2f}</b> · {n} lines · "
                          f"per frame {self.mask.sum(1).min()}–{self.mask.sum(1).max()} · PSF side lobe {psr:.3f}")
        self.mask_changed.emit(self.mask.copy(), self.spec())

    def _paint(self, t: int, ky: int, erase: bool) -> None:
        if 0 <= t < self.frames and 0 <= ky < self.ny and self.mask[t, ky] == erase:
            self.mask[t, ky] = not erase
            if not self.mask.any():
                self.mask[t, ky] = True  # never an empty mask
            self._update()

    def _save(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save mask", "mask.npy", "NumPy mask (*.npy)")
        if path:
            from ..io.atomic import atomic_path

            with atomic_path(path, force=True) as tmp:
                with open(tmp, "wb") as fh:
                    np.save(fh, self.mask)

    def _load(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Load mask", "", "NumPy mask (*.npy)")
        if path:
            try:
                self.set_mask(load_mask(path, self.frames, self.ny))
            except StudyError as exc:
                QtWidgets.QMessageBox.warning(self, "Load mask", str(exc))
