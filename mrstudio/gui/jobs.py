"""The GUI's one job layer: background work with progress, cancel and errors.

Built on superqt's ``create_worker`` (napari's worker layer). A job runs a Qt-free
function that takes ``progress`` and ``cancel`` (see :mod:`mrstudio.core.jobs`) in
Qt's thread pool; progress is relayed to the GUI thread through a queued signal, the
result and any error arrive as signals on the GUI thread too. Cancelling sets the
job's :class:`~mrstudio.core.jobs.CancelToken`; the function stops at its next check.
"""

from __future__ import annotations

import itertools
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6 import QtCore
from superqt.utils import create_worker

from ..core.jobs import Cancelled, CancelToken

MIN_THREADS = 4  # worker threads at least, whatever the core count (jobs mostly wait on numpy and torch)


@dataclass
class Job:
    id: int
    title: str
    token: CancelToken = field(default_factory=CancelToken)
    status: str = "queued"  # queued, running, done, failed, cancelled
    fraction: float = 0.0
    message: str = ""
    started: float = field(default_factory=time.perf_counter)
    ended: float | None = None
    error: str | None = None
    worker: Any = None

    @property
    def elapsed(self) -> float:
        return (self.ended or time.perf_counter()) - self.started

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


class _Relay(QtCore.QObject):
    progress = QtCore.Signal(int, float, str)


class JobBridge(QtCore.QObject):
    """Submit background jobs and observe them (``changed`` fires on every update, on the GUI thread)."""

    changed = QtCore.Signal(object)  # Job
    failed = QtCore.Signal(object)  # Job (with .error)

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        pool = QtCore.QThreadPool.globalInstance()  # a live update must not queue behind CS and a superseded job
        pool.setMaxThreadCount(max(pool.maxThreadCount(), MIN_THREADS))
        self.jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._relay = _Relay()
        self._relay.progress.connect(self._on_progress, QtCore.Qt.ConnectionType.QueuedConnection)

    def submit(self, title: str, func: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
               on_yield: Callable[[Any], None] | None = None, **kwargs: Any) -> Job:
        """Run ``func(*args, progress=…, cancel=…, **kwargs)`` in the background.

        With ``on_yield``, ``func`` is a generator function: each value it yields is handed to
        ``on_yield`` on the GUI thread as soon as it is ready (napari's generator workers), and a
        cancelled job stops at its next check.
        """
        job = Job(next(self._ids), title)
        relay = self._relay

        def progress(fraction: float, message: str = "") -> None:
            relay.progress.emit(job.id, float(fraction), message)

        if on_yield is None:
            def run() -> Any:
                return func(*args, progress=progress, cancel=job.token, **kwargs)
        else:
            def run() -> Any:  # a generator function: superqt makes a GeneratorWorker of it
                return (yield from func(*args, progress=progress, cancel=job.token, **kwargs))

        worker = create_worker(run, _start_thread=False, _ignore_errors=True)  # errors go to _on_error
        job.worker = worker
        worker.started.connect(lambda: self._set(job, status="running"))
        if on_yield is not None:
            worker.yielded.connect(lambda value: on_yield(value) if not job.token.cancelled else None)
        if on_done is not None:
            worker.returned.connect(on_done)
        worker.returned.connect(lambda _r: self._set(job, status="done", fraction=1.0, ended=time.perf_counter()))
        worker.errored.connect(lambda exc: self._on_error(job, exc))
        self.jobs[job.id] = job
        self.changed.emit(job)
        worker.start()
        return job

    def cancel(self, job_id: int) -> None:
        job = self.jobs.get(job_id)
        if job is not None and job.active:
            job.token.cancel()
            self._set(job, message="cancelling…")

    def cancel_all(self) -> None:
        for job in list(self.jobs.values()):
            self.cancel(job.id)

    def active(self) -> list[Job]:
        return [j for j in self.jobs.values() if j.active]

    def wait_all(self, timeout_s: float = 600.0) -> bool:
        """Process events until no job is active (for --screenshot and tests)."""
        app = QtCore.QCoreApplication.instance()
        end = time.perf_counter() + timeout_s
        while self.active() and time.perf_counter() < end:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.005)
        app.processEvents()
        return not self.active()

    # -- slots (GUI thread) ------------------------------------------------
    def _on_progress(self, job_id: int, fraction: float, message: str) -> None:
        job = self.jobs.get(job_id)
        if job is not None and job.active:
            self._set(job, status="running", fraction=fraction, message=message)

    def _on_error(self, job: Job, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self._set(job, status="cancelled", ended=time.perf_counter(), message="cancelled")
            return
        from ..core.errors import StudyError

        job.error = str(exc) if isinstance(exc, StudyError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, StudyError):
            from .crash import log_exception

            log_exception(type(exc), exc, exc.__traceback__, context=f"job {job.title}")
            job.error += "\n\n" + "".join(traceback.format_exception_only(type(exc), exc)).strip()
        self._set(job, status="failed", ended=time.perf_counter())
        self.failed.emit(job)

    def _set(self, job: Job, **changes: Any) -> None:
        for k, v in changes.items():
            setattr(job, k, v)
        self.changed.emit(job)


def freeze_gc_after_startup(bridge: JobBridge) -> None:
    """When the start-up jobs are done, move every object alive then (modules, Qt wrappers, torch: ~360 000)
    out of the cyclic garbage collector's reach (``gc.freeze``). A full collection over them took up to 0.3 s
    on the 2-core CPU (measured beside other work): an event-loop stall whenever one fell inside a live update.
    This is done once, so later garbage is collected as usual."""
    import gc

    def check(_job=None) -> None:
        if not bridge.active():
            bridge.changed.disconnect(check)
            gc.collect()
            gc.freeze()

    bridge.changed.connect(check)
