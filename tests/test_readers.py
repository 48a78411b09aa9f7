"""Real-data readers on small files written in exactly the formats' layouts, good and bad."""

from __future__ import annotations

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from mrstudio.core.errors import StudyError
from mrstudio.core.fft import fft2c, fftc, ifft2c
from mrstudio.core.study import CineStudy, VolumeStudy
from mrstudio.io import open_study

RNG = np.random.default_rng(7)


def _cine(c=3, t=4, ny=16, nx=12) -> np.ndarray:
    return (RNG.standard_normal((c, t, ny, nx)) + 1j * RNG.standard_normal((c, t, ny, nx))).astype(np.complex64)


# --- OCMR / ISMRMRD ---------------------------------------------------------------------
# Layout: ISMRMRD HDF5 (https://ismrmrd.readthedocs.io/en/latest/file_format.html), written
# here with the reference `ismrmrd` package; OCMR conventions (https://github.com/MRIOpenData/ocmr):
# frames in idx.phase, 2x readout oversampling, ky relative to the encoding-limits centre.

OCMR_XML = """<?xml version="1.0" encoding="utf-8"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">
  <acquisitionSystemInformation><systemModel>Avanto</systemModel>
    <systemFieldStrength_T>1.5</systemFieldStrength_T><receiverChannels>{c}</receiverChannels>
  </acquisitionSystemInformation>
  <experimentalConditions><H1resonanceFrequency_Hz>63676633</H1resonanceFrequency_Hz></experimentalConditions>
  <encoding>
    <encodedSpace><matrixSize><x>{ex}</x><y>{ny}</y><z>1</z></matrixSize>
      <fieldOfView_mm><x>{fx}</x><y>{fy}</y><z>8</z></fieldOfView_mm></encodedSpace>
    <reconSpace><matrixSize><x>{rx}</x><y>{ny}</y><z>1</z></matrixSize>
      <fieldOfView_mm><x>{rfx}</x><y>{fy}</y><z>8</z></fieldOfView_mm></reconSpace>
    <encodingLimits>
      <kspace_encoding_step_1><minimum>0</minimum><maximum>{kmax}</maximum><center>{kc}</center></kspace_encoding_step_1>
      <slice><minimum>0</minimum><maximum>{smax}</maximum><center>0</center></slice>
      <phase><minimum>0</minimum><maximum>{tmax}</maximum><center>0</center></phase>
    </encodingLimits>
    <trajectory>cartesian</trajectory>
  </encoding>
</ismrmrdHeader>"""


def write_ocmr(path, kspace_os: np.ndarray, rx: int, mask=None, slices=1, averages=1, noise=True, pf_lines=0,
               nan=False):
    """kspace_os: (C, T, Ny, 2*rx) oversampled; pf_lines: partial-Fourier lines missing at the top."""
    ismrmrd = pytest.importorskip("ismrmrd")
    c, t, ny, ex = kspace_os.shape
    ds = ismrmrd.Dataset(str(path), "dataset", create_if_needed=True)
    ds.write_xml_header(OCMR_XML.format(c=c, ex=ex, ny=ny, fx=2 * 300.0, fy=300.0, rx=rx, rfx=300.0,
                                        kmax=ny - 1 - pf_lines, kc=ny // 2 - pf_lines, smax=slices - 1, tmax=t - 1))
    if noise:
        acq = ismrmrd.Acquisition.from_array(RNG.standard_normal((c, ex)).astype(np.complex64))
        acq.set_flag(ismrmrd.ACQ_IS_NOISE_MEASUREMENT)
        ds.append_acquisition(acq)
    for s in range(slices):
        for a in range(averages):
            for ti in range(t):
                for ky in range(pf_lines, ny):
                    if mask is not None and not mask[ti, ky]:
                        continue
                    line = kspace_os[:, ti, ky, :] * (s + 1)
                    if nan and ti == 1 and ky == ny // 2:
                        line = line.copy()
                        line[0, 0] = np.nan
                    acq = ismrmrd.Acquisition.from_array(np.ascontiguousarray(line))
                    acq.center_sample = ex // 2
                    acq.idx.kspace_encode_step_1 = ky - pf_lines
                    acq.idx.phase, acq.idx.slice, acq.idx.average = ti, s, a
                    ds.append_acquisition(acq)
    ds.close()
    return path


def test_ocmr_fully_sampled_removes_oversampling(tmp_path):
    rx, ny = 12, 16
    img = _cine(3, 4, ny, 2 * rx)
    img[..., : rx // 2] = 0
    img[..., -rx // 2:] = 0  # object inside the central half of the oversampled FOV
    k = fft2c(img)
    path = write_ocmr(tmp_path / "fs_2ch.h5", k, rx, averages=2)
    st = open_study(path)
    assert isinstance(st, CineStudy) and st.format == "ismrmrd"
    assert st.shape == (3, 4, ny, rx) and st.fully_sampled
    assert st.fov_mm == (300.0, 300.0)
    got = np.abs(ifft2c(st.kspace))
    want = np.abs(img[..., rx // 2: rx // 2 + rx])  # image values kept, outer half of the FOV cut
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert st.meta["discarded"]["noise measurement"] == 1
    assert st.meta["discarded"]["(averaged repeats)"] == 4 * ny
    assert st.meta["readout_oversampling_removed"] is True


def test_ocmr_undersampled_mask_slice_and_partial_fourier(tmp_path):
    rx, ny, t = 8, 16, 4
    k = _cine(2, t, ny, 2 * rx)
    mask = RNG.random((t, ny)) < 0.4
    mask[:, ny // 2] = True
    path = write_ocmr(tmp_path / "us.h5", k, rx, mask=mask, slices=2)
    st = open_study(path, slice=1)
    assert st.meta["slices"] == 2 and st.meta["slice"] == 1
    np.testing.assert_array_equal(st.mask, mask)
    assert st.meta["discarded"]["other slices"] == int(mask.sum())
    path2 = write_ocmr(tmp_path / "pf.h5", k, rx, pf_lines=3)
    st2 = open_study(path2)
    assert not st2.mask[:, :3].any() and st2.mask[:, 3:].all()  # partial Fourier: missing lines at the top


def test_ocmr_bad_files(tmp_path):
    k = _cine(2, 3, 8, 8)
    path = write_ocmr(tmp_path / "nan.h5", k, 4, nan=True)
    with pytest.raises(StudyError, match="NaN"):
        open_study(path)
    with pytest.raises(StudyError, match="slice 5 not in the file"):
        open_study(write_ocmr(tmp_path / "ok.h5", k, 4), slice=5)
    bad = tmp_path / "badxml.h5"
    write_ocmr(bad, k, 4)
    with h5py.File(bad, "r+") as f:
        del f["dataset/xml"]
        f["dataset"].create_dataset("xml", data=np.array([b"<ismrmrdHeader"], dtype=object),
                                    dtype=h5py.string_dtype())
    with pytest.raises(StudyError, match="XML header"):
        open_study(bad)
    trunc = tmp_path / "trunc.h5"
    data = (tmp_path / "ok.h5").read_bytes()
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(StudyError, match="trunc.h5"):
        open_study(trunc)


# --- CMRxRecon -----------------------------------------------------------------------------
# Layout: CMRxRecon cine (https://github.com/CmrxRecon/CMRxRecon, data description):
# MATLAB v7.3 (HDF5 with a 512-byte user block), complex as compound {real, imag},
# MATLAB (kx, ky, sc, sz, t) seen by h5py reversed as (t, sz, sc, ky, kx); masks in
# cine_sax_mask.mat as maskNN, MATLAB (kx, ky) -> h5py (ky, kx).

def _write_mat73(path, **variables):
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, arr in variables.items():
            if np.iscomplexobj(arr):
                comp = np.empty(arr.shape, dtype=[("real", "<f4"), ("imag", "<f4")])
                comp["real"], comp["imag"] = arr.real, arr.imag
                f.create_dataset(name, data=comp)
                f[name].attrs["MATLAB_class"] = np.bytes_("single")
            else:
                f.create_dataset(name, data=arr)
                f[name].attrs["MATLAB_class"] = np.bytes_("double")
    with open(path, "r+b") as fh:  # MATLAB's header text in the user block
        fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Nov 30 12:00:00 2026 HDF5 schema 1.00 .")
    return path


def test_cmrxrecon_full_and_sub(tmp_path):
    t, nz, sc, ny, nx = 5, 3, 4, 12, 10
    k = (RNG.standard_normal((t, nz, sc, ny, nx)) + 1j * RNG.standard_normal((t, nz, sc, ny, nx))).astype(np.complex64)
    full = _write_mat73(tmp_path / "cine_sax.mat", kspace_full=k)
    st = open_study(full)
    assert st.format == "cmrxrecon" and st.shape == (sc, t, ny, nx) and st.meta["slice"] == 1
    np.testing.assert_array_equal(st.kspace, k[:, 1].transpose(1, 0, 2, 3))
    lines = np.zeros(ny, bool)
    lines[::4] = True
    lines[5:7] = True
    mask2d = np.broadcast_to(lines[:, None], (ny, nx)).astype(np.float64)  # h5py (ky, kx)
    sub_dir = tmp_path / "AccFactor04"
    sub_dir.mkdir()
    _write_mat73(sub_dir / "cine_sax.mat", kspace_sub04=k * lines[None, None, None, :, None])
    _write_mat73(sub_dir / "cine_sax_mask.mat", mask04=mask2d)
    st2 = open_study(sub_dir / "cine_sax.mat", slice=0)
    np.testing.assert_array_equal(st2.mask, np.broadcast_to(lines, (t, ny)))
    assert st2.meta["mask_source"] == "cine_sax_mask.mat:mask04"
    assert abs(st2.sampled_fraction - lines.mean()) < 1e-9


def test_cmrxrecon_bad(tmp_path):
    k = _cine(2, 3, 8, 8)
    with pytest.raises(StudyError, match="expected 5"):
        open_study(_write_mat73(tmp_path / "a.mat", kspace_full=k))  # 4-D multi-coil
    with pytest.raises(StudyError, match="dtype int"):
        open_study(_write_mat73(tmp_path / "b.mat", kspace_full=np.zeros((2, 1, 2, 4, 4), np.int16)))
    kk = k[:, :, None].transpose(1, 2, 0, 3, 4).copy()
    kk[0, 0, 0, 0, 0] = np.inf
    with pytest.raises(StudyError, match="NaN or Inf"):
        open_study(_write_mat73(tmp_path / "c.mat", kspace_full=kk))
    with pytest.raises(StudyError, match="MATLAB v5"):
        (tmp_path / "v5.mat").write_bytes(b"MATLAB 5.0 MAT-file, Platform: GLNXA64" + b"\0" * 200)
        open_study(tmp_path / "v5.mat")


# --- fastMRI --------------------------------------------------------------------------------
# Layout: fastMRI (https://github.com/facebookresearch/fastMRI, arXiv:1811.08839 §4):
# kspace (slices, coils, kx, ky) complex64, reconstruction_rss, ismrmrd_header, attrs.

def test_fastmri_multicoil_and_mask(tmp_path):
    nz, c, kx, ky = 3, 4, 20, 14
    k = (RNG.standard_normal((nz, c, kx, ky)) + 1j * RNG.standard_normal((nz, c, kx, ky))).astype(np.complex64)
    xml = OCMR_XML.format(c=c, ex=kx, ny=ky, fx=400.0, fy=200.0, rx=kx // 2, rfx=200.0, kmax=ky - 1, kc=ky // 2,
                          smax=0, tmax=0)
    mask = np.zeros(ky, np.float32)
    mask[::2] = 1
    with h5py.File(tmp_path / "file1000001.h5", "w") as f:
        f.create_dataset("kspace", data=k)
        f.create_dataset("reconstruction_rss", data=np.zeros((nz, 8, 8), np.float32))
        f.create_dataset("ismrmrd_header", data=xml.encode())
        f.create_dataset("mask", data=mask)
        f.attrs["acquisition"] = "CORPD_FBK"
        f.attrs["patient_id"] = "abc123"
        f.attrs["max"] = 0.001
    st = open_study(tmp_path / "file1000001.h5")
    assert st.format == "fastmri" and st.shape == (c, 1, ky, kx)
    np.testing.assert_array_equal(st.kspace[:, 0], k[1].transpose(0, 2, 1))
    np.testing.assert_array_equal(st.mask[0], mask.astype(bool))
    assert st.fov_mm == (200.0, 400.0) and st.meta["acquisition"] == "CORPD_FBK"


def test_fastmri_bad(tmp_path):
    with h5py.File(tmp_path / "real.h5", "w") as f:
        f.create_dataset("kspace", data=np.zeros((2, 4, 4), np.float32))
    with pytest.raises(StudyError, match="expected complex"):
        open_study(tmp_path / "real.h5")
    with h5py.File(tmp_path / "shape.h5", "w") as f:
        f.create_dataset("kspace", data=np.zeros((4, 4), np.complex64))
    with pytest.raises(StudyError, match="expected \\(slices"):
        open_study(tmp_path / "shape.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.create_dataset("weights", data=np.zeros(3))
    with pytest.raises(StudyError, match="not a study MR Studio knows"):
        open_study(tmp_path / "other.h5")


# --- DICOM ------------------------------------------------------------------------------------
# Layout: DICOM PS3.3 (https://dicom.nema.org/medical/dicom/current/output/html/part03.html):
# MR Image Storage A.4, Enhanced MR A.36, CT Image Storage A.3; PS3.10 file format.

def _dicom(path, modality="MR", series_uid="1.2.3.4", pixels=None, instance=1, ipp=(0.0, 0.0, 0.0), trigger=None,
           slope=None, intercept=None, ts=None):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    sop = "1.2.840.10008.5.1.4.1.1.2" if modality == "CT" else "1.2.840.10008.5.1.4.1.1.4"
    ds.file_meta.MediaStorageSOPClassUID = sop
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ts or ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = sop, ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.SeriesInstanceUID, ds.StudyInstanceUID = modality, series_uid, "1.2.3"
    ds.PatientName, ds.PatientID = "Doe^Jane", "PID12345"
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.SeriesNumber = "20261130", "120000", "1", 1
    ds.SeriesDescription = f"{modality} test"
    ds.InstanceNumber = instance
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.ImagePositionPatient = list(ipp)
    ds.PixelSpacing = [1.5, 1.25]
    ds.SliceThickness = 2.5
    if trigger is not None:
        ds.TriggerTime = trigger
    if slope is not None:
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    pix = np.asarray(pixels, np.uint16)
    ds.Rows, ds.Columns = pix.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    if ts is not None and ts.is_compressed:
        from pydicom.encaps import encapsulate

        ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + bytes(32)])  # a (broken) JPEG 2000 codestream
    else:
        ds.PixelData = pix.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def test_dicom_mr_cine_ordered_by_trigger_time(tmp_path):
    frames = RNG.integers(0, 1000, (5, 8, 6))
    order = [3, 0, 4, 1, 2]  # instance numbers and file names shuffled against trigger time
    for i, t in enumerate(order):
        _dicom(tmp_path / f"x{i}.dcm", pixels=frames[t], instance=10 - i, trigger=t * 40.0)
    st = open_study(tmp_path)
    assert isinstance(st, CineStudy) and st.shape == (1, 5, 8, 6) and st.format == "dicom"
    np.testing.assert_allclose(np.abs(st.reference), frames, atol=1e-3)
    assert st.fov_mm == (12.0, 7.5) and st.meta["trigger_times_ms"] == [0.0, 40.0, 80.0, 120.0, 160.0]
    assert st.meta["PatientName"] == "Doe^Jane"
    assert open_study(tmp_path / "x2.dcm").frames == 5  # one file opens its whole series


def test_dicom_ct_sorted_by_position_with_hu_and_gap(tmp_path):
    z = [0.0, 2.0, 4.0, 8.0, 10.0]  # a gap between 4 and 8
    vol = RNG.integers(0, 2000, (5, 6, 6))
    for i in np.random.default_rng(1).permutation(5):
        _dicom(tmp_path / f"ct{i}.dcm", "CT", pixels=vol[i], instance=int(5 - i), ipp=(0, 0, z[i]), slope=1,
               intercept=-1024)
    st = open_study(tmp_path)
    assert isinstance(st, VolumeStudy) and st.shape == (5, 6, 6)
    np.testing.assert_allclose(st.volume, vol - 1024.0)
    assert st.spacing == (2.0, 1.5, 1.25)
    assert any("gap" in w for w in st.meta["warnings"])
    np.testing.assert_allclose(st.positions[:, 2], z)


def test_dicom_bad(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    _dicom(a / "1.dcm", pixels=np.zeros((4, 4)), trigger=0.0)
    _dicom(a / "2.dcm", "CT", series_uid="9.9", pixels=np.zeros((4, 4)))
    with pytest.raises(StudyError, match="holds 2 series"):
        open_study(a)
    assert open_study(a, series=1).format == "dicom"
    b.mkdir()
    _dicom(b / "1.dcm", "CT", pixels=np.zeros((4, 4)), ipp=(0, 0, 1))
    _dicom(b / "2.dcm", "CT", pixels=np.zeros((4, 4)), ipp=(0, 0, 1))
    with pytest.raises(StudyError, match="duplicate slice positions"):
        open_study(b)
    c = tmp_path / "c"
    c.mkdir()
    from pydicom.uid import JPEGLSLossless

    _dicom(c / "1.dcm", pixels=np.zeros((4, 4)), trigger=0.0, ts=JPEGLSLossless)
    with pytest.raises(StudyError, match="JPEG-LS.*failed to decode"):  # a broken codestream, GDCM installed
        open_study(c)
    data = (a / "1.dcm").read_bytes()
    (tmp_path / "trunc.dcm").write_bytes(data[:200])
    with pytest.raises(StudyError, match="trunc.dcm"):
        open_study(tmp_path / "trunc.dcm")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StudyError, match="no DICOM files"):
        open_study(tmp_path / "empty")


def test_info_cli_on_each_format(tmp_path):
    k = _cine(2, 3, 8, 8)
    write_ocmr(tmp_path / "o.h5", k, 4)
    _write_mat73(tmp_path / "cine_lax.mat", kspace_full=k.transpose(1, 0, 2, 3)[:, None])
    with h5py.File(tmp_path / "f.h5", "w") as f:
        f.create_dataset("kspace", data=k)
    d = tmp_path / "dcm"
    d.mkdir()
    for i in range(3):
        _dicom(d / f"{i}.dcm", pixels=np.full((4, 5), i), trigger=i * 10.0)
    want = {"o.h5": [2, 3, 8, 4], "cine_lax.mat": [2, 3, 8, 8], "f.h5": [3, 1, 8, 8], "dcm": [1, 3, 4, 5]}
    for name, shape in want.items():
        p = subprocess.run([sys.executable, "-m", "mrstudio", "info", str(tmp_path / name), "--json"],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        d_ = json.loads(p.stdout)
        assert d_["shape"] == shape, name
    p = subprocess.run([sys.executable, "-m", "mrstudio", "info", str(d)], capture_output=True, text=True)
    assert "PID12345" not in p.stdout and "P******5" in p.stdout
    p = subprocess.run([sys.executable, "-m", "mrstudio", "info", str(d), "--show-phi"], capture_output=True, text=True)
    assert "PID12345" in p.stdout


def test_fftc_matches_fft2c_axis():  # the oversampling removal uses 1-D centred FFTs
    x = _cine(1, 1, 4, 6)[0, 0]
    np.testing.assert_allclose(fftc(fftc(x, axis=-1), axis=-2), fft2c(x), atol=1e-5)


def test_dicom_enhanced_mr_multiframe(tmp_path):
    """Enhanced MR Image Storage (PS3.3 A.36): one file, per-frame functional groups, shuffled frames."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    t, ny, nx = 4, 6, 5
    frames = RNG.integers(0, 1000, (t, ny, nx)).astype(np.uint16)
    order = [2, 0, 3, 1]  # file order vs. cardiac phase
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4.1"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.SeriesInstanceUID, ds.StudyInstanceUID = "MR", generate_uid(), generate_uid()
    ds.NumberOfFrames = t
    shared = Dataset()
    pm, po = Dataset(), Dataset()
    pm.PixelSpacing, pm.SliceThickness = [2.0, 2.0], 8.0
    po.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    shared.PixelMeasuresSequence, shared.PlaneOrientationSequence = Sequence([pm]), Sequence([po])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per = []
    for phase in order:
        item, fc, cs, pp = Dataset(), Dataset(), Dataset(), Dataset()
        fc.TemporalPositionIndex = phase + 1
        cs.NominalCardiacTriggerDelayTime = phase * 50.0
        pp.ImagePositionPatient = [0, 0, 0]
        item.FrameContentSequence, item.CardiacSynchronizationSequence = Sequence([fc]), Sequence([cs])
        item.PlanePositionSequence = Sequence([pp])
        per.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per)
    ds.Rows, ds.Columns = ny, nx
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = np.ascontiguousarray(frames[order]).tobytes()
    d = tmp_path / "enh"
    d.mkdir()
    ds.save_as(d / "enhanced.dcm", enforce_file_format=True)
    st = open_study(d)
    assert st.shape == (1, t, ny, nx) and st.fov_mm == (12.0, 10.0)
    np.testing.assert_allclose(np.abs(st.reference), frames, atol=1e-3)  # back in cardiac order


def test_dicomdir(tmp_path):
    """A DICOMDIR (PS3.10 media) written by pydicom's FileSet opens the series it references."""
    from pydicom import dcmread
    from pydicom.fileset import FileSet

    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        _dicom(src / f"{i}.dcm", pixels=np.full((4, 5), i * 10), trigger=i * 30.0)
    fs = FileSet()
    for i in range(3):
        fs.add(dcmread(src / f"{i}.dcm"))
    media = tmp_path / "media"
    fs.write(media)
    st = open_study(media / "DICOMDIR")
    assert st.frames == 3 and st.matrix == (4, 5)
    np.testing.assert_allclose(np.abs(st.reference)[:, 0, 0], [0, 10, 20], atol=1e-3)
