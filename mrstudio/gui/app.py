"""GUI entry point: ``mrstudio [--study PATH|phantom] [--device D] [--screenshot FILE.png]``."""

from __future__ import annotations

import os
import sys


def limit_blas_threads() -> None:
    """Fewer threads per job (set before numpy and torch load): the GUI runs its work as parallel jobs, and
    spinning BLAS/OpenMP threads, oversubscribed by a second job or another busy process, turn a 30 ms
    zero-filled recon or a 80 ms U-Net into seconds (measured on 2 cores). One BLAS thread per job, and half the
    cores for torch's intra-op pool; variables the user set win."""
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 2) // 2)))
    _set_loaded_openblas_threads(int(os.environ["OPENBLAS_NUM_THREADS"]))


def _set_loaded_openblas_threads(n: int) -> None:
    """The same for OpenBLAS copies already loaded (numpy's and scipy's wheels each bundle one; the command line's
    parser imports numpy before the GUI starts): call their ``…openblas_set_num_threads…`` (Linux)."""
    import ctypes

    try:
        with open("/proc/self/maps") as fh:
            libs = {line.split()[-1] for line in fh if "openblas" in line and ".so" in line}
    except OSError:
        return
    for lib in libs:
        try:
            handle = ctypes.CDLL(lib)
        except OSError:
            continue
        for name in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                     "openblas_set_num_threads64_", "openblas_set_num_threads"):
            func = getattr(handle, name, None)
            if func is not None:
                func(ctypes.c_int(n))
                break


def _preload(module: str) -> None:
    """Import ``module`` in a background thread (a later import waits for it instead of starting over)."""
    import importlib
    import threading

    def load() -> None:
        try:
            importlib.import_module(module)
        except ImportError:
            pass

    threading.Thread(target=load, name=f"preload {module}", daemon=True).start()


def make_app():
    """The QApplication (created once), with MR Studio's names and pyqtgraph's row-major images."""
    import pyqtgraph as pg
    from PySide6 import QtWidgets

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("MR Studio")
    app.setOrganizationName("mrstudio")
    return app


def run_gui(study: str = "phantom", screenshot: str | None = None, device: str = "auto",
            timeout_s: float = 600.0) -> int:
    """Start the app on ``study``.

    With ``screenshot``: run the default comparison (zero-filled, CS, CNN), wait for it,
    render the window to a PNG and exit (non-zero if a job failed or did not finish).
    """
    if screenshot and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    limit_blas_threads()
    from ..core.device import choose_device
    from ..io import open_study

    dev = choose_device(device)
    # a bad study fails here with a one-line CLI error; the phantom (made, never bad) is made while the window is
    # built, in a thread
    loaded = None if study == "phantom" else open_study(study)
    if loaded is None:
        from concurrent.futures import ThreadPoolExecutor

        making = ThreadPoolExecutor(1).submit(open_study, study)
    app = make_app()
    from .crash import install_excepthook
    from .main_window import MainWindow

    window = MainWindow(None, device=dev, restore_geometry=not screenshot)
    install_excepthook(lambda: window)
    window.show()
    if os.environ.get("MRSTUDIO_STARTUP_LOG"):  # bench gui's start-up figures
        from .bench_gui import startup_probe

        startup_probe(window, os.environ["MRSTUDIO_STARTUP_LOG"])
    app.processEvents()  # the window is on the screen before the study is made and the comparison starts
    _preload("torch")  # the learned methods' first job would import it (seconds); start now
    window.set_study(loaded if loaded is not None else making.result())
    if screenshot:
        from ..core.errors import StudyError

        finished = window.bridge.wait_all(timeout_s)
        for _ in range(10):
            app.processEvents()
        window.grid.reset_zoom()
        app.processEvents()
        ok = window.grab().save(screenshot)
        failed = [j for j in window.bridge.jobs.values() if j.status == "failed"]
        window.close()
        if not ok:
            raise StudyError(screenshot, "could not write the screenshot")
        if failed or not finished:
            raise StudyError(screenshot, "written, but " + (f"job {failed[0].title!r} failed: {failed[0].error}"
                                                            if failed else "the jobs did not finish in time"))
        return 0
    return app.exec()

