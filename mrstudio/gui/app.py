"""GUI entry point: ``mrstudio [--study PATH|phantom] [--device D] [--screenshot FILE.png]``."""

from __future__ import annotations

import os
import sys


def make_app():
    """The QApplication (created once), with MR Studio's names and pyqtgraph's row-major images."""
    import pyqtgraph as pg
    from PySide6 import QtWidgets

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("MR Studio")
    app.setOrganizationName("mrstudio")
    return app


def run_gui(study: str = "phantom", screenshot: str | None = None, device: str = "auto",
            timeout_s: float = 600.0) -> int:
    """Start the app on ``study``.

    With ``screenshot``: run the default comparison (zero-filled, CS, CNN), wait for it,
    render the window to a PNG and exit (non-zero if a job failed or did not finish).
    """
    if screenshot and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ..core.device import choose_device
    from ..io import open_study

    dev = choose_device(device)
    loaded = open_study(study)  # a bad study fails here with a one-line CLI error
    app = make_app()
    from .crash import install_excepthook
    from .main_window import MainWindow

    window = MainWindow(loaded, device=dev, restore_geometry=not screenshot)
    install_excepthook(lambda: window)
    window.show()
    if screenshot:
        from ..core.errors import StudyError

        finished = window.bridge.wait_all(timeout_s)
        for _ in range(10):
            app.processEvents()
        window.grid.reset_zoom()
        app.processEvents()
        ok = window.grab().save(screenshot)
        failed = [j for j in window.bridge.jobs.values() if j.status == "failed"]
        window.close()
        if not ok:
            raise StudyError(screenshot, "could not write the screenshot")
        if failed or not finished:
            raise StudyError(screenshot, "written, but " + (f"job {failed[0].title!r} failed: {failed[0].error}"
                                                            if failed else "the jobs did not finish in time"))
        return 0
    return app.exec()

