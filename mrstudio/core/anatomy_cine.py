"""A multi-coil cine made from one real MR slice: periodic non-rigid motion, phase, coils and noise.

The anatomy is real (a slice of a real MR volume, :mod:`mrstudio.io.anatomy`); everything
else is simulated, randomly per seed:

* **motion** — a smooth periodic deformation over one cycle of ``T`` frames: a breathing-like
  translation (a few mm, mostly along one direction) plus a contracting region (a Gaussian
  bump of radial displacement around a random centre that shrinks towards it in the first
  70 % of the cycle, like systole and early filling in :mod:`mrstudio.core.phantom`);
* **phase** — a smooth random complex phase (low-order polynomial) on top of the magnitude;
* **coils** — ``C`` smooth sensitivities normalised to ``Σ|S|² = 1``, as the phantom's;
* **noise** — complex Gaussian in k-space at a random SNR (mean body signal / per-coil σ).

To avoid the inverse crime, the motion and the coil images are made on the **fine grid**
the slice comes on (twice the acquisition matrix by default) and *acquired* by cropping the
centre of their k-space to the acquisition matrix: the data are never produced by the
discrete operator that reconstructs them. The ground truth is the noiseless acquired image
coil-combined with the true maps (the low-pass truth at the acquisition resolution).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import StudyError
from .fft import fft2c, ifft2c
from .phantom import coil_maps
from .study import CineStudy


@dataclass(frozen=True)
class AnatomyCineConfig:
    """Acquisition and simulation ranges (``snr`` drawn in ``snr_range``; mm on the acquired grid)."""

    size: int = 128  # acquired matrix (pixels)
    frames: int = 20
    coils: int = 8
    snr_range: tuple[float, float] = (15.0, 40.0)
    breathing_mm: tuple[float, float] = (1.0, 4.0)
    contraction: tuple[float, float] = (0.15, 0.3)  # fraction of the region's radius at peak
    pixel_mm: float = 1.0


def _warp(image: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """``image`` sampled at ``(y + dy, x + dx)`` (pixels), cubic, real and imaginary parts alike."""
    from scipy.ndimage import map_coordinates

    n0, n1 = image.shape
    yy, xx = np.meshgrid(np.arange(n0, dtype=np.float64), np.arange(n1, dtype=np.float64), indexing="ij")
    coords = np.stack([yy + dy, xx + dx])
    out = map_coordinates(image.real, coords, order=3, mode="constant")
    if np.iscomplexobj(image):
        out = out + 1j * map_coordinates(image.imag, coords, order=3, mode="constant")
    return out


def _motion(fine: np.ndarray, frames: int, rng: np.random.Generator, cfg: AnatomyCineConfig,
            scale: float) -> np.ndarray:
    """``complex (T, N, N)``: the fine slice under one cycle of breathing plus regional contraction."""
    n = fine.shape[0]
    yy, xx = np.meshgrid(np.arange(n, dtype=np.float64), np.arange(n, dtype=np.float64), indexing="ij")
    body = np.abs(fine) > 0.1 * np.abs(fine).max()
    ys, xs = np.nonzero(body) if body.any() else (np.array([n / 2]), np.array([n / 2]))
    k = rng.integers(len(ys))
    cy, cx = float(ys[k]), float(xs[k])  # the contracting region sits on the anatomy
    radius = rng.uniform(0.08, 0.18) * n
    amp = rng.uniform(*cfg.contraction)
    breath = rng.uniform(*cfg.breathing_mm) / cfg.pixel_mm * scale  # fine-grid pixels
    angle = rng.uniform(0, 2 * np.pi)
    phase0 = rng.uniform(0, 1)
    out = np.empty((frames, n, n), np.complex128)
    bump = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius ** 2))
    for t in range(frames):
        p = t / frames
        c = 0.5 * (1.0 - np.cos(2 * np.pi * p / 0.7)) if p < 0.7 else 0.0  # 0 → 1 → 0 over systole
        b = breath * 0.5 * (1 - np.cos(2 * np.pi * (p + phase0)))
        # sample further out as the region contracts (content moves towards the centre)
        dy = (yy - cy) * amp * c * bump + b * np.sin(angle)
        dx = (xx - cx) * amp * c * bump + b * np.cos(angle)
        out[t] = _warp(fine, dy, dx)
    return out


def _smooth_phase(n: int, rng: np.random.Generator) -> np.ndarray:
    c = (np.arange(n) - n / 2 + 0.5) / (n / 2)
    y, x = np.meshgrid(c, c, indexing="ij")
    ph = np.zeros((n, n))
    for i in range(3):
        for j in range(3 - i):
            ph += rng.normal(0, 1.2 / (1 + i + j)) * y ** i * x ** j
    return np.exp(1j * ph)


def _crop_k(k: np.ndarray, size: int) -> np.ndarray:
    """The central ``size × size`` of centred k-space over the last two axes."""
    n = k.shape[-1]
    a = (n - size) // 2
    return k[..., a:a + size, a:a + size]


def make_anatomy_cine(fine: np.ndarray, seed: int, cfg: AnatomyCineConfig = AnatomyCineConfig(),
                      name: str = "anatomy cine", source: str = "anatomy") -> CineStudy:
    """A fully-sampled multi-coil cine from one real slice ``float (M, M)`` on the fine grid (``M ≥ size``).

    Returns a :class:`CineStudy` with ``kspace complex64 (C, T, size, size)``, the noiseless
    ground truth as ``reference`` (``"ground-truth"``) and the true coil maps.
    """
    fine = np.asarray(fine, np.float64)
    if fine.ndim != 2 or fine.shape[0] != fine.shape[1] or fine.shape[0] < cfg.size:
        raise StudyError(source, f"the fine slice must be square and at least {cfg.size}², got {fine.shape}")
    if not np.isfinite(fine).all() or fine.max() <= 0:
        raise StudyError(source, "the slice holds no signal (or NaN/Inf)")
    rng = np.random.default_rng([int(seed), 7])
    m, n = fine.shape[0], cfg.size
    scale = m / n
    img = (fine / fine.max()).astype(np.complex128) * _smooth_phase(m, rng)
    cine_fine = _motion(img, cfg.frames, rng, cfg, scale)  # (T, M, M)
    maps_seed = int(rng.integers(2 ** 31))
    maps_fine = coil_maps(m, cfg.coils, np.random.default_rng(maps_seed))  # the same smooth maps, two grids
    maps = coil_maps(n, cfg.coils, np.random.default_rng(maps_seed))
    # acquire: centre of the fine k-space, scaled so that image values keep their amplitude
    k_fine = fft2c(maps_fine[:, None] * cine_fine[None])  # (C, T, M, M)
    kspace = _crop_k(k_fine, n) * (n / m)
    truth_coils = ifft2c(kspace)
    reference = (np.conj(maps)[:, None] * truth_coils).sum(0)  # SENSE-1 with the true maps
    body = np.abs(reference).mean(0)
    body_mean = float(body[body > 0.1 * body.max()].mean())
    snr = float(rng.uniform(*cfg.snr_range))
    sigma = body_mean / snr
    noise = (rng.standard_normal(kspace.shape) + 1j * rng.standard_normal(kspace.shape)) * (sigma / np.sqrt(2))
    return CineStudy(kspace=(kspace + noise).astype(np.complex64), reference=reference.astype(np.complex64),
                     reference_kind="ground-truth", maps=maps, name=name, source=source, format="anatomy",
                     fov_mm=(n * cfg.pixel_mm, n * cfg.pixel_mm),
                     meta={"seed": int(seed), "snr": snr, "noise_sigma": sigma, "fine_matrix": m,
                           "generator": "mrstudio.core.anatomy_cine"})
