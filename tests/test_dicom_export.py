"""DICOM export: CLI round trip, dciodvfy validation, anonymisation, safe writing, CT series."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pydicom
import pytest

from mrstudio.core.errors import StudyError
from mrstudio.core.geometry import AXIAL, Geometry
from mrstudio.core.jobs import Cancelled, CancelToken
from mrstudio.core.study import VolumeStudy
from mrstudio.io import open_study
from mrstudio.io.dicom_export import write_cine_dicom, write_volume_dicom

DCIODVFY = shutil.which("dciodvfy")


def _cli(*args, check=True):
    p = subprocess.run([sys.executable, "-m", "mrstudio", *args], capture_output=True, text=True)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def _dciodvfy_errors(path) -> list[str]:
    p = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True)
    return [ln for ln in (p.stdout + p.stderr).splitlines() if ln.startswith("Error")]


def test_recon_dicom_round_trip(tmp_path):
    out = tmp_path / "series"
    npz = tmp_path / "r.npz"
    common = ["--study", "phantom", "--size", "48", "--frames", "6", "--coils", "4", "--method", "zero-filled",
              "--accel", "4"]
    _cli("recon", *common, "--out", str(out), "--format", "dicom")
    _cli("recon", *common, "--out", str(npz))
    files = sorted(out.glob("*.dcm"))
    assert len(files) == 6
    desc = json.loads(_cli("info", str(out), "--json").stdout)
    assert desc["shape"] == [1, 6, 48, 48] and desc["format"] == "dicom"
    with np.load(npz) as z:
        want = np.abs(z["image"])
    back = open_study(out)
    step = (want.max() - want.min()) / 65535
    np.testing.assert_allclose(np.abs(back.reference), want, atol=step * 0.51 + 1e-7)
    dss = [pydicom.dcmread(f) for f in files]
    assert all(d.TriggerTime in (None, "") for d in dss)  # the phantom has no timing: none is invented
    assert [int(d.TemporalPositionIdentifier) for d in dss] == list(range(1, 7))
    d0 = dss[0]
    assert list(d0.ImageType)[:2] == ["DERIVED", "SECONDARY"] and d0.NumberOfTemporalPositions == 6
    assert d0.CardiacNumberOfImages == 6 and "zero-filled" in d0.DerivationDescription
    assert "R 4" in d0.DerivationDescription and "vd-kt" in d0.DerivationDescription
    assert len({d.SOPInstanceUID for d in dss}) == 6 and len({d.SeriesInstanceUID for d in dss}) == 1
    p = _cli("recon", *common, "--out", str(out), "--format", "dicom", check=False)
    assert p.returncode == 2 and "not empty" in p.stderr
    assert sorted(out.glob("*.dcm")) == files  # untouched
    if DCIODVFY:
        for f in files:
            assert _dciodvfy_errors(f) == [], f


def test_dicom_source_keeps_study_and_anonymize(tmp_path):
    src = tmp_path / "src"
    write_cine_dicom(np.random.default_rng(0).random((4, 8, 8)), src, frame_ms=40.0)
    for f in src.glob("*.dcm"):  # give the source a patient
        d = pydicom.dcmread(f)
        d.PatientName, d.PatientID = "Doe^John", "MRN0042"
        d.save_as(f)
    study = open_study(src)
    kept = write_cine_dicom(np.abs(study.reference), tmp_path / "kept", study=study)
    anon = write_cine_dicom(np.abs(study.reference), tmp_path / "anon", study=study, anonymize=True)
    s0 = pydicom.dcmread(next(src.glob("*.dcm")))
    k0 = pydicom.dcmread(next(kept.glob("*.dcm")))
    a0 = pydicom.dcmread(next(anon.glob("*.dcm")))
    assert k0.StudyInstanceUID == s0.StudyInstanceUID and k0.FrameOfReferenceUID == s0.FrameOfReferenceUID
    assert k0.SeriesInstanceUID != s0.SeriesInstanceUID and k0.PatientID == "MRN0042"
    assert a0.StudyInstanceUID != s0.StudyInstanceUID and a0.PatientID == "ANON" and "Doe" not in str(a0.PatientName)
    assert a0.PatientIdentityRemoved == "YES"
    assert [float(pydicom.dcmread(f).TriggerTime) for f in sorted(kept.glob("*.dcm"))] == \
        study.meta["trigger_times_ms"]
    if DCIODVFY:
        assert _dciodvfy_errors(next(anon.glob("*.dcm"))) == []


def test_failed_or_cancelled_export_leaves_nothing(tmp_path):
    with pytest.raises(StudyError, match="NaN"):
        write_cine_dicom(np.full((2, 4, 4), np.nan), tmp_path / "nan")
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        write_cine_dicom(np.ones((3, 4, 4)), tmp_path / "cancelled", cancel=token)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "keep.txt").write_text("x")
    with pytest.raises(StudyError, match="not empty"):
        write_cine_dicom(np.ones((3, 4, 4)), tmp_path / "old")
    assert (tmp_path / "old" / "keep.txt").read_text() == "x"
    write_cine_dicom(np.ones((3, 4, 4)), tmp_path / "old", force=True)
    assert len(list((tmp_path / "old").glob("*.dcm"))) == 3 and not (tmp_path / "old" / "keep.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]


def test_ct_series_round_trip(tmp_path):
    vol = np.random.default_rng(1).uniform(-1000, 1500, (5, 10, 12)).astype(np.float32)
    pos = np.array([[0.0, 0.0, z] for z in (0.0, 1.5, 3.0, 4.5, 6.0)])
    ct = VolumeStudy(volume=vol, spacing=(1.5, 0.7, 0.8), geometry=Geometry(AXIAL, pos, (0.7, 0.8)), name="ct")
    out = write_volume_dicom(ct, tmp_path / "ct", description="MR Studio linear ×3")
    back = open_study(out)
    assert isinstance(back, VolumeStudy) and back.shape == (5, 10, 12)
    np.testing.assert_allclose(back.volume, vol, atol=2500 / 65535)
    np.testing.assert_allclose(back.spacing, (1.5, 0.7, 0.8), atol=1e-6)
    np.testing.assert_allclose(back.positions, pos, atol=1e-6)
    if DCIODVFY:
        assert _dciodvfy_errors(next(out.glob("*.dcm"))) == []


def test_mr_volume_and_oblique_cine_pass_dciodvfy(tmp_path):
    from mrstudio.core.study import CineStudy

    r = np.array([0.8, 0.6, 0.0])
    c = np.array([0.0, 0.0, -1.0])
    g = Geometry((*r, *c), np.array([[1.5, 2.5, 3.5]]) + np.arange(4)[:, None] * 5.0 * np.cross(r, c), (0.9, 0.8),
                 5.0, "1.2.826.0.1.3680043.8.498.5")
    mr = VolumeStudy(volume=np.random.default_rng(2).random((4, 10, 12)).astype(np.float32) * 900,
                     spacing=(5.0, 0.9, 0.8), geometry=g, modality="MR")
    out = write_volume_dicom(mr, tmp_path / "mr", description="MR Studio linear x3")
    back = open_study(out)
    assert back.modality == "MR" and back.geometry.frame_of_reference == g.frame_of_reference
    np.testing.assert_allclose(back.geometry.positions, g.positions, atol=1e-9)
    k = np.zeros((1, 3, 10, 12), np.complex64) + 1
    cine = CineStudy(kspace=k, fov_mm=(9.0, 9.6), geometry=g.take(2))
    cout = write_cine_dicom(np.ones((3, 10, 12)), tmp_path / "cine", study=cine)
    np.testing.assert_allclose(open_study(cout).geometry.positions, g.positions[2:3], atol=1e-9)
    if DCIODVFY:
        assert _dciodvfy_errors(next(out.glob("*.dcm"))) == []
        assert _dciodvfy_errors(next(cout.glob("*.dcm"))) == []
