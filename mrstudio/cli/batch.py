"""``mrstudio batch recon|interp``: one method set over many studies (Dask distributed, :mod:`mrstudio.batch`)."""

from __future__ import annotations

import argparse
import json
import sys

from .errors import UsageError


def add_parser(sub) -> None:
    from ..core.masks import MASK_KINDS

    bt = sub.add_parser("batch", help="run recon or interp over many studies (Dask: local processes or a cluster)")
    bt.add_argument("what", choices=("recon", "interp"), help="what to run on every study")
    bt.add_argument("--studies", nargs="+", required=True, metavar="PATH",
                    help="study files, folders (searched recursively; a folder of DICOM files is one study), "
                         "globs ('data/**/*.h5') or a CSV manifest with columns study[,reference][,name]")
    bt.add_argument("--method", required=True,
                    help="method, or several separated by commas (recon: zero-filled, cs, cnn, unrolled; "
                         "interp: linear, cubic, hrinet, …)")
    bt.add_argument("--out", required=True, help="output folder (outputs, manifest.jsonl, report.csv)")
    bt.add_argument("--format", choices=("h5", "npz", "dicom"), help="output format (recon default h5; interp dicom)")
    bt.add_argument("--model", help="model name (in models/) or checkpoint path, for a learned method")
    bt.add_argument("--mask", default="vd-kt", help=f"recon: {', '.join(MASK_KINDS)} or FILE.npy (default vd-kt); "
                                                     "without --accel an undersampled study keeps its own sampling")
    bt.add_argument("--accel", type=float, help="recon: acceleration R")
    bt.add_argument("--acs", type=int, default=2, help="recon: fully-sampled central lines per frame (default 2)")
    bt.add_argument("--seed", type=int, default=0, help="recon: mask seed (default 0)")
    bt.add_argument("--factor", type=int, default=3, help="interp: insert factor (default 3)")
    bt.add_argument("--holdout", action="store_true", help="interp: score on held-out slices instead of writing")
    bt.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="method parameter, repeatable")
    bt.add_argument("--anonymize", action="store_true", help="DICOM outputs: replace patient and study identifiers")
    where = bt.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="local worker processes, one thread each (default: the cores)")
    where.add_argument("--scheduler", metavar="tcp://HOST:8786", help="submit to this running Dask scheduler")
    bt.add_argument("--resume", action="store_true", help="continue a batch in --out: skip what is done "
                                                          "with the same parameters, redo the rest")
    bt.add_argument("--retry-failed", action="store_true", help="with --resume: run the failed studies again")
    bt.add_argument("--device", default="auto", help="learned methods: auto, cpu, cuda (default auto)")
    bt.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def specs_from_args(args: argparse.Namespace) -> list:
    """One :class:`~mrstudio.batch.spec.BatchSpec` per method of ``--method``."""
    from ..batch.spec import FORMATS, BatchSpec
    from ..interp import get_interp
    from ..recon import get_method
    from .commands import _parse_params

    methods = [m.strip() for m in args.method.split(",") if m.strip()]
    if not methods:
        raise UsageError("argument --method: give at least one method")
    fmt = args.format or FORMATS[args.what][0]
    if fmt not in FORMATS[args.what]:
        raise UsageError(f"argument --format: {args.what} writes {', '.join(FORMATS[args.what])}")
    if args.what == "recon" and args.accel is not None and args.accel <= 1:
        raise UsageError(f"argument --accel: must be > 1, got {args.accel:g}")
    if args.what == "interp" and args.factor < 2:
        raise UsageError(f"argument --factor: must be ≥ 2, got {args.factor}")
    params = _parse_params(args.param)
    out = []
    for m in methods:
        (get_method if args.what == "recon" else get_interp)(m)  # unknown names: one line naming the choices
        out.append(BatchSpec(command=args.what, method=m, fmt=fmt, mask=args.mask, accel=args.accel, acs=args.acs,
                             seed=args.seed, factor=args.factor, holdout=args.holdout, model=args.model,
                             anonymize=args.anonymize, params=params))
    return out


def _uses_torch(spec) -> bool:
    from ..interp import get_interp
    from ..recon import get_method

    return (get_method if spec.command == "recon" else get_interp)(spec.method).uses_torch


def cmd_batch(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..batch.engine import run_batch
    from ..batch.report import format_report, summarise
    from ..batch.studies import find_studies
    from ..core.device import choose_device

    if args.workers is not None and args.workers < 1:
        raise UsageError(f"argument --workers: must be ≥ 1, got {args.workers}")
    specs = specs_from_args(args)
    # the device is chosen once, here, as in recon/interp; on a user's cluster "auto" is left to the engine:
    # learned methods run on GPU workers when the cluster has some
    torch_methods = {s.method for s in specs if _uses_torch(s)}
    if args.scheduler and args.device == "auto":
        specs = [replace(s, device="auto" if s.method in torch_methods else "cpu") for s in specs]
    else:
        specs = [replace(s, device=choose_device(args.device) if (s.method in torch_methods or args.device != "auto")
                         else "cpu") for s in specs]
    studies = find_studies(args.studies)
    if not studies:
        raise UsageError("argument --studies: no studies found")
    from tqdm import tqdm

    bar = tqdm(total=len(studies) * len(specs), unit="study", disable=args.json or not sys.stderr.isatty())

    def on_client(client) -> None:
        link = getattr(client, "dashboard_link", None)
        if link and not args.json:
            print(f"mrstudio: Dask dashboard: {link}", file=sys.stderr)

    def progress(fraction: float, message: str) -> None:
        bar.n = round(fraction * bar.total)
        bar.set_postfix_str(message[:60])
        bar.refresh()

    try:
        summary = run_batch(studies, specs, args.out, workers=args.workers, scheduler=args.scheduler,
                            resume=args.resume, retry_failed=args.retry_failed, progress=progress,
                            on_client=on_client)
    finally:
        bar.close()
    if args.json:
        print(json.dumps(summary.as_dict()))
    else:
        print(format_report(summarise(summary.records)))
        print(f"{summary.studies} studies × {len(specs)} method(s): {summary.done} done, {summary.failed} failed, "
              f"{summary.skipped} skipped, {summary.seconds:.1f} s on {summary.workers} worker(s); report "
              f"{summary.report}")
    return 0
