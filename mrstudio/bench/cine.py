"""``bench cine``: the analogue of the paper's Table 1 on held-out phantom test seeds.

For each acceleration R (15, 30, 60) and each test seed (``SPLITS["test"]``, never seen
in training or tuning) one variable-density ky–t mask is drawn (seed = phantom seed)
and every method reconstructs the same undersampled k-space:

* naive (zero-filled sum of squares), CS (l1-ESPIRiT, default parameters, ESPIRiT
  calibration included in its time, on the bench's device), and BART ``pics`` when installed
  (the same calibration, regularisers, λ's and iteration count as ``bench perf``; not in the quick
  anatomy run, where it would take most of the time),
* the shipped CNNs ``cine-unet-{l2,l1-fourier,ssim}-r{R}``,
* CNN-l2 + data consistency (ESPIRiT calibration included in its time),
* the any-mask unrolled network (the installed model with the best validation PSNR).

Scores follow ARCHITECTURE.md (magnitudes, data range of the noiseless ground truth,
SSIM per frame then averaged); the table gives mean ± sd over seeds and the mean wall
time per cine, everything measured in the same process on the same machine. A figure
shows, per method, one frame, its error map (×5) and an x–t profile through the heart.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.jobs import CancelToken, Progress, check, report

LOSSES = ("l2", "l1-fourier", "ssim")
PAINTED = 12.0  # the painted-like irregular mask of the real-anatomy bench (its R)


@dataclass
class CineRow:
    accel: float  # requested R (for painted masks, the R the strokes were drawn to)
    method: str
    psnr_mean: float
    psnr_sd: float
    ssim_mean: float
    ssim_sd: float
    seconds: float
    n: int
    device: str


CS, BART, UNROLLED = "CS (l1-ESPIRiT)", "BART pics (l1-ESPIRiT)", "unrolled (any mask)"


def _methods(accel: float, device: str, cs_iters: int, bart: bool) -> list[tuple[str, str, dict[str, Any], str]]:
    """(label, registry name, params, device) for one R: the U-Nets trained for the nearest R (by card)."""
    from ..io.model_store import nearest_model
    from ..recon.unrolled import default_unrolled

    out = [("naive (zero-filled)", "zero-filled", {}, "cpu"), (CS, "cs", {"iters": cs_iters}, device)]
    if bart:
        out.append((BART, "cs", {"iters": cs_iters, "backend": "bart"}, "cpu"))
    cards = {loss: nearest_model(accel, loss) for loss in LOSSES}
    out += [(f"CNN-{loss}", "cnn", {"model": c.name}, device) for loss, c in cards.items() if c is not None]
    if cards["l2"] is not None:
        out.append(("CNN-l2 + DC", "cnn", {"model": cards["l2"].name, "dc": True}, device))
    unrolled = default_unrolled()
    if unrolled:
        out.append((UNROLLED, "unrolled", {"model": unrolled}, device))
    return out


def bench_mask(accel: float, seed: int, frames: int, ny: int) -> np.ndarray:
    """The benchmarks' ky–t mask ``bool (T, Ny)``: vd-kt with 2 ACS lines at ``accel``, or at ``PAINTED`` an
    irregular mask like one drawn in the editor (R ≈ 12); ``seed`` is the case's (seed or test cine index)."""
    from ..core.masks import MaskSpec, make_mask, painted_mask

    if accel == PAINTED:
        return painted_mask(np.random.default_rng(seed), frames, ny, PAINTED)
    return make_mask(MaskSpec(kind="vd-kt", accel=accel, acs=2, seed=seed), frames, ny)


def _cases(data: str, quick: bool):
    """``(accels, [(seed, study)], size, label)`` of the test cines of ``data``."""
    if data == "anatomy":
        from ..io.anatomy import anatomy_cine

        n = 4 if quick else 24
        accels = (8.0, 15.0, 30.0, PAINTED) if quick else (8.0, 15.0, 30.0, 60.0, PAINTED)
        return accels, [(k, anatomy_cine("test", k)) for k in range(n)], 128, "real-anatomy test cines (INIA19)"
    from ..core.phantom import make_phantom
    from ..core.splits import CINE_PHANTOM

    size = 64 if quick else 128
    seeds = list(CINE_PHANTOM["test"][: 2 if quick else 10])
    accels = (15.0,) if quick else (15.0, 30.0, 60.0)
    return accels, [(s, make_phantom(size=size, frames=20, coils=8, seed=s)) for s in seeds], size, "phantom test seeds"


def run_cine(quick: bool = False, device: str = "cpu", progress: Progress | None = None,
             cancel: CancelToken | None = None, figure_dir: str | Path | None = None,
             data: str = "phantom") -> dict[str, Any]:
    """Score every method on the test cines of ``data`` (``phantom``: R 15/30/60; ``anatomy``: R 8/15/30/60)."""
    from ..core.metrics import score
    from ..recon import get_method
    from ..recon.bart import bart_available
    from ..recon.base import undersample

    accels, cases, size, what = _cases(data, quick)
    bart = bart_available() is not None and not (quick and data == "anatomy")
    seeds = [s for s, _ in cases]
    cs_iters = 20 if quick and data == "phantom" else 100
    rows: list[CineRow] = []
    figures: list[str] = []
    total = len(accels) * len(seeds)
    done = 0
    for accel in accels:
        methods = _methods(accel, device, cs_iters, bart)
        for _, name, params, dev in methods:  # load (and warm) each model before timing
            info = get_method(name)
            if info.prepare is not None:
                info.prepare(dict(params), dev, accel)
        scores: dict[str, list[tuple[float, float, float]]] = {m[0]: [] for m in methods}
        shown: dict[str, np.ndarray] = {}
        for si, (seed, study) in enumerate(cases):
            mask = bench_mask(accel, seed, study.frames, study.matrix[0])
            k = undersample(study.kspace, mask)
            ref = np.abs(study.reference)
            if si == 0 and done == 0:  # warm-up: first calls pay for imports and thread pools
                get_method("zero-filled").func(k, mask, device="cpu")
                for _, name, params, dev in methods[2:3]:
                    get_method(name).func(k, mask, device=dev, **params)
            for label, name, params, dev in methods:
                check(cancel)
                t0 = time.perf_counter()
                img = get_method(name).func(k, mask, device=dev, cancel=cancel, **params)
                secs = time.perf_counter() - t0
                sc = score(img, ref)
                scores[label].append((sc.psnr, sc.ssim, secs))
                if si == 0:
                    shown[label] = np.abs(img).astype(np.float32)
            if si == 0:
                shown = {"ground truth": ref.astype(np.float32), **shown}
                if figure_dir is not None:
                    stem = f"bench-{data}-cine-r{accel:g}" if data != "phantom" else f"bench-cine-r{accel:g}"
                    figures.append(str(write_figure(shown, Path(figure_dir) / f"{stem}.png",
                                                    f"R = {accel:g}, {what} {seed}")))
            done += 1
            report(progress, done / total, f"R {accel:g} seed {seed}")
        for label, _, _, dev in methods:
            a = np.array(scores[label])
            rows.append(CineRow(accel, label, float(a[:, 0].mean()), float(a[:, 0].std(ddof=1) if len(a) > 1 else 0),
                                float(a[:, 1].mean()), float(a[:, 1].std(ddof=1) if len(a) > 1 else 0),
                                float(a[:, 2].mean()), len(a), dev))
    return {"rows": [asdict(r) for r in rows], "seeds": seeds, "size": size, "cs_iters": cs_iters, "data": data,
            "figures": figures, "markdown": cine_markdown(rows, seeds, size, figures, what)}


def cine_markdown(rows: list[CineRow], seeds: list[int], size: int, figures: list[str],
                  what: str = "phantom test seeds") -> str:
    out = [f"Held-out {what} {seeds[0]}–{seeds[-1]} ({len(seeds)} cines, {size}², 20 frames, 8 coils, "
           "variable-density ky–t masks with 2 ACS lines); mean ± sd over cines; time = wall time per cine.", ""]
    for accel in sorted({r.accel for r in rows}):
        sub = [r for r in rows if r.accel == accel]
        title = f"R ≈ {accel:g}, painted strokes" if accel == PAINTED else f"R = {accel:g}"
        out += [f"### {title}", "", "| method | PSNR (dB) | SSIM | time / cine (s) | device |", "|---|---|---|---|---|"]
        out += [f"| {r.method} | {r.psnr_mean:.2f} ± {r.psnr_sd:.2f} | {r.ssim_mean:.3f} ± {r.ssim_sd:.3f} | "
                f"{r.seconds:.3f} | {r.device} |" for r in sub]
        by = {r.method: r for r in sub}
        naive, cs = by["naive (zero-filled)"], by[CS]
        cnns = [r for r in sub if r.method.startswith("CNN-") and "DC" not in r.method]
        best = max(cnns, key=lambda r: r.psnr_mean)
        fastest = min(cnns, key=lambda r: r.seconds)
        dp = [r.psnr_mean - naive.psnr_mean for r in cnns]
        ds = [r.ssim_mean - naive.ssim_mean for r in cnns]
        out += ["", f"- CNN gain over naive: PSNR {min(dp):+.2f} to {max(dp):+.2f} dB, SSIM {min(ds):+.3f} to {max(ds):+.3f}",
                f"- best CNN ({best.method}) vs CS: PSNR {best.psnr_mean - cs.psnr_mean:+.2f} dB, "
                f"SSIM {best.ssim_mean - cs.ssim_mean:+.3f}",
                f"- speed: CS / CNN time = {cs.seconds / fastest.seconds:.0f}× "
                f"(CS {cs.seconds:.2f} s, {fastest.method} {fastest.seconds:.3f} s, both from k-space)"]
        if BART in by:
            b = by[BART]
            out.append(f"- CS vs BART pics: PSNR {cs.psnr_mean - b.psnr_mean:+.2f} dB, SSIM {cs.ssim_mean - b.ssim_mean:+.3f},"
                       f" time ratio {cs.seconds / b.seconds:.2f}")
        if UNROLLED in by:
            u = by[UNROLLED]
            out.append(f"- unrolled vs CS: PSNR {u.psnr_mean - cs.psnr_mean:+.2f} dB, SSIM {u.ssim_mean - cs.ssim_mean:+.3f};"
                       f" vs the best CNN: PSNR {u.psnr_mean - best.psnr_mean:+.2f} dB")
        out.append("")
    if figures:
        out += ["Figures (first test seed: frame 0, |error| × 5, x–t profile through the heart):", ""]
        out += [f"![{Path(f).stem}]({Path(f).name})" for f in figures] + [""]
    return "\n".join(out) + "\n"


def write_figure(stacks: dict[str, np.ndarray], path: Path, title: str) -> Path:
    """One row per method: frame 0, |error| × 5 (vs the first stack), x–t profile at mid-height."""
    from PIL import Image, ImageDraw

    from ..core.profiles import display_levels, line_profile
    from ..io.video import to_uint8

    names = list(stacks)
    ref = stacks[names[0]]
    _, ny, nx = ref.shape
    levels = display_levels(ref)
    y = ny * 0.45
    tiles = []
    for name in names:
        s = stacks[name]
        img = to_uint8(s[0], levels)
        err = to_uint8(np.abs(s[0] - ref[0]) * 5, levels)
        prof = line_profile(s, (y, 0.0), (y, nx - 1.0))  # (T, nx)
        prof = np.repeat(to_uint8(prof, levels), max(1, ny // prof.shape[0]), axis=0)[:ny]
        prof = np.pad(prof, ((0, ny - prof.shape[0]), (0, 0)))
        tiles.append((name, np.concatenate([img, np.zeros((ny, 4), np.uint8), err, np.zeros((ny, 4), np.uint8), prof], 1)))
    label_w, head = 150, 24
    w = label_w + tiles[0][1].shape[1]
    canvas = Image.new("L", (w, head + len(tiles) * (ny + 4)), 0)
    draw = ImageDraw.Draw(canvas)
    draw.text((4, 4), f"{title}   columns: frame 0 | |error| x5 | x-t profile (row {int(y)})", fill=255)
    for i, (name, tile) in enumerate(tiles):
        top = head + i * (ny + 4)
        canvas.paste(Image.fromarray(tile), (label_w, top))
        draw.text((4, top + ny // 2 - 6), name, fill=255)
    from ..io.atomic import atomic_path

    with atomic_path(path, force=True) as tmp:
        canvas.save(tmp, format="PNG")
    return path
