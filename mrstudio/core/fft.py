"""Centred orthonormal 2-D FFT over the last two axes, for numpy and torch.

``ifft2c(k) = fftshift(ifft2(ifftshift(k, axes=(-2,-1)), norm="ortho"), axes=(-2,-1))``
and ``fft2c`` its inverse. Both preserve the l2 norm (Parseval). Numpy arrays keep
their complex precision (complex64 in, complex64 out); torch tensors stay on their device.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_AXES = (-2, -1)


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def _centred2(x: Any, inverse: bool) -> Any:
    """``fftshift(F(ifftshift(x)))`` over the last two axes, orthonormal; F the (inverse) 2-D FFT."""
    if _is_torch(x):
        import torch

        f = torch.fft.ifft2 if inverse else torch.fft.fft2
        return torch.fft.fftshift(f(torch.fft.ifftshift(x, dim=_AXES), dim=_AXES, norm="ortho"), dim=_AXES)
    x = np.asarray(x)
    f = np.fft.ifft2 if inverse else np.fft.fft2
    out = np.fft.fftshift(f(np.fft.ifftshift(x, axes=_AXES), axes=_AXES, norm="ortho"), axes=_AXES)
    return out.astype(np.complex64, copy=False) if x.dtype in (np.complex64, np.float32) else out


def fft2c(x: Any) -> Any:
    """Image → k-space, centred orthonormal, over the last two axes."""
    return _centred2(x, inverse=False)


def ifft2c(k: Any) -> Any:
    """k-space → image, centred orthonormal, over the last two axes."""
    return _centred2(k, inverse=True)


def fftc(x: Any, axis: int = -2) -> Any:
    """Centred orthonormal 1-D FFT along ``axis`` (numpy or torch; ky along -2 by default).

    Because the readout is fully sampled, ``ifft2c(M · fft2c(z)) = ifftc(M · fftc(z))``
    along y for any ky–t mask ``M``: the x transform cancels. Training simulation uses it.
    """
    if _is_torch(x):
        import torch

        return torch.fft.fftshift(torch.fft.fft(torch.fft.ifftshift(x, dim=axis), dim=axis, norm="ortho"), dim=axis)
    import scipy.fft as sfft

    from .device import cpu_threads

    x = np.asarray(x)
    out = np.fft.fftshift(sfft.fft(np.fft.ifftshift(x, axes=axis), axis=axis, norm="ortho", workers=cpu_threads()), axes=axis)
    return out.astype(np.complex64, copy=False) if x.dtype in (np.complex64, np.float32) else out


def ifftc(k: Any, axis: int = -2) -> Any:
    """Centred orthonormal inverse 1-D FFT along ``axis`` (numpy or torch)."""
    if _is_torch(k):
        import torch

        return torch.fft.fftshift(torch.fft.ifft(torch.fft.ifftshift(k, dim=axis), dim=axis, norm="ortho"), dim=axis)
    import scipy.fft as sfft

    from .device import cpu_threads

    k = np.asarray(k)
    out = np.fft.fftshift(sfft.ifft(np.fft.ifftshift(k, axes=axis), axis=axis, norm="ortho", workers=cpu_threads()), axes=axis)
    return out.astype(np.complex64, copy=False) if k.dtype in (np.complex64, np.float32) else out
