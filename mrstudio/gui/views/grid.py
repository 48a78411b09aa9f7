"""The comparison grid: linked cine panels, one per method, with a shared frame and cursor.

Zoom and pan are linked through ``ViewBox.setXLink/setYLink``; intensities share the
reference's window; the crosshair follows the mouse in every panel and shows each
panel's value. In error mode each panel shows ``|method − reference|`` (absolute or
relative) with one colour scale and a colour bar. An x–t line (a draggable segment on
the first panel) drives the profile view.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...core.profiles import display_levels, error_map
from .cine_view import CinePanel


class ComparisonGrid(QtWidgets.QWidget):
    """Panels keyed by name; ``line_changed(p0, p1)`` in (y, x) pixels when the x–t line moves."""

    line_changed = QtCore.Signal(tuple, tuple)
    cursor_moved = QtCore.Signal(float, float)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        outer = QtWidgets.QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.layout_grid = QtWidgets.QGridLayout()
        self.layout_grid.setSpacing(3)
        outer.addLayout(self.layout_grid, 1)
        self.colorbar_widget = pg.GraphicsLayoutWidget()
        self.colorbar_widget.setFixedWidth(90)
        self.colorbar_widget.setVisible(False)
        outer.addWidget(self.colorbar_widget)
        self.colorbar: pg.ColorBarItem | None = None
        self.panels: dict[str, CinePanel] = {}
        self.stacks: dict[str, np.ndarray] = {}
        self.titles: dict[str, str] = {}
        self.reference_name: str | None = None
        self.mode = "image"  # image | error | relative
        self.levels: tuple[float, float] = (0.0, 1.0)
        self.frame = 0
        self.line: pg.LineSegmentROI | None = None
        self.roi: pg.RectROI | None = None
        self._line_host: CinePanel | None = None  # the panel the line and ROI live on
        self._line_pts: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._roi_rect: tuple[float, float, float, float] | None = None
        self._err_cmap = pg.colormap.get("inferno")

    # -- content -----------------------------------------------------------
    def set_stacks(self, stacks: dict[str, np.ndarray], titles: dict[str, str], reference: str | None) -> None:
        """Replace/update panels. ``stacks``: name → magnitude (T, Ny, Nx); first = top-left."""
        self.stacks, self.titles, self.reference_name = dict(stacks), dict(titles), reference
        for name in list(self.panels):
            if name not in stacks:
                gone = self.panels.pop(name)
                gone.setParent(None)
                gone.deleteLater()
        for name in stacks:
            if name not in self.panels:
                panel = CinePanel(name)
                panel.hovered.connect(self._hovered)
                self.panels[name] = panel
        self.panels = {name: self.panels[name] for name in stacks}  # the order of ``stacks``
        self._relayout()
        ref = stacks.get(reference) if reference else next(iter(stacks.values()), None)
        if ref is not None:
            self.levels = display_levels(ref)
        self._link()
        self._refresh()
        self._ensure_line()
        QtCore.QTimer.singleShot(0, self.reset_zoom)  # after the layout has given the panels their size

    def reset_zoom(self) -> None:
        """Fit the whole image in the (linked) panels."""
        first = next(iter(self.panels.values()), None)
        if first is not None and first.stack is not None:
            _, ny, nx = first.stack.shape
            first.view.setRange(xRange=(0, nx), yRange=(0, ny), padding=0)

    def _relayout(self) -> None:
        for i in reversed(range(self.layout_grid.count())):
            self.layout_grid.takeAt(i)
        n = len(self.panels)
        cols = max(1, min(4, math.ceil(math.sqrt(n)) if n > 2 else n)) if n else 1
        if n in (5, 6):
            cols = 3
        for i, panel in enumerate(self.panels.values()):
            self.layout_grid.addWidget(panel, i // cols, i % cols)

    def _link(self) -> None:
        from . import link_axes

        link_axes(p.view for p in self.panels.values())

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._refresh()

    def _refresh(self) -> None:
        ref = self.stacks.get(self.reference_name) if self.reference_name else None
        error = self.mode in ("error", "relative") and ref is not None
        err_levels = (0.0, 1.0)
        if error:
            errs = {n: error_map(s, ref, relative=self.mode == "relative") for n, s in self.stacks.items()}
            top = max((float(np.percentile(e, 99.5)) for n, e in errs.items() if n != self.reference_name), default=1.0)
            err_levels = (0.0, top if top > 0 else 1.0)
        lut = self._err_cmap.getLookupTable(nPts=256) if error else None
        for name, panel in self.panels.items():
            stack = self.stacks[name]
            if error and name != self.reference_name:
                panel.set_stack(errs[name], err_levels, lut=lut)
            else:
                panel.set_stack(stack, self.levels, lut=None)
            panel.set_title(self.titles.get(name, name) + (" — error" if error and name != self.reference_name else ""))
            panel.set_frame(self.frame)
        self._update_colorbar(error, err_levels)

    def _update_colorbar(self, error: bool, levels: tuple[float, float]) -> None:
        self.colorbar_widget.setVisible(error)
        if not error:
            return
        if self.colorbar is None:
            self.colorbar = pg.ColorBarItem(values=levels, colorMap=self._err_cmap, interactive=False, width=15,
                                            label="relative error" if self.mode == "relative" else "|error|")
            self.colorbar_widget.addItem(self.colorbar)
        self.colorbar.setLevels(levels)
        self.colorbar.setLabel("left", "relative error" if self.mode == "relative" else "|error|")

    # -- frame, levels, cursor ---------------------------------------------
    def set_frame(self, t: int) -> None:
        self.frame = t
        for p in self.panels.values():
            p.set_frame(t)

    def set_window(self, lo: float, hi: float) -> None:
        self.levels = (lo, hi if hi > lo else lo + 1e-6)
        if self.mode == "image":
            for p in self.panels.values():
                p.set_levels(self.levels)

    def _hovered(self, _panel: CinePanel, y: float, x: float) -> None:
        for p in self.panels.values():
            p.show_cursor(y, x)
        self.cursor_moved.emit(y, x)

    def values_at(self, y: float, x: float) -> dict[str, float | None]:
        return {n: p.value_at(y, x) for n, p in self.panels.items()}

    # -- x–t line and ROI ------------------------------------------------------
    def _ensure_line(self) -> None:
        """Put the x–t line and the ROI on the first panel (re-created when that panel changed)."""
        panels = list(self.panels.values())
        if not panels or panels[0].stack is None:
            return
        host = panels[0]
        if self.line is not None and self._line_host is host:
            return
        _, ny, nx = host.stack.shape
        pts = self._line_pts or ((ny * 0.45, nx * 0.2), (ny * 0.45, nx * 0.8))
        rect = self._roi_rect or (nx * 0.45, ny * 0.35, nx * 0.08, ny * 0.08)
        self.line = pg.LineSegmentROI([[pts[0][1], pts[0][0]], [pts[1][1], pts[1][0]]], pen=pg.mkPen((0, 200, 255), width=2))
        self.line.sigRegionChanged.connect(self._line_moved)
        self.roi = pg.RectROI(rect[:2], rect[2:], pen=pg.mkPen((80, 255, 80), width=2))
        self.roi.sigRegionChanged.connect(self._roi_moved)
        host.view.addItem(self.line)
        host.view.addItem(self.roi)
        self._line_host = host
        self._line_moved()

    def _roi_moved(self, *_args) -> None:
        x, y = self.roi.pos()
        w, h = self.roi.size()
        self._roi_rect = (x, y, w, h)
        self.cursor_moved.emit(-1.0, -1.0)

    def set_line(self, p0: tuple[float, float], p1: tuple[float, float]) -> None:
        """Place the x–t line at (y, x) endpoints."""
        if self.line is None:
            return
        self.line.movePoint(0, QtCore.QPointF(p0[1], p0[0]), finish=False)
        self.line.movePoint(1, QtCore.QPointF(p1[1], p1[0]))

    def line_points(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        if self.line is None:
            return None
        pts = [self.line.mapToParent(h.pos()) for h in self.line.getHandles()]
        return (pts[0].y(), pts[0].x()), (pts[1].y(), pts[1].x())

    def roi_slices(self) -> tuple[slice, slice] | None:
        if self.roi is None:
            return None
        x, y = self.roi.pos()
        w, h = self.roi.size()
        return slice(max(0, int(round(y))), max(0, int(round(y + h)))), slice(max(0, int(round(x))), max(0, int(round(x + w))))

    def _line_moved(self, *_args) -> None:
        pts = self.line_points()
        if pts is not None:
            self._line_pts = pts
            self.line_changed.emit(*pts)
