"""Classical interpolation along the slice axis at the real slice positions: linear and cubic."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.jobs import CancelToken, Progress, check, report
from .base import register_interp


@register_interp("linear", "linear interpolation between neighbouring slices (by position)")
def linear(volume: np.ndarray, z: np.ndarray, alphas: np.ndarray, *, device: str = "cpu",
           progress: Progress | None = None, cancel: CancelToken | None = None, **params: Any) -> np.ndarray:
    """``(1 − α)·slice[i] + α·slice[i+1]`` for every gap ``i`` and α."""
    _no_params("linear", params)
    out = np.empty((len(volume) - 1, alphas.shape[1], *volume.shape[1:]), np.float32)
    for i in range(len(volume) - 1):
        check(cancel)
        a = alphas[i][:, None, None].astype(np.float32)
        out[i] = (1 - a) * volume[i] + a * volume[i + 1]
        report(progress, (i + 1) / (len(volume) - 1), f"gap {i + 1}/{len(volume) - 1}")
    return out


@register_interp("cubic", "cubic spline through all slices along z (not-a-knot, at the real positions)")
def cubic(volume: np.ndarray, z: np.ndarray, alphas: np.ndarray, *, device: str = "cpu",
          progress: Progress | None = None, cancel: CancelToken | None = None, **params: Any) -> np.ndarray:
    """A cubic spline per pixel through all slices, evaluated at the new positions.

    With fewer than 4 slices it falls back to the highest order the data allow.
    """
    from scipy.interpolate import make_interp_spline

    _no_params("cubic", params)
    check(cancel)
    k = min(3, len(volume) - 1)
    spline = make_interp_spline(np.asarray(z, float), volume.astype(np.float32), k=k, axis=0)
    znew = z[:-1, None] + alphas * np.diff(z)[:, None]
    report(progress, 0.5, "spline")
    out = spline(znew.reshape(-1)).astype(np.float32)
    report(progress, 1.0, "done")
    return out.reshape(*alphas.shape, *volume.shape[1:])


def _no_params(name: str, params: dict[str, Any]) -> None:
    if params:
        from ..core.errors import ParameterError

        raise ParameterError("param", f"{name} takes no parameters (got {', '.join(sorted(params))})")
