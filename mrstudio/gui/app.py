"""GUI entry point: ``mrstudio [--study PATH|phantom] [--screenshot FILE.png]``."""

from __future__ import annotations

import os
import sys


def run_gui(study: str = "phantom", screenshot: str | None = None) -> int:
    """Start the app on ``study``; with ``screenshot`` render the window to a PNG and exit."""
    if screenshot and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from PySide6 import QtWidgets

    from ..io import open_study
    from .main_window import MainWindow

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("MR Studio")
    app.setOrganizationName("mrstudio")
    window = MainWindow(open_study(study))
    window.show()
    if screenshot:
        for _ in range(5):
            app.processEvents()
        if not window.grab().save(screenshot):
            from ..core.errors import StudyError

            raise StudyError(screenshot, "could not write the screenshot")
        window.close()
        return 0
    return app.exec()


def main() -> None:  # gui-scripts entry point
    from ..cli import main as cli_main

    sys.exit(cli_main(sys.argv[1:]))
