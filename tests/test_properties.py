"""Property-based tests (hypothesis): the mask generator's contract and the readers' refusal of garbage.

CI runs a short budget (``max_examples`` below); for a longer fuzz run of the readers use
``HYPOTHESIS_PROFILE=fuzz pytest tests/test_properties.py`` (2000 examples each).
"""

from __future__ import annotations

import os

import h5py
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mrstudio.core.errors import StudyError
from mrstudio.core.masks import MASK_KINDS, MaskSpec, accel_effective, make_mask
from mrstudio.io import open_study

settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _mutated(good, flip: list[tuple[int, int]], length: int) -> bytes:
    """The bytes of ``good`` with ``flip`` (position, value) applied, cut to ``length``."""
    raw = bytearray(good.read_bytes())
    for pos, val in flip:
        if pos < len(raw):
            raw[pos] = val
    return bytes(raw[:length])


def _opens_or_names_the_file(path, name: str) -> None:
    """Reading ``path`` gives a valid study or a StudyError naming the file (or its folder)."""
    try:
        study = open_study(path)
        assert np.isfinite(study.kspace).all()  # whatever survives a mutation is still a valid study
    except StudyError as exc:
        assert name in str(exc)


@given(kind=st.sampled_from(MASK_KINDS), accel=st.floats(4.0, 60.0), frames=st.integers(8, 24),
       ny=st.sampled_from([64, 96, 128]), acs=st.integers(0, 4), seed=st.integers(0, 2**31 - 1))
def test_mask_contract(kind, accel, frames, ny, acs, seed):
    spec = MaskSpec(kind=kind, accel=accel, acs=acs, seed=seed)
    m = make_mask(spec, frames, ny)
    assert m.shape == (frames, ny) and m.dtype == bool
    assert m.any(axis=1).all()  # every frame samples something
    assert np.array_equal(m, make_mask(spec, frames, ny))  # deterministic by seed
    r = accel_effective(m)
    assert r > 1 and abs(r - accel) / accel < 0.25  # tight (3 %) bounds are tested at fixed sizes


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=0, max_size=4096))
def test_random_bytes_never_crash_the_reader(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("fuzz") / "x.h5"
    p.write_bytes(data)
    try:
        open_study(p)
    except StudyError as exc:
        assert "x.h5" in str(exc)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keep=st.integers(0, 20_000), flip=st.lists(st.tuples(st.integers(0, 20_000), st.integers(0, 255)), max_size=8))
def test_mutated_hdf5_never_crashes_the_reader(tmp_path_factory, keep, flip):
    d = tmp_path_factory.mktemp("mut")
    good = d / "good.h5"
    with h5py.File(good, "w") as f:
        f.attrs["format"], f.attrs["format_version"], f.attrs["meta"] = "mrstudio-cine", 1, "{}"
        f["kspace"] = (np.ones((2, 3, 8, 8)) + 1j).astype(np.complex64)
    bad = d / "bad.h5"
    bad.write_bytes(_mutated(good, flip, max(keep, 8)))
    _opens_or_names_the_file(bad, "bad.h5")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 400), flip=st.lists(st.tuples(st.integers(128, 400), st.integers(0, 255)), max_size=6))
def test_mutated_dicom_never_crashes_the_reader(tmp_path_factory, cut, flip):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    d = tmp_path_factory.mktemp("dcm")
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.4", ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.SeriesInstanceUID, ds.TriggerTime = "MR", "1.2.3", 0.0
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = 4, 4, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = np.arange(16, dtype=np.uint16).tobytes()
    good = d / "good.dcm"
    ds.save_as(good, enforce_file_format=True)
    bad = d / "m.dcm"
    bad.write_bytes(_mutated(good, flip, good.stat().st_size - cut))
    good.unlink()
    _opens_or_names_the_file(bad, str(d))  # the series folder or the file in it
