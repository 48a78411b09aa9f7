"""The comparison grid as a picture: tiles in the grid's layout, each with its title and metrics.

What the grid shows is what is drawn: each panel's current stack (images, |error| or
relative error, or a signed difference) with the panel's window and colour table, its
title (method, badge, PSNR/SSIM/time, model line) rendered from the same rich text, and a
colour-scale note on error and difference tiles. Images are scaled up by an integer factor
(nearest neighbour) so that the text stays readable on small matrices. Used by File →
Export for PNG and MP4/GIF.
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


def render_grid(grid, frame: int, cols: int | None = None) -> tuple[np.ndarray, list[str]]:
    """The grid at ``frame`` as ``uint8 (H, W, 3)``, and each tile's label text (title and scale note)."""
    panels = [(name, p) for name, p in grid.panels.items() if p.stack is not None]
    if not panels:
        raise ValueError("nothing to draw")
    cols = max(1, min(cols or grid.cols or len(panels), len(panels)))
    rows = math.ceil(len(panels) / cols)
    _, ny, nx = panels[0][1].stack.shape
    scale = max(1, math.ceil(MIN_TILE / nx))
    tw, th = nx * scale, ny * scale
    labels, docs = [], []
    for name, p in panels:
        note = ""
        if p.unit:
            lo, hi = p.levels
            note = f"<br><small>{p.unit} scale {lo:.3g} … {hi:.3g}</small>"
        html = grid.titles.get(name, f"<b>{name}</b>") + note
        labels.append(plain(html))
        docs.append(_doc(html, tw))
    title_h = int(max(d.size().height() for d in docs)) + 2
    width = cols * tw + (cols + 1) * GAP
    height = rows * (th + title_h) + (rows + 1) * GAP
    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_RGB888)
    image.fill(BACKGROUND)
    painter = QtGui.QPainter(image)
    try:
        for i, ((_name, p), doc) in enumerate(zip(panels, docs, strict=True)):
            x = GAP + (i % cols) * (tw + GAP)
            y = GAP + (i // cols) * (th + title_h + GAP)
            painter.save()
            painter.translate(x, y)
            doc.drawContents(painter, QtCore.QRectF(0, 0, tw, title_h))
            painter.restore()
            lut = p.image.lut if getattr(p.image, "lut", None) is not None else None
            tile = _tile_image(p.stack, frame, p.levels, lut)
            painter.drawImage(QtCore.QRect(x, y + title_h, tw, th), tile)
    finally:
        painter.end()
    ptr = image.constBits()
    arr = np.frombuffer(ptr, np.uint8, count=image.sizeInBytes()).reshape(height, image.bytesPerLine())
    return arr[:, : width * 3].reshape(height, width, 3).copy(), labels


def render_movie(grid, frames: int, cols: int | None = None) -> np.ndarray:
    """Every frame of the grid, ``uint8 (T, H, W, 3)``."""
    return np.stack([render_grid(grid, t, cols)[0] for t in range(frames)])
