"""Viewer state shared by the front ends: window presets and window/level dragging (Qt-free).

A window is ``(lo, hi)`` in the data's units (HU for CT); radiologists speak of level
(centre) and width: ``lo = level − width/2``, ``hi = level + width/2``. The CT presets are
the usual ones (Slicer's and Horos's values); "Auto" takes the 0.5–99.5th percentiles of
the reference (or the first stack), which is what MR images need.
"""

from __future__ import annotations

import numpy as np

from ..core.profiles import display_levels

AUTO = "Auto"
CT_PRESETS: dict[str, tuple[float, float]] = {  # name → (level, width), HU
    "CT lung": (-600.0, 1500.0),
    "CT bone": (400.0, 1800.0),
    "CT soft tissue": (40.0, 400.0),
    "CT brain": (40.0, 80.0),
}


def presets(ct: bool) -> list[str]:
    """The preset names to offer: Auto first; the CT ones for CT (Hounsfield) data."""
    return [AUTO, *CT_PRESETS] if ct else [AUTO]


def level_width(levels: tuple[float, float]) -> tuple[float, float]:
    lo, hi = levels
    return (lo + hi) / 2.0, hi - lo


def from_level_width(level: float, width: float) -> tuple[float, float]:
    width = max(float(width), 1e-6)
    return float(level) - width / 2.0, float(level) + width / 2.0


def preset_levels(name: str, data: np.ndarray | None = None) -> tuple[float, float]:
    """``(lo, hi)`` of preset ``name``; "Auto" needs ``data`` (a stack)."""
    if name in CT_PRESETS:
        return from_level_width(*CT_PRESETS[name])
    if data is None:
        raise ValueError("the Auto window needs data")
    return display_levels(data)


def drag_window(levels: tuple[float, float], dx: float, dy: float, span: float, pixels: float = 400.0
                ) -> tuple[float, float]:
    """The window after dragging by ``(dx, dy)`` screen pixels (as in Horos and Slicer: right widens the window,
    up raises the level, so the image gets darker).

    ``span`` is the data range one drag across ``pixels`` pixels sweeps (e.g. the data's
    0.5–99.5th percentile range), so the feel is the same for HU and for MR magnitudes.
    """
    level, width = level_width(levels)
    step = float(span) / float(pixels)
    width = max(width + dx * step, step * 1e-3)
    level = level - dy * step  # screen y grows downwards
    return from_level_width(level, width)
