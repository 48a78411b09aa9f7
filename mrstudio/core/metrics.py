"""Image-quality metrics — the one definition used everywhere.

On magnitude images ``x`` and reference ``r`` (whole cine or volume, any shape
``(N, Y, X)``): ``data_range = r.max() - r.min()``;
``PSNR = 10·log10(data_range² / mean((x − r)²))`` dB; SSIM is scikit-image's
``structural_similarity`` per frame/slice (Gaussian window, σ = 1.5, the same
``data_range``), averaged; ``NMSE = ‖x − r‖² / ‖r‖²``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


def _mag(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    return (np.abs(a) if np.iscomplexobj(a) else a).astype(np.float64)


def _as_stack(a: np.ndarray) -> np.ndarray:
    return a[None] if a.ndim == 2 else a


def data_range(ref: np.ndarray) -> float:
    r = _mag(ref)
    return float(r.max() - r.min())


def psnr(x: np.ndarray, ref: np.ndarray, drange: float | None = None) -> float:
    """Peak signal-to-noise ratio in dB over the whole array."""
    x, r = _mag(x), _mag(ref)
    dr = data_range(r) if drange is None else drange
    mse = float(np.mean((x - r) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(dr**2 / mse))


def ssim_per_frame(x: np.ndarray, ref: np.ndarray, drange: float | None = None) -> np.ndarray:
    """SSIM of each frame/slice along axis 0 (Gaussian σ = 1.5, shared data range)."""
    from skimage.metrics import structural_similarity

    x, r = _as_stack(_mag(x)), _as_stack(_mag(ref))
    dr = data_range(r) if drange is None else drange
    return np.array([structural_similarity(xi, ri, data_range=dr, gaussian_weights=True, sigma=1.5,
                                           use_sample_covariance=False) for xi, ri in zip(x, r)])


def ssim(x: np.ndarray, ref: np.ndarray, drange: float | None = None) -> float:
    """Mean per-frame SSIM."""
    return float(np.mean(ssim_per_frame(x, ref, drange)))


def nmse(x: np.ndarray, ref: np.ndarray) -> float:
    """Normalised mean squared error ``‖x − r‖² / ‖r‖²``."""
    x, r = _mag(x), _mag(ref)
    return float(np.sum((x - r) ** 2) / np.sum(r**2))


def psnr_per_frame(x: np.ndarray, ref: np.ndarray, drange: float | None = None) -> np.ndarray:
    """PSNR of each frame with the whole reference's data range."""
    x, r = _as_stack(_mag(x)), _as_stack(_mag(ref))
    dr = data_range(r) if drange is None else drange
    return np.array([psnr(xi, ri, dr) for xi, ri in zip(x, r)])


@dataclass
class Scores:
    """Metrics of one image against one reference."""

    psnr: float
    ssim: float
    nmse: float
    psnr_frames: list[float]
    ssim_frames: list[float]

    def as_dict(self) -> dict:
        return asdict(self)


def score(x: np.ndarray, ref: np.ndarray) -> Scores:
    """All metrics at once (magnitudes of complex inputs are taken)."""
    dr = data_range(ref)
    sf = ssim_per_frame(x, ref, dr)
    return Scores(psnr=psnr(x, ref, dr), ssim=float(sf.mean()), nmse=nmse(x, ref),
                  psnr_frames=psnr_per_frame(x, ref, dr).tolist(), ssim_frames=sf.tolist())
