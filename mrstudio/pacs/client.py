"""One entry per operation, whichever protocol the node speaks (DIMSE or DICOMweb).

``echo``, ``find``, ``locate``, ``retrieve`` (into the cache or a folder, complete or not at
all, :mod:`.cache`), ``store``, and ``resolve_study`` for the ``pacs://NODE/SERIES_UID``
studies of ``recon``/``interp``: retrieved once into the cache, then opened from there.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..core.jobs import CancelToken, Progress, report, sub_progress
from .cache import cached, is_pacs_url, retrieve_into, series_path, split_pacs_url
from .nodes import Node, parse_node
from .query import LEVELS, Query, check_uid, sort_rows


def _impl(node: Node):
    if node.protocol == "dicomweb":
        from . import dicomweb

        return dicomweb
    from . import dimse

    return dimse


def echo(node: Node) -> float:
    """C-ECHO (DIMSE) or a one-result QIDO-RS search (DICOMweb); the round trip in seconds."""
    return _impl(node).echo(node)


def find(node: Node, query: Query | None = None, level: str = "series",
         cancel: CancelToken | None = None) -> list[dict[str, Any]]:
    """The rows matching ``query`` at ``level`` (``patient``, ``study`` or ``series``), newest study first."""
    if level not in LEVELS:
        raise node.error(f"unknown query level {level!r} (expected {', '.join(LEVELS)})")
    return sort_rows(_impl(node).find(node, query or Query(), level, cancel=cancel))


def locate(node: Node, series_uid: str, cancel: CancelToken | None = None) -> dict[str, Any]:
    """The series row of ``series_uid`` (its study UID and number of instances), or an error."""
    rows = [r for r in find(node, Query(series_uid=check_uid(series_uid)), cancel=cancel)
            if r.get("series_uid") == series_uid]
    if not rows:
        raise node.error(f"has no series {series_uid}")
    return rows[0]


def retrieve(node: Node, series_uid: str, out: str | Path | None = None, force: bool = False, refresh: bool = False,
             progress: Progress | None = None, cancel: CancelToken | None = None) -> Path:
    """Retrieve a series into ``out`` (default: the cache) and return the folder.

    A series already in the cache is not fetched again unless ``refresh``. Instances arrive
    in a temporary folder renamed to the final one only when all of them are there
    (:func:`~.cache.retrieve_into`): a failed or cancelled retrieve leaves nothing under the final name.
    """
    series_uid = check_uid(series_uid)
    if out is None and not refresh and (hit := cached(series_uid)) is not None:
        report(progress, 1.0, "in the cache")
        return hit
    final = Path(out) if out is not None else series_path(series_uid)
    report(progress, 0.0, f"locating the series on {node.label}")
    row = locate(node, series_uid, cancel)
    impl = _impl(node)
    if node.protocol == "dicomweb":
        fetch = impl.retrieve
    else:
        fetch = impl.move if node.retrieve == "move" else impl.get
    retrieve_into(final, lambda tmp: fetch(node, row["study_uid"], series_uid, tmp, row.get("instances"),
                                           progress=sub_progress(progress, 0.05, 1.0), cancel=cancel),
                  force=force or (out is None and refresh))
    return final


def store(node: Node, files: list[Path], progress: Progress | None = None, cancel: CancelToken | None = None) -> int:
    """C-STORE (DIMSE) or STOW-RS (DICOMweb) ``files``; the number stored."""
    if not files:
        raise node.error("nothing to send (no DICOM files)")
    return _impl(node).store(node, list(files), progress=progress, cancel=cancel)


def resolve_study(path: str, progress: Progress | None = None, cancel: CancelToken | None = None) -> str:
    """``pacs://NODE/SERIES_UID`` → the cached folder of that series (retrieved first if needed); others unchanged."""
    if not is_pacs_url(path):
        return path
    text, uid = split_pacs_url(path, need_series=True)
    return str(retrieve(parse_node(text), uid, progress=progress, cancel=cancel))


def timed(call, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """``(call(*args, **kwargs), seconds)``."""
    t0 = time.perf_counter()
    out = call(*args, **kwargs)
    return out, time.perf_counter() - t0
