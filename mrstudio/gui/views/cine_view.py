"""One cine panel: a pyqtgraph image with a title, a crosshair, the ROI outline and a frame index.

Mouse in a panel (the same in every panel, and in ``docs/guide.md``):

- wheel: next / previous frame (or slice); Ctrl+wheel: zoom about the pointer;
- left-drag: pan; right-drag: window/level (right = wider window, up = higher level, as in
  Horos and Slicer); double-click: fit the image again.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...core.profiles import display_levels, window_uint8


class PanelViewBox(pg.ViewBox):
    """A view box whose wheel steps frames (Ctrl+wheel zooms) and whose right-drag sets the window."""

    wheel_step = QtCore.Signal(int)
    window_drag = QtCore.Signal(float, float, bool)  # dx, dy (pixels since the last event), start of a drag
    fit_requested = QtCore.Signal()

    def wheelEvent(self, ev, axis=None):  # noqa: N802 (Qt naming)
        if ev.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev, axis)
            return
        delta = ev.delta() if hasattr(ev, "delta") else ev.angleDelta().y()
        if delta:
            self.wheel_step.emit(1 if delta < 0 else -1)  # wheel down / towards you: the next frame
        ev.accept()

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802
        if ev.button() == QtCore.Qt.MouseButton.RightButton:
            ev.accept()
            d = ev.screenPos() - ev.lastScreenPos()
            self.window_drag.emit(float(d.x()), float(d.y()), bool(ev.isStart()))
            return
        super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev):  # noqa: N802
        if ev.double() and ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            self.fit_requested.emit()
            return
        super().mouseClickEvent(ev)


class PanelTitle(QtWidgets.QLabel):
    """A word-wrapped rich-text title whose height the grid sets (it does not ask the layout for
    height-for-width, which would make a scrolling grid as tall as its panels' preferred size)."""

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt naming)
        return False


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
        self.title = PanelTitle(title)
        self.title.setObjectName("panelTitle")
        self.title.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.title.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Minimum)
        layout.addWidget(self.title)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("k")
        self.graphics.setMinimumSize(60, 60)
        self.graphics.ci.setContentsMargins(0, 0, 0, 0)
        self.view = PanelViewBox(lockAspect=True, invertY=True)
        self.graphics.addItem(self.view)
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
        self.value = pg.TextItem("", color=(255, 220, 0), anchor=(0, 0))
        self.view.addItem(self.value, ignoreBounds=True)
        self.roi_outline = QtWidgets.QGraphicsRectItem()
        self.roi_outline.setPen(pg.mkPen((80, 255, 80), width=1, style=QtCore.Qt.PenStyle.DashLine, cosmetic=True))
        self.roi_outline.setVisible(False)
        self.view.addItem(self.roi_outline, ignoreBounds=True)
        self.roi_text = pg.TextItem("", color=(80, 255, 80), anchor=(0, 1))
        self.view.addItem(self.roi_text, ignoreBounds=True)
        layout.addWidget(self.graphics, 1)
        self.stack: np.ndarray | None = None
        self.levels: tuple[float, float] = (0.0, 1.0)
        self._display: dict[int, np.ndarray] = {}  # frame → uint8 image windowed to ``levels``
        self.frame = 0
        self.unit = ""  # what the values are: "" (intensity), "|err|", "rel. err", "Δ"
        self.graphics.scene().sigMouseMoved.connect(self._mouse_moved)

    def set_title(self, html: str) -> None:
        if self.title.text() != html:
            self.title.setText(html)

    def set_stack(self, stack: np.ndarray, levels: tuple[float, float] | None = None, lut=None) -> None:
        """Show a new magnitude stack (T, Ny, Nx); ``levels`` default to its 0.5–99.5 percentiles."""
        first = self.stack is None or self.stack.shape[1:] != np.shape(stack)[1:]
        self.stack = np.asarray(stack, dtype=np.float32)
        self.levels = levels or display_levels(self.stack)
        self._display.clear()
        self.image.setLookupTable(lut)
        self.set_frame(self.frame)
        if first:
            self.view.autoRange(padding=0)

    def set_levels(self, levels: tuple[float, float]) -> None:
        if tuple(levels) != tuple(self.levels):
            self.levels = levels
            self._display.clear()
            self.set_frame(self.frame)

    def set_frame(self, t: int) -> None:
        if self.stack is None:
            return
        self.frame = int(np.clip(t, 0, self.stack.shape[0] - 1))
        self.image.setImage(self._display_frame(self.frame), autoLevels=False, levels=(0, 255))

    def _display_frame(self, t: int) -> np.ndarray:
        """Frame ``t`` windowed to ``levels`` as uint8 (0 at the low level, 255 at the high one), cached until the
        stack or the window changes: scrubbing then hands pyqtgraph 8-bit images, which it draws without
        rescaling floats (grey, or indices into the lookup table) — the float stack still answers hover and ROI."""
        q = self._display.get(t)
        if q is None:
            q = self._display[t] = window_uint8(self.stack[t], self.levels)
        return q

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
            self.value.setText(f"({int(y)}, {int(x)}) {self.unit + ' ' if self.unit else ''}{v:.4g}")
            r = self.view.viewRange()
            self.value.setPos(r[0][0], r[1][0])
        else:
            self.value.setText("")

    def show_roi(self, rect: tuple[float, float, float, float] | None, text: str = "") -> None:
        """Outline the ROI ``(x, y, w, h)`` and show its statistics (``None`` hides it)."""
        self.roi_outline.setVisible(rect is not None)
        if rect is None:
            self.roi_text.setText("")
            return
        x, y, w, h = rect
        self.roi_outline.setRect(QtCore.QRectF(x, y, w, h))
        self.roi_text.setText(text)
        self.roi_text.setPos(x, y)

    def _mouse_moved(self, pos) -> None:
        if self.view.sceneBoundingRect().contains(pos):
            p = self.view.mapSceneToView(pos)
            self.hovered.emit(self, p.y(), p.x())
