import numpy as np
import pytest

from mrstudio.core.coils import sos
from mrstudio.core.errors import StudyError
from mrstudio.core.fft import ifft2c
from mrstudio.core.phantom import make_phantom
from mrstudio.core.splits import CINE_PHANTOM as SPLITS


def test_shapes_and_dtypes(small_phantom):
    s = small_phantom
    assert s.kspace.shape == (4, 8, 64, 64) and s.kspace.dtype == np.complex64
    assert s.reference.shape == (8, 64, 64) and s.reference_kind == "ground-truth"
    assert s.maps.shape == (4, 64, 64)


def test_deterministic():
    a, b = make_phantom(size=64, frames=4, coils=2, seed=9), make_phantom(size=64, frames=4, coils=2, seed=9)
    np.testing.assert_array_equal(a.kspace, b.kspace)
    c = make_phantom(size=64, frames=4, coils=2, seed=10)
    assert not np.allclose(np.abs(a.reference), np.abs(c.reference))


def test_heart_moves_and_background_is_static(small_phantom):
    ref = np.abs(small_phantom.reference)
    diff = np.abs(ref - ref[0:1]).max(axis=0)
    assert diff.max() > 0.3  # blood pool / myocardium change between frames
    moving = diff > 0.05
    assert 0.002 < moving.mean() < 0.2  # only the heart region moves


def test_maps_normalised_and_smooth(small_phantom):
    maps = small_phantom.maps
    np.testing.assert_allclose((np.abs(maps) ** 2).sum(0), 1.0, atol=1e-5)
    spec = np.abs(np.fft.fftshift(np.fft.fft2(maps), axes=(-2, -1))) ** 2
    c = 32
    low = spec[:, c - 6:c + 7, c - 6:c + 7].sum()
    assert low / spec.sum() > 0.97  # nearly all energy at low spatial frequency


def test_noise_level_matches_snr():
    s = make_phantom(size=64, frames=4, coils=4, seed=1, snr=20.0)
    coil_truth = s.maps[:, None] * s.reference[None]
    noise = ifft2c(s.kspace) - coil_truth
    assert noise.std() == pytest.approx(s.meta["noise_sigma"], rel=0.05)
    # the sum of squares of noiseless coil images is |x|
    from mrstudio.core.fft import fft2c

    np.testing.assert_allclose(sos(ifft2c(fft2c(coil_truth))), np.abs(s.reference), atol=1e-4)


def test_256_works():
    s = make_phantom(size=256, frames=2, coils=2, seed=0)
    assert s.kspace.shape == (2, 2, 256, 256)


def test_splits_disjoint():
    ranges = [set(r) for r in SPLITS.values()]
    assert not (ranges[0] & ranges[1]) and not (ranges[0] & ranges[2]) and not (ranges[1] & ranges[2])


def test_bad_parameters():
    with pytest.raises(StudyError):
        make_phantom(size=8)
