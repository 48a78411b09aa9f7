"""The Methods dock: which reconstructions to run, the CNN model with its card, CS parameters."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from ..core.errors import StudyError
from ..recon.cs import CSConfig
from ..workspace.cine import NEAREST, MethodSpec, cnn_spec, unrolled_spec


class MethodsPanel(QtWidgets.QWidget):
    """Which methods to run: naive, CS, CNN (model chooser + its card), CNN with data consistency."""

    run_requested = QtCore.Signal()
    message = QtCore.Signal(str, str)  # title, text: shown by the main window, never blocking here

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.zero = QtWidgets.QCheckBox("Zero-filled (naive)")
        self.cs = QtWidgets.QCheckBox("CS (l1-ESPIRiT)")
        self.cnn = QtWidgets.QCheckBox("CNN")
        self.dc = QtWidgets.QCheckBox("CNN + data consistency")
        from ..recon.unrolled import default_unrolled

        self.unrolled_model = default_unrolled()
        self.unrolled = QtWidgets.QCheckBox("Unrolled (any mask)")
        self.unrolled.setToolTip("one network for every mask and R: cascades of SENSE data consistency and a 2D+t CNN"
                                 + (f" ({self.unrolled_model})" if self.unrolled_model else " — no model installed"))
        self.unrolled.setChecked(self.unrolled_model is not None)
        self.unrolled.setEnabled(self.unrolled_model is not None)
        for b in (self.zero, self.cs, self.cnn):
            b.setChecked(True)
        self.model = QtWidgets.QComboBox()
        self.model.setToolTip("shipped models (models/) and checkpoints you added")
        self.model.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model.setMinimumContentsLength(12)
        self.model.setStyleSheet("QComboBox { combobox-popup: 0; }")  # a list under the box, not over the current item
        self.add_ckpt = QtWidgets.QPushButton("Add checkpoint…")
        self.add_ckpt.clicked.connect(self._add_checkpoint)
        self.card = QtWidgets.QTextBrowser()
        self.card.setObjectName("modelCard")
        defaults = CSConfig()
        self.cs_iters = QtWidgets.QSpinBox()
        self.cs_iters.setRange(5, 1000)
        self.cs_iters.setValue(defaults.iters)
        self.cs_lam_w = self._lam_box(defaults.lam_wavelet, "l1-wavelet weight (data scaled as BART does)")
        self.cs_lam = self._lam_box(defaults.lam_temporal, "temporal total-variation weight (data scaled as BART does)")
        self.run_btn = QtWidgets.QPushButton("Run")
        self.run_btn.setToolTip("add the ticked methods to the comparison and run what is not cached yet (Ctrl+R)")
        self.run_btn.setDefault(True)
        self.run_btn.clicked.connect(self.run_requested)
        form = QtWidgets.QFormLayout()
        form.addRow("CS iterations", self.cs_iters)
        form.addRow("CS λ wavelet", self.cs_lam_w)
        form.addRow("CS λ temporal", self.cs_lam)
        layout = QtWidgets.QVBoxLayout(self)
        for w in (self.zero, self.cs):
            layout.addWidget(w)
        layout.addLayout(form)
        layout.addWidget(self.cnn)
        layout.addWidget(self.model)
        layout.addWidget(self.dc)
        layout.addWidget(self.unrolled)
        layout.addWidget(self.add_ckpt)
        layout.addWidget(QtWidgets.QLabel("Model card"))
        self.card.setMinimumHeight(80)
        layout.addWidget(self.card, 1)
        layout.addWidget(self.run_btn)
        self.model.currentIndexChanged.connect(self._show_card)
        self.refresh_models()

    def refresh_models(self, select: str | None = None) -> None:
        from ..io.model_store import CINE_TASK, list_models

        current = select or self.model.currentData()
        self.model.blockSignals(True)
        self.model.clear()
        cards = list_models(task=CINE_TASK)
        if any(c.loss == "l2" and c.accel for c in cards):
            self.model.addItem(f"l2, {NEAREST} of the mask (follows R)", None)
        for card in cards:
            self.model.addItem(card.name, card.name)
        for path in getattr(self, "_extra", []):
            self.model.addItem(Path(path).name, path)
        self.model.blockSignals(False)
        i = self.model.findData(current) if current else -1
        self.model.setCurrentIndex(max(i, 0))
        self.cnn.setEnabled(self.model.count() > 0)
        self.dc.setEnabled(self.model.count() > 0)
        self._show_card()

    def select_model(self, name: str | None) -> None:
        """Choose model ``name``; ``None``: the entry that follows the mask's R."""
        i = self.model.findData(name) if name else next((j for j in range(self.model.count())
                                                         if self.model.itemData(j) is None), -1)
        if i >= 0:
            self.model.setCurrentIndex(i)

    def state(self) -> dict:
        """What the settings remember: ticked methods, the model, the CS parameters."""
        return {"zero": self.zero.isChecked(), "cs": self.cs.isChecked(), "cnn": self.cnn.isChecked(),
                "dc": self.dc.isChecked(), "unrolled": self.unrolled.isChecked(), "model": self.model.currentData(),
                "cs_iters": self.cs_iters.value(), "cs_lam_wavelet": self.cs_lam_w.value(),
                "cs_lam_temporal": self.cs_lam.value()}

    def restore(self, state: dict) -> None:
        """Set what :meth:`state` gave (unknown or garbled entries are skipped)."""
        for key, box in (("zero", self.zero), ("cs", self.cs), ("cnn", self.cnn), ("dc", self.dc),
                         ("unrolled", self.unrolled)):
            if isinstance(state.get(key), bool) and box.isEnabled():
                box.setChecked(state[key])
        if "model" in state and (state["model"] is None or isinstance(state["model"], str)):
            self.select_model(state["model"])
        for key, box in (("cs_iters", self.cs_iters), ("cs_lam_wavelet", self.cs_lam_w),
                         ("cs_lam_temporal", self.cs_lam)):
            v = state.get(key)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and box.minimum() <= v <= box.maximum():
                box.setValue(v)

    def _add_checkpoint(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Add a cine checkpoint", "", "Checkpoint (*.pt)")
        if path:
            self.add_checkpoint(path)

    def add_checkpoint(self, path: str) -> None:
        """Add a ``.pt`` with its ``.json`` card (hash verified before it is listed)."""
        from ..io.model_store import load_state

        try:
            load_state(path)
        except StudyError as exc:
            self.message.emit("Add checkpoint", str(exc))
            return
        self._extra = [*getattr(self, "_extra", []), path]
        self.refresh_models(select=path)

    def _show_card(self, *_args) -> None:
        name = self.model.currentData()
        if not name:
            self.card.setHtml("<i>No CNN models found in models/.</i>" if self.model.count() == 0 else
                              "The installed l2 U-Net trained at the R nearest the mask's effective R; it "
                              "changes as you change R. A panel whose model was trained at another R is flagged.")
            return
        from ..io.model_store import read_card, resolve_model

        try:
            card = read_card(resolve_model(name))
        except StudyError as exc:
            self.card.setPlainText(str(exc))
            return
        test = card.get("test") or {}
        rows = [("loss", card.get("loss")), ("R", card.get("accel")), ("mask", card.get("mask")),
                ("U-Net", json.dumps(card.get("unet"))), ("parameters", f"{card.get('parameters', 0):,}"),
                ("steps × batch", f"{card.get('steps')} × {card.get('batch')}"), ("trained on", card.get("device")),
                ("test PSNR / SSIM", f"{test.get('psnr', float('nan')):.2f} dB / {test.get('ssim', float('nan')):.3f}"
                 if test else "—"), ("sha256", (card.get("sha256") or "")[:16] + "…")]
        self.card.setHtml("<table>" + "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows) + "</table>")

    @staticmethod
    def _lam_box(value: float, tip: str) -> QtWidgets.QDoubleSpinBox:
        box = QtWidgets.QDoubleSpinBox()
        box.setDecimals(4)
        box.setRange(0.0, 1.0)
        box.setSingleStep(0.001)
        box.setValue(value)
        box.setToolTip(tip)
        return box

    def specs(self) -> list[MethodSpec]:
        out = []
        if self.zero.isChecked():
            out.append(MethodSpec("zero-filled", label="Zero-filled"))
        if self.cs.isChecked():
            params = (("iters", self.cs_iters.value()), ("lam_wavelet", round(self.cs_lam_w.value(), 6)),
                      ("lam_temporal", round(self.cs_lam.value(), 6)))
            out.append(MethodSpec("cs", params, label="CS (l1-ESPIRiT)"))
        model = self.model.currentData()  # None: the model follows the mask's R
        if self.cnn.isChecked() and self.model.count():
            out.append(cnn_spec(model))
        if self.unrolled.isChecked() and self.unrolled_model:
            out.append(unrolled_spec(self.unrolled_model))
        if self.dc.isChecked() and self.model.count():
            out.append(cnn_spec(model, dc=True))
        return out
