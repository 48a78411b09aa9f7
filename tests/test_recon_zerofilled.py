import numpy as np

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
