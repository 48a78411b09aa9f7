"""The CT workspace: choose an interpolator and factor, run it (or a hold-out check), and see a
coronal reformat where the inserted slices show."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from .views import link_axes


def ct_methods() -> list[tuple[str, str, str | None]]:
    """(label, method, model) for linear, cubic, the through-plane models and every installed CT model."""
    from ..interp.throughplane import TASK as PLANE_TASK
    from ..io.model_store import INTERP_TASK, list_models

    out: list[tuple[str, str, str | None]] = [("linear", "linear", None), ("cubic", "cubic", None)]
    out += [(f"Through-plane (real anatomy): {c.name}", "throughplane", c.name) for c in list_models(task=PLANE_TASK)]
    cards = list_models(task=INTERP_TASK)
    cards.sort(key=lambda c: -float(c.get("test", c.get("validation", {})).get("psnr", 0.0)))  # best first
    out += [(f"HRINet: {c.name}", "hrinet", c.name) for c in cards]
    return out


class CTPanel(QtWidgets.QWidget):
    """Method, factor, hold-out switch and Run; emits ``run_requested(method, model, factor, holdout)``."""

    run_requested = QtCore.Signal(str, object, int, bool)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.method = QtWidgets.QComboBox()
        self.methods = ct_methods()
        self.method.addItems([m[0] for m in self.methods])
        self.factor = QtWidgets.QSpinBox()
        self.factor.setRange(2, 12)
        self.factor.setValue(3)
        self.factor.setToolTip("insert factor − 1 slices between each pair")
        self.holdout = QtWidgets.QCheckBox("Hold-out check (keep every factor-th slice, predict the rest)")
        self.run = QtWidgets.QPushButton("Interpolate")
        self.run.clicked.connect(self._emit)
        self.result = QtWidgets.QLabel("")
        self.result.setWordWrap(True)
        form = QtWidgets.QFormLayout(self)
        form.addRow("Method", self.method)
        form.addRow("Factor", self.factor)
        form.addRow(self.holdout)
        form.addRow(self.run)
        form.addRow(self.result)

    def selected(self) -> tuple[str, str | None]:
        _, method, model = self.methods[self.method.currentIndex()]
        return method, model

    def _emit(self) -> None:
        method, model = self.selected()
        self.run_requested.emit(method, model, self.factor.value(), self.holdout.isChecked())


class ReformatView(pg.GraphicsLayoutWidget):
    """Reformats (slice axis × columns, through one row) of several volumes side by side, at true scale."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.items: dict[str, pg.ImageItem] = {}

    def show_volumes(self, volumes: dict[str, np.ndarray], dz: dict[str, float], dx: float,
                     levels: tuple[float, float] = (-1000.0, 400.0), row: int | None = None) -> None:
        """``volumes`` ``(Z, Y, X)`` HU; ``dz`` slice spacing per volume (mm), ``dx`` pixel (mm)."""
        self.clear()
        self.items = {}
        plots = []
        for name, vol in volumes.items():
            r = vol.shape[1] // 2 if row is None else row
            plot = self.addPlot(title=f"{name} — reformat through row {r}")
            plot.invertY(True)
            plot.setAspectLocked(True)
            plot.hideAxis("bottom")
            plot.setLabel("left", "z (mm)")
            img = pg.ImageItem(vol[:, r, :], levels=levels)  # row-major: rows = z, columns = x
            img.setRect(QtCore.QRectF(0, 0, vol.shape[2] * dx, vol.shape[0] * dz[name]))
            plot.addItem(img)
            plots.append(plot)
            self.items[name] = img
        link_axes(plots)
