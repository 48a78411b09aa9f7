import numpy as np
import pytest

from mrstudio.core.coils import combine
from mrstudio.core.fft import ifft2c
from mrstudio.core.masks import MaskSpec, make_mask
from mrstudio.recon import REGISTRY, get_method
from mrstudio.recon.pipeline import run_recon


def test_registry_has_zero_filled():
    assert "zero-filled" in REGISTRY


def test_full_sampling_returns_sos(small_phantom):
    s = small_phantom
    mask = np.ones((s.frames, s.matrix[0]), bool)
    out = get_method("zero-filled").func(s.kspace, mask)
    np.testing.assert_allclose(np.abs(out), np.sqrt((np.abs(ifft2c(s.kspace)) ** 2).sum(0)), rtol=1e-5)


def test_with_maps_is_complex_sense1(small_phantom):
    s = small_phantom
    mask = np.ones((s.frames, s.matrix[0]), bool)
    out = get_method("zero-filled").func(s.kspace, mask, maps=s.maps)
    np.testing.assert_allclose(out, combine(ifft2c(s.kspace), s.maps), atol=1e-5)
    # noiseless-level agreement with the truth (noise only)
    assert np.abs(out - s.reference).std() < 3 * s.meta["noise_sigma"]


def test_undersampling_degrades_quality(small_phantom):
    s = small_phantom
    r4 = run_recon(s, make_mask(MaskSpec(accel=4), s.frames, 64), "zero-filled")
    r8 = run_recon(s, make_mask(MaskSpec(accel=8), s.frames, 64), "zero-filled")
    assert r4.reference_kind == "ground-truth"
    assert r4.scores["psnr"] > r8.scores["psnr"]
    assert r4.image.dtype == np.complex64 and r4.image.shape == (8, 64, 64)


@pytest.mark.parametrize("ny,nx,frac", [(16, 12, 0.1), (15, 9, 0.2), (16, 8, 0.6)])
def test_linewise_coil_images_equal_the_2d_fft(ny, nx, frac):
    from mrstudio.core.fft import ifft2c
    from mrstudio.recon.base import undersample
    from mrstudio.recon.zerofilled import coil_images

    rng = np.random.default_rng(ny)
    k = (rng.standard_normal((3, 4, ny, nx)) + 1j * rng.standard_normal((3, 4, ny, nx))).astype(np.complex64)
    mask = rng.random((4, ny)) < frac
    mask[0] = False  # a frame with nothing acquired
    np.testing.assert_allclose(coil_images(k, mask), ifft2c(undersample(k, mask)), atol=1e-5)


def test_torch_naive_equals_numpy_sos():
    from mrstudio.core.coils import sos
    from mrstudio.recon.zerofilled import coil_images, sos_naive_torch

    rng = np.random.default_rng(3)
    k = (rng.standard_normal((2, 3, 12, 10)) + 1j * rng.standard_normal((2, 3, 12, 10))).astype(np.complex64)
    mask = rng.random((3, 12)) < 0.3
    mask[1] = False
    np.testing.assert_allclose(sos_naive_torch(k, mask), sos(coil_images(k, mask)), atol=1e-5)
