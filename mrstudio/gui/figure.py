"""The comparison grid as a picture: tiles in the grid's layout, each with its title and metrics.

What the grid shows is what is drawn: each panel's current stack (images, |error| or
relative error, or a signed difference) with the panel's window and colour table, its
title (method, badge, PSNR/SSIM/time, model line) rendered from the same rich text, and a
colour-scale note on error and difference tiles. Images are scaled up by an integer factor
(nearest neighbour) so that the text stays readable on small matrices. Optional rows under
each tile (``extras``): its |error| against the reference on one scale for all panels
(``"error"``), and its x–t profile along the grid's line, or the middle row when there is
none (``"xt"``, frames downwards, the current frame marked). Used by File → Export for PNG
and MP4/GIF.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6 import QtCore, QtGui

BACKGROUND = QtGui.QColor(24, 24, 24)
TEXT = "#e8e8e8"
MIN_TILE = 256  # px: images are scaled up to at least this width
GAP = 6


def _tile_image(stack: np.ndarray, t: int, levels: tuple[float, float], lut: np.ndarray | None) -> QtGui.QImage:
    """Frame ``t`` of ``stack`` windowed to ``levels`` through ``lut`` (or grey) as an RGB QImage."""
    from ..core.profiles import window_uint8

    idx = window_uint8(stack[min(t, len(stack) - 1)], levels)
    if lut is not None:
        table = np.asarray(lut, np.uint8)[:, :3]
        rgb = table[idx] if len(table) == 256 else table[(idx.astype(np.int32) * (len(table) - 1) + 127) // 255]
    else:
        rgb = np.repeat(idx[..., None], 3, axis=-1)
    rgb = np.ascontiguousarray(rgb, np.uint8)
    h, w = rgb.shape[:2]
    return QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888).copy()


def _doc(html: str, width: int) -> QtGui.QTextDocument:
    doc = QtGui.QTextDocument()
    doc.setDefaultStyleSheet(f"body {{ color: {TEXT}; }}")
    doc.setHtml(f"<body>{html}</body>")
    doc.setTextWidth(width)
    return doc


def plain(html: str) -> str:
    """The text of a panel title (what a reader of the picture sees)."""
    doc = QtGui.QTextDocument()
    doc.setHtml(html)
    return doc.toPlainText()


EXTRAS = ("error", "xt")
XT_MARK = (255, 220, 0)


def _panel_lut(p) -> np.ndarray | None:
    return p.image.lut if getattr(p.image, "lut", None) is not None else None


class Extras:
    """What the optional rows need, computed once for a picture or a whole movie: the grid's error stacks and
    their scale (``"error"``), and each panel's x–t profile along the grid's line, or the middle row when there
    is none (``"xt"``, ``float32 (T, width)``)."""

    def __init__(self, grid, panels, extras: tuple[str, ...], width: int):
        from ..core.profiles import line_profile

        if set(extras) - set(EXTRAS):
            raise ValueError(f"unknown extras {sorted(set(extras) - set(EXTRAS))} (known: {', '.join(EXTRAS)})")
        self.errors = grid.error_stacks() if "error" in extras else None
        self.error_unit = "rel. err" if grid.mode == "relative" else "|err|"
        self.lut = grid.error_lut()
        self.profiles: dict[str, np.ndarray] = {}
        if "xt" in extras:
            line = grid.line_points()
            for name, p in panels:
                _, ny, nx = p.stack.shape
                p0, p1 = line if line is not None else ((ny / 2, 0.0), (ny / 2, nx - 1.0))
                self.profiles[name] = line_profile(p.stack, p0, p1, n=width)


def _drawn_panels(grid) -> list:
    """``(name, panel)`` of the grid's panels that show a stack (ValueError if none)."""
    panels = [(name, p) for name, p in grid.panels.items() if p.stack is not None]
    if not panels:
        raise ValueError("nothing to draw")
    return panels


def _scale(nx: int) -> int:
    """The integer up-scaling of a tile ``nx`` pixels wide: at least ``MIN_TILE`` wide."""
    return max(1, math.ceil(MIN_TILE / nx))


def render_grid(grid, frame: int, cols: int | None = None, extras: tuple[str, ...] = (),
                pre: Extras | None = None) -> tuple[np.ndarray, list[str]]:
    """The grid at ``frame`` as ``uint8 (H, W, 3)``, and each tile's label text (title and scale note);
    ``extras`` ⊆ :data:`EXTRAS` adds the error-map and x–t rows under each tile (``pre``: computed already)."""
    panels = _drawn_panels(grid)
    cols = max(1, min(cols or grid.cols or len(panels), len(panels)))
    rows = math.ceil(len(panels) / cols)
    t_all, ny, nx = panels[0][1].stack.shape
    scale = _scale(nx)
    tw, th = nx * scale, ny * scale
    pre = pre if pre is not None else Extras(grid, panels, extras, tw)
    errors = pre.errors
    xt_h = t_all * max(1, math.ceil(MIN_TILE / 4 / t_all)) if pre.profiles else 0
    extra_h = (th + GAP if errors else 0) + (xt_h + GAP if xt_h else 0)
    labels, docs = [], []
    for name, p in panels:
        note = ""
        if p.unit:
            lo, hi = p.levels
            note = f"<br><small>{p.unit} scale {lo:.3g} … {hi:.3g}</small>"
        if errors and name in errors[0]:
            note += f"<br><small>below: {pre.error_unit} scale {errors[1][0]:.3g} … {errors[1][1]:.3g}</small>"
        if xt_h:
            note += "<br><small>below: x–t profile (frames downwards)</small>"
        html = grid.titles.get(name, f"<b>{name}</b>") + note
        labels.append(plain(html))
        docs.append(_doc(html, tw))
    title_h = int(max(d.size().height() for d in docs)) + 2
    width = cols * tw + (cols + 1) * GAP
    height = rows * (th + title_h + extra_h) + (rows + 1) * GAP
    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_RGB888)
    image.fill(BACKGROUND)
    painter = QtGui.QPainter(image)
    try:
        for i, ((name, p), doc) in enumerate(zip(panels, docs, strict=True)):
            x = GAP + (i % cols) * (tw + GAP)
            y = GAP + (i // cols) * (th + title_h + extra_h + GAP)
            painter.save()
            painter.translate(x, y)
            doc.drawContents(painter, QtCore.QRectF(0, 0, tw, title_h))
            painter.restore()
            painter.drawImage(QtCore.QRect(x, y + title_h, tw, th), _tile_image(p.stack, frame, p.levels, _panel_lut(p)))
            below = y + title_h + th + GAP
            if errors:
                err = errors[0].get(name)
                if err is not None:
                    painter.drawImage(QtCore.QRect(x, below, tw, th), _tile_image(err, frame, errors[1], pre.lut))
                below += th + GAP
            if xt_h:  # what the panel shows (image, error or difference) in its colours, the current frame marked
                xt = _tile_image(pre.profiles[name][None], 0, p.levels, _panel_lut(p))
                painter.drawImage(QtCore.QRect(x, below, tw, xt_h), xt)
                row = xt_h / t_all
                for x0 in (x, x + tw - 4):
                    painter.fillRect(QtCore.QRectF(x0, below + frame * row, 4, max(row, 1.0)), QtGui.QColor(*XT_MARK))
    finally:
        painter.end()
    ptr = image.constBits()
    arr = np.frombuffer(ptr, np.uint8, count=image.sizeInBytes()).reshape(height, image.bytesPerLine())
    return arr[:, : width * 3].reshape(height, width, 3).copy(), labels


def render_movie(grid, frames: int, cols: int | None = None, extras: tuple[str, ...] = ()) -> np.ndarray:
    """Every frame of the grid, ``uint8 (T, H, W, 3)`` (the optional rows' data computed once)."""
    panels = _drawn_panels(grid)
    nx = panels[0][1].stack.shape[2]
    pre = Extras(grid, panels, extras, nx * _scale(nx))
    return np.stack([render_grid(grid, t, cols, extras, pre)[0] for t in range(frames)])
