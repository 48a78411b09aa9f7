"""The live mask loop and the layer list (pytest-qt, offscreen): paint, erase, undo, live updates, cancel,
caching, stale badges, removing and hiding panels, the R-mismatch flag."""

import numpy as np
import pytest
from gui_tools import comparison_window, small_settings

pytest.importorskip("pytestqt")

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

CS, ZF, CNN = "CS (l1-ESPIRiT)", "Zero-filled", "CNN l2 (nearest R)"


@pytest.fixture
def settings(tmp_path):
    return small_settings(tmp_path)


@pytest.fixture
def window(qtbot, small_phantom, settings):
    # unrolled unticked: the unrolled network is live too but slower; one test ticks it
    yield from comparison_window(qtbot, small_phantom, settings, cs_iters=10)


@pytest.fixture
def recorded(monkeypatch):
    """The methods run through the one run path from now on."""
    import mrstudio.workspace.cine as cine

    calls = []
    original = cine.run_recon

    def record(study, mask, method, **kw):
        calls.append(method)
        return original(study, mask, method, **kw)

    monkeypatch.setattr(cine, "run_recon", record)
    return calls


def _viewport_pos(editor, t: int, ky: int) -> QtCore.QPointF:
    item = editor.mask_img
    view = item.scene().views()[0]
    return QtCore.QPointF(view.mapFromScene(item.mapToScene(QtCore.QPointF(ky + 0.5, t + 0.5))))


def _mouse(widget, kind, pos, buttons, modifiers, button=QtCore.Qt.MouseButton.NoButton):
    ev = QtGui.QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, modifiers)
    QtWidgets.QApplication.sendEvent(widget, ev)


def drag(editor, points, shift=False):
    """A left-button drag through ``points`` (t, ky) on the mask image, with real mouse events."""
    scene = editor.mask_img.scene()
    scene._moveEventIsAllowed = lambda: True  # pyqtgraph drops moves closer than 1/60 s; these come at once
    vp = scene.views()[0].viewport()
    left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
    mods = QtCore.Qt.KeyboardModifier.ShiftModifier if shift else QtCore.Qt.KeyboardModifier.NoModifier
    E = QtCore.QEvent.Type  # noqa: N806
    _mouse(vp, E.MouseButtonPress, _viewport_pos(editor, *points[0]), left, mods, left)
    for t, ky in points[1:]:
        _mouse(vp, E.MouseMove, _viewport_pos(editor, t, ky), left, mods)
    _mouse(vp, E.MouseButtonRelease, _viewport_pos(editor, *points[-1]), none, mods, left)


def free_column(mask) -> int:
    """A ky line acquired in no frame, near the centre."""
    free = np.flatnonzero(~mask.any(0))
    return int(free[np.argmin(np.abs(free - mask.shape[1] // 2))])


def test_drag_paints_shift_drag_erases_and_undo_redo(window, qtbot):
    ed = window.mask_editor
    view_range = [list(r) for r in ed.mask_view.viewRange()]
    ky = free_column(ed.mask)
    before = ed.mask.copy()
    drag(ed, [(0, ky), (3, ky), (7, ky)])  # a fast drag: the frames in between are painted too
    assert ed.mask[:, ky].all() and int(ed.mask.sum()) == int(before.sum()) + 8
    assert [list(r) for r in ed.mask_view.viewRange()] == view_range  # the plot did not pan
    drag(ed, [(1, ky), (6, ky)], shift=True)
    assert list(np.flatnonzero(ed.mask[:, ky])) == [0, 7]
    window.activateWindow()
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: ed.mask[:, ky].all(), timeout=2000)  # the erase is undone
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: np.array_equal(ed.mask, before), timeout=2000)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z,
                   QtCore.Qt.KeyboardModifier.ControlModifier | QtCore.Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: ed.mask[:, ky].all(), timeout=2000)
    ed.brush.setValue(3)
    ed.symmetric.setChecked(True)
    ky2 = free_column(ed.mask)
    drag(ed, [(2, ky2), (2, ky2)])
    mirror = 2 * (ed.ny // 2) - ky2
    assert ed.mask[2, [ky2 - 1, ky2, ky2 + 1, mirror - 1, mirror, mirror + 1]].all()


def test_painting_updates_the_fast_panels_live_and_marks_cs_stale(window, qtbot, recorded):
    ws, ed, grid = window.session, window.mask_editor, window.grid
    zf_before, cs_before = ws.results[ZF], ws.results[CS]
    profile_before = window.profiles.profiles[ZF].copy()
    ky = free_column(ed.mask)
    drag(ed, [(0, ky), (7, ky)])
    assert np.array_equal(ws.mask, ed.mask)  # the workspace follows at once …
    assert ws.status(CS) == "stale" and ws.status(ZF) == "updating"
    qtbot.waitUntil(lambda: "stale" in grid.panels[CS].title.text() and "updating" in grid.panels[ZF].title.text(),
                    timeout=2000)
    # … and the fast panels are recomputed on the new mask (debounced, in one job)
    qtbot.waitUntil(lambda: all(ws.status(t) == "fresh" and ws.results[t].scores for t in (ZF, CNN)), timeout=60000)
    qtbot.waitUntil(lambda: not window.bridge.active(), timeout=60000)
    assert np.array_equal(ws.results[ZF].mask, ed.mask) and ws.results[ZF] is not zf_before
    assert ws.results[ZF].scores["psnr"] > zf_before.scores["psnr"]  # eight more lines
    qtbot.waitUntil(lambda: "updating" not in grid.panels[ZF].title.text(), timeout=2000)
    assert "stale" in grid.panels[CS].title.text() and ws.shown()[CS] is cs_before and "cs" not in recorded
    assert not np.allclose(window.profiles.profiles[ZF], profile_before)  # the x–t profile follows
    row = next(r for r in window.metrics.rows if r[0] == ZF)
    assert row[2] == f"{ws.results[ZF].scores['psnr']:.2f}" and any(r[0] == f"{CS} (stale)" for r in window.metrics.rows)
    window.cine.apply_mask()  # Apply: only CS is computed again
    assert window.bridge.wait_all(60)
    assert recorded.count("cs") == 1 and ws.status(CS) == "fresh" and "stale" not in grid.panels[CS].title.text()


def test_a_newer_edit_cancels_the_superseded_live_update(window, qtbot):
    ws, ed, ctrl = window.session, window.mask_editor, window.cine
    ky = free_column(ed.mask)
    ed._paint(0, ky, False)
    first = ctrl.live_update(quick=True)
    ed._paint(1, ky, False)
    second = ctrl.live_update(quick=True)
    assert first is not None and second is not None and second is not first
    assert first.token.cancelled and not second.token.cancelled
    assert window.bridge.wait_all(60)
    assert np.array_equal(ws.results[ZF].mask, ed.mask) and ed.mask[[0, 1], ky].all()
    assert first.status in ("cancelled", "done")  # cancelled, or finished but not shown: its mask is not current


def test_adding_a_unet_does_not_rerun_cs(window, qtbot, recorded):
    ws = window.session
    cs_before = ws.results[CS]
    window.cine.add_all_losses()
    assert window.bridge.wait_all(120)
    added = [s for s in ws.layers if s.label.startswith("CNN ") and "nearest" not in s.label]
    assert len(added) == 3 and recorded == ["cnn"] * 3  # one U-Net per loss; nothing else ran
    assert ws.results[CS] is cs_before and all(s.title in window.grid.panels for s in added)
    window.cine.run_selected()  # everything is cached now
    assert window.bridge.wait_all(30) and recorded == ["cnn"] * 3


def test_layers_remove_hide_show_and_reorder(window, qtbot, recorded):
    lp, ws, grid = window.layers, window.session, window.grid
    rows = lp.titles()
    assert rows == [ZF, CS, CNN]
    lp.list.item(rows.index(CS)).setSelected(True)
    lp.remove.click()
    assert CS not in ws.order
    qtbot.waitUntil(lambda: CS not in grid.panels and lp.titles() == [ZF, CNN], timeout=2000)
    item = lp.list.item(0)
    item.setCheckState(QtCore.Qt.CheckState.Unchecked)  # hide
    assert ZF in ws.hidden
    qtbot.waitUntil(lambda: ZF not in grid.panels, timeout=2000)
    lp.list.item(0).setCheckState(QtCore.Qt.CheckState.Checked)  # show again: from the cache
    qtbot.waitUntil(lambda: ZF in grid.panels, timeout=2000)
    assert recorded == []
    lp.list.clearSelection()
    lp.list.item(0).setSelected(True)
    lp.down.click()
    assert ws.order == [CNN, ZF]
    qtbot.waitUntil(lambda: [n for n in grid.panels if not n.startswith("Reference")] == [CNN, ZF], timeout=2000)
    qtbot.waitUntil(lambda: lp.titles() == [CNN, ZF], timeout=2000)
    lp.list.item(0).setSelected(True)
    lp.list.item(1).setSelected(True)
    lp.diff.click()  # the difference of the two selected layers
    name = f"{CNN} − {ZF}"
    qtbot.waitUntil(lambda: name in grid.panels, timeout=2000)
    assert name in grid.signed
    lo, hi = grid.panels[name].levels
    assert lo == pytest.approx(-hi) and hi > 0  # a symmetric scale


def test_a_model_trained_at_another_r_is_flagged_and_the_default_follows_r(window, qtbot):
    from mrstudio.io.model_store import nearest_model

    if nearest_model(30.0, "l2") is None or nearest_model(30.0, "l2").accel != 30:
        pytest.skip("the R 30 model is not installed")
    ws, ed = window.session, window.mask_editor
    window.methods.select_model("cine-unet-l2-r15")
    window.methods.zero.setChecked(False)
    window.methods.cs.setChecked(False)
    window.cine.run_selected()
    assert window.bridge.wait_all(60)
    fixed = "CNN l2-r15"
    assert "≠ mask R 4.0" in window.grid.panels[fixed].title.text()  # trained at 15, the mask is R 4
    ed.accel.setValue(30.0)
    qtbot.waitUntil(lambda: ws.status(CNN) == "fresh" and ws.status(fixed) == "fresh", timeout=60000)
    assert window.bridge.wait_all(60)
    assert ws.results[CNN].model["model"] == "cine-unet-l2-r30"  # the default model followed the mask's R
    qtbot.waitUntil(lambda: "trained R 30" in window.grid.panels[CNN].title.text(), timeout=2000)
    assert "≠" not in window.grid.panels[CNN].title.text()
    assert "trained R 15 ≠ mask R 30" in window.grid.panels[fixed].title.text()
    assert "⚠ R" in window.layers.list.item(window.layers.titles().index(fixed)).text()


def test_the_unrolled_network_follows_when_editing_pauses(window, qtbot):
    from mrstudio.recon.unrolled import default_unrolled

    if default_unrolled() is None:
        pytest.skip("no unrolled model installed")
    ws, ed = window.session, window.mask_editor
    window.methods.unrolled.setChecked(True)
    window.cine.run_selected()
    assert window.bridge.wait_all(120)
    ed._paint(3, free_column(ed.mask), False)
    title = "Unrolled (any mask)"
    assert ws.status(title) == "updating"
    qtbot.waitUntil(lambda: ws.status(title) == "fresh", timeout=120000)
    assert np.array_equal(ws.results[title].mask, ed.mask)
