"""``bench batch``: studies per minute with 1 and 2 local workers, and the per-study scheduling overhead.

Phantom cines (128², 20 frames, 8 coils; 64², 8 frames, 4 coils with ``quick``) are written
as files, then ``zero-filled`` and ``cs`` (R 8) run over them through
:func:`~mrstudio.batch.engine.run_batch` with the same ``LocalCluster`` a batch starts. The
cluster's start-up is timed apart and one warm-up task per worker is run first (imports);
throughput is studies / wall time of the batch. Overhead per study: the batch's
worker-seconds not spent inside tasks, ``(wall × workers − Σ task seconds) / studies``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

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


def run_batch_bench(quick: bool = False, device: str = "cpu", progress: Progress | None = None) -> dict[str, Any]:
    n = 4 if quick else 8
    methods = ("zero-filled", "cs")
    rows = []
    with tempfile.TemporaryDirectory(prefix="mrstudio-bench-batch-") as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        studies = _studies(root / "data", n, quick)
        step, total = 0, 2 * len(methods)
        for workers in (1, 2):
            t0 = time.perf_counter()
            client, cluster, _ = start_client(workers)
            startup = time.perf_counter() - t0
            try:
                warm = root / f"warm-{workers}"
                run_batch(studies[:workers], [BatchSpec("recon", "zero-filled", accel=8.0)], warm, client=client)
                for method in methods:
                    out = root / f"{method}-{workers}"
                    s = run_batch(studies, [BatchSpec("recon", method, accel=8.0)], out, client=client)
                    busy = sum(r["seconds"] for r in s.records if r["status"] == "done")
                    rows.append({"method": method, "workers": workers, "studies": n, "done": s.done,
                                 "seconds": s.seconds, "per_minute": 60 * n / s.seconds, "startup": startup,
                                 "task_seconds": busy / max(s.done, 1),
                                 "overhead": max(0.0, (s.seconds * workers - busy) / n)})
                    step += 1
                    report(progress, step / total, f"{method}, {workers} worker(s): {rows[-1]['per_minute']:.1f}/min")
            finally:
                client.close()
                cluster.close()
    by = {(r["method"], r["workers"]): r for r in rows}
    speedup = {m: by[(m, 2)]["per_minute"] / by[(m, 1)]["per_minute"] for m in methods}
    size = "64², 8 frames, 4 coils" if quick else "128², 20 frames, 8 coils"
    lines = [f"{n} phantom cines ({size}), R 8 vd-kt, `LocalCluster` of single-threaded worker processes; "
             "cluster start-up timed apart, one warm-up task per worker first.", "",
             "| method | workers | studies / min | s / study (in task) | overhead / study | speed-up | start-up |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        sp = f"{speedup[r['method']]:.2f}×" if r["workers"] == 2 else "1×"
        lines.append(f"| {r['method']} | {r['workers']} | {r['per_minute']:.1f} | {r['task_seconds']:.2f} s | "
                     f"{1000 * r['overhead']:.0f} ms | {sp} | {r['startup']:.1f} s |")
    return {"rows": rows, "speedup": speedup, "markdown": "\n".join(lines) + "\n"}
