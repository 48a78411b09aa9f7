"""``bench gui``: the live mask loop's latency, start-up times, and scrubbing (:mod:`.scrub_bench`).

**Live loop**: the window on the 128² × 20-frame phantom (8 coils) with the default
comparison; once it is computed, a ky line is painted (a click in the mask editor, what the
mouse does) and the clock runs until the zero-filled and U-Net panels show results for the
new mask, then until the unrolled network's does. A 5 ms timer on the GUI thread measures
the longest event-loop stall meanwhile. A drag (10 points at 60 Hz) is timed from its last
point.

**Start-up**: ``mrstudio --study phantom`` is launched as a new process with fresh settings;
:func:`startup_probe` (enabled by ``MRSTUDIO_STARTUP_LOG``) records when the window first
paints and when each layer's first result is shown, and quits when all are.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


# --- start-up ------------------------------------------------------------------------------------
def startup_probe(window, path: str) -> None:
    """Record the window's first paint and each layer's first result in ``path`` (JSON), then quit the app."""
    from PySide6 import QtCore, QtWidgets

    record: dict[str, Any] = {"filled": {}, "methods": {}}

    class _FirstPaint(QtCore.QObject):
        def eventFilter(self, obj, event):  # noqa: N802 (Qt naming)
            if event.type() == QtCore.QEvent.Type.Paint and "window" not in record:
                record["window"] = time.time()
            return False

    watcher = _FirstPaint(window)
    window.installEventFilter(watcher)

    def poll() -> None:
        ws = window.session
        if ws is None:
            return
        now = time.time()
        for spec in ws.layers:
            if spec.title in ws.results and spec.title not in record["filled"]:
                if spec.title in window.grid.panels:  # shown, not only computed
                    record["filled"][spec.title], record["methods"][spec.title] = now, spec.method
        if ws.layers and len(record["filled"]) == len(ws.layers) and not window.bridge.active():
            timer.stop()
            record["done"] = now
            Path(path).write_text(json.dumps(record))
            QtWidgets.QApplication.quit()

    timer = QtCore.QTimer(window)
    timer.setInterval(10)
    timer.timeout.connect(poll)
    timer.start()


def run_startup(runs: int = 3, timeout_s: float = 600.0) -> list[dict[str, float]]:
    """Launch the GUI ``runs`` times; seconds from launch to the window and to each method's panel."""
    out = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "startup.json"
            env = {**os.environ, "MRSTUDIO_STARTUP_LOG": str(log), "XDG_CONFIG_HOME": tmp,
                   "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
            t0 = time.time()
            subprocess.run([sys.executable, "-m", "mrstudio", "--study", "phantom"], env=env, timeout=timeout_s,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            rec = json.loads(log.read_text())
        row = {"window": rec["window"] - t0}
        for title, t in rec["filled"].items():
            row[rec["methods"][title]] = max(row.get(rec["methods"][title], 0.0), t - t0)
        out.append(row)
    return out


# --- the live loop -------------------------------------------------------------------------------------
def _wait(app, until, timeout_s: float, gaps: list[float]) -> float:
    """Process events until ``until()``; the seconds it took (``nan`` on timeout). Event-loop gaps go to ``gaps``."""
    from PySide6 import QtCore

    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QtCore.QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()
    t0 = time.perf_counter()
    try:
        while not until():
            if time.perf_counter() - t0 > timeout_s:
                return float("nan")
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 5)
            time.sleep(0.001)
        return time.perf_counter() - t0
    finally:
        timer.stop()


def run_live(quick: bool = False, device: str = "cpu", progress=None) -> dict[str, Any]:
    """Latency of the live loop (see the module docstring) on the 128² × 20-frame phantom."""
    import numpy as np
    from PySide6 import QtCore

    from ..io import open_study
    from .app import make_app
    from .main_window import MainWindow

    app = make_app()
    with tempfile.TemporaryDirectory() as tmp:
        settings = QtCore.QSettings(str(Path(tmp) / "bench.ini"), QtCore.QSettings.Format.IniFormat)
        win = MainWindow(None, device=device, settings=settings, restore_geometry=False)
        win.resize(1600, 1000)
        win.methods.cs_iters.setValue(20)  # CS is stale while painting; fewer iterations only shorten the set-up
        win.show()
        win.set_study(open_study("phantom"))
        if not win.bridge.wait_all(900):
            raise RuntimeError("the default comparison did not finish")
        ws, ed = win.session, win.mask_editor
        quick_titles = [s.title for s in ws.layers if s.quick]
        other_titles = [s.title for s in ws.layers if s.live and not s.quick]

        def shown(titles):
            return lambda: (all(ws.status(t) == "fresh" for t in titles) and not win.cine._refresh_due
                            and all("updating" not in win.grid.titles.get(t, "updating") for t in titles))

        rng = np.random.default_rng(0)
        rows: list[dict[str, Any]] = []
        n = 4 if quick else 12
        for i in range(n):
            drag = i % 2 == 1
            t = int(i % ws.study.frames)
            free = np.flatnonzero(~ed.mask[t])
            ky = int(rng.choice(free[np.abs(free - ed.ny // 2) < ed.ny // 4]))
            gaps: list[float] = []
            if drag:  # ten points at 60 Hz along the frames, timed from the last one
                ed._stroke("begin", t, ky, False)
                for j in range(1, 10):
                    _wait(app, lambda: False, 1 / 60, gaps)
                    ed._stroke("move", (t + j) % ws.study.frames, ky, False)
                ed._stroke("end", t, ky, False)
            else:
                ed._stroke("begin", t, ky, False)
                ed._stroke("end", t, ky, False)
            t_quick = _wait(app, shown(quick_titles), 120, gaps)
            t_all = t_quick + _wait(app, shown(other_titles), 300, gaps)
            _wait(app, lambda: not win.bridge.active(), 300, gaps)
            rows.append({"gesture": "drag" if drag else "click", "quick": t_quick, "all": t_all,
                         "stall": max(gaps) if gaps else float("nan")})
            if progress:
                progress((i + 1) / n, f"stroke {i + 1}/{n}")
        win.close()
    return {"strokes": rows, "quick_titles": quick_titles, "other_titles": other_titles}


# --- the report -------------------------------------------------------------------------------------------
def _ms(values: list[float]) -> str:
    return f"{1000 * statistics.median(values):.0f}" if values else "—"


def run_gui_bench(quick: bool = False, device: str = "cpu", progress=None, **_: Any) -> dict[str, Any]:
    """Live-loop latency, start-up times and scrubbing; ``markdown`` is the report's body."""
    from .app import limit_blas_threads

    limit_blas_threads()  # as the GUI does (effective if numpy and torch are not loaded yet)
    from .scrub_bench import run_scrub

    load_before = os.getloadavg()[0]
    live = run_live(quick, device, progress)
    startup = run_startup(1 if quick else 3)
    scrub = run_scrub(quick, device)
    md = [f"Load average (1 min) before the run: {load_before:.2f} on {os.cpu_count()} cores (near 0 on an idle "
          "machine: a higher one means other work shared the CPU).", "", "### Live mask loop", "",
          "Phantom 128² × 20 frames × 8 coils, the default comparison (reference, zero-filled, CS, the l2 U-Net that "
          "follows R, the unrolled network). A painted ky line (a click; or a drag of 10 points at 60 Hz, timed "
          "from its last point) until the panels show results for the new mask; CS stays stale. "
          f"Quick panels: {', '.join(live['quick_titles'])}; then: {', '.join(live['other_titles']) or '—'}.", "",
          "| gesture | strokes | zero-filled + U-Net shown, median (max) ms | all live panels, median ms | "
          "longest event-loop stall per stroke, median (max) ms |", "|---|---|---|---|---|"]
    for gesture in ("click", "drag"):
        rs = [r for r in live["strokes"] if r["gesture"] == gesture]
        if rs:
            md.append(f"| {gesture} | {len(rs)} | {_ms([r['quick'] for r in rs])} "
                      f"({1000 * max(r['quick'] for r in rs):.0f}) | {_ms([r['all'] for r in rs])} | "
                      f"{_ms([r['stall'] for r in rs])} ({1000 * max(r['stall'] for r in rs):.0f}) |")
    methods = sorted({k for row in startup for k in row if k != "window"})
    md += ["", "### Start-up", "",
           "`mrstudio --study phantom` launched with fresh settings: seconds from launch to the window's first paint "
           "and to each method's first panel (median of the runs).", "",
           "| runs | window | " + " | ".join(methods) + " |", "|---|---|" + "---|" * len(methods),
           f"| {len(startup)} | {statistics.median(r['window'] for r in startup):.2f} | "
           + " | ".join(f"{statistics.median(r[m] for r in startup if m in r):.2f}" for m in methods) + " |",
           "", "### Scrubbing", "", scrub["markdown"]]
    return {"live": live, "startup": startup, "scrub": scrub["rows"], "load_before": load_before, "markdown": "\n".join(md)}
