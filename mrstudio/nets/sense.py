"""The multi-coil Cartesian SENSE operator in torch, in hybrid (ky, x) space.

Because the readout is fully sampled, the 2-D centred FFT factors into an x transform
(applied once to the data) and a y transform; data consistency needs only the latter:

    A x = M · F_y (S · x)        Aᴴ y = Σ_c conj(S_c) · F_yᴴ (M · y)

``x`` complex ``(B, T, Ny, Nx)``, maps ``S`` ``(B, C, Ny, Nx)``, mask ``M`` bool ``(B, T, Ny)``,
data ``y`` ``(B, C, T, Ny, Nx)`` in hybrid space. The same operator works on readout
crops (any subset of x columns), which is what makes CPU training cheap. Centred,
orthonormal, so ``Aᴴ`` is the exact adjoint (tested).
"""

from __future__ import annotations

import torch


def fftc_y(x: torch.Tensor) -> torch.Tensor:
    return torch.fft.fftshift(torch.fft.fft(torch.fft.ifftshift(x, dim=-2), dim=-2, norm="ortho"), dim=-2)


def ifftc_y(k: torch.Tensor) -> torch.Tensor:
    return torch.fft.fftshift(torch.fft.ifft(torch.fft.ifftshift(k, dim=-2), dim=-2, norm="ortho"), dim=-2)


def ifftc_x(k: torch.Tensor) -> torch.Tensor:
    """k-space → hybrid (ky, x): the readout transform, applied once to the data."""
    return torch.fft.fftshift(torch.fft.ifft(torch.fft.ifftshift(k, dim=-1), dim=-1, norm="ortho"), dim=-1)


def forward(x: torch.Tensor, maps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``A x``: image ``(B, T, Ny, Nx)`` → hybrid data ``(B, C, T, Ny, Nx)``."""
    return fftc_y(maps[:, :, None] * x[:, None]) * mask[:, None, :, :, None]


def adjoint(y: torch.Tensor, maps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``Aᴴ y``: hybrid data ``(B, C, T, Ny, Nx)`` → image ``(B, T, Ny, Nx)``."""
    return (maps.conj()[:, :, None] * ifftc_y(y * mask[:, None, :, :, None])).sum(1)


def normal(x: torch.Tensor, maps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``AᴴA x``: image ``(B, T, Ny, Nx)`` → image, the same as ``adjoint(forward(x))`` for a bool mask.

    For even ``Ny`` the centring shifts fold into the maps: ``F_y = P · F₀ · D`` with ``D`` the
    checkerboard ``(-1)^y`` and ``P`` a unit diagonal in ky that commutes with the mask and
    cancels in ``F_yᴴ M F_y``. So ``AᴴA = (D S)ᴴ F₀ᴴ M F₀ (D S)``: plain FFTs, no shift copies.
    """
    ny = x.shape[-2]
    if ny % 2:
        return adjoint(forward(x, maps, mask), maps, mask)
    checker = 1 - 2 * (torch.arange(ny, device=x.device) % 2).to(x.real.dtype)
    s = maps * checker[:, None]
    k = torch.fft.fft(s[:, :, None] * x[:, None], dim=-2, norm="ortho") * mask[:, None, :, :, None]
    return (s.conj()[:, :, None] * torch.fft.ifft(k, dim=-2, norm="ortho")).sum(1)


def lowres_maps(y: torch.Tensor, mask: torch.Tensor, width: int = 24, eps: float = 1e-6) -> torch.Tensor:
    """Coil maps ``(B, C, Ny, Nx)`` from the centre of the time-averaged data (hybrid ``y``), SoS-normalised.

    Each ky line is averaged over the frames that acquired it; a Hann window over the
    central ``width`` lines gives smooth low-resolution coil images, divided by their
    root sum of squares. Fast (no eigen-decomposition), the same at training and inference.
    """
    m = mask[:, None, :, :, None].to(y.real.dtype)  # (B, 1, T, Ny, 1)
    count = m.sum(2).clamp_min(1.0)  # (B, 1, Ny, 1)
    avg = (y * m).sum(2) / count  # (B, C, Ny, Nx)
    ny = y.shape[-2]
    width = min(width, ny)
    w = torch.zeros(ny, dtype=y.real.dtype, device=y.device)
    lo = ny // 2 - width // 2
    w[lo:lo + width] = torch.hann_window(width + 2, periodic=False, dtype=y.real.dtype, device=y.device)[1:-1]
    low = ifftc_y(avg * w[None, None, :, None])
    return low / torch.sqrt((low.abs() ** 2).sum(1, keepdim=True) + eps)
