"""The bar under the grid: play/pause, frame (or slice) slider, frame rate, display mode, window."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets
from superqt import QLabeledDoubleRangeSlider, QLabeledSlider

MODES = {"Images": "image", "|Error|": "error", "Relative error": "relative"}


class PlaybackBar(QtWidgets.QWidget):
    """Emits ``frame_changed(t)``, ``mode_changed(mode)``, ``window_changed((lo, hi))`` and ``auto_window``."""

    frame_changed = QtCore.Signal(int)
    mode_changed = QtCore.Signal(str)
    window_changed = QtCore.Signal(object)
    auto_window = QtCore.Signal()

    def __init__(self, fps: int = 20, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        style = self.style()
        self._icons = (style.standardIcon(QtWidgets.QStyle.StandardPixmap.SP_MediaPlay),
                       style.standardIcon(QtWidgets.QStyle.StandardPixmap.SP_MediaPause))
        self.play = QtWidgets.QPushButton(self._icons[0], "Play")
        self.play.setCheckable(True)
        self.play.setToolTip("play / pause the frames (Space); ← → step one frame or slice")
        self.play.toggled.connect(self._toggle_play)
        self.frame_slider = QLabeledSlider(QtCore.Qt.Orientation.Horizontal)
        self.frame_slider.valueChanged.connect(self.frame_changed)
        self.frame_slider.setMinimumWidth(220)
        self.fps = QtWidgets.QSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(fps)
        self.fps.setSuffix(" fps")
        self.fps.valueChanged.connect(lambda v: self.timer.setInterval(int(1000 / v)))
        self.mode = QtWidgets.QComboBox()
        self.mode.addItems(MODES)
        self.mode.currentTextChanged.connect(lambda text: self.mode_changed.emit(MODES[text]))
        self.window_slider = QLabeledDoubleRangeSlider(QtCore.Qt.Orientation.Horizontal)
        self.window_slider.setDecimals(3)
        self.window_slider.setMinimumWidth(200)
        self.window_slider.valueChanged.connect(self.window_changed)
        auto = QtWidgets.QPushButton("Auto window")
        auto.clicked.connect(self.auto_window)
        bar = QtWidgets.QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        self.axis_label = QtWidgets.QLabel("Frame")
        for w, stretch in ((self.play, 0), (self.axis_label, 0), (self.frame_slider, 3), (self.fps, 0),
                           (self.mode, 0), (QtWidgets.QLabel("Window"), 0), (self.window_slider, 2), (auto, 0)):
            bar.addWidget(w, stretch)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(int(1000 / self.fps.value()))
        self.timer.timeout.connect(self._advance)

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
        self.window_slider.setRange(min(lo, self.window_slider.minimum()), max(hi, self.window_slider.maximum()))
        self.window_slider.setValue((lo, hi))
        self.window_slider.blockSignals(False)

    def set_range(self, lo: float, hi: float, levels: tuple[float, float], frames: int) -> None:
        """A new set of stacks: the window slider's range and value, and the frame range."""
        self.window_slider.blockSignals(True)
        self.window_slider.setRange(lo, hi)
        self.window_slider.setValue(levels)
        self.window_slider.blockSignals(False)
        self.frame_slider.setRange(0, frames - 1)
