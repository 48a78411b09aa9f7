"""mrstudio.batch: finding studies, the manifest, the report, the task, and batches on a real Dask LocalCluster."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from mrstudio.batch.manifest import ManifestWriter, finished_tasks, read_manifest
from mrstudio.batch.report import failure_reason, summarise
from mrstudio.batch.spec import BatchSpec
from mrstudio.batch.studies import StudyRef, find_studies
from mrstudio.batch.task import run_task
from mrstudio.cli import main
from mrstudio.core.errors import StudyError

pytest.importorskip("distributed")


def _phantoms(folder: Path, n: int, size: int = 32, frames: int = 4, coils: int = 2) -> list[Path]:
    from mrstudio.core.phantom import make_phantom
    from mrstudio.io.native import write_cine

    folder.mkdir(parents=True, exist_ok=True)
    return [write_cine(make_phantom(size=size, frames=frames, coils=coils, seed=k), folder / f"cine{k}.h5")
            for k in range(n)]


def test_find_studies_walks_folders_globs_and_csv(tmp_path):
    _phantoms(tmp_path / "a" / "deep", 2)
    _phantoms(tmp_path / "b", 1)
    (tmp_path / "b" / "notes.txt").write_text("not a study")
    (tmp_path / "b" / "junk.bin").write_bytes(b"\0" * 10)  # no DICOM here: kept, to fail with a reason
    dcm = tmp_path / "dicom"
    assert main(["recon", "--study", "phantom", "--size", "32", "--frames", "4", "--coils", "2", "--method",
                 "zero-filled", "--accel", "4", "--out", str(dcm), "--format", "dicom"]) == 0
    found = find_studies([str(tmp_path)])
    paths = {Path(s.path).relative_to(tmp_path).as_posix() for s in found}
    assert paths == {"a/deep/cine0.h5", "a/deep/cine1.h5", "b/cine0.h5", "b/junk.bin", "dicom"}
    names = [s.name for s in found]
    assert len(set(names)) == len(names) and "a__deep__cine0" in names and "b__cine0" in names
    assert [s.path for s in find_studies([str(tmp_path / "a" / "**" / "*.h5")])] == \
        [str(tmp_path / "a" / "deep" / f"cine{k}.h5") for k in range(2)]
    csv = tmp_path / "list.csv"
    csv.write_text("study,reference,name\nb/cine0.h5,a/deep/cine0.h5,first\nphantom,,\n")
    rows = find_studies([str(csv)])
    assert rows == [StudyRef(str(tmp_path / "b" / "cine0.h5"), "first", str(tmp_path / "a" / "deep" / "cine0.h5")),
                    StudyRef("phantom", "phantom", None)]
    with pytest.raises(StudyError, match="no such file"):
        find_studies([str(tmp_path / "missing")])


def test_manifest_ignores_a_torn_line_and_resume_rules(tmp_path):
    path = tmp_path / "manifest.jsonl"
    rec = {"study": "s", "method": "cs", "params_hash": "h", "status": "done", "output": "s.cs.h5"}
    with ManifestWriter(path) as w:
        w.append(rec)
    with open(path, "a") as fh:
        fh.write('{"study": "t", "meth')  # a crash while writing
    with ManifestWriter(path) as w:
        w.append({**rec, "study": "u", "status": "failed", "output": None})
    recs = read_manifest(path)
    assert [r["study"] for r in recs] == ["s", "u"]
    assert set(finished_tasks(recs, tmp_path)) == {("u", "cs", "h")}  # s's output is gone: redo it
    (tmp_path / "s.cs.h5").write_bytes(b"x")
    assert set(finished_tasks(recs, tmp_path)) == {("s", "cs", "h"), ("u", "cs", "h")}
    assert set(finished_tasks(recs, tmp_path, retry_failed=True)) == {("s", "cs", "h")}


def test_report_means_sd_and_failures_by_reason():
    recs = [{"method": "cs", "status": "done", "metrics": {"psnr": p, "ssim": 0.9}, "seconds": 1.0} for p in (30, 32)]
    recs += [{"method": "cs", "status": "failed", "error": f"/data/{k}.h5: file is empty"} for k in range(2)]
    rows = summarise(recs)
    assert rows[0]["count"] == 2 and rows[0]["psnr_mean"] == 31.0 and rows[0]["psnr_sd"] == pytest.approx(np.sqrt(2), abs=1e-4)
    assert rows[1] == {"kind": "failure", "method": "cs", "reason": "file is empty", "count": 2}
    assert failure_reason("internal error: X: y") == "internal error: X: y"


def test_spec_hash_follows_what_decides_the_output():
    a = BatchSpec("recon", "cs", accel=8.0)
    assert a.params_hash() == BatchSpec("recon", "cs", accel=8.0, device="cuda").params_hash()
    assert a.params_hash() != BatchSpec("recon", "cs", accel=8.0, params={"lam": 0.01}).params_hash()
    assert a.output_name("x") == "x.cs.h5" and BatchSpec("interp", "linear", holdout=True).output_name("x") is None


def test_task_scores_writes_and_turns_bad_studies_into_records(tmp_path):
    (p,) = _phantoms(tmp_path / "in", 1)
    rec = run_task(StudyRef(str(p), "c"), BatchSpec("recon", "zero-filled", accel=4.0), str(tmp_path))
    assert rec["status"] == "done" and rec["output"] == "c.zero-filled.h5" and rec["metrics"]["psnr"] > 10
    from mrstudio.io import open_study

    assert open_study(tmp_path / "c.zero-filled.h5").frames == 4
    bad = run_task(StudyRef(str(tmp_path / "in"), "d"), BatchSpec("recon", "zero-filled", accel=4.0), str(tmp_path))
    assert bad["status"] == "failed" and "no DICOM files" in bad["error"]
    vol = run_task(StudyRef("ct-phantom", "ct"), BatchSpec("interp", "linear", factor=3, holdout=True), str(tmp_path))
    assert vol["status"] == "done" and vol["output"] is None and vol["metrics"]["psnr"] > 20
    wrong = run_task(StudyRef("ct-phantom", "ct"), BatchSpec("recon", "zero-filled", accel=4.0), str(tmp_path))
    assert wrong["status"] == "failed" and "batch interp" in wrong["error"]


def test_batch_recon_on_a_local_cluster_then_resume(tmp_path, capsys):
    data = tmp_path / "data"
    _phantoms(data, 8)
    (data / "corrupt.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + os.urandom(300))
    (data / "empty.npz").write_bytes(b"")
    out = tmp_path / "out"
    args = ["batch", "recon", "--studies", str(data), "--method", "zero-filled", "--accel", "4", "--out", str(out),
            "--workers", "2", "--json"]
    assert main(args) == 0
    s = json.loads(capsys.readouterr().out)
    assert (s["studies"], s["done"], s["failed"], s["skipped"], s["workers"]) == (10, 8, 2, 0, 2)
    outputs = sorted(out.glob("*.h5"))
    assert len(outputs) == 8 and not list(out.glob(".*"))
    recs = read_manifest(out / "manifest.jsonl")
    failed = {Path(r["study"]).name: r["error"] for r in recs if r["status"] == "failed"}
    assert set(failed) == {"corrupt.h5", "empty.npz"} and "file is empty" in failed["empty.npz"]
    assert all(r["worker"] is not None and r["seconds"] > 0 for r in recs)
    report = (out / "report.csv").read_text().splitlines()
    assert report[0].startswith("kind,method,reason,count,psnr_mean")
    assert report[1].startswith("method,zero-filled,,8,") and sum(line.startswith("failure,") for line in report) == 2
    mtimes = [p.stat().st_mtime_ns for p in outputs]
    assert main(args[:-1] + ["--resume", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["done"], again["failed"], again["skipped"]) == (0, 0, 10)
    assert [p.stat().st_mtime_ns for p in outputs] == mtimes and len(read_manifest(out / "manifest.jsonl")) == 10
    assert main(args) == 2 and "use --resume" in capsys.readouterr().err


def test_a_killed_worker_loses_nothing(tmp_path):
    """A worker process killed while it holds a task: the task runs again elsewhere, once, no partial file."""
    from mrstudio.batch.engine import run_batch

    studies = find_studies([str(p) for p in _phantoms(tmp_path / "data", 6, size=64, frames=8, coils=4)])
    killed: list[str] = []

    def kill_a_busy_worker(client) -> None:
        def run() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not killed:
                busy = [w for w, keys in client.processing().items() if keys]
                if busy:
                    pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(busy[0])
                time.sleep(0.02)

        threading.Thread(target=run, daemon=True).start()

    s = run_batch(studies, [BatchSpec("recon", "cs", accel=6.0, params={"iters": 20})], tmp_path / "out", workers=2,
                  on_client=kill_a_busy_worker)
    assert killed, "no worker was killed"
    recs = read_manifest(tmp_path / "out" / "manifest.jsonl")
    assert s.done == 6 and s.failed == 0 and len(recs) == 6 and {r["status"] for r in recs} == {"done"}
    assert sorted(r["name"] for r in recs) == sorted(st.name for st in studies)
    assert len(list((tmp_path / "out").glob("*.cs.h5"))) == 6 and not list((tmp_path / "out").glob(".*"))


def test_local_workers_keep_glibc_malloc_and_do_not_profile():
    """Dask's fixed MALLOC_TRIM_THRESHOLD_ and its 10 ms stack sampler slowed CS on busy cores (bench batch)."""
    import dask

    from mrstudio.batch.engine import start_client

    client, cluster, _ = start_client(1)
    try:
        env = client.run(lambda: (os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("OMP_NUM_THREADS"),
                                  dask.config.get("distributed.worker.profile.enabled")))
    finally:
        client.close()
        cluster.close()
    assert list(env.values()) == [(None, "1", False)]


def test_a_task_keeps_the_numerics_of_its_method_to_the_worker_threads(tmp_path, monkeypatch):
    """With as many workers as cores, each task's torch (cs, the networks) and scipy.fft must use one thread."""
    import scipy.fft
    import torch

    from mrstudio.core.device import cpu_threads, set_cpu_threads
    from mrstudio.core.fft import fftc
    from mrstudio.core.phantom import make_phantom
    from mrstudio.io.native import write_cine

    calls: list = []
    fft = scipy.fft.fft
    monkeypatch.setattr(scipy.fft, "fft", lambda *a, **kw: calls.append(kw["workers"]) or fft(*a, **kw))
    p = write_cine(make_phantom(size=32, frames=4, coils=2, seed=0), tmp_path / "c.h5")
    threads = torch.get_num_threads()
    try:
        set_cpu_threads(None)
        assert cpu_threads() == os.cpu_count()
        assert run_task(StudyRef(str(p), "c"), BatchSpec("recon", "cs", accel=4.0, params={"iters": 2}),
                        str(tmp_path))["status"] == "done"
        assert cpu_threads() == 1 and torch.get_num_threads() == 1
        fftc(np.zeros((4, 32, 32), np.complex64))
        assert calls == [1]
    finally:
        set_cpu_threads(None)
        torch.set_num_threads(threads)


def test_bench_batch_quick(tmp_path, capsys):
    out = tmp_path / "batch.md"
    assert main(["bench", "batch", "--quick", "--out", str(out), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    rows = {(r["method"], r["workers"]): r for r in res["rows"]}
    assert set(rows) == {(m, w) for m in ("zero-filled", "cs") for w in (1, 2)}
    assert all(r["done"] == r["studies"] == 4 and r["per_minute"] > 0 and r["warm_up"] > 0 for r in rows.values())
    assert set(res["speedup"]) == {"zero-filled", "cs"} and all(v > 0 for v in res["speedup"].values())
    text = out.read_text()
    assert "Command: `" in text and "| cs | 2 |" in text and "warm-up" in text


def test_batch_cli_errors_are_one_line(tmp_path, capsys):
    _phantoms(tmp_path / "d", 1)
    base = ["batch", "recon", "--studies", str(tmp_path / "d"), "--out", str(tmp_path / "o")]
    for extra, what in ((["--method", "nope"], "unknown method 'nope'"), (["--method", "cs", "--workers", "0"], "--workers"),
                        (["--method", "cs", "--format", "xyz"], "--format"),
                        (["--method", "cs", "--studies", str(tmp_path / "none")], "no such file")):
        assert main(base + extra) == 2
        err = capsys.readouterr().err
        assert err.startswith("mrstudio: error:") and what in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_mrstudio_imports_without_dask():
    """Dask is an optional extra: without it the CLI and the batch package import, and a batch says what to install."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['distributed'] = None; sys.modules['dask'] = None\n"
            "import mrstudio.cli, mrstudio.batch.engine, mrstudio.gui.batch_dialog\n"
            "from mrstudio.cli import main\n"
            "raise SystemExit(main(['batch', 'recon', '--studies', 'phantom', '--method', 'zero-filled', '--accel', '4',"
            " '--out', sys.argv[1]]))\n")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.run([sys.executable, "-c", code, f"{tmp}/out"], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert p.returncode == 2 and "pip install 'mrstudio[cluster]'" in p.stderr, p.stderr
