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


def _fftc(a: torch.Tensor, dim: int, inverse: bool = False, centred: bool = True) -> torch.Tensor:
    """Orthonormal 1-D FFT along ``dim``, centred (``fftshift ∘ fft ∘ ifftshift``) unless ``centred=False``."""
    f = torch.fft.ifft if inverse else torch.fft.fft
    if not centred:
        return f(a, dim=dim, norm="ortho")
    return torch.fft.fftshift(f(torch.fft.ifftshift(a, dim=dim), dim=dim, norm="ortho"), dim=dim)


def fftc_y(x: torch.Tensor) -> torch.Tensor:
    return _fftc(x, -2)


def ifftc_y(k: torch.Tensor) -> torch.Tensor:
    return _fftc(k, -2, inverse=True)


def ifftc_x(k: torch.Tensor) -> torch.Tensor:
    """k-space → hybrid (ky, x): the readout transform, applied once to the data."""
    return _fftc(k, -1, inverse=True)


def forward(x: torch.Tensor, maps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``A x``: image ``(B, T, Ny, Nx)`` → hybrid data ``(B, C, T, Ny, Nx)``."""
    return fftc_y(maps[:, :, None] * x[:, None]) * mask[:, None, :, :, None]


def adjoint(y: torch.Tensor, maps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``Aᴴ y``: hybrid data ``(B, C, T, Ny, Nx)`` → image ``(B, T, Ny, Nx)``."""
    return (maps.conj()[:, :, None] * ifftc_y(y * mask[:, None, :, :, None])).sum(1)


def sense1(y: torch.Tensor, maps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The SENSE-1 image ``Aᴴy / Σ_c |S_c|²`` (zero where the maps vanish): hybrid ``y (B, C, T, Ny, Nx)`` → ``(B, T, Ny, Nx)``.

    The torch twin of :func:`mrstudio.core.coils.combine` (numpy, for images already per coil)."""
    den = (maps.abs() ** 2).sum(1, keepdim=True)  # (B, 1, Ny, Nx), broadcast over frames
    return adjoint(y, maps, mask) * torch.where(den > 1e-6, 1.0 / den.clamp_min(1e-6), 0.0)


def normal(x: torch.Tensor, maps: torch.Tensor, mask: torch.Tensor, ky_last: bool = False) -> torch.Tensor:
    """``AᴴA x``: image ``(B, T, Ny, Nx)`` → image, the same as ``adjoint(forward(x))`` for a bool mask.

    For even ``Ny`` the centring shifts fold into the maps: ``F_y = P · F₀ · D`` with ``D`` the
    checkerboard ``(-1)^y`` and ``P`` a unit diagonal in ky that commutes with the mask and
    cancels in ``F_yᴴ M F_y``. So ``AᴴA = (D S)ᴴ F₀ᴴ M F₀ (D S)``: plain FFTs, no shift copies.

    ``ky_last=True`` takes the transposed layout, ``x (B, T, Nx, Ny)`` and ``maps (B, C, Nx, Ny)``
    (the mask stays ``(B, T, Ny)``): the FFT then runs over contiguous memory, which the iterative
    solvers (``cs``) prefer; the cascades keep the network's layout.
    """
    dim = -1 if ky_last else -2
    ny = x.shape[dim]
    m = mask[:, None, :, None, :] if ky_last else mask[:, None, :, :, None]
    s = maps
    if ny % 2 == 0:
        checker = 1 - 2 * (torch.arange(ny, device=x.device) % 2).to(x.real.dtype)
        s = maps * (checker if ky_last else checker[:, None])
    centred = bool(ny % 2)
    k = _fftc(s[:, :, None] * x[:, None], dim, centred=centred)
    k = k.mul_(m) if not torch.is_grad_enabled() else k * m  # in place where autograd does not need k
    return (s.conj()[:, :, None] * _fftc(k, dim, inverse=True, centred=centred)).sum(1)


def time_average(y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Each ky line of hybrid ``y (B, C, T, Ny, Nx)`` averaged over the frames whose mask acquired it → ``(B, C, 1, Ny, Nx)``.

    Lines no frame acquired are zero."""
    m = mask[:, None, :, :, None].to(y.real.dtype)  # (B, 1, T, Ny, 1)
    return (y * m).sum(2, keepdim=True) / m.sum(2, keepdim=True).clamp_min(1.0)


def view_share(y: torch.Tensor, mask: torch.Tensor, avg: torch.Tensor | None = None) -> torch.Tensor:
    """Hybrid ``y (B, C, T, Ny, Nx)`` with each frame's unacquired ky lines filled by :func:`time_average`
    (``avg``, when the caller has it already).

    The classic view-sharing (k-t "sliding window" over the whole cycle) image: static anatomy comes back
    without aliasing, motion is blurred; no learning, no parameters."""
    return torch.where(mask[:, None, :, :, None].bool(), y, time_average(y, mask) if avg is None else avg)


def lowres_maps(y: torch.Tensor, mask: torch.Tensor, width: int = 24, eps: float = 1e-6,
                avg: torch.Tensor | None = None, support: float = 0.0) -> torch.Tensor:
    """Coil maps ``(B, C, Ny, Nx)`` from the centre of the time-averaged data (hybrid ``y``), SoS-normalised.

    Each ky line is averaged over the frames that acquired it; a Hann window over the
    central ``width`` lines gives smooth low-resolution coil images, divided by their
    root sum of squares. Fast (no eigen-decomposition), the same at training and inference. ``avg``:
    :func:`time_average` of ``y``, when the caller has it already.

    ``support > 0`` zeroes the maps where that low-resolution root sum of squares is below ``support``
    times its maximum over the image (ESPIRiT's support crop, without the eigen-decomposition): unit-norm
    maps over the background hand its noise to every data-consistency step and combination (full
    k-space combined through them scores ~3 dB below ESPIRiT on the anatomy cines; with ``support =
    0.05`` as high). The maximum is over all ``Nx`` columns given, so maps of a readout crop must be cut
    from the full image's.
    """
    avg = (time_average(y, mask) if avg is None else avg)[:, :, 0]  # (B, C, Ny, Nx)
    ny = y.shape[-2]
    width = min(width, ny)
    w = torch.zeros(ny, dtype=y.real.dtype, device=y.device)
    lo = ny // 2 - width // 2
    w[lo:lo + width] = torch.hann_window(width + 2, periodic=False, dtype=y.real.dtype, device=y.device)[1:-1]
    low = ifftc_y(avg * w[None, None, :, None])
    rss = torch.sqrt((low.abs() ** 2).sum(1, keepdim=True) + eps)
    maps = low / rss
    if support > 0:
        maps = maps * (rss > support * rss.flatten(1).amax(1).view(-1, 1, 1, 1))
    return maps

