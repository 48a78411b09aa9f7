import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from mrstudio.core import metrics


@pytest.fixture
def pair(rng):
    ref = rng.random((4, 32, 32)).astype(np.float32)
    x = ref + 0.05 * rng.standard_normal(ref.shape).astype(np.float32)
    return x, ref


def test_psnr_vs_skimage(pair):
    x, ref = pair
    dr = ref.max() - ref.min()
    assert metrics.psnr(x, ref) == pytest.approx(peak_signal_noise_ratio(ref, x, data_range=dr), rel=1e-6)


def test_psnr_closed_form():
    ref = np.zeros((2, 4, 4))
    ref[0, 0, 0] = 2.0  # data range 2
    x = ref + 0.1
    assert metrics.psnr(x, ref) == pytest.approx(10 * np.log10(4 / 0.01))
    assert metrics.psnr(ref, ref) == float("inf")


def test_ssim_vs_skimage_per_frame(pair):
    x, ref = pair
    dr = float(ref.max() - ref.min())
    expected = [structural_similarity(r, xi, data_range=dr, gaussian_weights=True, sigma=1.5,
                                      use_sample_covariance=False) for xi, r in zip(x, ref)]
    np.testing.assert_allclose(metrics.ssim_per_frame(x, ref), expected, rtol=1e-6)
    assert metrics.ssim(x, ref) == pytest.approx(np.mean(expected))
    assert metrics.ssim(ref, ref) == pytest.approx(1.0)


def test_nmse_and_complex_magnitude(pair):
    x, ref = pair
    assert metrics.nmse(x, ref) == pytest.approx(np.sum((x - ref) ** 2) / np.sum(ref**2), rel=1e-5)
    x = np.abs(x)
    phase = np.exp(1j * 0.7)  # metrics compare magnitudes: a global phase changes nothing
    assert metrics.nmse(x * phase, ref) == pytest.approx(metrics.nmse(x, ref), rel=1e-5)


def test_score_uses_reference_data_range(pair):
    x, ref = pair
    s = metrics.score(x, ref)
    assert len(s.psnr_frames) == 4 and len(s.ssim_frames) == 4
    # the reference's range, not the image's: scaling x changes PSNR
    assert metrics.score(2 * x, ref).psnr < s.psnr
