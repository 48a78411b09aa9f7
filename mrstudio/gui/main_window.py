"""The main window: a study's cine with a frame slider (grows into the comparison grid)."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets
from superqt import QLabeledSlider

from ..core.coils import sos
from ..core.fft import ifft2c
from ..core.study import CineStudy, CTStudy
from .views.cine_view import CinePanel


class MainWindow(QtWidgets.QMainWindow):
    """Shows the opened study; frame slider and cine playback shared by all panels."""

    def __init__(self, study: CineStudy | CTStudy | None = None):
        super().__init__()
        self.setWindowTitle("MR Studio")
        self.resize(1280, 800)
        central = QtWidgets.QWidget()
        self.setCentralWidget(central)
        layout = QtWidgets.QVBoxLayout(central)
        self.grid = QtWidgets.QGridLayout()
        layout.addLayout(self.grid, 1)
        controls = QtWidgets.QHBoxLayout()
        self.play = QtWidgets.QPushButton("Play")
        self.play.setCheckable(True)
        self.play.toggled.connect(self._toggle_play)
        controls.addWidget(self.play)
        controls.addWidget(QtWidgets.QLabel("Frame"))
        self.slider = QLabeledSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.valueChanged.connect(self.set_frame)
        controls.addWidget(self.slider, 1)
        layout.addLayout(controls)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(50)
        self.timer.timeout.connect(self._advance)
        self.panels: list[CinePanel] = []
        self.study: CineStudy | CTStudy | None = None
        if study is not None:
            self.set_study(study)

    def set_study(self, study: CineStudy | CTStudy) -> None:
        self.study = study
        for p in self.panels:
            p.setParent(None)
        self.panels.clear()
        if isinstance(study, CineStudy):
            stacks = {"Fully sampled (sum of squares)": sos(ifft2c(study.kspace))}
            if study.reference is not None:
                stacks = {f"Reference ({study.reference_kind})": np.abs(study.reference), **stacks}
        else:
            stacks = {"CT volume": study.volume}
        for i, (title, stack) in enumerate(stacks.items()):
            panel = CinePanel(title)
            panel.set_stack(stack)
            self.grid.addWidget(panel, 0, i)
            self.panels.append(panel)
        n = len(next(iter(stacks.values())))
        self.slider.setRange(0, n - 1)
        self.slider.setValue(0)
        self.statusBar().showMessage(f"{study.name} — {study.source}")

    def set_frame(self, t: int) -> None:
        for p in self.panels:
            p.set_frame(t)

    def _toggle_play(self, on: bool) -> None:
        self.play.setText("Pause" if on else "Play")
        (self.timer.start if on else self.timer.stop)()

    def _advance(self) -> None:
        self.slider.setValue((self.slider.value() + 1) % (self.slider.maximum() + 1))
