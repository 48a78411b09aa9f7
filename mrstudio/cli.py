"""The ``mrstudio`` command line. Without a subcommand it starts the GUI.

Errors on bad input: exit status 2 and one line ``mrstudio: error: <what>: <why>`` on
stderr (``--debug`` shows the traceback). Importing this module imports neither torch
nor Qt; each subcommand imports what it needs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from . import __version__


class UsageError(Exception):
    """Bad command-line usage (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage block
        raise UsageError(message)


def _add_study(p: argparse.ArgumentParser, required: bool = False) -> None:
    p.add_argument("--study", default=None if required else "phantom", required=required,
                   help="a study file or folder, or 'phantom' (default) for the built-in phantom")
    p.add_argument("--phantom-seed", type=int, default=0, help="seed of the built-in phantom (default 0)")
    p.add_argument("--size", type=int, default=128, help="phantom matrix size (default 128)")
    p.add_argument("--frames", type=int, default=20, help="phantom frames (default 20)")
    p.add_argument("--coils", type=int, default=8, help="phantom coils (default 8)")


def build_parser() -> argparse.ArgumentParser:
    from .core.masks import MASK_KINDS

    p = _Parser(prog="mrstudio", description="MR Studio: accelerated cine MRI reconstruction and CT slice "
                "interpolation. Without a subcommand, starts the workstation GUI.")
    p.add_argument("--version", action="version", version=f"mrstudio {__version__}{_commit()}")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    p.add_argument("--study", default="phantom", help="study to open in the GUI (default: the phantom)")
    p.add_argument("--screenshot", metavar="FILE.png", help="render the GUI with the study to FILE.png and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    info = sub.add_parser("info", help="describe a study")
    info.add_argument("path", help="study file or folder, or 'phantom'")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.add_argument("--show-phi", action="store_true", help="show patient/study identifiers unmasked")

    ph = sub.add_parser("phantom", help="write the built-in cine phantom to a file")
    ph.add_argument("--out", required=True, help="output .h5 or .npz")
    ph.add_argument("--size", type=int, default=128)
    ph.add_argument("--frames", type=int, default=20)
    ph.add_argument("--coils", type=int, default=8)
    ph.add_argument("--seed", type=int, default=0)
    ph.add_argument("--snr", type=float, default=30.0)
    ph.add_argument("--force", action="store_true", help="overwrite an existing file")

    rc = sub.add_parser("recon", help="reconstruct an undersampled cine")
    _add_study(rc)
    rc.add_argument("--method", required=True, help="zero-filled, cs or cnn")
    rc.add_argument("--model", help="CNN model name (in models/) or checkpoint path")
    rc.add_argument("--mask", default="vd-kt", help=f"{', '.join(MASK_KINDS)} or FILE.npy (default vd-kt)")
    rc.add_argument("--accel", type=float, help="acceleration R (> 1)")
    rc.add_argument("--acs", type=int, default=2, help="fully-sampled central lines per frame (default 2)")
    rc.add_argument("--seed", type=int, default=0, help="mask seed (default 0)")
    rc.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    rc.add_argument("--out", help="output FILE.h5, FILE.npz, or DIR with --format dicom")
    rc.add_argument("--format", choices=("h5", "npz", "dicom"), help="output format (default: from --out)")
    rc.add_argument("--force", action="store_true", help="overwrite existing output")
    rc.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    rc.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="method parameter, repeatable (e.g. --param iters=40)")
    return p


def _commit() -> str:
    from pathlib import Path

    head = Path(__file__).resolve().parent.parent / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            ref = (head.parent / ref[5:]).read_text().strip()
        return f" (commit {ref[:10]})"
    except OSError:
        return ""


def _finite(x: float) -> float | None:
    return x if isinstance(x, float) and math.isfinite(x) else None


def _parse_params(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"argument --param: expected KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            out[k.strip()] = v
    return out


def _open(args: argparse.Namespace, path: str | None = None):
    from .io import open_study

    path = path or args.study
    if path == "phantom":
        return open_study("phantom", size=args.size, frames=args.frames, coils=args.coils, seed=args.phantom_seed)
    return open_study(path)


def cmd_info(args: argparse.Namespace) -> int:
    from .io import open_study
    from .io.describe import describe, format_description

    desc = describe(open_study(args.path), show_phi=args.show_phi)
    print(json.dumps(desc) if args.json else format_description(desc))
    return 0


def cmd_phantom(args: argparse.Namespace) -> int:
    from .core.phantom import make_phantom
    from .io.native import write_cine

    study = make_phantom(size=args.size, frames=args.frames, coils=args.coils, seed=args.seed, snr=args.snr)
    path = write_cine(study, args.out, force=args.force)
    print(f"wrote {path} ({study.coils} coils, {study.frames} frames, {study.matrix[0]}×{study.matrix[1]}, seed {args.seed})",
          file=sys.stderr)
    return 0


def cmd_recon(args: argparse.Namespace) -> int:
    from .core.device import choose_device
    from .core.errors import StudyError
    from .core.jobs import tqdm_progress
    from .core.masks import accel_effective
    from .core.study import CineStudy
    from .recon import get_method
    from .recon.pipeline import resolve_mask, run_recon

    info = get_method(args.method)
    params = _parse_params(args.param)
    if args.model:
        params["model"] = args.model
    fmt = args.format
    if args.out and fmt is None:
        fmt = "npz" if args.out.endswith(".npz") else "h5" if args.out.endswith((".h5", ".hdf5")) else None
        if fmt is None:
            raise UsageError("argument --out: give a .h5/.npz file, or a folder with --format dicom")
    if args.out:
        from pathlib import Path

        from .io.atomic import check_target

        if fmt != "dicom":
            check_target(args.out, args.force)
        elif Path(args.out).exists() and any(Path(args.out).iterdir()) and not args.force:
            raise StudyError(args.out, "folder exists and is not empty (use --force)")
    study = _open(args)
    if not isinstance(study, CineStudy):
        raise StudyError(args.study, "is a CT study; use 'mrstudio interp'")
    mask = resolve_mask(study, args.mask, args.accel, args.acs, args.seed)
    device = choose_device(args.device) if (info.uses_torch or args.device != "auto") else "cpu"
    progress, bar = tqdm_progress(args.method, disable=not sys.stderr.isatty())
    try:
        result = run_recon(study, mask, args.method, device=device, progress=progress, **params)
    finally:
        bar.close()
    out = {
        "method": args.method, "accel": args.accel, "accel_effective": round(accel_effective(mask), 4),
        "psnr": _finite(result.scores["psnr"]), "ssim": _finite(result.scores["ssim"]),
        "nmse": _finite(result.scores["nmse"]), "seconds": round(result.seconds, 4), "device": result.device,
        "reference": result.reference_kind, "mask": args.mask, "acs": args.acs, "seed": args.seed,
        "study": study.name,
    }
    if args.out:
        from .io.native import provenance, write_result

        prov = provenance(args.method, {**{k: v for k, v in params.items()}, "mask": args.mask, "accel": args.accel,
                                        "accel_effective": out["accel_effective"], "acs": args.acs, "seed": args.seed},
                          study=study.source, device=result.device, **result.params.get("_provenance", {}))
        if fmt == "dicom":
            from .io.dicom_export import write_cine_dicom

            write_cine_dicom(result.image, args.out, study=study, provenance=prov, force=args.force)
        else:
            write_result(args.out, result.image, mask, prov, force=args.force)
        out["out"] = args.out
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{args.method}: R {args.accel} (effective {out['accel_effective']:.2f}), PSNR {out['psnr']:.2f} dB, "
              f"SSIM {out['ssim']:.4f}, NMSE {out['nmse']:.4g} vs {out['reference']}, {out['seconds']:.2f} s on "
              f"{out['device']}")
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    from .gui.app import run_gui

    return run_gui(study=args.study, screenshot=args.screenshot)


COMMANDS = {"info": cmd_info, "phantom": cmd_phantom, "recon": cmd_recon}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    from .core.errors import StudyError
    from .core.jobs import Cancelled

    try:
        args = build_parser().parse_args(argv)
        return COMMANDS.get(args.command, cmd_gui)(args)
    except UsageError as exc:
        print(f"mrstudio: error: {exc}", file=sys.stderr)
        return 2
    except StudyError as exc:
        if debug:
            raise
        print(f"mrstudio: error: {exc.source}: {exc.reason}".replace("\n", " "), file=sys.stderr)
        return 2
    except (Cancelled, KeyboardInterrupt):
        print("mrstudio: cancelled", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal failure: still one line unless --debug
        if debug:
            raise
        print(f"mrstudio: error: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"
              .replace("\n", " "), file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
