"""The retrieve cache, and the one rule every retrieve follows: complete, or not there at all.

A series is retrieved into a hidden temporary folder next to its final one
(``.UID.XXXX.part``) and renamed into place only once every instance has arrived, so a
retrieve that fails or is cancelled half way never leaves anything under the final
name, and the next attempt starts afresh. The cache is ``$MRSTUDIO_CACHE_DIR`` or
``$XDG_CACHE_HOME/mrstudio`` (``~/.cache/mrstudio``); series live in its ``pacs/`` folder,
named by SeriesInstanceUID.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..core.errors import StudyError
from .query import check_uid


def cache_root() -> Path:
    """``$MRSTUDIO_CACHE_DIR``, else ``$XDG_CACHE_HOME/mrstudio`` (``~/.cache/mrstudio``)."""
    if os.environ.get("MRSTUDIO_CACHE_DIR"):
        return Path(os.environ["MRSTUDIO_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mrstudio"


def series_path(series_uid: str) -> Path:
    """Where a retrieved series lives in the cache (whether or not it is there)."""
    return cache_root() / "pacs" / check_uid(series_uid)


def cached(series_uid: str) -> Path | None:
    """The cached folder of ``series_uid``, if a complete retrieve put it there."""
    p = series_path(series_uid)
    return p if p.is_dir() else None


def retrieve_into(final: str | Path, fetch: Callable[[Path], object], force: bool = False) -> Path:
    """Run ``fetch(tmp)`` into a temporary sibling of ``final``, then rename it to ``final``.

    On any exception (or cancellation) the temporary folder is removed and ``final`` is
    untouched. An existing non-empty ``final`` needs ``force`` (it is replaced only after
    the new retrieve completed).
    """
    from ..io.atomic import atomic_folder

    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    with atomic_folder(final, force) as tmp:
        fetch(tmp)
    return final


def is_pacs_url(text: object) -> bool:
    """Whether ``text`` is a ``pacs://`` location."""
    return isinstance(text, str) and text.startswith("pacs://")


def split_pacs_url(text: str, need_series: bool) -> tuple[str, str | None]:
    """``pacs://NODE/SERIES_UID`` → ``(NODE, SERIES_UID)``; ``pacs://NODE`` → ``(NODE, None)``.

    ``NODE`` is what ``--node`` takes (a preset, ``AET@HOST:PORT`` or a DICOMweb root).
    """
    rest = text[len("pacs://"):].rstrip("/")
    if need_series:
        node, _, uid = rest.rpartition("/")
        if not node or not uid:
            raise StudyError(text, "expected pacs://NODE/SERIES_UID")
        return node, check_uid(uid)
    if not rest or ("/" in rest and not rest.startswith(("http://", "https://"))):
        raise StudyError(text, "a destination is a node: expected pacs://NODE")
    return rest, None
