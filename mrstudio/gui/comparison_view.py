"""The centre of the window: the linked comparison grid with the playback bar under it.

Owns what the two share (window levels, current frame, the x–t line) and reports the
cursor's values (``cursor_text``) and ROI moves (``roi_moved``) to whoever shows them.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from .panels import ProfilePanel
from .playback import PlaybackBar
from .views.grid import ComparisonGrid


class ComparisonView(QtWidgets.QWidget):
    cursor_text = QtCore.Signal(str)
    roi_moved = QtCore.Signal()

    def __init__(self, profiles: ProfilePanel, fps: int = 20, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.profiles = profiles
        self.grid = ComparisonGrid()
        self.playback = PlaybackBar(fps=fps)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.playback)
        self.playback.frame_changed.connect(self.grid.set_frame)
        self.playback.frame_changed.connect(self.profiles.set_frame)
        self.playback.mode_changed.connect(self.grid.set_mode)
        self.playback.window_changed.connect(self._window_changed)
        self.playback.auto_window.connect(self.auto_window)
        self.playback.preset_chosen.connect(self.apply_preset)
        self.grid.cursor_moved.connect(self._cursor_moved)
        self.grid.line_changed.connect(self._line_changed)
        self.grid.step_requested.connect(self.playback.step)
        self.grid.window_dragged.connect(lambda levels: self.playback.set_window(*levels, silent=False))

    def show_stacks(self, stacks: dict[str, np.ndarray], ref: str | None, titles: dict[str, str] | None = None,
                    signed: set[str] | None = None) -> None:
        """Put ``stacks`` in the grid (the window and frame range reset when their shape changes); ``signed``:
        names shown on a diverging scale (differences)."""
        grid, bar = self.grid, self.playback
        first = not grid.stacks or next(iter(grid.stacks.values())).shape != next(iter(stacks.values())).shape
        grid.set_stacks(stacks, titles or {n: f"<b>{n}</b>" for n in stacks}, ref, signed=signed)
        if first:
            top = float(max(np.percentile(s, 99.9) for s in stacks.values())) * 1.5 or 1.0
            lo = float(min(s.min() for s in stacks.values()))
            bar.set_range(min(lo, 0.0), top, grid.levels, next(iter(stacks.values())).shape[0])
        else:
            grid.set_window(*bar.window_slider.value())
        grid.set_frame(bar.frame_slider.value())
        self._update_profiles()

    def auto_window(self) -> None:
        from ..core.profiles import display_levels

        grid = self.grid
        if grid.stacks:
            ref = grid.stacks.get(grid.reference_name) if grid.reference_name else None
            self.playback.window_slider.setValue(display_levels(ref if ref is not None
                                                                else next(iter(grid.stacks.values()))))

    def apply_preset(self, name: str) -> None:
        """A window preset: Auto (the reference's percentiles) or a CT one (level/width in HU)."""
        from ..workspace.viewing import AUTO, preset_levels

        if name == AUTO:
            self.auto_window()
        else:
            self.playback.set_window(*preset_levels(name), silent=False)

    def _window_changed(self, value) -> None:
        self.grid.set_window(*value)
        self._update_profiles()

    def _update_profiles(self) -> None:
        pts = self.grid.line_points()
        if pts:
            self._line_changed(*pts)

    def _cursor_moved(self, y: float, x: float) -> None:
        if y < 0:  # the ROI moved: ROI statistics change
            self.roi_moved.emit()
            return
        text = " · ".join(f"{n.split(' (')[0]} {p.unit + ' ' if p.unit else ''}{v:.4g}"
                          for n, p in self.grid.panels.items() if (v := p.value_at(y, x)) is not None)
        frame = self.playback.frame_slider.value()
        axis = self.playback.axis_label.text().lower()
        self.cursor_text.emit(f"y {int(y)}, x {int(x)}, {axis} {frame}: {text}" if text else "")

    def _line_changed(self, p0, p1) -> None:
        if self.grid.stacks:
            self.profiles.update_profiles(self.grid.stacks, p0, p1, self.grid.levels)
