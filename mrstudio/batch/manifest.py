"""The batch manifest: one JSON object per finished task, appended as it finishes (``manifest.jsonl``).

Fields: ``study``, ``name``, ``command``, ``method``, ``label`` (the method with its settings),
``params_hash``, ``status`` (``done`` or ``failed``), ``output`` (file or folder name in the batch folder, or null), ``metrics``,
``seconds``, ``worker``, ``error`` (the one-line reason of a failure), ``finished`` (UTC, ISO 8601).
A later record of the same task supersedes an earlier one. Each line is written whole and
fsync'ed; a torn last line (a crash while writing) is ignored when read.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

MANIFEST = "manifest.jsonl"


def task_key(record: dict[str, Any]) -> tuple[str, str, str]:
    return record["study"], record["method"], record["params_hash"]


def read_manifest(path: str | Path) -> list[dict[str, Any]]:
    """Every complete record of ``path`` (empty when it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and {"study", "method", "params_hash", "status"} <= rec.keys():
            out.append(rec)
    return out


def latest(records: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The last record of each task."""
    return {task_key(r): r for r in records}


def finished_tasks(records: list[dict[str, Any]], folder: str | Path,
                   retry_failed: bool = False) -> dict[tuple[str, str, str], dict[str, Any]]:
    """What ``--resume`` skips: tasks done whose output is still in ``folder``, and tasks that failed
    (unless ``retry_failed``)."""
    folder = Path(folder)
    return {k: r for k, r in latest(records).items()
            if (r["status"] == "done" and (r.get("output") is None or (folder / r["output"]).exists()))
            or (r["status"] == "failed" and not retry_failed)}


class ManifestWriter:
    """Appends records to the manifest, one whole line each, flushed to disk."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        torn = self.path.exists() and self.path.stat().st_size > 0 and not self.path.read_bytes().endswith(b"\n")
        self._fh = open(self.path, "a", encoding="utf-8")
        if torn:  # end a torn line so that the next record starts on its own
            self._fh.write("\n")

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        record = {**record, "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        self._fh.write(json.dumps(record, default=str) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        return record

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> ManifestWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
