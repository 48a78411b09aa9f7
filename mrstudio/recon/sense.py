"""The multi-coil SENSE forward model of a cine, ``A x = M · F · (S x)``.

``x`` is the image ``complex64 (T, Ny, Nx)``, ``S`` the coil maps ``(C, Ny, Nx)``,
``F`` the centred orthonormal 2-D FFT, ``M`` the ky–t mask ``(T, Ny)`` broadcast over
coils and readout. ``‖A‖ ≤ 1`` when ``Σ_c |S_c|² ≤ 1`` (ESPIRiT maps), which fixes the
gradient step of the solvers.

For even ``Ny`` and ``Nx`` the centring shifts are folded into a checkerboard
modulation: ``fftshift(fft2(ifftshift(x))) = s · C ⊙ fft2(C ⊙ x)`` with
``C[y, x] = (-1)^(y+x)`` and ``s = (-1)^((Ny+Nx)/2)``. The operator therefore stores
``C ⊙ S`` and works on *modulated* k-space ``s · C ⊙ y`` (see :meth:`modulate`), so each
application is one plain FFT per coil and frame — no shift copies. Works on numpy
arrays (``scipy.fft`` with all cores) and, when given cupy arrays, on the GPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.device import cpu_threads


def array_module(x: Any):
    """numpy, or cupy for cupy arrays."""
    mod = type(x).__module__
    if mod.startswith("cupy"):
        import cupy

        return cupy
    return np


class Sense:
    """``A`` and ``Aᴴ`` for one cine; see the module docstring.

    Parameters
    ----------
    maps : complex64 (C, Ny, Nx)
    mask : bool (T, Ny)
    """

    def __init__(self, maps: Any, mask: Any, workers: int | None = None):
        xp = self.xp = array_module(maps)
        c, ny, nx = maps.shape
        self.ishape = (mask.shape[0], ny, nx)
        self.oshape = (c, mask.shape[0], ny, nx)
        self.even = ny % 2 == 0 and nx % 2 == 0
        if self.even:
            yy, xx = xp.meshgrid(xp.arange(ny), xp.arange(nx), indexing="ij")
            self.checker = (1 - 2 * ((yy + xx) % 2)).astype(xp.float32)
            self.sign = -1.0 if ((ny + nx) // 2) % 2 else 1.0
            self.maps = (maps * self.checker).astype(xp.complex64)
        else:
            self.maps = maps.astype(xp.complex64)
        self.maps_conj = xp.conj(self.maps)
        self.mask = xp.asarray(mask, dtype=xp.float32)[None, :, :, None]
        self.workers = workers or cpu_threads()
        if xp is np:
            import scipy.fft as fft

            self._fft = lambda a: fft.fft2(a, axes=(-2, -1), norm="ortho", workers=self.workers, overwrite_x=True)
            self._ifft = lambda a: fft.ifft2(a, axes=(-2, -1), norm="ortho", workers=self.workers, overwrite_x=True)
        else:
            import cupyx.scipy.fft as fft

            self._fft = lambda a: fft.fft2(a, axes=(-2, -1), norm="ortho", overwrite_x=True)
            self._ifft = lambda a: fft.ifft2(a, axes=(-2, -1), norm="ortho", overwrite_x=True)

    # centred FFT helpers for odd sizes
    def _F(self, a: Any) -> Any:
        if self.even:
            return self._fft(a)
        xp = self.xp
        return xp.fft.fftshift(self._fft(xp.fft.ifftshift(a, axes=(-2, -1))), axes=(-2, -1))

    def _Fh(self, a: Any) -> Any:
        if self.even:
            return self._ifft(a)
        xp = self.xp
        return xp.fft.fftshift(self._ifft(xp.fft.ifftshift(a, axes=(-2, -1))), axes=(-2, -1))

    def modulate(self, kspace: Any) -> Any:
        """Centred k-space ``(C, T, Ny, Nx)`` → the operator's internal k-space (and back: it is an involution)."""
        if not self.even:
            return kspace
        return (kspace * (self.sign * self.checker)).astype(self.xp.complex64)

    def forward(self, x: Any) -> Any:
        """``(T, Ny, Nx)`` → internal k-space ``(C, T, Ny, Nx)``."""
        return self._F(self.maps[:, None] * x[None]) * self.mask

    def adjoint(self, k: Any) -> Any:
        """Internal k-space ``(C, T, Ny, Nx)`` → ``(T, Ny, Nx)``."""
        return (self.maps_conj[:, None] * self._Fh(k * self.mask)).sum(axis=0)

    def normal(self, x: Any) -> Any:
        """``AᴴA x`` for ``x`` (T, Ny, Nx), with 2-D FFTs (reference implementation)."""
        return self.adjoint(self.forward(x))


class SenseNormal:
    """The normal operator ``AᴴA`` with 1-D FFTs along ky only, in a transposed layout.

    Because the readout is fully sampled, the mask does not depend on kx and
    ``AᴴA = Sᴴ F_yᴴ M F_y S``: the FFT along x cancels. Images are held as
    ``(T, Nx, Ny)`` so the remaining FFT runs over the contiguous last axis. The y
    checkerboard folds the centring shifts into the maps for even ``Ny``.
    Use :meth:`to_internal` / :meth:`from_internal` at the edges.
    """

    def __init__(self, maps: Any, mask: Any, workers: int | None = None):
        xp = self.xp = array_module(maps)
        c, ny, nx = maps.shape
        self.ishape = (mask.shape[0], nx, ny)
        self.even = ny % 2 == 0
        m = maps
        if self.even:
            cy = (1 - 2 * (xp.arange(ny) % 2)).astype(xp.float32)
            m = maps * cy[None, :, None]
        self.maps = xp.ascontiguousarray(m.transpose(0, 2, 1)).astype(xp.complex64)  # (C, Nx, Ny)
        self.maps_conj = xp.conj(self.maps)
        self.mask = xp.asarray(mask, dtype=xp.float32)[:, None, :]  # (T, 1, Ny)
        workers = workers or cpu_threads()
        if xp is np:
            import scipy.fft as fft

            kw = {"workers": workers}
        else:
            import cupyx.scipy.fft as fft

            kw = {}
        if self.even:
            self._fft = lambda a: fft.fft(a, axis=-1, norm="ortho", overwrite_x=True, **kw)
            self._ifft = lambda a: fft.ifft(a, axis=-1, norm="ortho", overwrite_x=True, **kw)
        else:
            self._fft = lambda a: xp.fft.fftshift(fft.fft(xp.fft.ifftshift(a, axes=-1), axis=-1, norm="ortho", **kw), axes=-1)
            self._ifft = lambda a: xp.fft.fftshift(fft.ifft(xp.fft.ifftshift(a, axes=-1), axis=-1, norm="ortho", **kw),
                                                   axes=-1)

    def to_internal(self, x: Any) -> Any:
        """``(T, Ny, Nx)`` → ``(T, Nx, Ny)`` contiguous complex64."""
        return self.xp.ascontiguousarray(x.transpose(0, 2, 1)).astype(self.xp.complex64)

    def from_internal(self, x: Any) -> Any:
        return self.xp.ascontiguousarray(x.transpose(0, 2, 1))

    def __call__(self, x: Any) -> Any:
        """``AᴴA x`` for internal ``x`` (T, Nx, Ny)."""
        z = self._fft(self.maps[:, None] * x[None]) * self.mask
        return (self.maps_conj[:, None] * self._ifft(z)).sum(axis=0)
