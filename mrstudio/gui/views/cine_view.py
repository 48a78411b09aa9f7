"""One cine panel: a pyqtgraph image with a title, a crosshair and a frame index."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...core.profiles import display_levels


class CinePanel(QtWidgets.QFrame):
    """A titled image panel showing frame ``t`` of a magnitude stack ``float32 (T, Ny, Nx)``.

    ``hovered(panel, y, x)`` is emitted when the mouse moves over the image (pixel coordinates).
    """

    hovered = QtCore.Signal(object, float, float)

    def __init__(self, title: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        self.title = QtWidgets.QLabel(title)
        self.title.setObjectName("panelTitle")
        self.title.setTextFormat(QtCore.Qt.TextFormat.RichText)
        layout.addWidget(self.title)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("k")
        self.view = self.graphics.addViewBox(lockAspect=True, invertY=True)
        self.view.setMenuEnabled(False)
        self.view.setDefaultPadding(0.0)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        pen = pg.mkPen((255, 220, 0, 150), width=1)
        self.vline = pg.InfiniteLine(angle=90, movable=False, pen=pen)
        self.hline = pg.InfiniteLine(angle=0, movable=False, pen=pen)
        for line in (self.vline, self.hline):
            line.setVisible(False)
            self.view.addItem(line, ignoreBounds=True)
        self.value = pg.TextItem("", color=(255, 220, 0), anchor=(0, 1))
        self.view.addItem(self.value, ignoreBounds=True)
        layout.addWidget(self.graphics, 1)
        self.stack: np.ndarray | None = None
        self.levels: tuple[float, float] = (0.0, 1.0)
        self.frame = 0
        self.graphics.scene().sigMouseMoved.connect(self._mouse_moved)

    def set_title(self, html: str) -> None:
        self.title.setText(html)

    def set_stack(self, stack: np.ndarray, levels: tuple[float, float] | None = None, lut=None) -> None:
        """Show a new magnitude stack (T, Ny, Nx); ``levels`` default to its 0.5–99.5 percentiles."""
        first = self.stack is None or self.stack.shape[1:] != np.shape(stack)[1:]
        self.stack = np.asarray(stack, dtype=np.float32)
        self.levels = levels or display_levels(self.stack)
        self.image.setLookupTable(lut)
        self.set_frame(self.frame)
        if first:
            self.view.autoRange(padding=0)

    def set_levels(self, levels: tuple[float, float]) -> None:
        self.levels = levels
        self.image.setLevels(levels)

    def set_frame(self, t: int) -> None:
        if self.stack is None:
            return
        self.frame = int(np.clip(t, 0, self.stack.shape[0] - 1))
        self.image.setImage(self.stack[self.frame], autoLevels=False, levels=self.levels)

    def value_at(self, y: float, x: float) -> float | None:
        if self.stack is None:
            return None
        iy, ix = int(np.floor(y)), int(np.floor(x))
        _, ny, nx = self.stack.shape
        if 0 <= iy < ny and 0 <= ix < nx:
            return float(self.stack[self.frame, iy, ix])
        return None

    def show_cursor(self, y: float, x: float) -> None:
        v = self.value_at(y, x)
        visible = v is not None
        for line in (self.vline, self.hline):
            line.setVisible(visible)
        if visible:
            self.vline.setPos(x)
            self.hline.setPos(y)
            self.value.setText(f"({int(y)}, {int(x)}) {v:.4g}")
            r = self.view.viewRange()
            self.value.setPos(r[0][0], r[1][1])
        else:
            self.value.setText("")

    def _mouse_moved(self, pos) -> None:
        if self.view.sceneBoundingRect().contains(pos):
            p = self.view.mapSceneToView(pos)
            self.hovered.emit(self, p.y(), p.x())
