"""The comparison grid: linked cine panels, one per method, with a shared frame and cursor.

Zoom and pan are linked through ``ViewBox.setXLink/setYLink``; intensities share the
reference's window; the crosshair follows the mouse in every panel and shows each panel's
value in the current display mode. In error mode each panel shows ``|method − reference|``
(absolute, or relative over the body) with one colour scale and a colour bar; a *signed*
panel (a difference of two methods) has its own diverging scale. An x–t line and an ROI
(draggable on the first panel) drive the profile view and the ROI statistics, which every
panel shows.

The grid fits the space it gets: panels wrap into as many columns as keep them largest,
the grid scrolls vertically below a minimum panel size instead of growing the window, and
the images are fitted again after a resize unless the user zoomed.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...core.profiles import body_mask, display_levels, error_map, roi_stats
from .cine_view import CinePanel

MIN_PANEL = 120  # px: below this the grid scrolls instead of shrinking the panels further
TITLE_PX = 44  # room for a panel's title (name, scores, model line)


def grid_columns(n: int, width: float, height: float, aspect: float = 1.0) -> tuple[int, float]:
    """The number of columns that makes ``n`` panels of ``aspect`` (w/h) largest in ``width × height``,
    and that size (the image's width in px)."""
    if n <= 0:
        return 1, 0.0
    best, side = 1, 0.0
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        w = width / cols
        h = height / rows - TITLE_PX
        s = min(w, h * aspect)
        if s > side + 1e-6:
            best, side = cols, s
    return best, side


def _same(shown: tuple | None, want: tuple) -> bool:
    """Whether a panel already shows ``want`` = (kind, stack, levels) — the very same stack object."""
    return shown is not None and shown[0] == want[0] and shown[1] is want[1] and shown[2] == want[2]


class ComparisonGrid(QtWidgets.QWidget):
    """Panels keyed by name; ``line_changed(p0, p1)`` in (y, x) pixels when the x–t line moves; ``step_requested``
    from the wheel; ``window_dragged((lo, hi))`` from a right-drag."""

    line_changed = QtCore.Signal(tuple, tuple)
    cursor_moved = QtCore.Signal(float, float)
    step_requested = QtCore.Signal(int)
    window_dragged = QtCore.Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        outer = QtWidgets.QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll = QtWidgets.QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.container = QtWidgets.QWidget()
        self.layout_grid = QtWidgets.QGridLayout(self.container)
        self.layout_grid.setSpacing(3)
        self.layout_grid.setContentsMargins(0, 0, 0, 0)
        self.scroll.setWidget(self.container)
        self.scroll.viewport().installEventFilter(self)
        outer.addWidget(self.scroll, 1)
        self.colorbar_widget = pg.GraphicsLayoutWidget()
        self.colorbar_widget.setFixedWidth(90)
        self.colorbar_widget.setVisible(False)
        outer.addWidget(self.colorbar_widget)
        self.colorbar: pg.ColorBarItem | None = None
        self.panels: dict[str, CinePanel] = {}
        self.stacks: dict[str, np.ndarray] = {}
        self.titles: dict[str, str] = {}
        self.signed: set[str] = set()
        self.reference_name: str | None = None
        self.mode = "image"  # image | error | relative
        self.levels: tuple[float, float] = (0.0, 1.0)
        self.error_levels: tuple[float, float] = (0.0, 1.0)
        self.frame = 0
        self.cols = 1
        self._layout_key: tuple = ()
        self.line: pg.LineSegmentROI | None = None
        self.roi: pg.RectROI | None = None
        self._line_host: CinePanel | None = None  # the panel the line and ROI live on
        self._line_pts: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._roi_rect: tuple[float, float, float, float] | None = None
        self._err_cmap = pg.colormap.get("inferno")
        self._diff_cmap = pg.colormap.get("CET-D1")
        self._shown: dict[str, tuple] = {}  # name → (kind, stack, levels) its panel shows (skip unchanged panels)
        self._errors: dict[str, tuple] = {}  # name → (stack, ref, mode, error stack, its 99.5th percentile)
        self._body: tuple[np.ndarray, np.ndarray] | None = None  # (ref, body mask)
        self.fitted = True  # the view shows the whole image (refit on resize) until the user zooms
        self._refit_timer = QtCore.QTimer(self)
        self._refit_timer.setSingleShot(True)
        self._refit_timer.setInterval(15)
        self._refit_timer.timeout.connect(self._refit)
        self._drag_levels: tuple[float, float] | None = None
        self._drag_span = 1.0

    # -- content -----------------------------------------------------------
    def set_stacks(self, stacks: dict[str, np.ndarray], titles: dict[str, str], reference: str | None,
                   signed: set[str] | None = None) -> None:
        """Replace/update panels. ``stacks``: name → magnitude (T, Ny, Nx); first = top-left. ``signed``: names
        shown on a symmetric diverging scale (differences)."""
        old_shape = next(iter(self.stacks.values())).shape[1:] if self.stacks else None
        shape_changed = bool(stacks) and old_shape is not None and next(iter(stacks.values())).shape[1:] != old_shape
        self.stacks, self.titles, self.reference_name = dict(stacks), dict(titles), reference
        self.signed = set(signed or ())
        order_before = list(self.panels)
        for name in list(self.panels):
            if name not in stacks:
                gone = self.panels.pop(name)
                self._shown.pop(name, None)
                if gone is self._line_host:
                    self._line_host, self.line, self.roi = None, None, None
                gone.setParent(None)
                gone.deleteLater()
        for name in stacks:
            if name not in self.panels:
                panel = CinePanel(name)
                panel.hovered.connect(self._hovered)
                panel.view.wheel_step.connect(self.step_requested)
                panel.view.window_drag.connect(self._window_drag)
                panel.view.fit_requested.connect(self.reset_zoom)
                panel.view.sigRangeChangedManually.connect(self._zoomed)
                panel.view.sigResized.connect(self._refit_timer.start)
                self.panels[name] = panel
        self.panels = {name: self.panels[name] for name in stacks}  # the order of ``stacks``
        if list(self.panels) != order_before:
            self._relayout()
            self._link()
        ref = stacks.get(reference) if reference else next(iter(stacks.values()), None)
        if ref is not None and (shape_changed or not order_before):
            self.levels = display_levels(ref)
        self._refresh()
        self._ensure_line()
        self._update_roi_overlays()
        if list(self.panels) != order_before or shape_changed:
            self.fitted = True
            self._refit_timer.start()  # after the layout has given the panels their size

    def reset_zoom(self) -> None:
        """Fit the whole image in the (linked) panels."""
        first = next(iter(self.panels.values()), None)
        if first is not None and first.stack is not None:
            _, ny, nx = first.stack.shape
            first.view.setRange(xRange=(0, nx), yRange=(0, ny), padding=0)
        self.fitted = True

    def _refit(self) -> None:
        self._align_titles()
        if self.fitted:
            self.reset_zoom()

    def _align_titles(self) -> None:
        """One title height for every panel, so that the images share one size (and linked zoom one range)."""
        panels = list(self.panels.values())
        if not panels:
            return
        h = max(p.title.heightForWidth(max(p.title.width(), 60)) for p in panels)
        for p in panels:
            if p.title.height() != h or p.title.minimumHeight() != h:
                p.title.setFixedHeight(max(h, 1))

    def _zoomed(self, *_args) -> None:
        self.fitted = False

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt naming)
        if obj is self.scroll.viewport() and event.type() == QtCore.QEvent.Type.Resize:
            self._relayout()
            self._refit_timer.start()
        return super().eventFilter(obj, event)

    def _aspect(self) -> float:
        first = next(iter(self.stacks.values()), None)
        return first.shape[2] / first.shape[1] if first is not None and first.ndim == 3 else 1.0

    def _relayout(self) -> None:
        n = len(self.panels)
        vp = self.scroll.viewport().size()
        cols, side = grid_columns(n, vp.width(), vp.height(), self._aspect())
        if n and side < MIN_PANEL:  # too small: as many columns of MIN_PANEL as fit, and scroll
            cols = int(max(1, min(n, vp.width() // MIN_PANEL)))
        rows = math.ceil(n / cols) if n else 0
        min_h = rows * (MIN_PANEL / self._aspect() + TITLE_PX) if n and side < MIN_PANEL else 0
        self.container.setMinimumHeight(int(min(min_h, 20000)))
        key = (cols, tuple(id(p) for p in self.panels.values()))
        self.cols = cols
        if key == self._layout_key:
            return
        self._layout_key = key
        for i in reversed(range(self.layout_grid.count())):
            self.layout_grid.takeAt(i)
        for c in range(self.layout_grid.columnCount()):
            self.layout_grid.setColumnStretch(c, 0)
        for r in range(self.layout_grid.rowCount()):
            self.layout_grid.setRowStretch(r, 0)
        for i, panel in enumerate(self.panels.values()):
            self.layout_grid.addWidget(panel, i // cols, i % cols)
        for c in range(cols):
            self.layout_grid.setColumnStretch(c, 1)
        for r in range(rows):
            self.layout_grid.setRowStretch(r, 1)

    def _link(self) -> None:
        from . import link_axes

        link_axes(p.view for p in self.panels.values())

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._refresh()
        self._update_roi_overlays()

    def error_lut(self) -> np.ndarray:
        """The colour table of error displays, ``uint8 (256, 3|4)``."""
        return self._err_cmap.getLookupTable(nPts=256)

    def _body_mask(self, ref: np.ndarray) -> np.ndarray:
        if self._body is None or self._body[0] is not ref:
            self._body = (ref, body_mask(ref))
        return self._body[1]

    def _error(self, name: str, stack: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, float]:
        hit = self._errors.get(name)
        if hit is not None and hit[0] is stack and hit[1] is ref and hit[2] == self.mode:
            return hit[3], hit[4]
        relative = self.mode == "relative"
        err = error_map(stack, ref, relative=relative, body=self._body_mask(ref) if relative else None)
        sample = err[np.broadcast_to(self._body_mask(ref), err.shape)] if relative else err
        top = float(np.percentile(sample, 99.5)) if sample.size else 1.0
        self._errors[name] = (stack, ref, self.mode, err, top)
        return err, top

    def error_stacks(self) -> tuple[dict[str, np.ndarray], tuple[float, float]] | None:
        """Each image panel's error stack against the reference (relative in the relative mode, else |error|),
        ``float32 (T, Ny, Nx)``, and their shared scale (0 … the largest 99.5th percentile); cached; None without
        a reference."""
        ref = self.stacks.get(self.reference_name) if self.reference_name else None
        if ref is None:
            return None
        errs, tops = {}, []
        for n, s in self.stacks.items():
            if n != self.reference_name and n not in self.signed:
                errs[n], top = self._error(n, s, ref)
                tops.append(top)
        top = max(tops, default=1.0)
        return errs, (0.0, top if top > 0 else 1.0)

    def _refresh(self) -> None:
        ref = self.stacks.get(self.reference_name) if self.reference_name else None
        error = self.mode in ("error", "relative") and ref is not None
        errs: dict[str, np.ndarray] = {}
        if error:
            errs, self.error_levels = self.error_stacks()
        err_lut = self.error_lut() if error else None
        for name, panel in self.panels.items():
            stack = self.stacks[name]
            if name in self.signed:
                lim = float(np.percentile(np.abs(stack), 99.5)) or 1.0
                want = ("signed", stack, lim)
                if not _same(self._shown.get(name), want):
                    panel.set_stack(stack, (-lim, lim), lut=self._diff_cmap.getLookupTable(nPts=256))
                panel.unit = "Δ"
            elif name in errs:
                want = ("error", errs[name], self.error_levels)
                if not _same(self._shown.get(name), want):
                    panel.set_stack(errs[name], self.error_levels, lut=err_lut)
                panel.unit = "rel. err" if self.mode == "relative" else "|err|"
            else:
                want = ("image", stack, self.levels)
                if not _same(self._shown.get(name), want):
                    panel.set_stack(stack, self.levels, lut=None)
                panel.unit = ""
            self._shown[name] = want
            suffix = " — error" if name in errs else ""
            panel.set_title(self.titles.get(name, name) + suffix)
            if panel.frame != self.frame:
                panel.set_frame(self.frame)
        self._update_colorbar(error, self.error_levels)
        self._align_titles()

    def _update_colorbar(self, error: bool, levels: tuple[float, float]) -> None:
        self.colorbar_widget.setVisible(error)
        if not error:
            return
        label = "relative error (body)" if self.mode == "relative" else "|error|"
        if self.colorbar is None:
            self.colorbar = pg.ColorBarItem(values=levels, colorMap=self._err_cmap, interactive=False, width=15,
                                            label=label)
            self.colorbar_widget.addItem(self.colorbar)
        self.colorbar.setLevels(levels)
        self.colorbar.axis.setLabel(label)

    # -- frame, levels, cursor ---------------------------------------------
    def set_frame(self, t: int) -> None:
        self.frame = t
        for p in self.panels.values():
            p.set_frame(t)

    def set_window(self, lo: float, hi: float) -> None:
        self.levels = (lo, hi if hi > lo else lo + 1e-6)
        if self.mode == "image":
            for name, p in self.panels.items():
                if name not in self.signed:
                    p.set_levels(self.levels)
                    if name in self._shown:
                        self._shown[name] = ("image", self._shown[name][1], self.levels)

    def _window_drag(self, dx: float, dy: float, start: bool) -> None:
        from ...workspace.viewing import drag_window

        if start or self._drag_levels is None:
            self._drag_levels = self.levels
            ref = self.stacks.get(self.reference_name) if self.reference_name else next(iter(self.stacks.values()), None)
            lo, hi = display_levels(ref) if ref is not None else (0.0, 1.0)
            self._drag_span = max(hi - lo, 1e-6)
        self._drag_levels = drag_window(self._drag_levels, dx, dy, self._drag_span)
        self.window_dragged.emit(self._drag_levels)

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
        if self._line_host is not None and self.line is not None:
            for item in (self.line, self.roi):
                self._line_host.view.removeItem(item)
        _, ny, nx = host.stack.shape
        pts = self._line_pts or ((ny * 0.45, nx * 0.2), (ny * 0.45, nx * 0.8))
        rect = self._roi_rect or (nx * 0.45, ny * 0.35, nx * 0.08, ny * 0.08)
        self.line = pg.LineSegmentROI([[pts[0][1], pts[0][0]], [pts[1][1], pts[1][0]]],
                                      pen=pg.mkPen((0, 200, 255), width=2))
        self.line.sigRegionChanged.connect(self._line_moved)
        self.roi = pg.RectROI(rect[:2], rect[2:], pen=pg.mkPen((80, 255, 80), width=2))
        self.roi.sigRegionChanged.connect(self._roi_moved)
        host.view.addItem(self.line)
        host.view.addItem(self.roi)
        self._line_host = host
        self._roi_rect = rect
        self._line_moved()

    def _roi_moved(self, *_args) -> None:
        x, y = self.roi.pos()
        w, h = self.roi.size()
        self._roi_rect = (x, y, w, h)
        self._update_roi_overlays()
        self.cursor_moved.emit(-1.0, -1.0)

    def _update_roi_overlays(self) -> None:
        """The ROI's outline and mean ± sd (over the cine, in the display mode's units) in every panel."""
        sl = self.roi_slices()
        for panel in self.panels.values():
            if sl is None or panel.stack is None:
                panel.show_roi(None)
                continue
            st = roi_stats(panel.stack, *sl)
            text = f"{st['mean']:.3g} ± {st['sd']:.2g}" if np.isfinite(st["mean"]) else ""
            panel.show_roi(self._roi_rect, text)
            panel.roi_outline.setVisible(panel is not self._line_host)  # the host shows the draggable ROI

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
        return (slice(max(0, int(round(y))), max(0, int(round(y + h)))),
                slice(max(0, int(round(x))), max(0, int(round(x + w)))))

    def _line_moved(self, *_args) -> None:
        pts = self.line_points()
        if pts is not None:
            self._line_pts = pts
            self.line_changed.emit(*pts)
