"""``bench gui``: how fast scrubbing the frame slider redraws a 2×3 grid of 256² cine panels.

Each step sets the frame on the grid (what the slider does) and lets Qt process its events,
which repaints every panel's view once, as on screen: the time includes pyqtgraph's image
update and Qt's painting, not only the bookkeeping. The paint events of the panels' views are
counted, so the table shows that each step repainted all six. (An earlier version rendered the
grid to a pixmap after each step as well, painting every panel twice per step.) Offscreen Qt
renders in software, like Xvfb; a desktop with a GPU compositor draws at least as fast.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np


def _paint_counter():
    """A Qt event filter that counts the paint events of the widgets it is installed on."""
    from PySide6 import QtCore

    class PaintCounter(QtCore.QObject):
        def __init__(self):
            super().__init__()
            self.count = 0

        def eventFilter(self, obj, event):  # noqa: N802 (Qt's name)
            if event.type() == QtCore.QEvent.Type.Paint:
                self.count += 1
            return False

    return PaintCounter()


def run_scrub(quick: bool = False, device: str = "cpu", progress=None, **_: Any) -> dict[str, Any]:
    """Frames per second of set_frame + render over ``steps`` scrub steps (2×3 panels)."""
    from PySide6 import QtWidgets

    from .app import make_app
    from .views.grid import ComparisonGrid

    make_app()
    size, frames, steps = (128, 10, 30) if quick else (256, 20, 200)
    rng = np.random.default_rng(0)
    base = rng.random((frames, size, size), dtype=np.float32)
    stacks = {f"method {i}": base * (1 + 0.1 * i) for i in range(6)}
    grid = ComparisonGrid()
    grid.resize(1500, 950)
    grid.set_stacks(stacks, {n: f"<b>{n}</b>" for n in stacks}, "method 0")
    grid.show()
    QtWidgets.QApplication.processEvents()
    grid.grab()  # first paint: layouts, textures
    counter = _paint_counter()
    for panel in grid.panels.values():
        panel.graphics.viewport().installEventFilter(counter)
    rows = []
    for mode in ("image", "error"):
        grid.set_mode(mode)
        QtWidgets.QApplication.processEvents()
        counter.count = 0
        t0 = time.perf_counter()
        for i in range(steps):
            grid.set_frame(i % frames)
            QtWidgets.QApplication.processEvents()
            if progress:
                progress((i + 1) / steps, f"{mode} {i + 1}/{steps}")
        secs = time.perf_counter() - t0
        rows.append({"mode": mode, "panels": len(grid.panels), "size": size, "steps": steps, "fps": steps / secs,
                     "ms_per_step": 1000 * secs / steps, "paints_per_step": counter.count / steps,
                     "platform": QtWidgets.QApplication.platformName()})
    grid.close()
    md = ["Scrubbing: set the frame on a 2×3 grid of cine panels and let Qt repaint them (a 1500×950 grid); "
          "paints per step counts the panels' repaints.", "",
          "| display | panels | matrix | steps | frames per second | ms per step | paints per step | Qt platform |",
          "|---|---|---|---|---|---|---|---|"]
    md += [f"| {r['mode']} | {r['panels']} | {r['size']}² | {r['steps']} | {r['fps']:.1f} | {r['ms_per_step']:.1f} | "
           f"{r['paints_per_step']:.1f} | {r['platform']} |" for r in rows]
    return {"rows": rows, "markdown": "\n".join(md) + "\n"}
