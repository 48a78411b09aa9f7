"""Viewing habits (pytest-qt, offscreen): wheel and right-drag in a panel, presets, hover values in the display
mode, the relative error over the body, the ROI in every panel, the window control, a grid that fits."""

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from mrstudio.core.study import VolumeStudy  # noqa: E402


@pytest.fixture
def window(qtbot, small_phantom, tmp_path):
    from mrstudio.gui.app import make_app
    from mrstudio.gui.main_window import MainWindow

    make_app()
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    settings.setValue("accel", 4.0)
    w = MainWindow(None, device="cpu", settings=settings)
    for box in (w.methods.cs, w.methods.unrolled):
        box.setChecked(False)
    w.set_study(small_phantom)
    qtbot.addWidget(w)
    w.show()
    assert w.bridge.wait_all(120)
    qtbot.waitUntil(lambda: len(w.grid.panels) == 3, timeout=5000)
    yield w
    w.bridge.cancel_all()
    w.bridge.wait_all(10)


def _panel_point(panel, y: float, x: float) -> QtCore.QPointF:
    view = panel.graphics
    return QtCore.QPointF(view.mapFromScene(panel.view.mapViewToScene(QtCore.QPointF(x, y))))


def test_wheel_steps_frames_and_ctrl_wheel_zooms(window, qtbot):
    panel = window.grid.panels["Zero-filled"]
    vp = panel.graphics.viewport()
    pos = _panel_point(panel, 32, 32)
    window.frame_slider.setValue(2)

    def wheel(dy, mods=QtCore.Qt.KeyboardModifier.NoModifier):
        ev = QtGui.QWheelEvent(pos, vp.mapToGlobal(pos), QtCore.QPoint(), QtCore.QPoint(0, dy),
                               QtCore.Qt.MouseButton.NoButton, mods, QtCore.Qt.ScrollPhase.NoScrollPhase, False)
        QtWidgets.QApplication.sendEvent(vp, ev)

    before = [list(r) for r in panel.view.viewRange()]
    wheel(-120)  # towards the user: the next frame
    qtbot.waitUntil(lambda: window.frame_slider.value() == 3, timeout=2000)
    wheel(120)
    qtbot.waitUntil(lambda: window.frame_slider.value() == 2, timeout=2000)
    assert [list(r) for r in panel.view.viewRange()] == before  # no zoom without Ctrl
    wheel(120, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: panel.view.viewRange()[0][1] - panel.view.viewRange()[0][0] < before[0][1] - before[0][0],
                    timeout=2000)
    assert window.frame_slider.value() == 2 and not window.grid.fitted  # zoomed in: no refit on resize


def test_right_drag_sets_the_window_and_presets(window, qtbot):
    panel = window.grid.panels["Zero-filled"]
    panel.graphics.scene()._moveEventIsAllowed = lambda: True  # pyqtgraph drops moves closer than 1/60 s
    vp = panel.graphics.viewport()
    right, none = QtCore.Qt.MouseButton.RightButton, QtCore.Qt.MouseButton.NoButton
    mods = QtCore.Qt.KeyboardModifier.NoModifier
    E = QtCore.QEvent.Type  # noqa: N806
    a, b = _panel_point(panel, 30, 20), _panel_point(panel, 20, 50)  # right and up
    lo0, hi0 = window.window_slider.value()
    for kind, pos, buttons, button in ((E.MouseButtonPress, a, right, right), (E.MouseMove, (a + b) / 2, right, none),
                                       (E.MouseMove, b, right, none), (E.MouseButtonRelease, b, none, right)):
        QtWidgets.QApplication.sendEvent(vp, QtGui.QMouseEvent(kind, pos, vp.mapToGlobal(pos), button, buttons, mods))
    lo, hi = window.window_slider.value()
    assert hi - lo > hi0 - lo0 and (lo + hi) / 2 > (lo0 + hi0) / 2  # wider, and a higher level
    assert window.grid.levels == pytest.approx((lo, hi)) and panel.levels == pytest.approx((lo, hi))
    assert not window.playback.preset.isVisibleTo(window)  # MR: Auto only (the button)
    window.playback.auto.click()
    assert window.window_slider.value() == pytest.approx(window.grid.levels)
    window.playback.window_slider.lo.setValue(0.05)  # the spin boxes are the window too
    assert window.grid.levels[0] == pytest.approx(0.05)
    window.autorun = False
    window.set_study(VolumeStudy(volume=np.linspace(-1000, 1000, 4 * 16 * 16, dtype=np.float32).reshape(4, 16, 16),
                                 spacing=(2.0, 1.0, 1.0)))
    presets = [window.playback.preset.itemText(i) for i in range(window.playback.preset.count())]
    assert presets == ["Auto", "CT lung", "CT bone", "CT soft tissue", "CT brain"]
    window.playback.preset_chosen.emit("CT lung")
    assert window.window_slider.value() == pytest.approx((-1350.0, 150.0)) and window.grid.levels == pytest.approx(
        (-1350.0, 150.0))


def test_hover_shows_values_in_the_display_mode_and_relative_error_is_over_the_body(window):
    from mrstudio.core.profiles import body_mask

    grid = window.grid
    ref = grid.stacks[grid.reference_name]
    zf = grid.stacks["Zero-filled"]
    window.playback.mode.setCurrentText("|Error|")
    window.frame_slider.setValue(1)
    grid._hovered(grid.panels["Zero-filled"], 30.5, 20.5)
    err = abs(zf[1, 30, 20] - ref[1, 30, 20])
    assert f"Zero-filled |err| {err:.4g}" in window.status.cursor_label.text()
    assert grid.panels["Zero-filled"].value.toPlainText().endswith(f"|err| {err:.4g}")
    window.playback.mode.setCurrentText("Relative error")
    rel = grid.panels["Zero-filled"].stack
    body = body_mask(ref)
    assert not body.all() and np.all(rel[~body] == 0) and rel[body].max() > 0  # no "error" in the air
    assert grid.colorbar.axis.labelText == "relative error (body)"


def test_the_roi_is_shown_and_measured_in_every_panel(window):
    from mrstudio.core.profiles import roi_stats

    grid = window.grid
    grid.roi.setPos((20, 24))
    grid.roi.setSize((8, 6))
    rows, cols = grid.roi_slices()
    for panel in grid.panels.values():
        st = roi_stats(panel.stack, rows, cols)
        assert panel.roi_text.toPlainText() == f"{st['mean']:.3g} ± {st['sd']:.2g}"
        assert panel.roi_outline.isVisible() == (panel is not grid._line_host)
        assert panel.roi_outline.rect() == QtCore.QRectF(20, 24, 8, 6)


def test_the_grid_wraps_scrolls_and_refits(window, qtbot):
    from mrstudio.gui.views.grid import MIN_PANEL, grid_columns

    assert grid_columns(6, 900, 600) == (3, 256.0)  # 3 × 2 beats 6 × 1 and 2 × 3
    assert grid_columns(4, 1200, 300)[0] == 4
    grid = window.grid
    stacks = dict(grid.stacks)
    stacks.update({f"copy {i}": s for i, s in enumerate(list(stacks.values()) * 2)})
    grid.set_stacks(stacks, {n: n for n in stacks}, grid.reference_name)
    window.resize(700, 500)
    qtbot.waitUntil(lambda: grid.scroll.viewport().width() < 9 * MIN_PANEL, timeout=3000)
    qtbot.waitUntil(lambda: grid.container.minimumHeight() > grid.scroll.viewport().height(), timeout=3000)
    assert grid.cols == max(1, grid.scroll.viewport().width() // MIN_PANEL)  # wraps into what fits, then scrolls
    assert window.minimumSizeHint().width() < 1366  # the window fits a 1366-px screen whatever the panel count

    def fits(view):  # the whole 64 × 64 image, and no more than the aspect needs along one axis
        (x0, x1), (y0, y1) = view.viewRange()
        return x0 <= 0.5 and x1 >= 63.5 and y0 <= 0.5 and y1 >= 63.5 and min(x1 - x0, y1 - y0) < 65

    first = next(iter(grid.panels.values()))
    first.view.setRange(xRange=(10, 20), yRange=(10, 20), padding=0)  # not by the user: the grid still refits
    window.resize(760, 560)
    qtbot.waitUntil(lambda: fits(first.view), timeout=3000)


def test_saved_geometry_is_clamped_to_the_screen(qtbot, tmp_path):
    from mrstudio.gui.app import make_app
    from mrstudio.gui.main_window import MainWindow

    make_app()
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    big = MainWindow(None, device="cpu", settings=settings)
    qtbot.addWidget(big)
    big.setGeometry(-500, -300, 5000, 4000)  # what a larger screen left in the settings
    settings.setValue("geometry", big.saveGeometry())
    w = MainWindow(None, device="cpu", settings=settings)
    qtbot.addWidget(w)
    avail = w.screen().availableGeometry()
    assert avail.contains(w.frameGeometry()) or (w.width() <= avail.width() and w.height() <= avail.height())


def test_the_guide_lists_the_shortcuts_the_help_shows():
    from pathlib import Path

    from mrstudio.gui.shortcuts import shortcuts_markdown

    guide = (Path(__file__).resolve().parent.parent / "docs" / "guide.md").read_text()
    assert shortcuts_markdown().strip() in guide
