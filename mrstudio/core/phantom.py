"""A deterministic multi-coil beating-heart cine phantom.

The seed varies the anatomy (body size, lungs, heart position and size, wall thickness,
contraction), the cardiac phase at the first frame, the tissue contrast, the smooth
image phase and the coil geometry, so that seeds make a training distribution.
Seed ranges (:data:`mrstudio.core.splits.CINE_PHANTOM`) keep training, validation and test anatomy disjoint.

Geometry is in normalised coordinates ``[-1, 1]²`` (y down = posterior, x = patient
left on the image right); edges are anti-aliased over one pixel. The noiseless complex
image ``x`` (T, Ny, Nx) is kept as the ground truth; coil images are ``S_c · x`` with
maps normalised to ``Σ_c |S_c|² = 1`` so that the sum-of-squares and the SENSE-1
combination of the noiseless data both equal ``|x|``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fft import fft2c
from .study import CineStudy


@dataclass(frozen=True)
class PhantomConfig:
    """Phantom size and acquisition.

    ``snr`` is the mean body signal divided by the per-coil complex noise standard
    deviation (image domain, equal to the k-space one under the orthonormal FFT).
    """

    size: int = 128
    frames: int = 20
    coils: int = 8
    seed: int = 0
    snr: float = 30.0
    fov_mm: float = 320.0


def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    c = (np.arange(n) - n / 2 + 0.5) / (n / 2)
    return np.meshgrid(c, c, indexing="ij")  # y, x


def _ellipse(y, x, cy, cx, ay, ax, px, angle=0.0):
    """Anti-aliased filled ellipse: 1 inside, 0 outside, linear ramp over one pixel ``px``."""
    ca, sa = np.cos(angle), np.sin(angle)
    yy, xx = (y - cy), (x - cx)
    u, v = ca * xx + sa * yy, -sa * xx + ca * yy
    r = np.sqrt((u / ax) ** 2 + (v / ay) ** 2)
    dist = (r - 1.0) * min(ax, ay)  # approximate signed distance
    return np.clip(0.5 - dist / px, 0.0, 1.0)


def _contraction(phase: np.ndarray) -> np.ndarray:
    """0 at end-diastole, 1 at end-systole; systole+early filling in the first 70 % of the cycle."""
    p = np.mod(phase, 1.0)
    return np.where(p < 0.7, 0.5 * (1.0 - np.cos(2 * np.pi * p / 0.7)), 0.0)


def _smooth_field(rng: np.random.Generator, y, x, order: int = 3, scale: float = 1.0) -> np.ndarray:
    f = np.zeros_like(y)
    for i in range(order + 1):
        for j in range(order + 1 - i):
            f += rng.normal(0, scale / (1 + i + j)) * y**i * x**j
    return f


def coil_maps(size: int, coils: int, rng: np.random.Generator, body=(0.62, 0.82)) -> np.ndarray:
    """Smooth complex coil sensitivities ``complex64 (C, N, N)`` with ``Σ|S|² = 1``.

    Coils sit on an ellipse around the body, each with a Lorentzian-like magnitude
    fall-off and a smooth (linear) phase.
    """
    y, x = _grid(size)
    rot = rng.uniform(0, 2 * np.pi)
    rad = rng.uniform(1.1, 1.35)
    width = rng.uniform(0.6, 0.9)
    maps = np.empty((coils, size, size), np.complex128)
    for c in range(coils):
        th = rot + 2 * np.pi * c / coils
        cy, cx = rad * body[0] * np.sin(th), rad * body[1] * np.cos(th)
        mag = 1.0 / (1.0 + ((y - cy) ** 2 + (x - cx) ** 2) / width**2)
        ph = th + rng.normal(0, 0.6) * y + rng.normal(0, 0.6) * x
        maps[c] = mag * np.exp(1j * ph)
    maps /= np.sqrt((np.abs(maps) ** 2).sum(0, keepdims=True))
    return maps.astype(np.complex64)


def cine_image(cfg: PhantomConfig, rng: np.random.Generator) -> np.ndarray:
    """Noiseless complex cine ``complex64 (T, N, N)`` for one seed's anatomy."""
    n, T = cfg.size, cfg.frames
    y, x = _grid(n)
    px = 2.0 / n
    u = rng.uniform
    by, bx = u(0.55, 0.68), u(0.75, 0.9)  # body semi-axes
    oy = u(-0.05, 0.05)
    fat_w = u(0.04, 0.08)
    c_fat, c_tissue, c_blood, c_myo, c_lung, c_liver = u(0.75, 0.95), u(0.3, 0.42), u(0.85, 1.0), u(0.22, 0.32), 0.03, u(0.4, 0.5)

    body = _ellipse(y, x, oy, 0, by, bx, px)
    inner = _ellipse(y, x, oy, 0, by - fat_w, bx - fat_w, px)
    static = c_fat * (body - inner) + c_tissue * inner
    # lungs
    ly, lx = u(0.28, 0.36), u(0.22, 0.3)
    for side in (-1, 1):
        lung = _ellipse(y, x, oy - 0.05, side * u(0.38, 0.48), ly, lx, px, angle=side * u(0.1, 0.3))
        static = static * (1 - lung) + c_lung * lung
    # spine (cortical bone dark ring, marrow) and descending aorta
    sy = oy + by - fat_w - u(0.14, 0.2)
    spine = _ellipse(y, x, sy, 0, 0.09, 0.1, px)
    marrow = _ellipse(y, x, sy, 0, 0.06, 0.07, px)
    static = static * (1 - spine) + 0.08 * (spine - marrow) + 0.55 * marrow
    aorta = _ellipse(y, x, sy - 0.14, u(-0.12, -0.04), 0.045, 0.045, px)
    static = static * (1 - aorta) + c_blood * aorta
    # a liver dome at the bottom right of the image, clipped by the body
    liver = _ellipse(y, x, oy + 0.5, u(-0.45, -0.3), 0.35, 0.4, px) * inner
    static = static * (1 - liver) + c_liver * liver
    texture = 1.0 + 0.04 * _smooth_field(rng, y, x, order=4)
    static = static * texture

    # heart
    hy, hx = oy + u(-0.12, 0.0), u(-0.05, 0.12)
    r_ed = u(0.14, 0.2)  # LV blood radius at end-diastole
    wall = u(0.04, 0.07)
    ef = u(0.3, 0.5)  # fractional radius shortening of the blood pool
    area = (r_ed + wall) ** 2 - r_ed**2
    rv_off = u(0.18, 0.26)
    rv_ang = u(-0.6, -0.2)
    phase0 = u(0, 1)
    shift = u(0.01, 0.03)
    heart_box = _ellipse(y, x, hy, hx, 0.5, 0.5, px)  # heart lies inside the lungs' gap

    frames = np.empty((T, n, n), np.float64)
    c = _contraction(phase0 + np.arange(T) / T)
    for t in range(T):
        dy = shift * c[t]
        r_b = r_ed * (1 - ef * c[t])
        r_o = np.sqrt(r_b**2 + area)  # myocardial area is conserved: wall thickens in systole
        cy, cx = hy + dy, hx
        outer = _ellipse(y, x, cy, cx, r_o, r_o * 1.05, px)
        pool = _ellipse(y, x, cy, cx, r_b, r_b * 1.05, px)
        ry = cy - rv_off * np.sin(-rv_ang) * 0.6
        rx = cx - rv_off * np.cos(rv_ang)
        rv_outer = _ellipse(y, x, ry, rx, (r_o + 0.02) * (1 - 0.25 * c[t]), (r_o + 0.09) * (1 - 0.2 * c[t]), px)
        rv_pool = rv_outer * (1 - outer)
        img = static * (1 - outer) * (1 - rv_pool) * heart_box + static * (1 - heart_box)
        img = img + c_myo * (outer - pool) + c_blood * pool + 0.92 * c_blood * rv_pool * heart_box
        frames[t] = img * body
    phase = 0.5 * _smooth_field(rng, y, x, order=2)
    return (frames * np.exp(1j * phase)[None]).astype(np.complex64)


def make_phantom(size: int = 128, frames: int = 20, coils: int = 8, seed: int = 0, snr: float = 30.0,
                 fov_mm: float = 320.0) -> CineStudy:
    """Fully-sampled multi-coil phantom cine with its noiseless ground truth.

    Returns a :class:`CineStudy` with ``kspace`` complex64 (C, T, N, N), ``reference``
    the noiseless complex image (T, N, N), ``reference_kind="ground-truth"`` and the
    true coil ``maps``.
    """
    cfg = PhantomConfig(size=size, frames=frames, coils=coils, seed=seed, snr=snr, fov_mm=fov_mm)
    if size < 32 or frames < 1 or coils < 1 or snr <= 0:
        from .errors import StudyError

        raise StudyError("phantom", f"invalid phantom parameters: size {size} (≥ 32), frames {frames}, coils {coils}, snr {snr}")
    rng = np.random.default_rng([seed, 7919])
    x = cine_image(cfg, rng)
    maps = coil_maps(size, coils, rng)
    coil_imgs = maps[:, None] * x[None]  # (C, T, N, N)
    body_mean = float(np.abs(x)[np.abs(x) > 0.05].mean())
    sigma = body_mean / snr
    noise = (rng.standard_normal(coil_imgs.shape) + 1j * rng.standard_normal(coil_imgs.shape)) * (sigma / np.sqrt(2))
    kspace = fft2c(coil_imgs.astype(np.complex64)) + noise.astype(np.complex64)
    return CineStudy(
        kspace=kspace.astype(np.complex64),
        reference=x,
        reference_kind="ground-truth",
        maps=maps,
        name=f"phantom-seed{seed}",
        fov_mm=(fov_mm, fov_mm),
        source="phantom",
        format="phantom",
        meta={"seed": seed, "snr": snr, "noise_sigma": sigma, "generator": "mrstudio.core.phantom"},
    )
