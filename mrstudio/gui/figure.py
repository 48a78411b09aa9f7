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
    lo, hi = levels
    frame = np.asarray(stack[min(t, len(stack) - 1)], np.float32)
    idx = np.clip((frame - lo) / ((hi - lo) or 1.0), 0, 1)
    if lut is not None:
        table = np.asarray(lut, np.uint8)[:, :3]
        rgb = table[(idx * (len(table) - 1) + 0.5).astype(int)]
    else:
        rgb = np.repeat((idx * 255 + 0.5).astype(np.uint8)[..., None], 3, axis=-1)
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


def _error_rows(grid, panels) -> tuple[dict[str, np.ndarray], tuple[float, float]] | None:
    """|error| stacks of the non-reference image panels against the grid's reference, and one shared scale."""
    from ..core.profiles import error_map

    ref = grid.stacks.get(grid.reference_name) if grid.reference_name else None
    if ref is None:
        return None
    errs = {name: error_map(grid.stacks[name], ref) for name, _p in panels
            if name != grid.reference_name and name not in grid.signed}
    top = max((float(np.percentile(e, 99.5)) for e in errs.values()), default=1.0)
    return errs, (0.0, top if top > 0 else 1.0)


def _xt_image(stack: np.ndarray, line, levels: tuple[float, float], width: int) -> QtGui.QImage:
    """The x–t profile of ``stack`` along ``line`` ((y, x) end points; the middle row if None), frames
    downwards, ``width`` samples wide."""
    from ..core.profiles import line_profile

    _, ny, nx = stack.shape
    p0, p1 = line if line is not None else ((ny / 2, 0.0), (ny / 2, nx - 1.0))
    return _tile_image(line_profile(stack, p0, p1, n=width)[None], 0, levels, None)


def render_grid(grid, frame: int, cols: int | None = None, extras: tuple[str, ...] = ()) -> tuple[np.ndarray, list[str]]:
    """The grid at ``frame`` as ``uint8 (H, W, 3)``, and each tile's label text (title and scale note);
    ``extras`` ⊆ :data:`EXTRAS` adds the error-map and x–t rows under each tile."""
    panels = [(name, p) for name, p in grid.panels.items() if p.stack is not None]
    if not panels:
        raise ValueError("nothing to draw")
    if set(extras) - set(EXTRAS):
        raise ValueError(f"unknown extras {sorted(set(extras) - set(EXTRAS))} (known: {', '.join(EXTRAS)})")
    cols = max(1, min(cols or grid.cols or len(panels), len(panels)))
    rows = math.ceil(len(panels) / cols)
    t_all, ny, nx = panels[0][1].stack.shape
    scale = max(1, math.ceil(MIN_TILE / nx))
    tw, th = nx * scale, ny * scale
    errors = _error_rows(grid, panels) if "error" in extras else None
    xt_h = t_all * max(1, math.ceil(MIN_TILE / 4 / t_all)) if "xt" in extras else 0
    extra_h = (th + GAP if errors else 0) + (xt_h + GAP if xt_h else 0)
    line = grid.line_points() if xt_h else None
    labels, docs = [], []
    for name, p in panels:
        note = ""
        if p.unit:
            lo, hi = p.levels
            note = f"<br><small>{p.unit} scale {lo:.3g} … {hi:.3g}</small>"
        if errors and name in errors[0]:
            note += f"<br><small>below: |err| scale {errors[1][0]:.3g} … {errors[1][1]:.3g}</small>"
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
        for i, ((_name, p), doc) in enumerate(zip(panels, docs, strict=True)):
            x = GAP + (i % cols) * (tw + GAP)
            y = GAP + (i // cols) * (th + title_h + extra_h + GAP)
            painter.save()
            painter.translate(x, y)
            doc.drawContents(painter, QtCore.QRectF(0, 0, tw, title_h))
            painter.restore()
            lut = p.image.lut if getattr(p.image, "lut", None) is not None else None
            tile = _tile_image(p.stack, frame, p.levels, lut)
            painter.drawImage(QtCore.QRect(x, y + title_h, tw, th), tile)
            below = y + title_h + th + GAP
            if errors:
                err = errors[0].get(_name)
                if err is not None:
                    painter.drawImage(QtCore.QRect(x, below, tw, th),
                                      _tile_image(err, frame, errors[1], grid.error_lut()))
                below += th + GAP
            if xt_h:  # what the panel shows (image, error or difference), the current frame marked at the edges
                painter.drawImage(QtCore.QRect(x, below, tw, xt_h), _xt_image(p.stack, line, p.levels, tw))
                row = xt_h / t_all
                for x0 in (x, x + tw - 4):
                    painter.fillRect(QtCore.QRectF(x0, below + frame * row, 4, max(row, 1.0)), QtGui.QColor(*XT_MARK))
    finally:
        painter.end()
    ptr = image.constBits()
    arr = np.frombuffer(ptr, np.uint8, count=image.sizeInBytes()).reshape(height, image.bytesPerLine())
    return arr[:, : width * 3].reshape(height, width, 3).copy(), labels


def render_movie(grid, frames: int, cols: int | None = None, extras: tuple[str, ...] = ()) -> np.ndarray:
    """Every frame of the grid, ``uint8 (T, H, W, 3)``."""
    return np.stack([render_grid(grid, t, cols, extras)[0] for t in range(frames)])
