"""A procedural thoracic CT phantom family (HU volumes) for slice-interpolation work.

Nothing here is real anatomy or patient data; it exists so that interpolation methods can
be trained, tested and benchmarked without downloads. Each seed gives a different
"patient": body size and shape, fat thickness, lung shape, heart position, the course of
~30 lung vessels (smooth 3-D curves, radius 1–4 mm), the aorta with contrast, a spine
(vertebral bodies with cortical shell, discs every ~25 mm, spinal canal) and ribs that
appear and disappear along z. Values are Hounsfield units; Gaussian noise (σ in HU) is
added to the thin slices. ``thick`` averages consecutive thin slices (partial volume), as
a scanner reconstructing thick slices does.

Defaults: 256², 1 mm thin slices, 0.75–0.9 mm pixels (FOV set by ``fov_mm``).
Splits: training seeds 0–9999, validation 10000–19999, test 20000+ (as for the cine phantom).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import Geometry
from .slabs import thick  # noqa: F401  (thick-slice phantoms: ct_phantom.thick, as the callers know it)
from .study import VolumeStudy

HU_AIR, HU_FAT, HU_MUSCLE, HU_LUNG, HU_BLOOD, HU_CONTRAST = -1000.0, -100.0, 45.0, -850.0, 40.0, 300.0
HU_BONE, HU_CORTEX, HU_DISC, HU_CANAL = 250.0, 800.0, 80.0, 15.0


@dataclass(frozen=True)
class _Vessel:
    x0: float
    y0: float
    ax: tuple[float, float, float]
    ay: tuple[float, float, float]
    fx: tuple[float, float, float]
    fy: tuple[float, float, float]
    r: float
    lung: int


def _ellipse(xx: np.ndarray, yy: np.ndarray, cx: float, cy: float, a: float, b: float, rot: float = 0.0) -> np.ndarray:
    c, s = np.cos(rot), np.sin(rot)
    u = (xx - cx) * c + (yy - cy) * s
    v = -(xx - cx) * s + (yy - cy) * c
    return (u / a) ** 2 + (v / b) ** 2 <= 1.0


def make_ct_phantom(size: int = 256, slices: int = 64, seed: int = 0, dz_mm: float = 1.0, fov_mm: float | None = None,
                    noise_hu: float = 12.0, z0_mm: float = 0.0) -> VolumeStudy:
    """A thin-slice HU volume ``float32 (slices, size, size)`` with positions along +z."""
    rng = np.random.default_rng(seed)
    fov = float(fov_mm) if fov_mm is not None else float(rng.uniform(340, 400))
    px = fov / size
    # coordinates in mm, centred
    c = (np.arange(size) - (size - 1) / 2) * px
    xx, yy = np.meshgrid(c, c)
    body_a, body_b = rng.uniform(0.38, 0.45) * fov, rng.uniform(0.27, 0.33) * fov
    fat = rng.uniform(8, 22)
    lung_a, lung_b = body_a * rng.uniform(0.33, 0.40), body_b * rng.uniform(0.62, 0.72)
    lung_dx = body_a * rng.uniform(0.42, 0.50)
    heart = (rng.uniform(-0.08, 0.05) * fov, rng.uniform(-0.06, 0.02) * fov, body_a * rng.uniform(0.22, 0.28),
             body_b * rng.uniform(0.38, 0.48), rng.uniform(-0.5, -0.2))
    spine_y = body_b * rng.uniform(0.62, 0.70)
    vert_r = rng.uniform(15, 20)
    disc_period, disc_phase = rng.uniform(22, 28), rng.uniform(0, 28)
    rib_period, rib_phase = rng.uniform(18, 24), rng.uniform(0, 24)
    aorta = (rng.uniform(-0.06, 0.0) * fov, body_b * rng.uniform(0.35, 0.45), rng.uniform(10, 14))
    vessels = [_Vessel(x0=(1 if i % 2 else -1) * lung_dx + rng.uniform(-0.6, 0.6) * lung_a,
                       y0=rng.uniform(-0.6, 0.6) * lung_b,
                       ax=tuple(rng.uniform(2, 12, 3)), ay=tuple(rng.uniform(2, 12, 3)),
                       fx=tuple(rng.uniform(0.01, 0.06, 3)), fy=tuple(rng.uniform(0.01, 0.06, 3)),
                       r=float(rng.uniform(1.0, 4.0)), lung=i % 2) for i in range(int(rng.integers(24, 36)))]
    phases = rng.uniform(0, 2 * np.pi, (len(vessels), 6))
    vol = np.empty((slices, size, size), np.float32)
    zs = z0_mm + np.arange(slices) * dz_mm
    for k, z in enumerate(zs):
        s = 1.0 + 0.04 * np.sin(z / 60.0 + seed)  # body breathes a little along z
        img = np.full((size, size), HU_AIR, np.float32)
        body = _ellipse(xx, yy, 0, 0, body_a * s, body_b * s)
        img[body] = HU_FAT
        img[_ellipse(xx, yy, 0, 0, body_a * s - fat, body_b * s - fat)] = HU_MUSCLE
        lungs = np.zeros_like(body)
        for side in (-1, 1):
            la = lung_a * (1.0 + 0.10 * np.sin(z / 40.0 + side))
            lungs |= _ellipse(xx, yy, side * lung_dx, -0.05 * body_b, la, lung_b, rot=side * 0.15)
        img[lungs] = HU_LUNG
        hx, hy, ha, hb, hrot = heart
        hs = 1.0 + 0.15 * np.sin(z / 25.0)
        img[_ellipse(xx, yy, hx, hy, ha * hs, hb * hs, hrot)] = HU_BLOOD
        ax_, ay_, ar = aorta
        img[_ellipse(xx, yy, ax_ + 6 * np.sin(z / 50.0), ay_, ar, ar)] = HU_CONTRAST
        for v, ph in zip(vessels, phases):
            vx = v.x0 + sum(a * np.sin(f * z + p) for a, f, p in zip(v.ax, v.fx, ph[:3]))
            vy = v.y0 + sum(a * np.sin(f * z + p) for a, f, p in zip(v.ay, v.fy, ph[3:]))
            disc = _ellipse(xx, yy, vx, vy, v.r, v.r) & lungs
            img[disc] = HU_BLOOD
        # spine: vertebral body with cortical shell, discs, canal
        in_disc = ((z - disc_phase) % disc_period) < 4.0
        vb = _ellipse(xx, yy, 0, spine_y, vert_r, vert_r * 0.85)
        img[vb] = HU_CORTEX if not in_disc else HU_DISC
        img[_ellipse(xx, yy, 0, spine_y, vert_r - 2.5, vert_r * 0.85 - 2.5)] = HU_BONE if not in_disc else HU_DISC
        img[_ellipse(xx, yy, 0, spine_y + vert_r + 8, 7, 6)] = HU_CANAL
        # ribs: short arcs near the body wall, present for ~8 mm of every rib period
        if ((z - rib_phase) % rib_period) < 8.0:
            t = (z - rib_phase) % rib_period / 8.0
            for side in (-1, 1):
                for ang in np.linspace(0.3, 2.6, 4):
                    a = ang + 0.25 * t
                    rx = side * np.cos(a) * (body_a * s - fat - 8)
                    ry = np.sin(a - 0.4) * (body_b * s - fat - 8)
                    img[_ellipse(xx, yy, rx, ry, 7, 4, rot=a)] = HU_CORTEX
        vol[k] = img
    if noise_hu > 0:
        vol += rng.normal(0, noise_hu, vol.shape).astype(np.float32)
    geometry = Geometry.axial((size, size), (px, px), zs, slice_thickness=dz_mm)  # made up: no frame of reference
    return VolumeStudy(volume=vol, spacing=(dz_mm, px, px), geometry=geometry, modality="CT",
                       name=f"CT phantom seed {seed}", source="phantom", format="ct-phantom",
                       meta={"seed": seed, "noise_hu": noise_hu, "fov_mm": fov})
