"""Running a batch with Dask distributed: an embedded ``LocalCluster`` or an existing scheduler.

One task per (study, method) (:func:`~.task.run_task`), submitted to the cluster; records are
appended to the manifest by this (client) process as tasks finish, so the manifest has one
writer. A worker that dies while it holds a task (killed, out of memory) is replaced by its
nanny and the scheduler runs the task again elsewhere; a task that kills
``distributed.scheduler.allowed-failures`` workers becomes a failed record. Outputs are
written atomically (temporary name, then rename), so nothing partial sits under a final
name; temporaries left by a killed worker are removed when the batch ends.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..core.errors import ParameterError, StudyError
from ..core.jobs import Cancelled, CancelToken, Progress, check, report
from .manifest import MANIFEST, ManifestWriter, finished_tasks, latest, read_manifest, task_key
from .report import REPORT, summarise, write_report
from .spec import BatchSpec
from .studies import StudyRef


@dataclass
class BatchSummary:
    """What ``mrstudio batch --json`` prints."""

    studies: int
    done: int
    failed: int
    skipped: int
    seconds: float
    workers: int
    manifest: str
    report: str
    dashboard: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"studies": self.studies, "done": self.done, "failed": self.failed, "skipped": self.skipped,
                "seconds": round(self.seconds, 3), "workers": self.workers, "manifest": self.manifest,
                "report": self.report, "dashboard": self.dashboard}


def _require_dask():
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise StudyError("batch", "needs Dask distributed: pip install 'mrstudio[cluster]'") from None


def _gpus() -> int:
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except ImportError:
        return 0


# What each local worker process is started with: one thread per BLAS/OpenMP pool (the workers
# share the cores), and glibc's own adaptive malloc instead of Dask's ``MALLOC_TRIM_THRESHOLD_``
# (65536): a fixed trim threshold turns off glibc's dynamic mmap threshold, so every large array
# of an iterative method is mmapped, page-faulted and unmapped again; CS ran 1.6× slower with it.
WORKER_ENV = {"MALLOC_TRIM_THRESHOLD_": None, "OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}
# And no statistical profiler sampling every worker's stack each 10 ms: with as many workers as
# cores there is no idle core for it, so it is taken from the reconstructions.
LOCAL_CONFIG = {"distributed.nanny.pre-spawn-environ": WORKER_ENV, "distributed.worker.profile.enabled": False}


def start_client(workers: int | None = None, scheduler: str | None = None, gpu: bool = False):
    """``(client, cluster or None, dashboard link or None)``: a client of ``scheduler``, or of a new
    ``LocalCluster`` of ``workers`` single-threaded worker processes (default: the machine's cores),
    advertising a ``GPU`` resource when ``gpu``. The dashboard needs bokeh."""
    _require_dask()
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ParameterError("scheduler", f"{scheduler}: cannot connect ({type(exc).__name__}: {exc})") from None
        return client, None, client.dashboard_link
    n = workers or os.cpu_count() or 1
    try:
        import bokeh  # noqa: F401

        dashboard: str | None = "127.0.0.1:0"
    except ImportError:
        dashboard = None
    import dask

    with dask.config.set(LOCAL_CONFIG):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=dashboard,
                               silence_logs=logging.ERROR, resources={"GPU": 1} if gpu else None,
                               host="127.0.0.1", worker_dashboard_address=None)
    client = Client(cluster)
    return client, cluster, client.dashboard_link if dashboard else None


def cluster_has_gpu(client) -> bool:
    """Whether any worker of the cluster advertises a ``GPU`` resource."""
    workers = client.scheduler_info().get("workers", {})
    return any(w.get("resources", {}).get("GPU", 0) > 0 for w in workers.values())


def _clean_partials(out: Path, names: list[str]) -> None:
    """Remove the temporaries (``.NAME.*.part*``) a killed worker may have left for these outputs."""
    for name in names:
        for p in out.glob(f".{name}.*.part*"):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def _lost_record(ref: StudyRef, spec: BatchSpec, exc: BaseException) -> dict[str, Any]:
    from distributed import KilledWorker

    why = ("its workers died each time they ran it (out of memory or killed)" if isinstance(exc, KilledWorker)
           else f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
    return {"study": ref.path, "name": ref.name, "command": spec.command, "method": spec.method, "label": spec.title,
            "params_hash": spec.params_hash(), "worker": None, "status": "failed", "output": None, "metrics": {},
            "error": f"internal error: {why}", "seconds": None}


def run_batch(studies: list[StudyRef], specs: list[BatchSpec], out: str | Path, *, workers: int | None = None,
              scheduler: str | None = None, resume: bool = False, retry_failed: bool = False, client=None,
              progress: Progress | None = None, cancel: CancelToken | None = None, on_client=None) -> BatchSummary:
    """Run every spec on every study into the folder ``out`` (created), with a manifest and a report.

    ``resume`` skips tasks already done with the same parameters hash whose output is still there,
    and those that failed unless ``retry_failed``; without it, a folder that already holds a
    manifest is refused (:class:`StudyError`). ``client`` reuses a Dask client (the benchmark);
    ``on_client(client)`` is called once the cluster is up.
    """
    out = Path(out)
    manifest_path = out / MANIFEST
    if manifest_path.exists() and not resume:
        raise StudyError(out, "already holds a batch (manifest.jsonl): resume it or choose another folder",
                         cli_hint="use --resume to continue it, or another --out folder")
    if not out.parent.exists():
        raise StudyError(out, f"folder {out.parent} does not exist")
    out.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    before = read_manifest(manifest_path)
    finished = finished_tasks(before, out, retry_failed)
    tasks = [(ref, spec) for spec in specs for ref in studies]
    todo = [(ref, spec) for ref, spec in tasks if (ref.path, spec.method, spec.params_hash()) not in finished]
    skipped = len(tasks) - len(todo)
    report(progress, 0.0, f"{len(todo)} tasks to run, {skipped} already done")
    own, cluster, dashboard = client is None, None, None
    n_workers = 0
    new: list[dict[str, Any]] = []
    try:
        if todo:
            _require_dask()
            from distributed import wait

            from ..interp import get_interp
            from ..recon import get_method

            # a local cluster on a GPU machine: its workers share the GPU; several GPUs: one worker per GPU of a
            # user's cluster, each with CUDA_VISIBLE_DEVICES and --resources GPU=1 (README)
            gpu_local = any(s.device.startswith("cuda") for s in specs) and scheduler is None and _gpus() > 0
            if own:
                client, cluster, dashboard = start_client(workers, scheduler, gpu=gpu_local)
            if on_client is not None:
                on_client(client)
            n_workers = len(client.scheduler_info().get("workers", {}))
            gpu = cluster_has_gpu(client)
            threads = 1 if cluster is not None or not own else None  # a user's cluster keeps its own threads
            futures = {}
            for ref, spec in todo:
                info = (get_method if spec.command == "recon" else get_interp)(spec.method)
                wants_gpu = gpu and info.uses_torch and spec.device != "cpu"
                run_spec = replace(spec, device="cuda" if wants_gpu else "cpu") if spec.device == "auto" else spec
                fut = client.submit(_run, ref, run_spec, str(out), threads, pure=False,
                                    key=f"{spec.title}-{ref.name}-{spec.params_hash()[:8]}-{os.urandom(3).hex()}",
                                    resources={"GPU": 1} if wants_gpu else None)
                futures[fut] = (ref, spec)
            pending = set(futures)
            with ManifestWriter(manifest_path) as writer:
                while pending:
                    try:
                        check(cancel)
                    except Cancelled:
                        client.cancel(list(pending))
                        raise
                    try:
                        done, pending = wait(pending, timeout=0.5, return_when="FIRST_COMPLETED")
                    except TimeoutError:
                        continue
                    for fut in done:
                        ref, spec = futures[fut]
                        try:
                            rec = fut.result()
                        except Exception as exc:  # the worker died too often, or the cluster lost the task
                            rec = _lost_record(ref, spec, exc)
                        new.append(writer.append(rec))
                        report(progress, len(new) / len(todo), f"{len(new)}/{len(todo)} · {ref.name} · {spec.title}: "
                                                               f"{rec['status']}")
    finally:
        if own and client is not None:
            client.close()
            if cluster is not None:
                cluster.close()
        _clean_partials(out, [s.output_name(r.name) or "" for r, s in tasks if s.output_name(r.name)])
    records = list(latest(before + new).values())
    wanted = {(r.path, s.method, s.params_hash()) for r, s in tasks}
    mine = [r for r in records if task_key(r) in wanted]
    write_report(summarise(mine), out / REPORT)
    return BatchSummary(studies=len(studies), done=sum(r["status"] == "done" for r in new),
                        failed=sum(r["status"] == "failed" for r in new), skipped=skipped,
                        seconds=time.perf_counter() - t0, workers=n_workers, manifest=str(manifest_path),
                        report=str(out / REPORT), dashboard=dashboard, records=mine)


def _run(ref: StudyRef, spec: BatchSpec, out: str, threads: int | None) -> dict[str, Any]:
    from .task import run_task

    return run_task(ref, spec, out, threads)
