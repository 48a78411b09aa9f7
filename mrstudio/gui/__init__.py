"""The Qt GUI (PySide6 + pyqtgraph). It only observes and calls the Qt-free packages."""
