"""Views on image stacks used by the comparison tools: x–t profiles, error maps, ROI statistics.

Stacks are magnitude ``float32 (T, Ny, Nx)``; coordinates are (row, col) = (y, x) pixels.
"""

from __future__ import annotations

import numpy as np


def line_profile(stack: np.ndarray, p0: tuple[float, float], p1: tuple[float, float], n: int | None = None) -> np.ndarray:
    """Intensity along the segment ``p0 → p1`` (y, x) in every frame: ``float32 (T, n)``.

    Bilinear interpolation; ``n`` defaults to the segment length in pixels (+1). Stacked
    over frames this is the x–t (or y–t) profile the cine literature shows.
    """
    from scipy.ndimage import map_coordinates

    (y0, x0), (y1, x1) = p0, p1
    if n is None:
        n = max(2, int(np.ceil(np.hypot(y1 - y0, x1 - x0))) + 1)
    ys, xs = np.linspace(y0, y1, n), np.linspace(x0, x1, n)
    out = np.empty((stack.shape[0], n), np.float32)
    for t in range(stack.shape[0]):
        out[t] = map_coordinates(np.asarray(stack[t], np.float32), [ys, xs], order=1, mode="nearest")
    return out


def body_mask(ref: np.ndarray, fraction: float = 0.1) -> np.ndarray:
    """``bool`` mask of the body: where the reference's magnitude reaches ``fraction`` of its 99th percentile.

    The relative error is read over it: in the background ``|ref|`` is noise, and dividing
    by it makes the air outside the body the largest "error" on the screen.
    """
    rm = np.abs(ref)
    return rm >= fraction * float(np.percentile(rm, 99))


def error_map(x: np.ndarray, ref: np.ndarray, relative: bool = False, eps: float | None = None,
              body: np.ndarray | None = None) -> np.ndarray:
    """``|x − ref|`` on magnitudes, or divided by ``|ref| + eps`` when ``relative``; float32.

    With ``body`` (a ``bool`` mask broadcastable to the stacks, e.g. :func:`body_mask`), the
    relative error is zero outside it.
    """
    xm, rm = np.abs(x).astype(np.float32), np.abs(ref).astype(np.float32)
    err = np.abs(xm - rm)
    if relative:
        eps = 0.05 * float(rm.max()) if eps is None else eps
        err = err / (rm + eps)
        if body is not None:
            err = np.where(body, err, np.float32(0)).astype(np.float32)
    return err


def roi_stats(stack: np.ndarray, rows: slice, cols: slice) -> dict[str, np.ndarray | float]:
    """Mean and standard deviation inside a rectangle, overall and per frame."""
    region = np.abs(stack[:, rows, cols]).astype(np.float64)
    if region.size == 0:
        return {"mean": float("nan"), "sd": float("nan"), "mean_frames": np.array([]), "sd_frames": np.array([])}
    flat = region.reshape(region.shape[0], -1)
    return {"mean": float(region.mean()), "sd": float(region.std()), "mean_frames": flat.mean(1),
            "sd_frames": flat.std(1)}


def display_levels(stack: np.ndarray, lo: float = 0.5, hi: float = 99.5) -> tuple[float, float]:
    """Window for display: the ``lo``–``hi`` percentiles (never an empty window)."""
    a, b = np.percentile(stack, [lo, hi])
    return float(a), float(b if b > a else a + 1.0)


def window_uint8(frame: np.ndarray, levels: tuple[float, float]) -> np.ndarray:
    """``frame`` windowed to ``levels`` as ``uint8``: 0 at the low level, 255 at the high one (rounded, clipped)."""
    lo, hi = levels
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return np.clip((np.asarray(frame, np.float32) - lo) * scale + 0.5, 0, 255).astype(np.uint8)
