"""The batch report: per-method mean ± sd of the metrics, failures grouped by reason (``report.csv``)."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..io.atomic import atomic_path

REPORT = "report.csv"
METRICS = ("psnr", "ssim", "nmse", "rmse")
COLUMNS = ["kind", "method", "reason", "count"] + [f"{m}_{s}" for m in METRICS for s in ("mean", "sd")] + ["seconds_mean"]


def failure_reason(error: str | None) -> str:
    """A failure's reason without the study's path (``"/a/b.h5: file is empty"`` → ``"file is empty"``)."""
    text = error or "unknown"
    return text if text.startswith("internal error") else re.sub(r"^.*?: ", "", text, count=1)


def summarise(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the report: one ``kind=method`` row per method, one ``kind=failure`` row per (method, reason)."""
    rows: list[dict[str, Any]] = []
    for method in sorted({r.get("label") or r["method"] for r in records}):
        mine = [r for r in records if (r.get("label") or r["method"]) == method]
        done = [r for r in mine if r["status"] == "done"]
        row: dict[str, Any] = {"kind": "method", "method": method, "reason": "", "count": len(done)}
        for m in METRICS:
            vals = np.array([r["metrics"][m] for r in done if isinstance(r.get("metrics", {}).get(m), (int, float))])
            row[f"{m}_mean"] = round(float(vals.mean()), 4) if len(vals) else ""
            row[f"{m}_sd"] = round(float(vals.std(ddof=1)), 4) if len(vals) > 1 else ""
        secs = [r["seconds"] for r in done]
        row["seconds_mean"] = round(float(np.mean(secs)), 3) if secs else ""
        rows.append(row)
        for reason, n in sorted(Counter(failure_reason(r.get("error")) for r in mine if r["status"] == "failed").items()):
            rows.append({"kind": "failure", "method": method, "reason": reason, "count": n})
    return rows


def write_report(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """``report.csv`` (atomically, replacing an earlier report of the same batch folder)."""
    with atomic_path(path, force=True) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS, restval="")
        w.writeheader()
        w.writerows(rows)
    return Path(path)


def format_report(rows: list[dict[str, Any]]) -> str:
    """The summary table printed at the end of a batch."""
    lines = [f"{'method':<14} {'done':>5}  {'PSNR dB':>14}  {'SSIM':>15}  {'NMSE':>19}  {'s/study':>8}"]

    def ms(row: dict[str, Any], m: str, fmt: str) -> str:
        mean, sd = row.get(f"{m}_mean", ""), row.get(f"{m}_sd", "")
        if mean == "":
            return "–"
        return format(mean, fmt) + ("" if sd == "" else " ± " + format(sd, fmt))

    for r in rows:
        if r["kind"] == "method":
            lines.append(f"{r['method']:<14} {r['count']:>5}  {ms(r, 'psnr', '.2f'):>14}  {ms(r, 'ssim', '.4f'):>15}  "
                         f"{ms(r, 'nmse', '.3g'):>19}  {r['seconds_mean'] if r['seconds_mean'] != '' else '–':>8}")
    failures = [r for r in rows if r["kind"] == "failure"]
    if failures:
        lines.append("failed:")
        lines += [f"  {r['count']} × {r['method']}: {r['reason']}" for r in failures]
    return "\n".join(lines)
