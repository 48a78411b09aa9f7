"""Shared pieces of the GUI tests: isolated settings and a window showing the default comparison."""

from __future__ import annotations

from collections.abc import Iterator


def small_settings(tmp_path):
    """Settings in ``tmp_path``; R 4 (the small phantom has 8 frames × 64 lines: R 15 would leave 4 lines a frame)."""
    from PySide6 import QtCore

    s = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    s.setValue("accel", 4.0)
    return s


def comparison_window(qtbot, study, settings, cs_iters: int) -> Iterator:
    """A shown window that has run the default comparison on ``study`` (the unrolled network unticked);
    its jobs are cancelled afterwards. Use with ``yield from`` in a fixture."""
    from mrstudio.gui.app import make_app
    from mrstudio.gui.main_window import MainWindow

    make_app()
    w = MainWindow(None, device="cpu", settings=settings)
    w.methods.cs_iters.setValue(cs_iters)
    w.methods.unrolled.setChecked(False)
    w.set_study(study)
    qtbot.addWidget(w)
    w.show()
    assert w.bridge.wait_all(120)
    yield w
    w.bridge.cancel_all()
    w.bridge.wait_all(10)
