"""The bar under the grid: play/pause, frame (or slice) slider, frame rate, display mode, window.

The window control reads as two numbers (low and high, editable) around a range slider,
with presets (Auto; CT lung, bone, soft tissue, brain for Hounsfield data) and an Auto
button; right-drag in any panel changes the same window. The bar uses one row when wide
and two when narrow, so it never sets the window's minimum width.
"""

from __future__ import annotations

import math

from PySide6 import QtCore, QtWidgets
from superqt import QDoubleRangeSlider, QLabeledSlider

from ..workspace.viewing import presets

MODES = {"Images": "image", "|Error|": "error", "Relative error": "relative"}
WIDE = 1050  # px: one row from here on


class WindowControl(QtWidgets.QWidget):
    """``(lo, hi)`` display window: ``value()``, ``setValue``, ``setRange``, ``minimum``/``maximum``, ``valueChanged``."""

    valueChanged = QtCore.Signal(object)  # noqa: N815 (Qt naming, like the slider it replaces)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.slider = QDoubleRangeSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setMinimumWidth(80)
        self.lo, self.hi = QtWidgets.QDoubleSpinBox(), QtWidgets.QDoubleSpinBox()
        for box, tip in ((self.lo, "lowest value shown (black)"), (self.hi, "highest value shown (white)")):
            box.setKeyboardTracking(False)
            box.setToolTip(tip)
            box.setButtonSymbols(QtWidgets.QAbstractSpinBox.ButtonSymbols.NoButtons)
            box.setMinimumWidth(64)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.lo)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.hi)
        self._value = (0.0, 1.0)
        self.slider.valueChanged.connect(self._from_slider)
        self.lo.valueChanged.connect(lambda v: self.setValue((v, max(self._value[1], v + 1e-9))))
        self.hi.valueChanged.connect(lambda v: self.setValue((min(self._value[0], v - 1e-9), v)))
        self.setRange(0.0, 1.0)

    def value(self) -> tuple[float, float]:
        return self._value

    def minimum(self) -> float:
        return float(self.slider.minimum())

    def maximum(self) -> float:
        return float(self.slider.maximum())

    def setRange(self, lo: float, hi: float) -> None:  # noqa: N802
        hi = hi if hi > lo else lo + 1.0
        self.slider.blockSignals(True)
        self.slider.setRange(lo, hi)
        self.slider.blockSignals(False)
        decimals = int(min(6, max(0, 3 - math.floor(math.log10(hi - lo)))))
        span = hi - lo
        for box in (self.lo, self.hi):
            box.blockSignals(True)
            box.setDecimals(decimals)
            box.setRange(lo - 10 * span, hi + 10 * span)
            box.setSingleStep(span / 100)
            box.blockSignals(False)
        self._show(self._value)

    def setValue(self, value) -> None:  # noqa: N802
        lo, hi = (float(v) for v in value)
        if hi <= lo:
            hi = lo + 1e-6
        if lo < self.minimum() or hi > self.maximum():
            self.setRange(min(lo, self.minimum()), max(hi, self.maximum()))
        changed = (lo, hi) != self._value
        self._value = (lo, hi)
        self._show(self._value)
        if changed:
            self.valueChanged.emit(self._value)

    def _show(self, value: tuple[float, float]) -> None:
        for w, v in ((self.slider, value), (self.lo, value[0]), (self.hi, value[1])):
            w.blockSignals(True)
            w.setValue(v)
            w.blockSignals(False)

    def _from_slider(self, value) -> None:
        self.setValue(value)


class PlaybackBar(QtWidgets.QWidget):
    """Emits ``frame_changed(t)``, ``mode_changed(mode)``, ``window_changed((lo, hi))``, ``auto_window`` and
    ``preset_chosen(name)``."""

    frame_changed = QtCore.Signal(int)
    mode_changed = QtCore.Signal(str)
    window_changed = QtCore.Signal(object)
    auto_window = QtCore.Signal()
    preset_chosen = QtCore.Signal(str)

    def __init__(self, fps: int = 20, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        style = self.style()
        self._icons = (style.standardIcon(QtWidgets.QStyle.StandardPixmap.SP_MediaPlay),
                       style.standardIcon(QtWidgets.QStyle.StandardPixmap.SP_MediaPause))
        self.play = QtWidgets.QPushButton(self._icons[0], "Play")
        self.play.setCheckable(True)
        self.play.setToolTip("play / pause the frames (Space); ← → or the wheel step one frame or slice")
        self.play.toggled.connect(self._toggle_play)
        self.frame_slider = QLabeledSlider(QtCore.Qt.Orientation.Horizontal)
        self.frame_slider.valueChanged.connect(self.frame_changed)
        self.frame_slider.setMinimumWidth(120)
        self.fps = QtWidgets.QSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(fps)
        self.fps.setSuffix(" fps")
        self.fps.valueChanged.connect(lambda v: self.timer.setInterval(int(1000 / v)))
        self.mode = QtWidgets.QComboBox()
        self.mode.addItems(MODES)
        self.mode.setToolTip("images, |method − reference|, or the error relative to the reference over the body")
        self.mode.currentTextChanged.connect(lambda text: self.mode_changed.emit(MODES[text]))
        self.window_slider = WindowControl()
        self.window_slider.setToolTip("display window (right-drag in a panel: window/level)")
        self.window_slider.valueChanged.connect(self.window_changed)
        self.preset = QtWidgets.QComboBox()
        self.preset.setToolTip("window presets")
        self.set_presets(ct=False)
        self.preset.textActivated.connect(self.preset_chosen)
        self.auto = QtWidgets.QPushButton("Auto")
        self.auto.setToolTip("window from the reference's 0.5–99.5th percentiles")
        self.auto.clicked.connect(self.auto_window)
        self.axis_label = QtWidgets.QLabel("Frame")
        self.window_label = QtWidgets.QLabel("Window")
        self.grid = QtWidgets.QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(4)
        self.grid.setVerticalSpacing(2)
        self._wide: bool | None = None
        self._arrange(wide=False)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(int(1000 / self.fps.value()))
        self.timer.timeout.connect(self._advance)

    def _arrange(self, wide: bool) -> None:
        """One row when ``wide``, else the frame controls above the display controls."""
        if wide == self._wide:
            return
        self._wide = wide
        for i in reversed(range(self.grid.count())):
            self.grid.takeAt(i)
        first = [(self.play, 0), (self.axis_label, 0), (self.frame_slider, 3), (self.fps, 0)]
        second = [(self.mode, 0), (self.window_label, 0), (self.window_slider, 3), (self.preset, 0), (self.auto, 0)]
        for c in range(self.grid.columnCount()):
            self.grid.setColumnStretch(c, 0)
        if wide:
            for c, (w, stretch) in enumerate(first + second):
                self.grid.addWidget(w, 0, c)
                self.grid.setColumnStretch(c, stretch)
        else:  # two rows; the sliders share the stretching column 2
            self.grid.addWidget(self.play, 0, 0)
            self.grid.addWidget(self.axis_label, 0, 1)
            self.grid.addWidget(self.frame_slider, 0, 2, 1, 2)
            self.grid.addWidget(self.fps, 0, 4)
            for c, (w, _stretch) in enumerate(second):
                self.grid.addWidget(w, 1, c)
            self.grid.setColumnStretch(2, 3)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        self._arrange(event.size().width() >= WIDE)
        super().resizeEvent(event)

    def set_presets(self, ct: bool) -> None:
        """The presets offered: Auto, and the CT ones for Hounsfield data."""
        self.preset.blockSignals(True)
        self.preset.clear()
        self.preset.addItems(presets(ct))
        self.preset.blockSignals(False)
        self.preset.setVisible(ct)  # MR: Auto alone, which the button is

    def _toggle_play(self, on: bool) -> None:
        self.play.setIcon(self._icons[1 if on else 0])
        self.play.setText("Pause" if on else "Play")
        (self.timer.start if on else self.timer.stop)()

    def step(self, delta: int) -> None:
        """One frame (or slice) forward or back, wrapping around."""
        n = self.frame_slider.maximum() + 1
        self.frame_slider.setValue((self.frame_slider.value() + delta) % n)

    def set_axis(self, name: str) -> None:
        """``"Frame"`` for a cine, ``"Slice"`` for a volume."""
        self.axis_label.setText(name)

    def _advance(self) -> None:
        self.frame_slider.setValue((self.frame_slider.value() + 1) % (self.frame_slider.maximum() + 1))

    def set_window(self, lo: float, hi: float, silent: bool = True) -> None:
        """Show ``(lo, hi)``, widening the slider's range if needed (without ``window_changed`` when silent)."""
        self.window_slider.blockSignals(silent)
        self.window_slider.setValue((lo, hi))
        self.window_slider.blockSignals(False)

    def set_range(self, lo: float, hi: float, levels: tuple[float, float], frames: int) -> None:
        """A new set of stacks: the window slider's range and value, and the frame range."""
        self.window_slider.blockSignals(True)
        self.window_slider.setRange(lo, hi)
        self.window_slider.setValue(levels)
        self.window_slider.blockSignals(False)
        self.frame_slider.setRange(0, frames - 1)
