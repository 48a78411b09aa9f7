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


def test_1d_centred_fft_agrees_between_numpy_and_torch():
    import torch

    from mrstudio.core.fft import fftc, ifftc

    x = (np.random.default_rng(3).standard_normal((3, 8, 6)) + 1j).astype(np.complex64)
    for axis in (-1, -2):
        np.testing.assert_allclose(fftc(torch.from_numpy(x), axis=axis).numpy(), fftc(x, axis=axis), atol=1e-5)
        np.testing.assert_allclose(ifftc(torch.from_numpy(x), axis=axis).numpy(), ifftc(x, axis=axis), atol=1e-5)


def test_the_naive_image_is_one_definition_on_numpy_and_torch():
    from mrstudio.core.masks import MaskSpec, make_mask
    from mrstudio.core.phantom import make_phantom
    from mrstudio.recon.base import undersample
    from mrstudio.recon.zerofilled import naive_image, sos_naive_torch

    st = make_phantom(size=32, frames=6, coils=3, seed=2)
    mask = make_mask(MaskSpec(kind="vd-kt", accel=4, seed=1), 6, 32)
    k = undersample(st.kspace, mask)
    np.testing.assert_allclose(sos_naive_torch(k, mask), naive_image(k, mask), rtol=1e-4, atol=1e-5)
