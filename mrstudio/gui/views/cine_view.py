"""One cine panel: a pyqtgraph image with a title, showing one frame of a (T, Ny, Nx) stack."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets


class CinePanel(QtWidgets.QWidget):
    """A titled image panel showing frame ``t`` of a magnitude stack ``float32 (T, Ny, Nx)``."""

    def __init__(self, title: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.title = QtWidgets.QLabel(title)
        self.title.setObjectName("panelTitle")
        layout.addWidget(self.title)
        self.graphics = pg.GraphicsLayoutWidget()
        self.view = self.graphics.addViewBox(lockAspect=True, invertY=True)
        self.view.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        layout.addWidget(self.graphics, 1)
        self.stack: np.ndarray | None = None
        self.levels: tuple[float, float] = (0.0, 1.0)

    def set_stack(self, stack: np.ndarray, levels: tuple[float, float] | None = None) -> None:
        """Show a new magnitude stack (T, Ny, Nx); ``levels`` default to its 0.5–99.5 percentiles."""
        self.stack = np.asarray(stack, dtype=np.float32)
        if levels is None:
            lo, hi = np.percentile(self.stack, [0.5, 99.5])
            levels = (float(lo), float(hi if hi > lo else lo + 1))
        self.levels = levels
        self.set_frame(0)
        self.view.autoRange(padding=0)

    def set_frame(self, t: int) -> None:
        if self.stack is not None:
            t = int(np.clip(t, 0, self.stack.shape[0] - 1))
            self.image.setImage(self.stack[t], autoLevels=False, levels=self.levels)
