"""What ``mrstudio info`` shows about a study."""

from __future__ import annotations

from typing import Any

from ..core.study import CineStudy, VolumeStudy

PHI_KEYS = ("PatientName", "PatientID", "PatientBirthDate", "AccessionNumber", "StudyID", "StudyInstanceUID",
            "InstitutionName", "ReferringPhysicianName", "StudyDate")


def _mask_phi(value: Any) -> str:
    s = str(value)
    return "***" if len(s) <= 2 else s[0] + "*" * (len(s) - 2) + s[-1]


def describe(study: CineStudy | VolumeStudy, show_phi: bool = False) -> dict[str, Any]:
    """A JSON-able description: format, matrix, frames/slices, coils, FOV/spacing, sampling, identifiers."""
    d: dict[str, Any] = {"name": study.name, "source": study.source, "format": study.format}
    if isinstance(study, CineStudy):
        c, t, ny, nx = study.shape
        d.update(kind="cine", shape=[c, t, ny, nx], coils=c, frames=t, matrix=[ny, nx], fov_mm=list(study.fov_mm),
                 pixel_mm=[study.fov_mm[0] / ny, study.fov_mm[1] / nx], fully_sampled=study.fully_sampled,
                 sampled_fraction=round(study.sampled_fraction, 4), reference=study.reference_kind,
                 coil_maps=study.maps is not None)
        if not study.fully_sampled:
            d["accel_effective"] = round(1.0 / study.sampled_fraction, 3)
    else:
        z, y, x = study.shape
        d.update(kind="ct", shape=[z, y, x], slices=z, matrix=[y, x], spacing_mm=list(study.spacing),
                 hu_range=[float(study.volume.min()), float(study.volume.max())])
    for k, v in study.meta.items():
        if k in PHI_KEYS:
            d[k] = v if show_phi else _mask_phi(v)
        elif isinstance(v, (str, int, float, bool)) or v is None or isinstance(v, list):
            d.setdefault(k, v)
    return d


def format_description(d: dict[str, Any]) -> str:
    """Aligned ``key: value`` lines for the terminal."""
    width = max(len(k) for k in d)
    lines = []
    for k, v in d.items():
        if isinstance(v, list):
            v = " × ".join(f"{x:g}" if isinstance(x, float) else str(x) for x in v)
        lines.append(f"{k:<{width}} : {v}")
    return "\n".join(lines)
