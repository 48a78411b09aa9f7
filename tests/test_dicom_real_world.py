"""Real-world DICOM: patient geometry through every export, MR volumes, series sanity, DICOMDIR,
compressed syntaxes and the quirks of PACS exports — all on files written here in the real
layouts (PS3.3 A.3/A.4/A.36/A.38, PS3.10) or re-encoded by dcmtk and GDCM.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pydicom
import pytest
from dicom_tools import enhanced, have_tools, make_dicomdir, pixel_to_patient, reencode, series

from mrstudio.cli import main
from mrstudio.core.errors import StudyError
from mrstudio.core.study import CineStudy, VolumeStudy
from mrstudio.io import open_study

RNG = np.random.default_rng(14)
# make test installs dcmtk and libgdcm-tools when it runs as root: there, a missing tool is a failure, not a skip
TOOLS = pytest.mark.skipif(not have_tools() and os.geteuid() != 0,
                           reason="dcmtk and libgdcm-tools not installed (make test installs them as root)")


def _rot(ax: float, ay: float, az: float) -> np.ndarray:
    ax, ay, az = np.radians([ax, ay, az])
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ rx @ ry


_R = _rot(20, 15, 30)
GEOMETRIES = {  # (row cosines, column cosines, tilt of the stack axis towards the column direction, degrees)
    "axial": ((1, 0, 0), (0, 1, 0), 0.0),
    "sagittal": ((0, 1, 0), (0, 0, -1), 0.0),
    "double-oblique": (tuple(_R[:, 0]), tuple(_R[:, 1]), 0.0),
    "flipped": ((-1, 0, 0), (0, 1, 0), 0.0),
    "tilted": ((1, 0, 0), (0, 1, 0), 15.0),
}
P0 = np.array([-100.3, -80.7, 33.1])


def _stack(name: str, n: int, dz: float = 4.0) -> tuple[tuple, np.ndarray]:
    r, c, tilt = GEOMETRIES[name]
    r, c = np.asarray(r, float), np.asarray(c, float)
    step = dz * np.cross(r, c) + np.tan(np.radians(tilt)) * dz * c
    return (*r, *c), P0 + np.arange(n)[:, None] * step


def _files_by_position(folder):
    return {tuple(np.round([float(v) for v in d.ImagePositionPatient], 4)): d
            for d in (pydicom.dcmread(f) for f in sorted(folder.glob("*.dcm")))}


@pytest.mark.parametrize("modality", ["CT", "MR"])
@pytest.mark.parametrize("geometry", sorted(GEOMETRIES))
def test_interp_export_keeps_patient_geometry(tmp_path, capsys, geometry, modality):
    n = 6
    orient, pos = _stack(geometry, n)
    vol = RNG.integers(0, 4000, (n, 12, 10))
    src = series(tmp_path / "src", vol, orient, pos, modality=modality)
    study = open_study(tmp_path / "src")
    assert isinstance(study, VolumeStudy) and study.modality == modality and study.shape == (n, 12, 10)
    out = tmp_path / "out"
    assert main(["interp", "--study", str(tmp_path / "src"), "--method", "linear", "--factor", "3",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    back = open_study(out)
    g, g0 = back.geometry, study.geometry
    assert back.shape == (3 * (n - 1) + 1, 12, 10) and back.modality == modality
    np.testing.assert_allclose(g.orientation, orient, atol=1e-9)
    np.testing.assert_allclose(g.positions[::3], pos, atol=1e-6)
    np.testing.assert_allclose(g.positions[1::3], pos[:-1] + (pos[1:] - pos[:-1]) / 3, atol=1e-6)
    if GEOMETRIES[geometry][2] == 0:  # inserted slices on the true normal
        off = g.positions - pos[0]
        np.testing.assert_allclose(np.cross(off, g0.normal), 0, atol=1e-6)
    assert back.spacing[1:] == study.spacing[1:] == (1.25, 0.9765625)
    np.testing.assert_allclose(back.spacing[0], study.spacing[0] / 3, rtol=1e-9)
    assert g.frame_of_reference == g0.frame_of_reference == "1.2.826.0.1.3680043.8.498.77"
    # the export overlays its source in patient space: pixel (7, 3) of each source file and of its copy
    by_pos = _files_by_position(out)
    for f in src:
        s = pydicom.dcmread(f)
        o = by_pos[tuple(np.round([float(v) for v in s.ImagePositionPatient], 4))]
        np.testing.assert_allclose(pixel_to_patient(o, 7, 3), pixel_to_patient(s, 7, 3), atol=1e-6)
        want = s.pixel_array[7, 3] * float(s.get("RescaleSlope", 1)) + float(s.get("RescaleIntercept", 0))
        got = o.pixel_array[7, 3] * float(o.RescaleSlope) + float(o.RescaleIntercept)
        assert abs(got - want) < 0.1
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(info["geometry"]["orientation"], orient, atol=1e-6)
    np.testing.assert_allclose(info["geometry"]["first_position_mm"], pos[0], atol=1e-4)
    np.testing.assert_allclose(info["geometry"]["last_position_mm"], pos[-1], atol=1e-4)
    assert info["geometry"]["pixel_spacing_mm"] == [1.25, 0.9765625] and info["kind"] == "volume"


@pytest.mark.parametrize("geometry", ["axial", "sagittal", "double-oblique", "flipped"])
def test_recon_export_keeps_cine_geometry(tmp_path, capsys, geometry):
    orient, pos = _stack(geometry, 1)
    t = 8
    frames = RNG.integers(0, 4000, (t, 16, 12))
    src = series(tmp_path / "cine", frames, orient, np.repeat(pos, t, 0), trigger=[40.0 * k for k in range(t)],
                 thickness=8.0)
    out = tmp_path / "out"
    assert main(["recon", "--study", str(tmp_path / "cine"), "--method", "zero-filled", "--accel", "2",
                 "--out", str(out), "--format", "dicom"]) == 0
    capsys.readouterr()
    study, back = open_study(tmp_path / "cine"), open_study(out)
    assert isinstance(back, CineStudy) and back.frames == t
    np.testing.assert_allclose(back.geometry.orientation, orient, atol=1e-9)
    np.testing.assert_allclose(back.geometry.positions, pos, atol=1e-6)
    assert back.geometry.pixel_spacing == study.geometry.pixel_spacing == (1.25, 0.9765625)
    assert back.geometry.slice_thickness == 8.0
    assert back.geometry.frame_of_reference == study.geometry.frame_of_reference
    assert back.meta["trigger_times_ms"] == [40.0 * k for k in range(t)]
    s, o = pydicom.dcmread(src[0]), pydicom.dcmread(sorted(out.glob("*.dcm"))[0])
    np.testing.assert_allclose(pixel_to_patient(o, 15, 11), pixel_to_patient(s, 15, 11), atol=1e-6)
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)["geometry"]
    np.testing.assert_allclose(info["orientation"], orient, atol=1e-6)
    np.testing.assert_allclose(info["first_position_mm"], pos[0], atol=1e-4)
    assert info["pixel_spacing_mm"] == [1.25, 0.9765625] and info["slice_thickness_mm"] == 8.0
    npz = tmp_path / "r.npz"  # the native result keeps the geometry too
    assert main(["recon", "--study", str(tmp_path / "cine"), "--method", "zero-filled", "--accel", "2",
                 "--out", str(npz)]) == 0
    np.testing.assert_allclose(open_study(npz).geometry.positions, pos, atol=1e-12)


def test_made_up_geometry_gets_a_new_frame_of_reference(tmp_path, capsys):
    for name in ("a", "b"):
        assert main(["recon", "--size", "32", "--frames", "4", "--coils", "2", "--method", "zero-filled",
                     "--accel", "2", "--out", str(tmp_path / name), "--format", "dicom"]) == 0
    a, b = (pydicom.dcmread(sorted((tmp_path / n).glob("*.dcm"))[0]) for n in ("a", "b"))
    assert a.FrameOfReferenceUID != b.FrameOfReferenceUID  # nothing ties two phantom exports to one patient space
    anon = tmp_path / "anon"
    orient, pos = _stack("sagittal", 4)
    series(tmp_path / "src", RNG.integers(0, 100, (4, 8, 8)), orient, pos, modality="CT")
    assert main(["interp", "--study", str(tmp_path / "src"), "--method", "linear", "--factor", "2", "--out", str(anon),
                 "--anonymize"]) == 0
    d = pydicom.dcmread(sorted(anon.glob("*.dcm"))[0])
    assert d.FrameOfReferenceUID != "1.2.826.0.1.3680043.8.498.77" and d.PatientID == "ANON"


def test_exported_spacing_keeps_full_precision(tmp_path):
    from mrstudio.core.geometry import Geometry
    from mrstudio.io.dicom_export import write_volume_dicom

    g = Geometry((1, 0, 0, 0, 1, 0), [[0, 0, 0], [0, 0, 1 / 3]], (1 / 3, 0.123456789012345))
    st = VolumeStudy(volume=np.zeros((2, 4, 4), np.float32), spacing=(1 / 3, 1 / 3, 0.123456789012345), geometry=g)
    d = pydicom.dcmread(sorted(write_volume_dicom(st, tmp_path / "v").glob("*.dcm"))[0])
    np.testing.assert_allclose([float(v) for v in d.PixelSpacing], [1 / 3, 0.123456789012345], rtol=1e-12)


def test_mr_volume_opens_with_every_slice_and_interpolates(tmp_path, capsys):
    orient, pos = _stack("axial", 40, dz=4.0)
    series(tmp_path / "t1", RNG.integers(0, 4000, (40, 32, 32)), orient, pos, thickness=4.0)
    st = open_study(tmp_path / "t1")
    assert isinstance(st, VolumeStudy) and st.shape == (40, 32, 32) and st.modality == "MR"
    assert main(["interp", "--study", str(tmp_path / "t1"), "--method", "cubic", "--factor", "3",
                 "--out", str(tmp_path / "x3"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["slices_out"] == 118 and out["intensity"]["kind"] == "robust" and out["modality"] == "MR"
    assert len(list((tmp_path / "x3").glob("*.dcm"))) == 118
    assert {pydicom.dcmread(f).Modality for f in (tmp_path / "x3").glob("*.dcm")} == {"MR"}
    enh = enhanced(tmp_path / "enh" / "vol.dcm", RNG.integers(0, 4000, (40, 32, 32)), orient, pos)
    st = open_study(enh)
    assert isinstance(st, VolumeStudy) and st.shape == (40, 32, 32)
    np.testing.assert_allclose(st.geometry.positions, pos, atol=1e-6)
    assert main(["interp", "--study", str(enh), "--method", "linear", "--factor", "3", "--out", str(tmp_path / "e3"),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["slices_out"] == 118


def test_mr_holdout_uses_robust_scaling(capsys, tmp_path):
    orient, pos = _stack("axial", 13, dz=3.0)
    z = np.arange(13)[:, None, None]
    vol = (1000 + 50 * z + RNG.integers(0, 5, (13, 16, 16))).astype(np.uint16)
    series(tmp_path / "mr", vol, orient, pos)
    assert main(["interp", "--study", str(tmp_path / "mr"), "--method", "linear", "--factor", "6", "--holdout",
                 "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["intensity"]["kind"] == "robust" and r["rmse_units"] == "stored value" and r["psnr"] > 20


def test_enhanced_ct_reads_functional_groups(tmp_path):
    orient, pos = _stack("tilted", 5)
    vol = RNG.integers(0, 2000, (5, 8, 8))
    st = open_study(enhanced(tmp_path / "ct.dcm", vol, orient, pos, modality="CT"))
    assert isinstance(st, VolumeStudy) and st.modality == "CT"
    np.testing.assert_allclose(st.volume, vol - 1024.0)
    assert any("gantry tilt" in w for w in st.meta["warnings"])


@TOOLS
def test_dicomdir_by_dcmmkdir_in_a_fresh_interpreter(tmp_path):
    frames = RNG.integers(0, 1000, (3, 8, 8))
    series(tmp_path / "MEDIA" / "DIR1", frames, trigger=[0.0, 30.0, 60.0], names=["IM1", "IM2", "IM3"])
    dicomdir = make_dicomdir(tmp_path / "MEDIA")
    code = ("import sys, numpy as np; from mrstudio.io import open_study; s = open_study(sys.argv[1]); "
            "print(s.frames, int(abs(s.reference[2, 1, 1])))")  # nothing imports pydicom.fileset beforehand
    p = subprocess.run([sys.executable, "-c", code, str(dicomdir)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["3", str(frames[2, 1, 1])]
    (tmp_path / "MEDIA" / "DIR1" / "IM2").unlink()  # a file gone: refused, never a 2-frame cine
    with pytest.raises(StudyError, match="1 file.s. that do not exist"):
        open_study(dicomdir)


def test_localizers_scouts_and_stray_orientations_are_excluded(tmp_path):
    orient, pos = _stack("axial", 10)
    series(tmp_path / "ct", RNG.integers(0, 2000, (10, 8, 8)), orient, pos, modality="CT",
           image_type=[["ORIGINAL", "PRIMARY", "AXIAL"]] * 10)
    series(tmp_path / "ct", RNG.integers(0, 2000, (1, 8, 8)), (1, 0, 0, 0, 0, -1), [[0, 0, 0]], modality="CT",
           image_type=[["ORIGINAL", "PRIMARY", "LOCALIZER"]], start=50)
    st = open_study(tmp_path / "ct")
    assert st.shape == (10, 8, 8) and any("localizer" in w for w in st.meta["warnings"])
    series(tmp_path / "ct2", RNG.integers(0, 2000, (20, 8, 8)), *_stack("axial", 20), modality="CT")
    series(tmp_path / "ct2", RNG.integers(0, 2000, (1, 8, 8)), (1, 0, 0, 0, 0, -1), [[0, 0, 0]], modality="CT",
           start=50)  # a coronal image without a LOCALIZER type
    st = open_study(tmp_path / "ct2")
    assert st.shape == (20, 8, 8) and any("another orientation" in w for w in st.meta["warnings"])


def test_three_plane_localizer_is_three_stacks(tmp_path, capsys):
    planes = [(1, 0, 0, 0, 1, 0), (0, 1, 0, 0, 0, -1), (1, 0, 0, 0, 0, -1)]
    for k, o in enumerate(planes):
        series(tmp_path / "loc", RNG.integers(0, 500, (3, 8, 8)), o,
               np.array([[0, 0, 0], [0, 0, 0], [0, 0, 0]]) + np.cross(o[:3], o[3:]) * np.arange(3)[:, None] * 10,
               image_type=[["ORIGINAL", "PRIMARY", "LOCALIZER"]] * 3, start=1 + 3 * k)
    assert main(["info", str(tmp_path / "loc")]) == 0
    text = capsys.readouterr().out
    assert "3 series" in text and "axial" in text and "sagittal" in text and "coronal" in text
    assert main(["recon", "--study", str(tmp_path / "loc"), "--method", "zero-filled", "--accel", "2"]) == 2
    assert "holds 3 series" in capsys.readouterr().err
    assert open_study(tmp_path / "loc", series=1).shape[0] == 3


def test_dual_echo_is_two_stacks(tmp_path, capsys):
    orient, pos = _stack("axial", 8)
    series(tmp_path / "de", RNG.integers(0, 500, (16, 8, 8)), orient, np.concatenate([pos, pos]),
           echo=[1] * 8 + [2] * 8)
    assert main(["info", str(tmp_path / "de"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["series"]
    assert [r["label"] for r in rows] == ["echo 1", "echo 2"] and all(r["kind"] == "volume" for r in rows)
    assert all(r["shape"] == [8, 8, 8] for r in rows)
    with pytest.raises(StudyError, match="2 stacks"):
        open_study(tmp_path / "de", series="1.2.826.0.1.3680043.8.498.1")
    assert open_study(tmp_path / "de" / "IM0012.dcm").meta["stack"] == "echo 2"  # a file opens its own echo


@TOOLS
def test_same_image_in_four_transfer_syntaxes_is_one_image(tmp_path):
    src = series(tmp_path / "s", RNG.integers(0, 4000, (1, 16, 16)), trigger=[0.0])[0]
    for syntax in ("jpeg-lossless-sv1", "jpegls-lossless", "rle"):
        reencode(src, tmp_path / "s" / f"{syntax}.dcm", syntax)
    st = open_study(tmp_path / "s")
    assert st.frames == 1 and any("duplicate image" in w for w in st.meta["warnings"])
    assert open_study(tmp_path / "s" / "rle.dcm").frames == 1  # the file named was a duplicate: its series opens


@TOOLS
@pytest.mark.parametrize("syntax", ["jpeg-lossless-sv1", "jpeg-lossless", "jpegls-lossless", "jpegls-near",
                                    "jpeg-12bit", "j2k", "deflate", "big-endian"])
def test_compressed_series_decode_to_their_source(tmp_path, capfd, syntax):
    frames = RNG.integers(0, 4096, (4, 32, 32))
    src = series(tmp_path / "raw", frames, trigger=[40.0 * k for k in range(4)])
    (tmp_path / "enc").mkdir()
    for f in src:
        reencode(f, tmp_path / "enc" / f.name, syntax)
    want = np.abs(open_study(tmp_path / "raw").reference)
    got = np.abs(open_study(tmp_path / "enc").reference)
    tol = {"jpegls-near": 2, "jpeg-12bit": 64}.get(syntax, 0)
    assert np.abs(got - want).max() <= tol + 1e-3, syntax
    assert capfd.readouterr().err == ""  # no decoder noise on stderr


def test_single_file_opens_its_own_folder_only(tmp_path):
    frames = RNG.integers(0, 1000, (6, 8, 8))
    own = series(tmp_path / "a", frames[:4], trigger=[0.0, 40.0, 80.0, 120.0])
    series(tmp_path / "a" / "sub", frames[4:], trigger=[160.0, 200.0], start=5)  # same series UID, elsewhere
    (tmp_path / "a" / "broken.dcm").write_bytes(own[0].read_bytes()[:400])  # an unreadable sibling
    st = open_study(own[1])
    assert st.frames == 4 and any("skipped" in w for w in st.meta["warnings"])
    assert open_study(tmp_path / "a").frames == 6  # a folder is searched recursively


def test_files_without_preamble_are_read(tmp_path):
    frames = RNG.integers(0, 1000, (5, 8, 8))
    files = series(tmp_path / "c", frames, trigger=[40.0 * k for k in range(5)])
    for f in files[:2]:
        f.write_bytes(f.read_bytes()[132:])  # data set (with its meta group) but no preamble and no DICM
    st = open_study(tmp_path / "c")
    np.testing.assert_allclose(np.abs(st.reference), frames, atol=1e-3)
    assert any("without the DICOM preamble" in w for w in st.meta["warnings"])


def test_jittered_positions_group_into_one_slice(tmp_path):
    t = 20
    jitter = np.where(np.arange(t) % 2, 0.0004, -0.0004)
    pos = np.stack([np.zeros(t), np.zeros(t), 10.005 + jitter], 1)  # across a 0.01-mm rounding boundary
    series(tmp_path / "j", RNG.integers(0, 1000, (t, 8, 8)), positions=pos, trigger=[30.0 * k for k in range(t)])
    st = open_study(tmp_path / "j")
    assert isinstance(st, CineStudy) and st.frames == t and st.meta["slices"] == 1


def test_missing_or_partial_timing_is_explicit(tmp_path):
    frames = RNG.integers(0, 1000, (5, 8, 8))
    series(tmp_path / "none", frames)
    st = open_study(tmp_path / "none")
    assert st.frames == 5 and any("ordered by InstanceNumber" in w for w in st.meta["warnings"])
    assert "trigger_times_ms" not in st.meta
    order = [2, 0, 4, 1, 3]
    series(tmp_path / "partial", frames[order], trigger=[None if k == 0 else 40.0 * k for k in order],
           tpi=[k + 1 for k in order])
    st = open_study(tmp_path / "partial")
    np.testing.assert_allclose(np.abs(st.reference), frames, atol=1e-3)  # the frame without TriggerTime stays put
    assert any("TriggerTime missing on 1 of 5" in w and "TemporalPositionIdentifier" in w for w in st.meta["warnings"])


def test_mixed_thickness_and_uneven_spacing_are_reported(tmp_path, capsys):
    orient, pos = _stack("axial", 8)
    pos[5:] += [0, 0, 1.0]
    files = series(tmp_path / "v", RNG.integers(0, 1000, (8, 8, 8)), orient, pos, modality="CT")
    d = pydicom.dcmread(files[-1])
    d.SliceThickness = 2.0
    d.save_as(files[-1])
    st = open_study(tmp_path / "v")
    assert any("SliceThickness varies" in w for w in st.meta["warnings"])
    assert main(["interp", "--study", str(tmp_path / "v"), "--method", "linear", "--factor", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert any("uneven slice spacing" in w for w in out["warnings"])


def test_pydicom_warnings_become_notes_not_stderr(tmp_path):
    for f in series(tmp_path / "w", RNG.integers(0, 1000, (2, 8, 8)), trigger=[0.0, 40.0]):
        f.write_bytes(f.read_bytes().replace(b"1.2.826.0.1.3680043.8.498.77", b"1.2.826.0.1.3680043.8.498.7a"))
    p = subprocess.run([sys.executable, "-m", "mrstudio", "info", str(tmp_path / "w")], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr  # pydicom warns "Invalid value for VR UI"
    assert "pydicom: Invalid value for VR UI" in p.stdout and "frames" in p.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_not_opened(tmp_path, capsys):
    fifo = tmp_path / "pipe.dcm"
    os.mkfifo(fifo)
    assert main(["info", str(fifo)]) == 2
    assert "not a regular file" in capsys.readouterr().err
    series(tmp_path / "d", RNG.integers(0, 1000, (2, 8, 8)), trigger=[0.0, 40.0])
    os.mkfifo(tmp_path / "d" / "pipe")
    assert open_study(tmp_path / "d").frames == 2  # a FIFO in a folder is passed over


def test_info_lists_every_series_of_a_folder(tmp_path, capsys):
    series(tmp_path / "f" / "a", RNG.integers(0, 1000, (3, 8, 8)), trigger=[0.0, 40.0, 80.0], series_uid="1.2.3.1")
    series(tmp_path / "f" / "b", RNG.integers(0, 1000, (4, 8, 8)), *_stack("sagittal", 4), modality="CT",
           series_uid="1.2.3.2")
    assert main(["info", str(tmp_path / "f"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["series"]
    assert [(r["index"], r["modality"], r["kind"], r["shape"]) for r in rows] == \
        [(0, "MR", "cine", [3, 8, 8]), (1, "CT", "volume", [4, 8, 8])]
    assert main(["recon", "--study", str(tmp_path / "f"), "--method", "zero-filled", "--accel", "2"]) == 2
    assert "holds 2 series" in capsys.readouterr().err


def test_repeated_acquisitions_are_refused_not_read_as_a_cine(tmp_path):
    orient, pos = _stack("axial", 4)
    series(tmp_path / "ct", RNG.integers(0, 1000, (8, 8, 8)), orient, np.concatenate([pos, pos]), modality="CT")
    with pytest.raises(StudyError, match="repeated acquisitions"):
        open_study(tmp_path / "ct")


def test_frames_of_reference_never_share_a_stack(tmp_path, capsys):
    orient, pos = _stack("axial", 4)
    series(tmp_path / "f", RNG.integers(0, 1000, (4, 8, 8)), orient, pos, modality="CT", for_uid="1.2.3.1")
    series(tmp_path / "f", RNG.integers(0, 1000, (4, 8, 8)), orient, pos + [0, 0, 100], modality="CT",
           for_uid="1.2.3.2", start=10)
    assert main(["info", str(tmp_path / "f"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["series"]
    assert [r["label"] for r in rows] == ["frame of reference 1", "frame of reference 2"]
    assert open_study(tmp_path / "f", series=1).geometry.frame_of_reference == "1.2.3.2"


def test_ungated_trigger_times_give_way_to_temporal_positions(tmp_path):
    frames = RNG.integers(0, 1000, (4, 8, 8))
    order = [3, 1, 0, 2]
    series(tmp_path / "rt", frames[order], trigger=[0.0] * 4, tpi=[k + 1 for k in order])
    st = open_study(tmp_path / "rt")
    np.testing.assert_allclose(np.abs(st.reference), frames, atol=1e-3)
    assert any("TriggerTime repeated" in w and "TemporalPositionIdentifier" in w for w in st.meta["warnings"])


def test_a_cine_without_orientation_still_opens(tmp_path):
    files = series(tmp_path / "c", RNG.integers(0, 1000, (3, 8, 8)), trigger=[0.0, 30.0, 60.0])
    for f in files:
        d = pydicom.dcmread(f)
        del d.ImageOrientationPatient
        d.save_as(f)
    st = open_study(tmp_path / "c")
    assert st.frames == 3 and st.geometry is None and any("made-up geometry" in w for w in st.meta["warnings"])


def test_interp_derivation_text_is_the_shared_one(tmp_path, capsys):
    from mrstudio.io.dicom_export import volume_description

    orient, pos = _stack("axial", 4)
    series(tmp_path / "s", RNG.integers(0, 100, (4, 64, 64)), orient, pos, modality="CT")
    assert main(["interp", "--study", str(tmp_path / "s"), "--method", "hrinet", "--model", "ct-hrinet-skip-mse-256",
                 "--factor", "2", "--out", str(tmp_path / "o"), "--device", "cpu", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "ct-hrinet-skip-mse-256"
    d = pydicom.dcmread(sorted((tmp_path / "o").glob("*.dcm"))[0])
    assert d.DerivationDescription == volume_description("hrinet", 2, "ct-hrinet-skip-mse-256")
