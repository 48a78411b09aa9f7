"""Ψ of ``cs``: the periodized 2-D wavelet in torch against PyWavelets."""

from __future__ import annotations

import numpy as np
import pytest
import pywt
import torch

from mrstudio.nets.wavelet import Wavelet2D, levels_for


def _image(rng, *shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)


@pytest.mark.parametrize("name,shape", [("db2", (32, 24)), ("haar", (16, 16)), ("sym4", (64, 64)), ("coif1", (48, 32))])
def test_coefficients_are_pywavelets_periodized_wavedec2(rng, name, shape):
    W = Wavelet2D(shape, name)
    assert W.levels == levels_for(shape, name) == pywt.dwt_max_level(min(shape), pywt.Wavelet(name).dec_len)
    x = _image(rng, 3, *shape)
    c = W.forward(torch.from_numpy(x)).numpy()
    assert c.shape == (2, 3, *shape)
    for part, arr in ((0, x.real), (1, x.imag)):
        for t in range(3):
            ref, _ = pywt.coeffs_to_array(pywt.wavedec2(arr[t].astype(np.float64), name, mode="periodization",
                                                        level=W.levels))
            np.testing.assert_allclose(c[part, t], ref, atol=1e-4)


def test_orthonormal_and_padded_sizes_are_isometries(rng):
    for shape in ((32, 32), (30, 20)):  # (30, 20) is zero-padded to multiples of 2^L
        W = Wavelet2D(shape, "db2")
        x = torch.from_numpy(_image(rng, 2, *shape))
        c = W.forward(x)
        np.testing.assert_allclose(W.adjoint(c).numpy(), x.numpy(), atol=1e-5)  # ΨᴴΨ = I
        np.testing.assert_allclose(float((c ** 2).sum()), float((x.abs() ** 2).sum()), rtol=1e-5)  # Parseval
        d = torch.randn(c.shape, generator=torch.Generator().manual_seed(0))
        lhs = float((c * d).sum())  # <Ψx, d> = Re <x, Ψᴴd>
        rhs = float((x.conj() * W.adjoint(d)).real.sum())
        assert abs(lhs - rhs) < 1e-3 * abs(lhs)


def test_refuses_a_non_orthogonal_wavelet():
    with pytest.raises(ValueError, match="not an orthogonal"):
        Wavelet2D((16, 16), "bior2.2")
