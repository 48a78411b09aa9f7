import numpy as np
import torch

from mrstudio.core.fft import fft2c, ifft2c


def test_roundtrip_and_dtype(rng):
    x = (rng.standard_normal((3, 4, 16, 12)) + 1j * rng.standard_normal((3, 4, 16, 12))).astype(np.complex64)
    k = fft2c(x)
    assert k.dtype == np.complex64
    np.testing.assert_allclose(ifft2c(k), x, atol=1e-5)


def test_parseval(rng):
    x = rng.standard_normal((5, 32, 32)) + 1j * rng.standard_normal((5, 32, 32))
    np.testing.assert_allclose(np.linalg.norm(fft2c(x)), np.linalg.norm(x), rtol=1e-10)


def test_centred_definition():
    # a delta at the centre pixel has a flat, real, positive spectrum of 1/sqrt(N)
    x = np.zeros((8, 8), complex)
    x[4, 4] = 1
    np.testing.assert_allclose(fft2c(x), np.full((8, 8), 1 / 8), atol=1e-12)
    # and the DC of a constant image lands at the centre
    k = fft2c(np.ones((8, 8)))
    assert abs(k[4, 4] - 8) < 1e-12 and np.abs(k).sum() - 8 < 1e-9


def test_matches_explicit_formula(rng):
    k = rng.standard_normal((6, 10)) + 1j * rng.standard_normal((6, 10))
    ref = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(k, axes=(-2, -1)), norm="ortho"), axes=(-2, -1))
    np.testing.assert_allclose(ifft2c(k), ref)


def test_torch_matches_numpy(rng):
    x = (rng.standard_normal((2, 3, 15, 16)) + 1j * rng.standard_normal((2, 3, 15, 16))).astype(np.complex64)
    np.testing.assert_allclose(fft2c(torch.from_numpy(x)).numpy(), fft2c(x), atol=1e-5)
    np.testing.assert_allclose(ifft2c(torch.from_numpy(x)).numpy(), ifft2c(x), atol=1e-5)
