"""Exports shared by the CLI and the GUI: one provenance builder, one writer per kind of output.

A reconstruction goes to ``.h5``/``.npz`` (image, mask, provenance, geometry) or to a DICOM
MR series; an interpolated volume to a DICOM series of its modality, described by
:func:`~mrstudio.io.dicom_export.volume_description` in both front ends.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..core.jobs import CancelToken, Progress
from ..core.masks import MaskSpec, accel_effective
from ..core.study import CineStudy
from ..interp.pipeline import InterpResult
from ..recon.base import ReconResult


def recon_provenance(result: ReconResult, study: CineStudy, mask: MaskSpec | str, accel: float | None = None,
                     acs: int | None = None, seed: int | None = None) -> dict[str, Any]:
    """Method, parameters (mask included), model with its sha256, scores, reference, device, version, time."""
    from ..io.native import provenance

    if isinstance(mask, MaskSpec):
        kind, accel, acs, seed = mask.kind, mask.accel, mask.acs, mask.seed
    else:
        kind = mask
    params = {**{k: v for k, v in result.params.items() if not k.startswith("_")}, "mask": kind, "accel": accel,
              "accel_effective": round(accel_effective(result.mask), 4), "acs": acs, "seed": seed}
    scores = {k: v for k, v in (result.scores or {}).items() if not k.endswith("_frames")}
    return provenance(result.method, params, study=study.source, device=result.device, seconds=round(result.seconds, 4),
                      load_seconds=round(result.load_seconds, 4), scores=scores, reference=result.reference_kind,
                      **result.model)


def write_recon(result: ReconResult, study: CineStudy, target: str | Path, fmt: str, prov: dict[str, Any],
                force: bool = False, anonymize: bool = False, progress: Progress | None = None,
                cancel: CancelToken | None = None) -> Path:
    """``fmt`` ``"h5"``/``"npz"``: a result file; ``"dicom"``: an MR series in the folder ``target``."""
    if fmt == "dicom":
        from ..io.dicom_export import write_cine_dicom

        return write_cine_dicom(result.image, target, study=study, provenance=prov, force=force, anonymize=anonymize,
                                progress=progress, cancel=cancel)
    from ..io.native import write_result

    return write_result(target, result.image, result.mask, prov, force=force, study=study)


def write_interpolation(result: InterpResult, folder: str | Path, force: bool = False, anonymize: bool = False,
                        progress: Progress | None = None, cancel: CancelToken | None = None) -> Path:
    """An interpolated volume as a DICOM series of its modality, with the shared derivation text."""
    from ..io.dicom_export import volume_description, write_volume_dicom

    return write_volume_dicom(result.study, folder, description=volume_description(result.method, result.factor,
                                                                                     result.model),
                              force=force, anonymize=anonymize, progress=progress, cancel=cancel)


def series_folder(parent: str | Path, name: str) -> Path:
    """``parent/NAME`` with ``name`` made file-system safe (the GUI's export target for a series)."""
    return Path(parent) / (re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "series")
