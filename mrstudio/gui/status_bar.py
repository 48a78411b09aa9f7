"""The main window's status bar: the value under the cursor, where the last export went, and the device.

Passing messages (``showMessage``) still come from the window and the controllers; the three permanent
labels here stay until replaced.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6 import QtCore, QtWidgets


class StatusBar(QtWidgets.QStatusBar):
    """``cursor_label`` (the pixel under the pointer, stretching), ``written_label`` (hidden until an export),
    ``device_label`` (what the methods compute on, described for ``device``)."""

    def __init__(self, device: str, parent: QtWidgets.QWidget | None = None):
        from ..core.device import describe_device

        super().__init__(parent)
        self.cursor_label = QtWidgets.QLabel("")
        self.cursor_label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.addPermanentWidget(self.cursor_label, 1)
        self.written_label = QtWidgets.QLabel("")
        self.written_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.written_label.setOpenExternalLinks(True)
        self.written_label.setVisible(False)
        self.addPermanentWidget(self.written_label)
        self.device_label = QtWidgets.QLabel(f"device: {describe_device(device)}")
        self.addPermanentWidget(self.device_label)

    def show_written(self, path: str | Path, what: str = "") -> str:
        """Say where an export went: "WHAT written to PATH — show folder" (a link); returns the plain message."""
        path = Path(path)
        folder = path if path.is_dir() else path.parent
        message = f"{what + ' ' if what else ''}written to {path}"
        self.written_label.setText(f"{html.escape(message)} — <a href='{folder.as_uri()}'>show folder</a>")
        self.written_label.setVisible(True)
        self.showMessage(message, 15000)
        return message
