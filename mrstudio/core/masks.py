"""ky–t sampling masks for cine MRI, their acceleration and point-spread function.

A mask is ``bool (T, Ny)``: ``mask[t, ky]`` is True where phase-encode line ``ky`` is
acquired in frame ``t`` (readout is always fully sampled). Acceleration
``R = T·Ny / mask.sum()`` counts the calibration (ACS) lines. Every generator hits the
requested R to the nearest whole line: the total number of samples is
``round(T·Ny / R)``, spread over frames as evenly as possible.
Masks draw from their own seeded generator and never touch numpy's global RNG.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ParameterError, StudyError

MASK_KINDS = ("vd-kt", "poisson", "equispaced", "uniform")


@dataclass(frozen=True)
class MaskSpec:
    """What mask to draw.

    Attributes
    ----------
    kind : one of :data:`MASK_KINDS`
    accel : requested acceleration R (> 1)
    acs : fully-sampled central lines per frame; reduced automatically so that they are
        at most half of each frame's samples
    seed : seed of the mask's own random generator
    density_power : variable-density exponent p of ``(1 - |k|)^p`` (vd-kt, poisson)
    """

    kind: str = "vd-kt"
    accel: float = 15.0
    acs: int = 2
    seed: int = 0
    density_power: float = 2.0

    def __post_init__(self) -> None:
        if self.kind not in MASK_KINDS:
            raise ParameterError("mask", f"unknown mask kind {self.kind!r} (choose from {', '.join(MASK_KINDS)} or a .npy file)")
        if not np.isfinite(self.accel) or self.accel <= 1:
            raise ParameterError("accel", f"acceleration must be a number > 1, got {self.accel}")
        if self.acs < 0:
            raise ParameterError("acs", f"ACS lines must be ≥ 0, got {self.acs}")

    def __call__(self, frames: int, ny: int) -> np.ndarray:
        return make_mask(self, frames, ny)


def frame_counts(frames: int, ny: int, accel: float, rng: np.random.Generator) -> np.ndarray:
    """Samples per frame so that their sum is ``round(frames·ny/accel)``, as even as possible."""
    total = int(round(frames * ny / accel))
    if total < frames:
        raise ParameterError("accel", f"R = {accel:g} leaves fewer than one line per frame for {frames} frames × {ny} lines "
                         f"(maximum R is {ny})")
    counts = np.full(frames, total // frames, dtype=int)
    counts[rng.permutation(frames)[: total % frames]] += 1
    return counts


def acs_lines(ny: int, acs: int) -> np.ndarray:
    """Indices of the ``acs`` central ky lines (centre = ny // 2, the DC line)."""
    start = ny // 2 - acs // 2
    return np.arange(start, start + acs)


def _density(ny: int, power: float) -> np.ndarray:
    k = np.abs(np.arange(ny) - ny // 2) / (ny / 2)
    return np.clip(1.0 - k, 0.0, 1.0) ** power + 1e-3


def _fill_centre(mask: np.ndarray, need: np.ndarray, ny: int, acs: int, rng: np.random.Generator,
                 width: int = 24) -> np.ndarray:
    """Spread the central ``width`` lines over the frames so the time average covers them.

    Each line not already in the ACS block is given to the frame with the most samples
    left to place (ties broken at random), using at most half of the non-ACS budget.
    Updates ``mask`` in place and returns the samples each frame still has to place.
    """
    need = need.copy()
    block = acs_lines(ny, min(width, ny))
    extra = [k for k in block if not mask[0, k]]
    budget = int(need.sum()) // 2
    extra = sorted(extra, key=lambda k: abs(k - ny // 2))[:budget]
    for k in rng.permutation(extra):
        order = rng.permutation(len(need))
        t = order[np.argmax(need[order])]
        if need[t] == 0:
            break
        mask[t, k] = True
        need[t] -= 1
    return need


def make_mask(spec: MaskSpec, frames: int, ny: int) -> np.ndarray:
    """Draw a ``bool (frames, ny)`` mask from ``spec``.

    ``vd-kt`` and ``poisson`` also spread the central 24 lines over the frames (within
    the sample budget) so that the time-averaged k-space has a calibration region.
    """
    if frames < 1 or ny < 2:
        raise StudyError("mask", f"cannot draw a mask for {frames} frames × {ny} lines")
    rng = np.random.default_rng([spec.seed, MASK_KINDS.index(spec.kind)])
    counts = frame_counts(frames, ny, spec.accel, rng)
    acs = min(spec.acs, int(counts.min()) // 2)
    centre = acs_lines(ny, acs)
    free = np.setdiff1d(np.arange(ny), centre)
    mask = np.zeros((frames, ny), dtype=bool)
    mask[:, centre] = True
    need = counts - acs
    if spec.kind in ("vd-kt", "poisson"):
        need = _fill_centre(mask, need, ny, acs, rng)
    if spec.kind == "uniform":
        for t in range(frames):
            mask[t, rng.choice(free, need[t], replace=False)] = True
    elif spec.kind == "vd-kt":
        dens = _density(ny, spec.density_power)
        for t in range(frames):
            cand = free[~mask[t, free]]
            p = dens[cand] / dens[cand].sum()
            mask[t, rng.choice(cand, need[t], replace=False, p=p)] = True
    elif spec.kind == "equispaced":
        for t in range(frames):
            step = len(free) / need[t]
            offset = (t * 0.6180339887 * step) % step  # golden-ratio shift: a sheared k-t lattice
            idx = np.floor(offset + step * np.arange(need[t])).astype(int)
            mask[t, free[np.clip(idx, 0, len(free) - 1)]] = True
    else:
        mask |= _poisson_kt(frames, ny, need, free, spec, rng, taken=mask.copy())
    return mask


def _poisson_kt(frames: int, ny: int, need: np.ndarray, free: np.ndarray, spec: MaskSpec,
                rng: np.random.Generator, taken: np.ndarray) -> np.ndarray:
    """Variable-density Poisson-disc sampling in (t, ky), periodic in t, per-frame counts."""
    kn = np.abs(np.arange(ny) - ny // 2) / (ny / 2)
    total = int(need.sum())
    order = [(t, k) for t in range(frames) for k in free]
    order = [order[i] for i in rng.permutation(len(order))]

    def throw(r0: float) -> np.ndarray:
        m = taken.copy()
        left = need.copy()
        for t, k in order:
            if left[t] == 0 or m[t, k]:
                continue
            r = r0 * (1.0 + 2.0 * kn[k] ** max(spec.density_power, 1.0) * 1.5)
            ri = int(np.ceil(r))
            lo, hi = max(0, k - ri), min(ny, k + ri + 1)
            ts = np.arange(t - ri, t + ri + 1) % frames
            dt = np.arange(-ri, ri + 1)[:, None]
            dk = np.arange(lo, hi)[None, :] - k
            near = m[ts][:, lo:hi] & (dt**2 + dk**2 < r * r)
            if not near.any():
                m[t, k] = True
                left[t] -= 1
        return m

    lo_r, hi_r = 0.5, float(np.sqrt(frames * ny / max(total, 1))) * 2
    best = throw(lo_r)
    for _ in range(10):
        mid = 0.5 * (lo_r + hi_r)
        m = throw(mid)
        if m.sum() >= 0.97 * total:
            best, lo_r = m, mid
        else:
            hi_r = mid
    # top up each frame to its exact count with variable-density draws
    dens = _density(ny, spec.density_power)
    for t in range(frames):
        missing = need[t] + int(taken[t].sum()) - int(best[t].sum())
        if missing > 0:
            cand = np.setdiff1d(free, np.flatnonzero(best[t]))
            p = dens[cand] / dens[cand].sum()
            best[t, rng.choice(cand, missing, replace=False, p=p)] = True
    return best


def accel_effective(mask: np.ndarray) -> float:
    """``T·Ny / number of samples``, calibration lines included."""
    n = int(np.count_nonzero(mask))
    return float("inf") if n == 0 else mask.size / n


def load_mask(path: str | Path, frames: int, ny: int) -> np.ndarray:
    """Load a ``(T, Ny)`` mask saved with ``np.save``; validate shape and values."""
    path = Path(path)
    if not path.is_file():
        raise StudyError(path, "mask file not found")
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:  # numpy raises several types for bad files
        raise StudyError(path, f"not a readable .npy mask ({exc})") from None
    if arr.shape != (frames, ny):
        raise StudyError(path, f"mask shape {arr.shape} does not match the study's (T, Ny) = {(frames, ny)}")
    if arr.dtype != bool:
        if not np.isin(arr, (0, 1)).all():
            raise StudyError(path, "mask values must be 0/1 or boolean")
        arr = arr.astype(bool)
    if not arr.any():
        raise StudyError(path, "mask samples nothing")
    return arr


def point_spread(mask: np.ndarray) -> np.ndarray:
    """ky–t point-spread function, ``float32 (T, Ny)`` in y–f space, peak 1 at the centre.

    The magnitude of the 2-D Fourier transform of the mask over (t, ky), normalised by
    the number of samples and centred so the main lobe sits at ``(T // 2, Ny // 2)``.
    """
    m = mask.astype(np.float64)
    psf = np.abs(np.fft.fftshift(np.fft.fft2(m))) / max(m.sum(), 1.0)
    return psf.astype(np.float32)


def peak_sidelobe_ratio(mask: np.ndarray) -> float:
    """Largest side lobe of :func:`point_spread` relative to its main lobe (0 … 1)."""
    psf = point_spread(mask)
    t, k = psf.shape[0] // 2, psf.shape[1] // 2
    main = float(psf[t, k])
    psf[t, k] = 0.0
    return float(psf.max() / main) if main > 0 else float("nan")


def painted_mask(rng: np.random.Generator, frames: int, ny: int, accel: float) -> np.ndarray:
    """An irregular mask like one drawn in the editor: strokes of 1–4 neighbouring lines, denser near the centre.

    As a user paints one, it holds the centre line in every frame and each of the central 8 lines in
    some frame (the time-averaged calibration region ESPIRiT needs).
    """
    mask = np.zeros((frames, ny), bool)
    mask[:, ny // 2] = True
    for y in range(ny // 2 - 4, ny // 2 + 4):
        mask[rng.integers(frames), y] = True
    target = max(1, int(round(frames * ny / accel)))
    while mask.sum() < target:
        t0 = rng.integers(frames)
        length = rng.integers(1, frames + 1)
        y = int(np.clip(rng.normal(ny / 2, ny / 5), 0, ny - 1))
        width = rng.integers(1, 5)
        for t in range(t0, t0 + length):
            mask[t % frames, y:y + width] = True
    return mask
