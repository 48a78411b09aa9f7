"""``bench batch``: studies per minute with 1 and 2 local workers, and the per-study scheduling overhead.

Phantom cines (128², 20 frames, 8 coils; 64², 8 frames, 4 coils with ``quick``) are written
as files, then ``zero-filled`` and ``cs`` (R 8) run over them through
:func:`~mrstudio.batch.engine.run_batch` with the same ``LocalCluster`` a batch starts. The
cluster's start-up is timed apart and every worker first runs each method once on a small
study (imports: sigpy alone takes seconds; ``warm-up`` column);
throughput is studies / wall time of the batch. Overhead per study: the batch's
worker-seconds not spent inside tasks, ``(wall × workers − Σ task seconds) / studies``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..core.jobs import Progress, report
from .engine import run_batch, start_client
from .spec import BatchSpec
from .studies import find_studies


def _studies(folder: Path, n: int, quick: bool) -> list:
    from ..core.phantom import make_phantom
    from ..core.splits import TEST_SEED
    from ..io.native import write_cine

    size, frames, coils = (64, 8, 4) if quick else (128, 20, 8)
    for k in range(n):
        write_cine(make_phantom(size=size, frames=frames, coils=coils, seed=TEST_SEED + k), folder / f"p{k:02d}.h5")
    return find_studies([str(folder)])


def _warm(ref, method: str, out: str, dask_worker=None) -> float:
    """Run ``method`` once on ``ref`` in this worker (its imports and first-call costs); seconds."""
    from .task import run_task

    t0 = time.perf_counter()
    folder = Path(out) / str(getattr(dask_worker, "name", "local"))
    folder.mkdir(parents=True, exist_ok=True)
    run_task(ref, BatchSpec("recon", method, accel=8.0), str(folder), 1)
    return time.perf_counter() - t0


def _one(client, studies, method: str, workers: int, out: Path) -> dict[str, Any]:
    """One timed batch of ``method`` over ``studies`` on ``client``'s ``workers`` workers."""
    s = run_batch(studies, [BatchSpec("recon", method, accel=8.0)], out, client=client)
    busy = sum(r["seconds"] for r in s.records if r["status"] == "done")
    n = len(studies)
    return {"seconds": s.seconds, "done": s.done, "per_minute": 60 * n / s.seconds,
            "task_seconds": busy / max(s.done, 1), "overhead": max(0.0, (s.seconds * workers - busy) / n)}


def run_batch_bench(quick: bool = False, device: str = "cpu", progress: Progress | None = None) -> dict[str, Any]:
    """Both clusters are started first; then, ``rounds`` times, each method runs on 1 and on 2 workers
    in turn, so a slow spell of the machine falls on both; the medians over rounds are reported."""
    n, rounds = (4, 1) if quick else (8, 3)
    methods = ("zero-filled", "cs")
    with tempfile.TemporaryDirectory(prefix="mrstudio-bench-batch-") as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        studies = _studies(root / "data", n, quick)
        (root / "warm").mkdir()
        warm_ref = _studies(root / "warm", 1, True)[0]
        clusters: dict[int, tuple] = {}
        startup: dict[int, float] = {}
        warm: dict[tuple[str, int], float] = {}
        runs: dict[tuple[str, int], list[dict[str, Any]]] = {(m, w): [] for m in methods for w in (1, 2)}
        try:
            for workers in (1, 2):
                t0 = time.perf_counter()
                clusters[workers] = start_client(workers)[:2]
                startup[workers] = time.perf_counter() - t0
                for method in methods:
                    times = clusters[workers][0].run(_warm, warm_ref, method, str(root / f"warm-{workers}-{method}"))
                    warm[(method, workers)] = max(times.values())
            step, total = 0, rounds * len(runs)
            for k in range(rounds):
                for method in methods:
                    for workers in (1, 2):
                        r = _one(clusters[workers][0], studies, method, workers, root / f"{method}-{workers}-{k}")
                        runs[(method, workers)].append(r)
                        step += 1
                        report(progress, step / total, f"round {k + 1}: {method}, {workers} worker(s): "
                                                       f"{r['per_minute']:.1f}/min")
        finally:
            for client, cluster in clusters.values():
                client.close()
                cluster.close()
    rows = []
    for (method, workers), rs in runs.items():
        med = {key: float(np.median([r[key] for r in rs])) for key in ("seconds", "per_minute", "task_seconds", "overhead")}
        rows.append({"method": method, "workers": workers, "studies": n, "rounds": len(rs),
                     "done": min(r["done"] for r in rs), **med, "per_minute_all": [r["per_minute"] for r in rs],
                     "startup": startup[workers], "warm_up": warm[(method, workers)]})
    by = {(r["method"], r["workers"]): r for r in rows}
    speedup = {m: by[(m, 2)]["per_minute"] / by[(m, 1)]["per_minute"] for m in methods}
    per_round = {m: [b["per_minute"] / a["per_minute"] for a, b in zip(runs[(m, 1)], runs[(m, 2)])] for m in methods}
    size = "64², 8 frames, 4 coils" if quick else "128², 20 frames, 8 coils"
    lines = [f"{n} phantom cines ({size}), R 8 vd-kt, `LocalCluster` of single-threaded worker processes; "
             "cluster start-up and each worker's first run of the method (a 64² warm-up study: imports) timed "
             f"apart. Medians of {rounds} round(s), each running 1 then 2 workers; speed-up of the medians, "
             "each round's in brackets.", "",
             "| method | workers | studies / min | s / study (in task) | overhead / study | speed-up | start-up | warm-up |",
             "|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["workers"], methods.index(r["method"]))):
        sp = "1×"
        if r["workers"] == 2:
            sp = f"{speedup[r['method']]:.2f}× ({', '.join(f'{v:.2f}' for v in per_round[r['method']])})"
        lines.append(f"| {r['method']} | {r['workers']} | {r['per_minute']:.1f} | {r['task_seconds']:.2f} s | "
                     f"{1000 * r['overhead']:.0f} ms | {sp} | {r['startup']:.1f} s | {r['warm_up']:.1f} s |")
    return {"rows": rows, "speedup": speedup, "speedup_rounds": per_round, "markdown": "\n".join(lines) + "\n"}
