import h5py
import numpy as np
import pytest

from mrstudio.core.errors import StudyError
from mrstudio.io import open_study
from mrstudio.io.native import provenance, write_cine, write_result


@pytest.mark.parametrize("suffix", [".h5", ".npz"])
def test_cine_roundtrip(tmp_path, small_phantom, suffix):
    p = write_cine(small_phantom, tmp_path / f"s{suffix}")
    s = open_study(p)
    np.testing.assert_array_equal(s.kspace, small_phantom.kspace)
    np.testing.assert_array_equal(s.reference, small_phantom.reference)
    assert s.reference_kind == "ground-truth" and s.fov_mm == small_phantom.fov_mm
    with pytest.raises(StudyError, match="exists"):
        write_cine(small_phantom, p)
    write_cine(small_phantom, p, force=True)


def test_result_opens_as_study(tmp_path, small_phantom):
    img = np.abs(small_phantom.reference).astype(np.complex64)
    p = write_result(tmp_path / "r.h5", img, np.ones((8, 64), bool), provenance("x", {}))
    s = open_study(p)
    np.testing.assert_allclose(np.abs(s.kspace[0]), np.abs(np.fft.fftshift(np.fft.fft2(
        np.fft.ifftshift(img, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))), atol=1e-4)


def test_bad_files(tmp_path):
    (tmp_path / "empty.h5").write_bytes(b"")
    with pytest.raises(StudyError, match="empty"):
        open_study(tmp_path / "empty.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(StudyError, match="not a study MR Studio knows"):
        open_study(tmp_path / "other.h5")
    with h5py.File(tmp_path / "nokey.h5", "w") as f:
        f.attrs["format"] = "mrstudio-cine"
        f.attrs["format_version"] = 1
    with pytest.raises(StudyError, match="missing key 'kspace'"):
        open_study(tmp_path / "nokey.h5")
    with h5py.File(tmp_path / "nan.h5", "w") as f:
        f.attrs["format"] = "mrstudio-cine"
        f.attrs["format_version"] = 1
        f["kspace"] = np.full((1, 2, 4, 4), np.nan, np.complex64)
    with pytest.raises(StudyError, match="non-finite"):
        open_study(tmp_path / "nan.h5")
    with pytest.raises(StudyError, match="not found"):
        open_study(tmp_path / "nope.h5")


def test_truncated_file(tmp_path, small_phantom):
    p = write_cine(small_phantom, tmp_path / "s.h5")
    data = p.read_bytes()
    t = tmp_path / "trunc.h5"
    t.write_bytes(data[: len(data) // 3])
    with pytest.raises(StudyError) as info:
        open_study(t)
    assert "trunc.h5" in str(info.value)


def test_failed_write_leaves_nothing(tmp_path, small_phantom, monkeypatch):
    import mrstudio.io.native as native

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(native, "_write", boom)
    with pytest.raises(OSError):
        write_cine(small_phantom, tmp_path / "s.h5")
    assert list(tmp_path.iterdir()) == []
