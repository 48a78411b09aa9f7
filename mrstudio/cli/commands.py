"""The subcommands of ``mrstudio``: each imports what it needs when it runs."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from .errors import UsageError
from .pacs import local_study, out_format, pacs_destination, write_or_send
from .parser import BENCHES


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
    from ..io import open_study

    path = path or args.study
    if path == "phantom":
        return open_study("phantom", size=args.size, frames=args.frames, coils=args.coils, seed=args.phantom_seed)
    return open_study(local_study(path), slice=args.slice, series=args.series)


def cmd_info(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..io import open_study
    from ..io.describe import describe, format_description

    p = Path(args.path)
    if args.series is None and (p.is_dir() or p.name.upper() == "DICOMDIR"):
        from ..io.dispatch import sniff

        if sniff(p) == "dicom" or p.name.upper() == "DICOMDIR":
            from ..io.describe import format_series
            from ..io.dicom_read import list_series

            rows = list_series(p)
            if len(rows) > 1:  # several series: list them all (recon/interp ask for one)
                print(json.dumps({"source": str(p), "series": rows}) if args.json else format_series(rows))
                return 0
    desc = describe(open_study(args.path, slice=args.slice, series=args.series), show_phi=args.show_phi)
    print(json.dumps(desc) if args.json else format_description(desc))
    return 0


def cmd_phantom(args: argparse.Namespace) -> int:
    from ..core.phantom import make_phantom
    from ..io.native import write_cine

    study = make_phantom(size=args.size, frames=args.frames, coils=args.coils, seed=args.seed, snr=args.snr)
    path = write_cine(study, args.out, force=args.force)
    print(f"wrote {path} ({study.coils} coils, {study.frames} frames, {study.matrix[0]}×{study.matrix[1]}, seed {args.seed})",
          file=sys.stderr)
    return 0


def cmd_recon(args: argparse.Namespace) -> int:
    from ..core.device import choose_device
    from ..core.errors import StudyError
    from ..core.jobs import tqdm_progress
    from ..core.masks import accel_effective
    from ..core.study import CineStudy
    from ..recon import get_method
    from ..recon.pipeline import resolve_mask, run_recon

    info = get_method(args.method)
    params = _parse_params(args.param)
    if args.model:
        params["model"] = args.model
    if args.backend != "mrstudio":
        if args.method != "cs":
            raise UsageError("argument --backend: only the cs method has another backend")
        params["backend"] = args.backend
    fmt = out_format(args.out, args.format)  # "dicom" for --out pacs://NODE
    if args.out and fmt is None:
        fmt = "npz" if args.out.endswith(".npz") else "h5" if args.out.endswith((".h5", ".hdf5")) else None
        if fmt is None:
            raise UsageError("argument --out: give a .h5/.npz file, or a folder with --format dicom")
    if args.out and not pacs_destination(args.out, args.anonymize):
        from ..io.atomic import check_folder_target, check_target

        (check_folder_target if fmt == "dicom" else check_target)(args.out, args.force)
    if args.movie:
        from ..io.atomic import check_target

        if not args.movie.lower().endswith((".mp4", ".gif")):
            raise UsageError("argument --movie: give a .mp4 or .gif file")
        check_target(args.movie, args.force)
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
        "study": study.name, "load_seconds": round(result.load_seconds, 4),
    }
    if result.model:
        out["model"] = result.model["model"]
        if "model_choice" in result.model:
            out["model_choice"] = result.model["model_choice"]
    if args.out:
        from ..workspace.export import recon_provenance, write_recon

        prov = recon_provenance(result, study, args.mask, args.accel, args.acs, args.seed)
        out.update(write_or_send(args.out, lambda target: write_recon(result, study, target, fmt, prov, force=args.force,
                                                                      anonymize=args.anonymize), args.anonymize))
    if args.movie:
        _write_recon_movie(args, result)
        out["movie"] = args.movie
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{args.method}: R {args.accel} (effective {out['accel_effective']:.2f}), PSNR {out['psnr']:.2f} dB, "
              f"SSIM {out['ssim']:.4f}, NMSE {out['nmse']:.4g} vs {out['reference']}, {out['seconds']:.2f} s on "
              f"{out['device']}" + (f", model {out['model']}" if "model" in out else ""))
    return 0


def _write_recon_movie(args: argparse.Namespace, result) -> None:
    """reference | result | |error| × 5, one display window shared by all, as MP4 or GIF."""
    import numpy as np

    from ..core.profiles import display_levels
    from ..io.video import side_by_side, write_movie

    img = np.abs(result.image)
    ref = result.reference
    stacks = [img] if ref is None else [ref, img, 5 * np.abs(img - ref)]
    levels = display_levels(stacks[0])
    write_movie(side_by_side(stacks, levels), args.movie, fps=args.fps, force=args.force)


def cmd_interp(args: argparse.Namespace) -> int:
    from ..core.device import choose_device
    from ..core.errors import StudyError
    from ..core.jobs import tqdm_progress
    from ..core.study import VolumeStudy
    from ..interp import get_interp
    from ..interp.pipeline import HU_WINDOW, holdout, interpolate
    from ..io import open_study

    info = get_interp(args.method)
    params = _parse_params(args.param)
    if args.model:
        params["model"] = args.model
    if args.factor < 2:
        raise UsageError(f"argument --factor: must be ≥ 2, got {args.factor}")
    if args.out and not pacs_destination(args.out, args.anonymize):
        from ..io.atomic import check_folder_target

        check_folder_target(args.out, args.force)
    if args.study == "ct-phantom":
        study = open_study("ct-phantom", seed=args.phantom_seed)
    else:
        study = open_study(local_study(args.study), slice=args.slice, series=args.series)
    if not isinstance(study, VolumeStudy):
        raise StudyError(args.study, "is a cine, not a volume (several slice positions at one time point); "
                                     "use 'mrstudio recon' for cines")
    device = choose_device(args.device) if (info.uses_torch or args.device != "auto") else "cpu"
    progress, bar = tqdm_progress(f"interp {args.method}", disable=not sys.stderr.isatty())
    try:
        if args.holdout:
            r = holdout(study, args.method, gap=args.factor, device=device, progress=progress, **params)
            out = {"method": args.method, "factor": args.factor, "psnr": _finite(r["psnr"]), "ssim": _finite(r["ssim"]),
                   "rmse": round(r["rmse"], 3), "rmse_units": r["rmse_units"], "seconds": round(r["seconds"], 4),
                   "device": device, "slices_predicted": r["slices_predicted"], "window_hu": list(HU_WINDOW),
                   "intensity": r["intensity"]}
            if "rmse_hu" in r:
                out["rmse_hu"] = round(r["rmse_hu"], 3)
            if r["model"]:
                out["model"] = r["model"]
        else:
            res = interpolate(study, args.method, args.factor, device=device, progress=progress, **params)
            out = {"method": args.method, "factor": args.factor, "slices_in": study.shape[0],
                   "slices_out": res.study.shape[0], "spacing_mm": list(res.study.spacing),
                   "seconds": round(res.seconds, 4), "device": device, "intensity": res.intensity.describe()}
            if res.model:
                out["model"] = res.model
            if args.out:
                from ..workspace.export import write_interpolation

                out.update(write_or_send(args.out, lambda target: write_interpolation(
                    res, target, force=args.force, anonymize=args.anonymize), args.anonymize))
    finally:
        bar.close()
    out["modality"] = study.modality
    out["warnings"] = list(study.meta.get("warnings", []))
    scale = (f"HU {HU_WINDOW[0]:g}…{HU_WINDOW[1]:g} → [0, 1]" if study.is_ct else
             "robust range (0.5–99.5th percentile) → [0, 1]")
    if args.json:
        print(json.dumps(out))
    elif args.holdout:
        print(f"{args.method}: hold-out gap {args.factor}, PSNR {out['psnr']:.2f} dB, SSIM {out['ssim']:.4f} "
              f"({scale}), RMSE {out['rmse']:.1f} {out['rmse_units']}, {out['seconds']:.2f} s on {device}")
    else:
        print(f"{args.method}: {out['slices_in']} → {out['slices_out']} slices, spacing {out['spacing_mm'][0]:.3g} mm, "
              f"{out['seconds']:.2f} s on {device}, intensity {scale}" + (f", written to {args.out}" if args.out else ""))
    for w in out["warnings"]:
        print(f"mrstudio: note: {w}", file=sys.stderr)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    if args.task == "unrolled":
        from ..train.unrolled import UnrolledTrainConfig, train_unrolled

        name = Path(args.out).stem if args.out else "cine-unrolled"
        cfg = UnrolledTrainConfig(steps=args.steps, batch=args.batch, lr=args.lr or 1e-3, seed=args.seed,
                                  pool=args.train_cines,
                                  run_dir=args.run_dir or f"runs/{name}", out=args.out, init=args.init,
                                  resume=not args.no_resume, device=args.device, time_budget_s=args.time_budget,
                                  **{k: v for k, v in (("crop", args.crop), ("val_every", args.val_every),
                                                       ("val_cines", args.val_cines), ("x0", args.x0)) if v},
                                  **{k: v for k, v in (("map_support", args.map_support), ("ema", args.ema),
                                                       ("blur", args.blur), ("val_blur", args.val_blur))
                                     if v is not None})  # 0 means off
        return _train(name, train_unrolled, cfg, ("steps", "validation", "train_seconds", "sha256", "file"))
    if args.task == "throughplane":
        from ..train.throughplane import PlaneTrainConfig, train_throughplane

        name = Path(args.out).stem if args.out else "interp-throughplane"
        cfg = PlaneTrainConfig(steps=args.steps, batch=args.batch, lr=args.lr or 1e-3, seed=args.seed,
                               run_dir=args.run_dir or f"runs/{name}", out=args.out, resume=not args.no_resume,
                               device=args.device, time_budget_s=args.time_budget, val_every=args.val_every or 200)
        return _train(name, train_throughplane, cfg, ("steps", "validation", "train_seconds", "sha256", "file"))
    if args.task == "ct":
        from ..train.ct import CTTrainConfig, train_ct

        loss, variant, size = args.loss or "mse", args.variant or "hrinet", args.size or 256
        name = Path(args.out).stem if args.out else f"ct-{variant}-{loss}-{size}"
        cfg = CTTrainConfig(variant=variant, loss=loss, steps=args.steps, batch=args.batch, lr=args.lr or 1e-4,
                            base=args.base or 32, size=size, crop=args.crop or 128, seed=args.seed, data=args.data,
                            run_dir=args.run_dir or f"runs/{name}", out=args.out, init=args.init,
                            resume=not args.no_resume, device=args.device, time_budget_s=args.time_budget,
                            train_volumes=args.train_volumes, val_every=args.val_every or 200)
        return _train(name, train_ct, cfg, ("variant", "loss", "steps", "validation", "test", "sha256", "file"))
    args.loss, args.lr, args.base = args.loss or "l2", args.lr or 1e-3, args.base or 16
    args.crop, args.size = 64 if args.crop is None else args.crop, args.size or 128
    if args.variant:
        raise UsageError("argument --variant: only for 'train ct'")
    from ..train.loop import TrainConfig, train_cine
    from ..train.losses import LOSSES

    if args.loss not in LOSSES:
        raise UsageError(f"argument --loss: cine losses are {', '.join(LOSSES)}")
    name = Path(args.out).stem if args.out else f"cine-unet-{args.loss}-r{args.accel:g}"
    cfg = TrainConfig(loss=args.loss, accel=args.accel, mask_kind=args.mask, steps=args.steps, batch=args.batch,
                      lr=args.lr, base=args.base, depth=args.depth, crop=args.crop or None, size=args.size,
                      frames=args.frames, coils=args.coils, train_cines=args.train_cines, val_cines=args.val_cines or 8,
                      anatomy_cines=args.anatomy_cines,
                      test_cines=args.test_cines, val_every=args.val_every or 200, seed=args.seed, data=args.data,
                      run_dir=args.run_dir or f"runs/{name}", out=args.out, init=args.init,
                      resume=not args.no_resume, device=args.device, time_budget_s=args.time_budget)
    return _train(name, train_cine, cfg, ("loss", "accel", "steps", "validation", "test", "sha256", "file"))


def _train(name: str, train, cfg, keys: tuple[str, ...]) -> int:
    """Run a training function with a tqdm bar; print the card's main fields as one JSON line."""
    from ..core.jobs import tqdm_progress

    progress, bar = tqdm_progress(f"train {name}", disable=not sys.stderr.isatty())
    try:
        card = train(cfg, progress=progress)
    finally:
        bar.close()
    if card:
        print(json.dumps({k: card.get(k) for k in keys}, default=float))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    import importlib

    from ..bench.machine import markdown_header
    from ..core.device import choose_device
    from ..core.jobs import tqdm_progress

    if args.data and args.suite not in ("cine", "perf", "interp", "ct"):
        raise UsageError(f"argument --data: bench {args.suite} has no data choice (cine, perf and interp have)")
    if args.out:
        from ..io.atomic import check_target

        check_target(args.out, args.force)
    device = choose_device(args.device) if args.suite not in ("perf", "gui", "batch") else "cpu"
    module, func = BENCHES[args.suite].split(":")
    runner = getattr(importlib.import_module(module), func)
    progress, bar = tqdm_progress(f"bench {args.suite}", disable=not sys.stderr.isatty())
    try:
        kwargs = {"quick": args.quick, "progress": progress}
        if args.suite != "perf":
            kwargs["device"] = device
        if args.suite in ("cine", "perf"):
            kwargs["data"] = args.data or "phantom"
        elif args.suite in ("interp", "ct") and args.data:
            kwargs["data"] = args.data
        if args.suite in ("cine", "ct", "interp") and args.out:
            from pathlib import Path

            kwargs["figure_dir"] = Path(args.out).parent
        result = runner(**kwargs)
    finally:
        bar.close()
    title = f"bench {args.suite}" + (f" on {args.data}" if args.data and (args.data != "phantom"
                                                                         or args.suite in ("interp", "ct")) else "")
    text = markdown_header(title + (" (quick)" if args.quick else ""), device) + "\n" + result["markdown"]
    if args.out:
        from ..io.atomic import atomic_path

        with atomic_path(args.out, args.force) as tmp:
            tmp.write_text(text)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "markdown"}, default=float))
    elif not args.out:
        print(text)
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    from ..gui.app import run_gui

    return run_gui(study=args.study, screenshot=args.screenshot, device=args.gui_device)
