"""``mrstudio pacs echo|find|get|send|nodes`` and the ``pacs://`` studies and outputs of ``recon``/``interp``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import UsageError

NODE_HELP = "a preset name (see 'mrstudio pacs nodes'), AET@HOST:PORT (DIMSE) or an http(s):// DICOMweb root"


def add_parser(sub) -> None:
    """The ``pacs`` subcommand and its actions."""
    pc = sub.add_parser("pacs", help="query, retrieve and send series: DIMSE or DICOMweb (presets in pacs.json)")
    acts = pc.add_subparsers(dest="pacs_action", metavar="ACTION", required=True, parser_class=type(pc))

    def action(name: str, text: str, node: bool = True) -> argparse.ArgumentParser:
        a = acts.add_parser(name, help=text)
        if node:
            a.add_argument("--node", required=True, help=NODE_HELP)
            a.add_argument("--via", choices=("dimse", "dicomweb"), help="protocol, for a preset with both")
            a.add_argument("--timeout", type=float, help="seconds to wait for the PACS (default: the preset's, else 10)")
        a.add_argument("--json", action="store_true", help="print one JSON object on stdout")
        return a

    action("echo", "check that the node answers (C-ECHO, or a QIDO-RS search)")
    fd = action("find", "search: one row per series (or study, or patient)")
    fd.add_argument("--patient", help="patient name, wildcards * and ? (e.g. 'DOE^*')")
    fd.add_argument("--patient-id", help="patient ID")
    fd.add_argument("--modality", help="e.g. MR or CT")
    fd.add_argument("--study-date", metavar="A-B", help="YYYYMMDD or a range YYYYMMDD-YYYYMMDD (either end open)")
    fd.add_argument("--description", help="series description contains this (any case)")
    fd.add_argument("--level", choices=("patient", "study", "series"), default="series", help="default series")
    fd.add_argument("--show-phi", action="store_true", help="show patient names and IDs unmasked")
    gt = action("get", "retrieve a series into the cache (or --out DIR) and print the folder")
    gt.add_argument("--series", required=True, help="SeriesInstanceUID")
    gt.add_argument("--out", help="folder to retrieve into (default: the cache)")
    gt.add_argument("--force", action="store_true", help="replace a non-empty --out folder")
    gt.add_argument("--refresh", action="store_true", help="retrieve again even if the series is in the cache")
    sd = action("send", "send a DICOM folder, or a result file (.h5/.npz) written as DICOM first")
    sd.add_argument("path", help="DICOM folder or file, or an MR Studio result .h5/.npz")
    sd.add_argument("--anonymize", action="store_true", help="send anonymised copies")
    sd.add_argument("--allow-identifiable", action="store_true",
                    help="send identifiable data even to a node marked research_only")
    action("nodes", "list the presets and where the settings file is", node=False)


def _node(args: argparse.Namespace):
    from ..pacs import parse_node

    return parse_node(args.node, via=args.via, timeout=args.timeout)


def _bar(title: str):
    from ..core.jobs import tqdm_progress

    return tqdm_progress(title, disable=not sys.stderr.isatty())


def _mask(value: Any) -> Any:
    from ..io.describe import _mask_phi

    return value if value is None else _mask_phi(value)


def _table(rows: list[dict[str, Any]], level: str) -> str:
    cols = {"series": ("study_date", "patient_name", "patient_id", "modality", "series_number", "instances",
                       "series_description", "series_uid"),
            "study": ("study_date", "patient_name", "patient_id", "modalities", "series", "instances",
                      "study_description", "study_uid"),
            "patient": ("patient_name", "patient_id", "birth_date", "studies")}[level]
    cells = [[("" if r.get(c) is None else str(r[c])) for c in cols] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def cmd_pacs(args: argparse.Namespace) -> int:
    """Run one ``pacs`` action (errors are the node's one-line StudyError)."""
    from ..pacs import client

    act = args.pacs_action
    if act == "nodes":
        from ..pacs import config_path, load_presets

        presets = load_presets()
        out = {"settings": str(config_path()), "nodes": {k: {"label": n.label, **n.to_dict()} for k, n in presets.items()}}
        if args.json:
            print(json.dumps(out))
        else:
            print(f"settings: {out['settings']}" + ("" if presets else " (no presets)"))
            for name, n in presets.items():
                flags = ", ".join(f for f, on in (("research-only", n.research_only), ("TLS", n.tls),
                                                  (f"retrieve {n.retrieve}", n.protocol == "dimse")) if on)
                print(f"{name}: {n.label}" + (f" ({flags})" if flags else ""))
        return 0
    node = _node(args)
    if act == "echo":
        seconds = client.echo(node)
        out = {"node": node.label, "protocol": node.protocol, "ok": True, "seconds": round(seconds, 4)}
        print(json.dumps(out) if args.json else f"{node.label}: answers ({node.protocol}, {seconds * 1000:.0f} ms)")
        return 0
    if act == "find":
        from ..pacs import Query

        query = Query(patient_name=args.patient, patient_id=args.patient_id, study_date=args.study_date,
                      modality=args.modality, description=args.description)
        rows = client.find(node, query, args.level)
        if not args.show_phi:
            rows = [{k: (_mask(v) if k in ("patient_name", "patient_id", "birth_date") else v) for k, v in r.items()}
                    for r in rows]
        if args.json:
            print(json.dumps({"node": node.label, "level": args.level, "count": len(rows), "rows": rows}))
        else:
            print(_table(rows, args.level) if rows else f"{node.label}: nothing matches")
        return 0
    if act == "get":
        if args.out:
            from ..io.atomic import check_folder_target

            check_folder_target(args.out, args.force)
        progress, bar = _bar(f"get {args.series[-12:]}")
        try:
            folder, seconds = client.timed(client.retrieve, node, args.series, out=args.out, force=args.force,
                                           refresh=args.refresh, progress=progress)
        finally:
            bar.close()
        files = len(list(folder.glob("*.dcm")))
        print(json.dumps({"node": node.label, "series_uid": args.series, "folder": str(folder), "files": files,
                          "seconds": round(seconds, 3)}) if args.json else folder)
        return 0
    if act == "send":
        from ..pacs.send import send_path

        progress, bar = _bar(f"send {Path(args.path).name}")
        try:
            out = send_path(node, args.path, anonymize=args.anonymize, allow_identifiable=args.allow_identifiable,
                            progress=progress)
        finally:
            bar.close()
        print(json.dumps(out) if args.json else
              f"sent {out['sent']} instance(s) to {out['node']} in {out['seconds']:.2f} s (series {out['series_uid']})")
        return 0
    raise UsageError(f"unknown pacs action {act!r}")  # pragma: no cover (argparse checks the choices)


# --- pacs:// for recon and interp ---------------------------------------------------------------------------------
def local_study(path: str) -> str:
    """``pacs://NODE/SERIES_UID`` → the cached folder of that series (retrieved with a progress bar); else ``path``."""
    from ..pacs.cache import is_pacs_url

    if not is_pacs_url(path):
        return path
    from ..pacs.client import resolve_study

    progress, bar = _bar("retrieve")
    try:
        return resolve_study(path, progress=progress)
    finally:
        bar.close()


def is_pacs_out(out: str | None) -> bool:
    """Whether ``--out`` is a ``pacs://NODE`` destination."""
    from ..pacs.cache import is_pacs_url

    return is_pacs_url(out)


def pacs_destination(out: str | None, anonymized: bool) -> bool:
    """Whether ``--out`` is ``pacs://NODE``; if so, the node and the research-only rule are checked now,
    so that a refusal comes before the work, not after it."""
    if not is_pacs_out(out):
        return False
    from ..pacs.send import check_allowed

    check_allowed(_out_node(out), anonymized, cli_hint="export with --anonymize")
    return True


def _out_node(out: str):
    from ..pacs import parse_node
    from ..pacs.cache import split_pacs_url

    return parse_node(split_pacs_url(out, need_series=False)[0])


def out_format(out: str | None, fmt: str | None) -> str | None:
    """``--format`` for ``--out``: a ``pacs://`` destination takes a DICOM series."""
    if not is_pacs_out(out):
        return fmt
    if fmt not in (None, "dicom"):
        raise UsageError(f"argument --format: --out {out} sends a DICOM series, not {fmt}")
    return "dicom"


def write_or_send(out: str, write: Callable[[str | Path], Path], anonymized: bool) -> dict[str, Any]:
    """``write(out)``; for ``--out pacs://NODE``, write into a temporary folder and send that series."""
    if not is_pacs_out(out):
        write(out)
        return {"out": out}
    from ..pacs.send import send_written

    node = _out_node(out)
    progress, bar = _bar("send")
    try:
        sent = send_written(write, node, anonymised=anonymized, progress=progress)
    finally:
        bar.close()
    return {"out": out, "sent": sent["sent"], "series_uid": sent["series_uid"]}
