"""Coil combination and ESPIRiT calibration.

Coil images are ``complex64 (C, ..., Ny, Nx)``; maps ``complex64 (C, Ny, Nx)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import StudyError


def sos(coil_images: np.ndarray) -> np.ndarray:
    """Root sum of squares over the coil axis 0; ``float32 (..., Ny, Nx)``."""
    return np.sqrt((np.abs(coil_images) ** 2).sum(axis=0)).astype(np.float32)


def combine(coil_images: np.ndarray, maps: np.ndarray, normalise: bool = True) -> np.ndarray:
    """SENSE-1 combination ``Σ_c conj(S_c)·x_c / Σ_c |S_c|²`` over axis 0; complex64.

    ``maps`` (C, Ny, Nx) broadcast over any middle axes of ``coil_images`` (C, ..., Ny, Nx).
    Pixels where all maps vanish (outside the ESPIRiT support) are set to zero. With
    ``normalise=False`` it is the plain adjoint ``Σ_c conj(S_c)·x_c``.
    """
    c = maps.shape[0]
    s = maps.reshape((c,) + (1,) * (coil_images.ndim - 3) + maps.shape[1:])
    num = (np.conj(s) * coil_images).sum(axis=0)
    if not normalise:
        return num.astype(np.complex64)
    den = (np.abs(s) ** 2).sum(axis=0)
    out = np.where(den > 1e-6, num / np.maximum(den, 1e-6), 0)
    return out.astype(np.complex64)


def time_averaged_kspace(kspace: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Average each (coil, ky) line over the frames in which it was acquired.

    ``kspace`` (C, T, Ny, Nx), ``mask`` (T, Ny) → ``complex64 (C, Ny, Nx)``. Lines
    acquired in no frame are zero. This is the calibration data for ESPIRiT when each
    frame alone is too sparse.
    """
    if mask is None:
        return kspace.mean(axis=1).astype(np.complex64)
    m = mask[None, :, :, None]
    counts = mask.sum(axis=0)[None, :, None]
    avg = (kspace * m).sum(axis=1) / np.maximum(counts, 1)
    return avg.astype(np.complex64)


def calibration_width(mask: np.ndarray | None, ny: int, wanted: int = 24) -> int:
    """Largest centred block of ky lines, at most ``wanted``, sampled in at least one frame."""
    if mask is None:
        return min(wanted, ny)
    covered = mask.any(axis=0)
    c = ny // 2
    w = 0
    while w + 2 <= min(wanted, ny):
        lo, hi = c - (w + 2) // 2, c + (w + 2) // 2
        if lo < 0 or hi > ny or not covered[lo:hi].all():
            break
        w += 2
    return w


@dataclass(frozen=True)
class EspiritConfig:
    """ESPIRiT calibration parameters (sigpy's defaults), and how far the support crop may go."""

    calib_width: int = 24
    thresh: float = 0.02
    kernel_width: int = 6
    crop: float = 0.95
    max_iter: int = 100
    min_coverage: float = 0.95  # share of the calibration image's energy the maps' support must keep


CROP_LADDER = (0.8, 0.5, 0.0)  # eigenvalue crops tried, in order, when ``crop`` cuts away signal


def _energy(avg: np.ndarray) -> np.ndarray:
    """``float (Ny, Nx)``: the summed squared magnitude of the coil images of ``avg`` k-space (C × Ny × Nx)."""
    from .fft import ifft2c

    return (np.abs(ifft2c(avg)) ** 2).sum(axis=0)


def signal_coverage(maps: np.ndarray, avg: np.ndarray) -> float:
    """Share of the energy of the time-averaged coil images (from ``avg`` k-space, C × Ny × Nx) that lies where
    ``maps`` are non-zero: ~0.96–0.99 for a good support (the rest is background noise)."""
    e = _energy(avg)
    inside = (np.abs(maps) ** 2).sum(axis=0) > 0
    return float(e[inside].sum() / max(float(e.sum()), 1e-30))


def support_crop(eigenvalues: np.ndarray, avg: np.ndarray, config: EspiritConfig) -> float:
    """The eigenvalue crop of the maps' support: ``config.crop`` unless that support keeps less than
    ``config.min_coverage`` of the calibration image's energy, else the first of ``CROP_LADDER`` that does."""
    e = _energy(avg)
    total = max(float(e.sum()), 1e-30)
    ladder = (config.crop,) + tuple(c for c in CROP_LADDER if c < config.crop)
    for crop in ladder:
        if float(e[eigenvalues > crop].sum()) / total >= config.min_coverage:
            return crop
    return ladder[-1]


def espirit_maps(kspace: np.ndarray, mask: np.ndarray | None = None, config: EspiritConfig | None = None,
                 device: str = "cpu") -> np.ndarray:
    """ESPIRiT maps ``complex64 (C, Ny, Nx)`` from cine k-space (C, T, Ny, Nx).

    Calibrates on the time-averaged k-space (see :func:`time_averaged_kspace`), whose
    centre the ky–t pattern fills. Uses sigpy's ``EspiritCalib``. A narrow calibration
    region (a painted mask with a few central lines) lowers every eigenvalue, and the usual
    crop (0.95) then zeroes the maps over most of the object: the support's crop is lowered
    along ``CROP_LADDER`` until it keeps ``min_coverage`` of the calibration image's energy
    (:func:`support_crop`; one calibration, the crops applied to its eigenvalue map).
    """
    import sigpy.mri as mr

    cfg = config or EspiritConfig()
    ny = kspace.shape[2]
    width = calibration_width(mask, ny, cfg.calib_width)
    if width < cfg.kernel_width + 2:
        raise StudyError("<memory>", f"only {width} central ky lines are sampled over time; ESPIRiT needs at least "
                         f"{cfg.kernel_width + 2} (use a vd-kt or poisson mask, lower R, or add ACS lines)")
    avg = time_averaged_kspace(kspace, mask)
    sp_device = -1
    if device.startswith("cuda"):
        sp_device = int(device.split(":")[1]) if ":" in device else 0
    app = mr.app.EspiritCalib(avg, calib_width=width, thresh=cfg.thresh, kernel_width=cfg.kernel_width,
                              crop=0.0, max_iter=cfg.max_iter, device=sp_device, output_eigenvalue=True,
                              show_pbar=False)
    maps, eig = app.run()
    if sp_device >= 0:
        import sigpy

        maps, eig = sigpy.to_device(maps, -1), sigpy.to_device(eig, -1)
    maps, eig = np.asarray(maps), np.asarray(eig).reshape(maps.shape[1:])  # eigenvalues (Ny, Nx)
    return (maps * (eig > support_crop(eig, avg, cfg))).astype(np.complex64)
