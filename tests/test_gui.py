"""GUI tests (pytest-qt, offscreen): open, compare, link, profile, mask, cancel, export, errors."""

import time

import numpy as np
import pytest
from gui_tools import comparison_window, small_settings

pytest.importorskip("pytestqt")

from PySide6 import QtCore, QtGui  # noqa: E402

from mrstudio.core.study import VolumeStudy  # noqa: E402


@pytest.fixture
def settings(tmp_path):
    return small_settings(tmp_path)


@pytest.fixture
def window(qtbot, small_phantom, settings):
    # unrolled unticked: these tests follow the paper's three; the unrolled one has its own
    yield from comparison_window(qtbot, small_phantom, settings, cs_iters=20)


def test_default_comparison_fills_grid_and_metrics(window):
    names = list(window.grid.panels)
    assert names[0].startswith("Reference (ground-truth)")
    assert names[1:] == ["Zero-filled", "CS (l1-ESPIRiT)", "CNN l2 (nearest R)"]  # layer order, not finishing order
    res = window.session.results
    assert res["CS (l1-ESPIRiT)"].scores["psnr"] > res["Zero-filled"].scores["psnr"] + 3
    assert window.metrics.table.rowCount() == 4
    csv = window.metrics.csv().splitlines()
    assert csv[0].startswith("method,") and any(r.startswith("CS (l1-ESPIRiT),") for r in csv)
    assert all(j.status == "done" for j in window.bridge.jobs.values())


def test_frame_zoom_and_cursor_are_linked(window, qtbot):
    window.frame_slider.setValue(5)
    assert {p.frame for p in window.grid.panels.values()} == {5}
    panels = list(window.grid.panels.values())
    panels[0].view.setRange(xRange=(10, 30), yRange=(12, 32), padding=0)
    qtbot.wait(20)
    for p in panels[1:]:  # same centre and zoom (panels may differ by a pixel, so the aspect lock may trim)
        for axis in (0, 1):
            np.testing.assert_allclose(p.view.viewRange()[axis], panels[0].view.viewRange()[axis], atol=0.5)
    window.grid._hovered(panels[1], 20.5, 30.5)
    for p in panels:
        assert p.vline.isVisible() and p.vline.value() == pytest.approx(30.5)
    text = window.status.cursor_label.text()
    assert "y 20, x 30, frame 5" in text and "CS" in text


def test_window_slider_sets_levels(window):
    window.window_slider.setValue((0.1, 0.4))
    assert all(p.levels == pytest.approx((0.1, 0.4)) for p in window.grid.panels.values())
    window.playback.mode.setCurrentText("|Error|")
    assert window.grid.mode == "error" and window.grid.colorbar_widget.isVisibleTo(window)
    err = window.grid.panels["Zero-filled"].stack
    ref = window.grid.stacks[window.grid.reference_name]
    np.testing.assert_allclose(err, np.abs(window.grid.stacks["Zero-filled"] - ref), atol=1e-6)


def test_xt_line_drives_profiles(window):
    from mrstudio.core.profiles import line_profile

    window.grid.set_line((32.0, 8.0), (32.0, 56.0))
    prof = window.profiles.profiles["Zero-filled"]
    expected = line_profile(window.grid.stacks["Zero-filled"], (32.0, 8.0), (32.0, 56.0)).T
    assert prof.shape == expected.shape and prof.shape[1] == 8
    np.testing.assert_allclose(prof, expected)


def test_mask_apply_reruns_the_stale_slow_method(window, qtbot):
    ed, ws = window.mask_editor, window.session
    psf_before = np.array(ed.psf_img.image, copy=True)
    cs_before = ws.results["CS (l1-ESPIRiT)"]
    ed.accel.setValue(5.0)
    assert "effective R <b>5.0" in ed.info.text() or "effective R <b>4.9" in ed.info.text()
    assert not np.allclose(ed.psf_img.image, psf_before)  # the PSF follows the mask
    before = int(ed.mask.sum())
    t = int(np.argmin(ed.mask.sum(1)))
    ky = int(np.flatnonzero(~ed.mask[t])[0])
    ed._paint(t, ky, erase=False)
    assert int(ed.mask.sum()) == before + 1 and np.array_equal(ws.mask, ed.mask)  # live: the workspace follows
    assert ws.status("CS (l1-ESPIRiT)") == "stale"
    qtbot.waitUntil(lambda: "stale" in window.grid.panels["CS (l1-ESPIRiT)"].title.text(), timeout=2000)
    window.cine.apply_mask()
    assert window.bridge.wait_all(60)
    assert set(ws.results) == {"Zero-filled", "CS (l1-ESPIRiT)", "CNN l2 (nearest R)"}
    assert all(np.array_equal(r.mask, ed.mask) for r in ws.results.values())
    assert ws.results["CS (l1-ESPIRiT)"] is not cs_before and ws.status("CS (l1-ESPIRiT)") == "fresh"
    assert ws.results["Zero-filled"].mask.sum() == before + 1


def test_cancel_long_cs_quickly(window):
    window.methods.zero.setChecked(False)
    window.methods.cnn.setChecked(False)
    window.methods.cs_iters.setValue(1000)
    window.cine.run_selected()
    job = list(window.bridge.jobs.values())[-1]
    deadline = time.perf_counter() + 10
    while job.status != "running" and time.perf_counter() < deadline:
        QtCore.QCoreApplication.processEvents()
    t0 = time.perf_counter()
    window.bridge.cancel(job.id)
    assert window.bridge.wait_all(10)
    assert job.status == "cancelled" and time.perf_counter() - t0 < 2.0


def test_event_loop_stays_responsive_during_cs(window):
    """While CS runs in the background the GUI thread's timer never stalls ≥ 100 ms."""
    window.methods.zero.setChecked(False)
    window.methods.cnn.setChecked(False)
    window.methods.cs_iters.setValue(60)
    gaps, last = [], [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QtCore.QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    window.cine.run_selected()
    assert window.bridge.wait_all(60)
    timer.stop()
    assert len(gaps) > 20
    assert max(gaps) < 0.1, f"longest stall {max(gaps) * 1000:.0f} ms"


def test_exports(window, tmp_path):
    from mrstudio.io import open_study

    h5 = window.exports.result("CS (l1-ESPIRiT)", str(tmp_path / "cs.h5"))
    assert h5 is not None and h5.stat().st_size > 1000 and window.last_message == f"CS (l1-ESPIRiT) written to {h5}"
    assert "show folder" in window.status.written_label.text()
    import h5py

    with h5py.File(h5) as f:
        assert f["image"].shape == (8, 64, 64) and "cs" in f["provenance"][()].decode()
    assert window.exports.result("CS (l1-ESPIRiT)", str(tmp_path / "cs.h5")) is None  # no silent overwrite
    assert "already exists" in window.last_message
    job = window.exports.movie(str(tmp_path / "cmp.gif"))
    assert window.bridge.wait_all(60) and job.status == "done" and window.last_message.endswith("cmp.gif")
    import imageio.v3 as iio

    gif = iio.imread(tmp_path / "cmp.gif")
    cols = window.grid.cols  # the grid's layout, tiles scaled to 256 px
    assert gif.shape[0] == 8 and gif.shape[2] == cols * 256 + (cols + 1) * 6 and gif.shape[1] > 256 * (4 // cols)
    png = window.exports.png(str(tmp_path / "f.png"))
    picture = iio.imread(png)
    assert picture.shape[1] == gif.shape[2] and picture.shape[0] > 256 and "f.png" in window.last_message
    from mrstudio.core.errors import StudyError

    with pytest.raises(StudyError, match="f.png"):  # a picture is not a study
        open_study(tmp_path / "f.png")
    job = window.exports.dicom("CS (l1-ESPIRiT)", str(tmp_path))
    assert window.bridge.wait_all(60) and job.status == "done"
    folders = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(folders) == 1 and len(list(folders[0].glob("*.dcm"))) == 8
    assert window.last_message == f"DICOM series of CS (l1-ESPIRiT) written to {folders[0]}"
    series = open_study(folders[0])
    assert series.frames == 8 and series.matrix == (64, 64) and series.format == "dicom"
    assert window.exports.dicom("CS (l1-ESPIRiT)", str(tmp_path)) is None and "not empty" in window.last_message


def test_the_objects_of_start_up_are_frozen_out_of_the_collector(window):
    """Once the start-up jobs are done, the long-lived objects leave the cyclic collector (no 0.3 s gen-2 stalls)."""
    import gc

    try:
        assert not window.bridge.active() and gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()  # the other tests' objects are collected as usual


def test_exported_grid_can_add_error_maps_and_xt_profiles(window, tmp_path):
    """File → Export's two options add an |error| row and an x–t row under every tile, and say so in its label."""
    import imageio.v3 as iio

    plain_png = iio.imread(window.exports.png(str(tmp_path / "plain.png")))
    window.exports.set_extra("error", True)
    window.exports.set_extra("xt", True)
    assert window.exports.extras == ("error", "xt")
    extra_png = iio.imread(window.exports.png(str(tmp_path / "extra.png")))
    assert extra_png.shape[1] == plain_png.shape[1] and extra_png.shape[0] > plain_png.shape[0] + 256
    labels = dict(zip(window.grid.panels, window.exports.last_labels))
    assert "below: |err| scale 0 …" in labels["Zero-filled"] and "x–t profile" in labels["Zero-filled"]
    assert "|err|" not in labels[next(iter(window.grid.panels))]  # the reference has no error tile
    window.exports.set_extra("error", False)
    assert window.exports.extras == ("xt",)
    window.playback.frame_slider.setValue(3)
    frames = window.exports.movie(str(tmp_path / "m.gif"))
    assert window.bridge.wait_all(60) and frames.status == "done"


def test_export_labels_and_the_one_overwrite_choice(window, tmp_path):
    import imageio.v3 as iio

    from mrstudio.gui.exports import CANCEL, OVERWRITE, RENAME

    png = window.exports.png(str(tmp_path / "grid.png"))
    labels = window.exports.last_labels
    assert [lab.splitlines()[0] for lab in labels] == list(window.grid.panels)  # one titled tile per panel
    zf = next(lab for lab in labels if lab.startswith("Zero-filled"))
    assert f"{window.session.results['Zero-filled'].scores['psnr']:.2f} dB" in zf and "SSIM" in zf
    picture = iio.imread(png)
    band = picture[6:26, 6:250]  # the first tile's title
    assert band.std() > 10  # text, not an empty strip
    window.playback.mode.setCurrentText("|Error|")
    window.exports.png(str(tmp_path / "err.png"))
    assert any("|err| scale 0 …" in lab for lab in window.exports.last_labels)
    answers = []
    window.exports.ask = lambda path: answers.pop(0)
    for fmt in ("grid.png", "cs.h5"):  # the same choice for every format
        target = tmp_path / fmt
        target.touch()
        answers[:] = [CANCEL, RENAME, OVERWRITE]
        assert window.exports.resolve(target) is None
        assert window.exports.resolve(target) == (tmp_path / (target.stem + "-2" + target.suffix), False)
        assert window.exports.resolve(target) == (target, True)
    series = tmp_path / "series"
    series.mkdir()
    assert window.exports.resolve(series, folder=True) == (series, False)  # an empty folder is free
    (series / "x.dcm").touch()
    answers[:] = [RENAME]
    assert window.exports.resolve(series, folder=True) == (tmp_path / "series-2", False)
    assert window.exports.make_folder(str(tmp_path / "new" / "deeper")) and (tmp_path / "new" / "deeper").is_dir()


def test_bad_file_gives_message_and_keeps_study(window, tmp_path):
    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 50)
    before = window.study
    window.open_path(str(bad))
    window.bridge.wait_all(30)
    assert window.study is before
    assert window.last_message and "broken.h5" in window.last_message


def test_drop_opens_file_and_remembers_it(window, tmp_path, small_phantom, qtbot):
    from mrstudio.io.native import write_cine

    path = write_cine(small_phantom, tmp_path / "dropped.h5")
    window.autorun = False
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    event = QtGui.QDropEvent(QtCore.QPointF(10, 10), QtCore.Qt.DropAction.CopyAction, mime,
                             QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert window.bridge.wait_all(30)
    assert window.study.source.endswith("dropped.h5")
    assert window.opener.recent()[0] == str(path)
    assert window.opener.recent_menu.actions()[0].text() == str(path)


def test_dicom_folder_with_two_series_asks_which(window, tmp_path):
    from mrstudio.core.study import VolumeStudy as CT
    from mrstudio.io.dicom_export import write_cine_dicom, write_volume_dicom

    folder = tmp_path / "patient"
    folder.mkdir()
    write_cine_dicom(np.random.default_rng(0).random((8, 16, 16)), folder / "cine")
    write_volume_dicom(CT(volume=np.zeros((3, 8, 8), np.float32)), folder / "ct")
    window.autorun = False
    seen = []

    def choose(labels):
        seen.extend(labels)
        return next(lab for lab in labels if "· MR ·" in lab)

    job = window.opener.open_dicom_folder(str(folder), choose=choose)
    assert len(seen) == 2 and job is not None and window.bridge.wait_all(30)
    assert any("cine 8 × 16 × 16" in lab for lab in seen) and any("volume 3 × 8 × 8 · axial" in lab for lab in seen)
    assert window.study.format == "dicom" and window.study.frames == 8
    assert window.opener.open_dicom_folder(str(tmp_path / "nothing-here")) is None and "not found" in window.last_message


def test_series_browser_is_a_table(qtbot, tmp_path):
    from mrstudio.core.study import VolumeStudy as CT
    from mrstudio.gui.app import make_app
    from mrstudio.gui.series_browser import COLUMNS, SeriesBrowser
    from mrstudio.io.dicom_export import write_cine_dicom, write_volume_dicom
    from mrstudio.io.dicom_read import list_series

    make_app()
    folder = tmp_path / "patient"
    folder.mkdir()
    write_cine_dicom(np.random.default_rng(0).random((8, 16, 16)), folder / "cine")
    write_volume_dicom(CT(volume=np.zeros((3, 8, 8), np.float32)), folder / "ct")
    series = list_series(folder)
    browser = SeriesBrowser(series, str(folder))
    qtbot.addWidget(browser)
    table = browser.table
    assert table.rowCount() == 2 and tuple(table.horizontalHeaderItem(c).text() for c in range(7)) == COLUMNS
    rows = {table.item(r, 3).text(): [table.item(r, c).text() for c in range(7)] for r in range(2)}
    assert rows["cine"][2] == "MR" and rows["cine"][5] == "8 × 16 × 16" and rows["cine"][6] == "8"
    assert rows["volume"][2] == "CT" and rows["volume"][4] == "axial" and rows["volume"][5] == "3 × 8 × 8"
    ct = next(s["index"] for s in series if s["kind"] == "volume")
    browser.select_index(ct)
    browser.accept()
    assert browser.chosen == ct


def test_settings_remember_methods_mask_and_cs(qtbot, small_phantom, settings):
    from mrstudio.gui.app import make_app
    from mrstudio.gui.main_window import MainWindow

    make_app()
    w = MainWindow(small_phantom, device="cpu", settings=settings, autorun=False)
    qtbot.addWidget(w)
    w.methods.cs.setChecked(False)
    w.methods.cs_iters.setValue(37)
    w.methods.select_model("cine-unet-ssim-r15")
    w.mask_editor.set_spec(type(w.mask_editor.spec())(kind="poisson", accel=5.0, acs=4, seed=9))
    w.mask_editor.live.setChecked(False)
    w.close()
    again = MainWindow(small_phantom, device="cpu", settings=settings, autorun=False)
    qtbot.addWidget(again)
    spec = again.mask_editor.spec()
    assert (spec.kind, spec.accel, spec.acs, spec.seed) == ("poisson", 5.0, 4, 9)
    assert not again.methods.cs.isChecked() and again.methods.cs_iters.value() == 37
    assert again.methods.model.currentData() == "cine-unet-ssim-r15" and not again.mask_editor.live.isChecked()
    again.close()


def test_ct_study_is_shown_with_methods_disabled(qtbot, settings):
    from mrstudio.gui.app import make_app
    from mrstudio.gui.main_window import MainWindow

    make_app()
    vol = np.linspace(-1000, 1000, 6 * 32 * 32, dtype=np.float32).reshape(6, 32, 32)
    ct = VolumeStudy(volume=vol, spacing=(2.5, 0.7, 0.7))
    w = MainWindow(ct, device="cpu", settings=settings, autorun=False)
    qtbot.addWidget(w)
    assert list(w.grid.panels) == ["CT volume (HU)"]
    assert not w.methods_dock.isEnabled() and w.frame_slider.maximum() == 5


def test_mr_volume_is_windowed_on_its_own_values_and_interpolated(qtbot, settings, tmp_path):
    from mrstudio.core.geometry import Geometry
    from mrstudio.gui.app import make_app
    from mrstudio.gui.main_window import MainWindow
    from mrstudio.io import open_study

    make_app()
    vol = np.random.default_rng(3).uniform(0, 3000, (7, 16, 16)).astype(np.float32)
    g = Geometry((0, 1, 0, 0, 0, -1), np.arange(7)[:, None] * [-4.0, 0, 0], (0.9, 0.9), 4.0, "1.2.826.0.1.3680043.8.498.3")
    mr = VolumeStudy(volume=vol, spacing=(4.0, 0.9, 0.9), geometry=g, modality="MR")
    w = MainWindow(mr, device="cpu", settings=settings, autorun=False)
    qtbot.addWidget(w)
    assert list(w.grid.panels) == ["MR volume"]
    lo, hi = w.window_slider.value()
    assert lo >= 0 and 2900 < hi <= 3000  # its 0.5–99.5th percentiles, not an HU window
    job = w.volumes.run("linear", None, 2, False)
    assert w.bridge.wait_all(30) and job.status == "done"
    assert w.window_slider.value() == (lo, hi) and "7 → 13 slices" in w.ct_panel.result.text()
    w.exports.volume_dicom(str(tmp_path))
    assert w.bridge.wait_all(30)
    back = open_study(next(p for p in tmp_path.iterdir() if p.is_dir()))
    assert back.modality == "MR" and back.geometry.frame_of_reference == g.frame_of_reference
    np.testing.assert_allclose(back.geometry.positions[::2], g.positions, atol=1e-9)


def test_ct_interpolation_workspace(qtbot, settings, tmp_path):
    from mrstudio.core.ct_phantom import make_ct_phantom, thick
    from mrstudio.gui.app import make_app
    from mrstudio.gui.main_window import MainWindow
    from mrstudio.io import open_study

    make_app()
    ct = thick(make_ct_phantom(size=64, slices=39, seed=20000), 3)  # 13 slices, 3 mm
    w = MainWindow(ct, device="cpu", settings=settings, autorun=False)
    qtbot.addWidget(w)
    assert w.ct_dock.isVisibleTo(w) and list(w.reformat.items) == ["original"]
    job = w.volumes.run("linear", None, 3, False)
    assert w.bridge.wait_all(30) and job.status == "done"
    assert list(w.grid.panels) == ["original (nearest)", "linear ×3"]
    assert w.frame_slider.maximum() == 12 * 3 and "13 → 37 slices" in w.ct_panel.result.text()
    assert list(w.reformat.items) == ["original", "linear ×3"]
    job = w.exports.volume_dicom(str(tmp_path))
    assert w.bridge.wait_all(30) and job.status == "done"
    folder = next(p for p in tmp_path.iterdir() if p.is_dir())
    back = open_study(folder)
    assert back.shape == (37, 64, 64) and abs(back.spacing[0] - 1.0) < 1e-3
    import pydicom

    from mrstudio.io.dicom_export import volume_description

    d = pydicom.dcmread(next(folder.glob("*.dcm")))
    assert d.DerivationDescription == volume_description("linear", 3) == "MR Studio linear x3"  # as the CLI writes
    job = w.volumes.run("cubic", None, 3, False)  # a second interpolator joins the first, side by side
    assert w.bridge.wait_all(30) and job.status == "done"
    assert list(w.grid.panels) == ["original (nearest)", "linear ×3", "cubic ×3"]
    assert list(w.reformat.items) == ["original", "linear ×3", "cubic ×3"]
    job = w.volumes.run("cubic", None, 6, True)
    assert w.bridge.wait_all(30) and job.status == "done"
    assert list(w.grid.panels) == ["held-out truth", "cubic"] and "PSNR" in w.last_message
    row = w.metrics.rows[0]  # the metrics tab holds the hold-out scores
    assert row[0] == "cubic ×6 hold-out" and row[2] == f"{w.volume.holdouts['cubic ×6 hold-out']['psnr']:.2f}"


def test_excepthook_logs_without_blocking(tmp_path, monkeypatch, capsys):
    import sys

    from mrstudio.gui.app import make_app
    from mrstudio.gui.crash import install_excepthook

    make_app()
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    old = sys.excepthook
    try:
        install_excepthook(lambda: None)
        try:
            raise ValueError("boom")
        except ValueError:
            sys.excepthook(*sys.exc_info())
    finally:
        sys.excepthook = old
    assert "ValueError: boom" in (tmp_path / "mrstudio" / "mrstudio.log").read_text()
    assert "boom" in capsys.readouterr().err


def test_corrupted_settings_file_is_survived(qtbot, tmp_path):
    from mrstudio.gui.app import make_app
    from mrstudio.gui.main_window import MainWindow

    make_app()
    ini = tmp_path / "broken.ini"
    ini.write_bytes(b"\x00\xff[General]\nrecent=@Invalid(\x01\x02\nfps=banana\naccel=-3\ngeometry=@ByteArray(zz\n")
    s = QtCore.QSettings(str(ini), QtCore.QSettings.Format.IniFormat)
    w = MainWindow(None, device="cpu", settings=s)
    qtbot.addWidget(w)
    assert w.opener.recent() == [] and 1 <= w.playback.fps.value() <= 60
    w.close()


def test_the_unrolled_network_joins_the_default_comparison(qtbot, small_phantom, settings):
    from mrstudio.gui.app import make_app
    from mrstudio.gui.main_window import MainWindow
    from mrstudio.recon.unrolled import default_unrolled

    if default_unrolled() is None:
        pytest.skip("no unrolled model installed")
    make_app()
    w = MainWindow(None, device="cpu", settings=settings, autorun=False)
    qtbot.addWidget(w)
    assert w.methods.unrolled.isChecked() and w.methods.unrolled.isEnabled()
    w.methods.cs.setChecked(False)
    w.methods.cnn.setChecked(False)
    w.set_study(small_phantom)
    w.cine.run_selected()
    assert w.bridge.wait_all(120)
    res = w.session.results["Unrolled (any mask)"]
    assert res.method == "unrolled" and res.model["model"] == default_unrolled() and res.scores["psnr"] > 10


def test_xt_profiles_fit_their_extent_and_mark_the_frame(window):
    prof = window.profiles
    assert set(prof.plots) == set(window.grid.stacks)
    positions, frames = next(iter(prof.profiles.values())).shape
    (x0, x1), (y0, y1) = next(iter(prof.plots.values())).viewRange()
    assert x0 <= 0.5 and x1 >= frames - 0.5 and x1 <= frames * 1.2 and y1 >= 0.9 * positions  # no "×0.001" axis
    window.frame_slider.setValue(3)
    assert all(m.value() == 3.5 for m in prof.markers.values())


def test_arrow_keys_step_frames_and_volumes_say_slice(window, qtbot):
    window.activateWindow()
    window.frame_slider.setValue(2)
    qtbot.keyClick(window.grid, QtCore.Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.frame_slider.value() == 3, timeout=2000)
    qtbot.keyClick(window.grid, QtCore.Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: window.frame_slider.value() == 2, timeout=2000)
    assert window.playback.axis_label.text() == "Frame"
    window.autorun = False
    window.set_study(VolumeStudy(volume=np.zeros((5, 16, 16), np.float32), spacing=(2.0, 1.0, 1.0)))
    assert window.playback.axis_label.text() == "Slice"
