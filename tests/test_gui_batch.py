"""File → Batch…: the window's method set over a folder, through the job layer and mrstudio.batch."""

import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("distributed")

from PySide6 import QtCore  # noqa: E402


@pytest.fixture
def window(qtbot, small_phantom, tmp_path):
    from mrstudio.gui.app import make_app
    from mrstudio.gui.main_window import MainWindow

    make_app()
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    w = MainWindow(small_phantom, device="cpu", settings=settings, autorun=False)
    qtbot.addWidget(w)
    yield w
    w.bridge.cancel_all()
    w.bridge.wait_all(30)


def test_batch_runs_the_window_methods_over_a_folder(window, qtbot, tmp_path):
    from mrstudio.core.phantom import make_phantom
    from mrstudio.gui.batch_dialog import BatchDialog, run_batch_job, specs_of_window
    from mrstudio.io.native import write_cine

    data = tmp_path / "data"
    data.mkdir()
    for k in range(3):
        write_cine(make_phantom(size=32, frames=4, coils=2, seed=k), data / f"c{k}.h5")
    (data / "bad.h5").write_bytes(b"not hdf5")
    window.mask_editor.accel.setValue(3.0)
    for box, on in ((window.methods.zero, True), (window.methods.cs, False), (window.methods.cnn, False),
                    (window.methods.unrolled, False), (window.methods.dc, False)):
        box.setChecked(on)
    specs = specs_of_window(window)
    assert [(s.method, s.accel, s.title) for s in specs] == [("zero-filled", 3.0, "Zero-filled")]
    dlg = BatchDialog(window, specs)
    dlg._accept()
    assert not dlg.result()  # no folders yet: the dialog stays open
    job = run_batch_job(window, str(data), str(tmp_path / "out"), specs, workers=1)
    qtbot.waitUntil(lambda: not job.active, timeout=120_000)
    assert job.status == "done", job.error
    s = window.last_batch
    assert (s.done, s.failed) == (3, 1) and (tmp_path / "out" / "report.csv").exists()
    assert "report written to" in window.last_message and str(tmp_path / "out") in window.last_message
    assert sorted(p.name for p in (tmp_path / "out").glob("*.h5")) == [f"c{k}.Zero-filled.h5" for k in range(3)]
    again = run_batch_job(window, str(data), str(tmp_path / "out"), specs, workers=1)  # no --resume: refused
    qtbot.waitUntil(lambda: not again.active, timeout=30_000)
    assert again.status == "failed" and "already holds a batch" in again.error
    assert "--" not in again.error  # the GUI user is not told about command-line flags
