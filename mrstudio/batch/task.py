"""The one task of a batch: open a study, run one method, score it, write the output atomically.

:func:`run_task` never raises for a bad study: it returns a failed record with the reader's
one-line reason, so one bad file never stops a batch. It goes through the same run path as
``mrstudio recon``/``interp`` (:func:`~mrstudio.recon.pipeline.run_recon`,
:func:`~mrstudio.interp.pipeline.interpolate`/``holdout``) and the same writers
(:mod:`mrstudio.workspace.export`). Models are loaded once per worker process (the methods'
loaders are cached).
"""

from __future__ import annotations

import math
import os
import socket
import time
from pathlib import Path
from typing import Any

from ..core.device import set_cpu_threads
from ..core.errors import StudyError
from .spec import BatchSpec
from .studies import StudyRef


def _finite(x: Any) -> float | None:
    return round(float(x), 6) if isinstance(x, (int, float)) and math.isfinite(x) else None


def worker_name() -> str:
    """The Dask worker's name when run by one, else ``host:pid``."""
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


def _local(path: str) -> str:
    """A ``pacs://NODE/SERIES_UID`` study retrieved into the cache (once per series); other paths unchanged."""
    if not path.startswith("pacs://"):
        return path
    from ..pacs.client import resolve_study

    try:
        return resolve_study(path)
    except StudyError:  # another task of the same series may have filled the cache meanwhile
        return resolve_study(path)


def _recon(study_ref: StudyRef, spec: BatchSpec, out_dir: Path) -> tuple[dict[str, Any], str | None]:
    from ..core.masks import MaskSpec
    from ..core.study import CineStudy
    from ..io import open_study
    from ..recon.pipeline import resolve_mask, run_recon
    from ..recon.reference import reference_image
    from ..workspace.export import recon_provenance, write_recon

    study = open_study(_local(study_ref.path))
    if not isinstance(study, CineStudy):
        raise StudyError(study_ref.path, "is a volume, not a cine; use 'batch interp'")
    own = spec.accel is None and not spec.mask.endswith(".npy")  # no R given: the study's own sampling
    mask = resolve_mask(study, None if own else spec.mask, spec.accel, spec.acs, spec.seed)
    reference = None
    if study_ref.reference:
        ref_study = open_study(study_ref.reference)
        if not isinstance(ref_study, CineStudy) or ref_study.matrix != study.matrix or ref_study.frames != study.frames:
            raise StudyError(study_ref.reference, f"reference does not match the study's (T, Ny, Nx) "
                                                  f"{(study.frames, *study.matrix)}")
        reference = reference_image(ref_study, device=spec.device)
    evaluate = reference is not None or study.reference is not None or study.fully_sampled
    result = run_recon(study, mask, spec.method, device=spec.device, reference=reference, evaluate=evaluate,
                       **spec.method_params())
    metrics = {"psnr": None, "ssim": None, "nmse": None}
    if result.scores:
        metrics = {k: _finite(result.scores[k]) for k in ("psnr", "ssim", "nmse")}
    metrics.update(seconds_method=round(result.seconds, 4), reference=result.reference_kind)
    name = spec.output_name(study_ref.name)
    target = out_dir / name
    mask_spec = MaskSpec(kind=spec.mask, accel=spec.accel, acs=spec.acs, seed=spec.seed) if spec.accel else spec.mask
    prov = recon_provenance(result, study, mask_spec)
    prov["batch"] = {"params_hash": spec.params_hash(), "study": study_ref.path}
    write_recon(result, study, target, spec.fmt, prov, force=True, anonymize=spec.anonymize)
    return metrics, name


def _interp(study_ref: StudyRef, spec: BatchSpec, out_dir: Path) -> tuple[dict[str, Any], str | None]:
    from ..core.study import VolumeStudy
    from ..interp.pipeline import holdout, interpolate
    from ..io import open_study
    from ..workspace.export import write_interpolation

    study = open_study(_local(study_ref.path))
    if not isinstance(study, VolumeStudy):
        raise StudyError(study_ref.path, "is a cine, not a volume; use 'batch recon'")
    if spec.holdout:
        r = holdout(study, spec.method, gap=spec.factor, device=spec.device, **spec.method_params())
        return {"psnr": _finite(r["psnr"]), "ssim": _finite(r["ssim"]), "rmse": _finite(r["rmse"]),
                "rmse_units": r["rmse_units"], "seconds_method": round(r["seconds"], 4)}, None
    res = interpolate(study, spec.method, spec.factor, device=spec.device, **spec.method_params())
    name = spec.output_name(study_ref.name)
    write_interpolation(res, out_dir / name, force=True, anonymize=spec.anonymize)
    return {"slices_in": study.shape[0], "slices_out": res.study.shape[0], "seconds_method": round(res.seconds, 4)}, name


def run_task(study_ref: StudyRef, spec: BatchSpec, out_dir: str, threads: int | None = 1) -> dict[str, Any]:
    """Run ``spec`` on one study; return its manifest record (``status`` ``done`` or ``failed``)."""
    set_cpu_threads(threads)
    t0 = time.perf_counter()
    record: dict[str, Any] = {"study": study_ref.path, "name": study_ref.name, "command": spec.command,
                              "method": spec.method, "label": spec.title, "params_hash": spec.params_hash(),
                              "worker": worker_name()}
    try:
        metrics, output = (_recon if spec.command == "recon" else _interp)(study_ref, spec, Path(out_dir))
        record.update(status="done", output=output, metrics=metrics, error=None)
    except StudyError as exc:
        record.update(status="failed", output=None, metrics={}, error=f"{exc.source}: {exc.reason}")
    except MemoryError:
        record.update(status="failed", output=None, metrics={}, error=f"{study_ref.path}: out of memory")
    except Exception as exc:  # an internal failure of one study still must not stop the batch
        text = " ".join(str(exc).split())[:300]
        record.update(status="failed", output=None, metrics={}, error=f"internal error: {type(exc).__name__}: {text}")
    set_cpu_threads(threads)  # a method may have changed torch's
    record["seconds"] = round(time.perf_counter() - t0, 4)
    return record
