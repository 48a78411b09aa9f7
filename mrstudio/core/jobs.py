"""Progress reporting and cooperative cancellation for long-running functions.

Every long-running function takes ``progress: Progress | None`` — a callable
``(fraction, message)`` with ``fraction`` in [0, 1] — and ``cancel: CancelToken | None``,
and calls :func:`check` between iterations. Iterative algorithms may instead be written
as generators that yield :class:`Step` records and return their result; :func:`drive`
runs such a generator against a ``progress`` / ``cancel`` pair.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

Progress = Callable[[float, str], None]
T = TypeVar("T")


class Cancelled(Exception):
    """Raised inside a job when its :class:`CancelToken` was triggered."""


class CancelToken:
    """A thread-safe flag a job checks between iterations."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Request cancellation; the job stops at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled by the user")


@dataclass(frozen=True)
class Step:
    """One progress record yielded by a generator job."""

    fraction: float
    message: str = ""


def check(cancel: CancelToken | None) -> None:
    """Raise :class:`Cancelled` if ``cancel`` was triggered (no-op for ``None``)."""
    if cancel is not None:
        cancel.raise_if_cancelled()


def report(progress: Progress | None, fraction: float, message: str = "") -> None:
    """Call ``progress`` if given, with ``fraction`` clipped to [0, 1]."""
    if progress is not None:
        progress(min(max(float(fraction), 0.0), 1.0), message)


def drive(
    gen: Generator[Step, None, T],
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> T:
    """Exhaust a generator job, forwarding its steps and checking ``cancel`` between them.

    Returns the generator's return value. Raises :class:`Cancelled` when cancelled; the
    generator is closed so its ``finally`` blocks run.
    """
    try:
        while True:
            check(cancel)
            try:
                step = next(gen)
            except StopIteration as stop:
                return stop.value
            if isinstance(step, Step):
                report(progress, step.fraction, step.message)
    finally:
        gen.close()


def sub_progress(progress: Progress | None, start: float, stop: float) -> Progress | None:
    """Map a child's [0, 1] progress onto [start, stop] of the parent's."""
    if progress is None:
        return None

    def _child(fraction: float, message: str = "") -> None:
        progress(start + (stop - start) * fraction, message)

    return _child


def tqdm_progress(desc: str, disable: bool = False) -> tuple[Progress, Any]:
    """A tqdm bar on stderr as a :data:`Progress` callable; returns ``(callable, bar)``."""
    from tqdm import tqdm

    bar = tqdm(total=1000, desc=desc, disable=disable, leave=False,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining} {postfix}")

    def _progress(fraction: float, message: str = "") -> None:
        bar.n = int(round(1000 * fraction))
        if message:
            bar.set_postfix_str(message, refresh=False)
        bar.refresh()

    return _progress, bar
