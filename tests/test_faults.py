"""Faults: a full disk during export, cancelling jobs at random points, closing the window mid-job."""

from __future__ import annotations

import errno
import random

import numpy as np
import pytest

from mrstudio.core.jobs import Cancelled, CancelToken
from mrstudio.io.native import provenance, write_result


def _no_leftovers(folder):
    return [p.name for p in folder.iterdir() if ".part" in p.name]


def test_full_disk_during_export_keeps_the_previous_file(tmp_path, monkeypatch):
    import h5py

    img = np.ones((3, 8, 8), np.complex64)
    mask = np.ones((3, 8), bool)
    out = write_result(tmp_path / "r.h5", img, mask, provenance("zero-filled", {}))
    before = out.read_bytes()

    real_create = h5py.Group.create_dataset

    def full_disk(self, name, *args, **kwargs):
        if name == "mask":  # half-way through the file
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_create(self, name, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", full_disk)
    with pytest.raises(OSError, match="No space"):
        write_result(out, img * 2, mask, provenance("cs", {}), force=True)
    assert out.read_bytes() == before and _no_leftovers(tmp_path) == []


def test_full_disk_during_dicom_export_keeps_the_previous_series(tmp_path, monkeypatch):
    import pydicom

    from mrstudio.io.dicom_export import write_cine_dicom

    series = write_cine_dicom(np.random.default_rng(0).random((4, 8, 8)), tmp_path / "s")
    before = sorted((p.name, p.read_bytes()) for p in series.iterdir())
    calls = {"n": 0}
    real = pydicom.dataset.Dataset.save_as

    def full_disk(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pydicom.dataset.Dataset, "save_as", full_disk)
    with pytest.raises(OSError, match="No space"):
        write_cine_dicom(np.zeros((4, 8, 8)), series, force=True)
    assert sorted((p.name, p.read_bytes()) for p in series.iterdir()) == before
    assert [p.name for p in tmp_path.iterdir()] == ["s"]


@pytest.mark.parametrize("seed", range(3))
def test_cancel_at_random_points_leaves_no_files(tmp_path, seed):
    """Cancel CS, a DICOM export and an interpolation after a random number of progress reports."""
    from mrstudio.core.ct_phantom import make_ct_phantom
    from mrstudio.core.masks import MaskSpec, make_mask
    from mrstudio.core.phantom import make_phantom
    from mrstudio.interp.pipeline import interpolate
    from mrstudio.io.dicom_export import write_cine_dicom
    from mrstudio.recon import get_method
    from mrstudio.recon.base import undersample

    rng = random.Random(seed)
    study = make_phantom(size=32, frames=6, coils=2, seed=seed)
    mask = make_mask(MaskSpec(accel=3.0, seed=seed), 6, 32)

    def cancelling_after(n):
        token = CancelToken()
        seen = {"n": 0}

        def progress(_f, _m):
            seen["n"] += 1
            if seen["n"] >= n:
                token.cancel()

        return token, progress

    token, progress = cancelling_after(rng.randint(1, 20))
    with pytest.raises(Cancelled):
        get_method("cs").func(undersample(study.kspace, mask), mask, device="cpu", iters=200, tol=0.0,
                              progress=progress, cancel=token)
    token, progress = cancelling_after(rng.randint(1, 5))
    with pytest.raises(Cancelled):
        write_cine_dicom(np.abs(study.reference), tmp_path / "dcm", progress=progress, cancel=token)
    token, progress = cancelling_after(rng.randint(1, 3))
    ct = make_ct_phantom(size=32, slices=6, seed=seed)
    with pytest.raises(Cancelled):
        interpolate(ct, "linear", 4, progress=progress, cancel=token)
    assert list(tmp_path.iterdir()) == []
    # and everything still works afterwards
    assert interpolate(ct, "linear", 2).study.shape[0] == 11


def test_closing_the_window_cancels_running_jobs(qtbot, tmp_path):
    from PySide6 import QtCore

    from mrstudio.core.phantom import make_phantom
    from mrstudio.gui.app import make_app
    from mrstudio.gui.main_window import MainWindow

    make_app()
    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat)
    w = MainWindow(make_phantom(size=64, frames=8, coils=4, seed=2), device="cpu", settings=settings, autorun=False)
    qtbot.addWidget(w)
    w.methods.zero.setChecked(False)
    w.methods.cnn.setChecked(False)
    w.methods.cs.setChecked(True)
    w.methods.cs_iters.setValue(1000)
    w.cine.run_selected()
    qtbot.waitUntil(lambda: any(j.status == "running" for j in w.bridge.jobs.values()), timeout=10_000)
    w.close()
    assert all(j.status in ("cancelled", "done") for j in w.bridge.jobs.values())
    assert not any(j.active for j in w.bridge.jobs.values())
