import numpy as np
import pytest

from mrstudio.core.errors import StudyError
from mrstudio.core.geometry import AXIAL, Geometry
from mrstudio.core.study import CineStudy, VolumeStudy


def _k(shape=(2, 3, 8, 8)):
    return np.ones(shape, np.complex64)


def test_valid_cine():
    s = CineStudy(kspace=_k(), mask=np.ones((3, 8), bool))
    assert s.coils == 2 and s.frames == 3 and s.matrix == (8, 8) and s.fully_sampled


@pytest.mark.parametrize("kwargs,match", [
    (dict(kspace=np.ones((2, 3, 8), np.complex64)), "4 dimensions"),
    (dict(kspace=np.ones((2, 3, 8, 8), np.float32)), "complex"),
    (dict(kspace=np.full((1, 1, 4, 4), np.nan, np.complex64)), "non-finite"),
    (dict(kspace=_k(), mask=np.ones((3, 7), bool)), "mask shape"),
    (dict(kspace=_k(), mask=np.zeros((3, 8), bool)), "samples nothing"),
    (dict(kspace=_k(), reference=np.ones((3, 8, 8), np.complex64), reference_kind="guess"), "reference kind"),
    (dict(kspace=_k(), maps=np.ones((3, 8, 8), np.complex64)), "coil maps shape"),
    (dict(kspace=_k(), fov_mm=(0, 10)), "field of view"),
    (dict(kspace=np.ones((0, 3, 8, 8), np.complex64)), "empty"),
])
def test_invalid_cine(kwargs, match):
    with pytest.raises(StudyError, match=match):
        CineStudy(source="x.h5", **kwargs)


def test_error_names_source():
    with pytest.raises(StudyError) as info:
        CineStudy(kspace=np.ones((2, 3, 8, 8), np.float32), source="/data/cine.h5")
    assert info.value.source == "/data/cine.h5" and "/data/cine.h5" in str(info.value)


def test_ct_validation():
    ct = VolumeStudy(volume=np.zeros((4, 8, 8), np.float32), spacing=(3, 0.7, 0.7),
                     geometry=Geometry(AXIAL, np.arange(4)[:, None] * [0, 0, 3.0], (0.7, 0.7)))
    assert ct.shape == (4, 8, 8)
    with pytest.raises(StudyError, match="spacing"):
        VolumeStudy(volume=np.zeros((4, 8, 8), np.float32), spacing=(0, 1, 1))
    with pytest.raises(StudyError, match="positions"):
        VolumeStudy(volume=np.zeros((4, 8, 8), np.float32), geometry=Geometry(AXIAL, np.zeros((3, 3)), (1.0, 1.0)))
    with pytest.raises(StudyError, match="pixel spacing"):
        VolumeStudy(volume=np.zeros((4, 8, 8), np.float32), geometry=Geometry(AXIAL, np.zeros((4, 3)), (0.5, 1.0)))
    with pytest.raises(StudyError, match="not sorted"):
        VolumeStudy(volume=np.zeros((4, 8, 8), np.float32), geometry=Geometry(AXIAL, np.zeros((4, 3)), (1.0, 1.0)))
    with pytest.raises(StudyError, match="non-finite"):
        VolumeStudy(volume=np.full((2, 4, 4), np.inf, np.float32))
