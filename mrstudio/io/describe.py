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
    """A JSON-able description: format, kind, matrix, frames/slices, coils, FOV/spacing, sampling,
    patient geometry, warnings, identifiers (masked unless ``show_phi``)."""
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
        d.update(kind="volume", modality=study.modality, shape=[z, y, x], slices=z, matrix=[y, x],
                 spacing_mm=list(study.spacing),
                 **{"hu_range" if study.is_ct else "value_range": [float(study.volume.min()), float(study.volume.max())]})
    if study.geometry is not None:
        d["geometry"] = study.geometry.describe()
    for k, v in study.meta.items():
        if k in PHI_KEYS:
            d[k] = v if show_phi else _mask_phi(v)
        elif isinstance(v, (str, int, float, bool)) or v is None or isinstance(v, list):
            d.setdefault(k, v)
    return d


def _value(v: Any) -> str:
    if isinstance(v, list) and all(isinstance(x, (int, float)) for x in v):
        return " × ".join(f"{x:.10g}" if isinstance(x, float) else str(x) for x in v)
    if isinstance(v, list):
        return "; ".join(str(x) for x in v)
    return str(v)


def format_description(d: dict[str, Any]) -> str:
    """Aligned ``key: value`` lines for the terminal (nested dicts as ``key.sub``; one warning a line)."""
    flat: list[tuple[str, Any]] = []
    for k, v in d.items():
        if isinstance(v, dict):
            flat += [(f"{k}.{kk}", vv) for kk, vv in v.items()]
        elif k == "warnings" and isinstance(v, list):
            flat += [("warning", w) for w in v]
        else:
            flat.append((k, v))
    width = max(len(k) for k, _ in flat)
    return "\n".join(f"{k:<{width}} : {_value(v)}" for k, v in flat)


def format_series(rows: list[dict[str, Any]]) -> str:
    """A table of the stacks in a DICOM input, as ``info`` prints it for a folder with several."""
    head = f"{'index':>5}  {'number':>6}  {'modality':<8}  {'kind':<8}  {'shape':<14}  {'plane':<9}  {'images':>6}  description"
    lines = [f"{len(rows)} series (open one with --series INDEX or UID):", head]
    for r in rows:
        shape = " × ".join(str(x) for x in r.get("shape", [])) or "-"
        desc = r["description"] + (f" [{r['label']}]" if r["label"] else "")
        if r.get("error"):
            desc += f" — {r['error']}"
        number = "" if r["number"] is None else r["number"]
        lines.append(f"{r['index']:>5}  {number:>6}  {r['modality']:<8}  {r['kind']:<8}  {shape:<14}  {r['plane']:<9}  "
                     f"{r['images']:>6}  {desc}")
        lines += [f"{'':>7}note: {n}" for n in r.get("notes", [])]
    return "\n".join(lines)
