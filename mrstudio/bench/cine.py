"""``bench cine``: the analogue of the paper's Table 1 on held-out phantom test seeds.

For each acceleration R (15, 30, 60) and each test seed (``SPLITS["test"]``, never seen
in training or tuning) one variable-density ky–t mask is drawn (seed = phantom seed)
and every method reconstructs the same undersampled k-space:

* naive (zero-filled sum of squares), CS (l1-ESPIRiT, default parameters, ESPIRiT
  calibration included in its time),
* the shipped CNNs ``cine-unet-{l2,l1-fourier,ssim}-r{R}``,
* CNN-l2 + data consistency (ESPIRiT calibration included in its time).

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


@dataclass
class CineRow:
    accel: float
    method: str
    psnr_mean: float
    psnr_sd: float
    ssim_mean: float
    ssim_sd: float
    seconds: float
    n: int
    device: str


def _methods(accel: float, device: str, cs_iters: int) -> list[tuple[str, str, dict[str, Any], str]]:
    """(label, registry name, params, device) for one R."""
    r = f"{accel:g}"
    out = [("naive (zero-filled)", "zero-filled", {}, "cpu"), ("CS (l1-ESPIRiT)", "cs", {"iters": cs_iters}, "cpu")]
    out += [(f"CNN-{loss}", "cnn", {"model": f"cine-unet-{loss}-r{r}"}, device) for loss in LOSSES]
    out.append(("CNN-l2 + DC", "cnn", {"model": f"cine-unet-l2-r{r}", "dc": True}, device))
    return out


def run_cine(quick: bool = False, device: str = "cpu", progress: Progress | None = None,
             cancel: CancelToken | None = None, figure_dir: str | Path | None = None) -> dict[str, Any]:
    """Score every method at R = 15, 30, 60 on the test seeds; returns rows, markdown and figure paths."""
    from ..core.masks import MaskSpec, make_mask
    from ..core.metrics import score
    from ..core.phantom import make_phantom
    from ..core.splits import CINE_PHANTOM as SPLITS
    from ..recon import get_method
    from ..recon.base import undersample
    from ..recon.cnn import load_cine_model

    accels = (15.0,) if quick else (15.0, 30.0, 60.0)
    seeds = list(SPLITS["test"][: 2 if quick else 10])
    size, cs_iters = (64, 20) if quick else (128, 100)
    rows: list[CineRow] = []
    figures: list[str] = []
    total = len(accels) * len(seeds)
    done = 0
    for accel in accels:
        methods = _methods(accel, device, cs_iters)
        for _, name, params, dev in methods:  # load (and warm) each model before timing
            if name == "cnn":
                load_cine_model(params["model"], dev)
        scores: dict[str, list[tuple[float, float, float]]] = {m[0]: [] for m in methods}
        shown: dict[str, np.ndarray] = {}
        for si, seed in enumerate(seeds):
            study = make_phantom(size=size, frames=20, coils=8, seed=seed)
            mask = make_mask(MaskSpec(kind="vd-kt", accel=accel, acs=2, seed=seed), study.frames, study.matrix[0])
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
                    figures.append(str(write_figure(shown, Path(figure_dir) / f"bench-cine-r{accel:g}.png",
                                                    f"R = {accel:g}, test seed {seed}")))
            done += 1
            report(progress, done / total, f"R {accel:g} seed {seed}")
        for label, _, _, dev in methods:
            a = np.array(scores[label])
            rows.append(CineRow(accel, label, float(a[:, 0].mean()), float(a[:, 0].std(ddof=1) if len(a) > 1 else 0),
                                float(a[:, 1].mean()), float(a[:, 1].std(ddof=1) if len(a) > 1 else 0),
                                float(a[:, 2].mean()), len(a), dev))
    return {"rows": [asdict(r) for r in rows], "seeds": seeds, "size": size, "cs_iters": cs_iters,
            "figures": figures, "markdown": cine_markdown(rows, seeds, size, figures)}


def cine_markdown(rows: list[CineRow], seeds: list[int], size: int, figures: list[str]) -> str:
    out = [f"Held-out phantom test seeds {seeds[0]}–{seeds[-1]} ({len(seeds)} cines, {size}², 20 frames, 8 coils, "
           "variable-density ky–t masks with 2 ACS lines); mean ± sd over cines; time = wall time per cine.", ""]
    for accel in sorted({r.accel for r in rows}):
        sub = [r for r in rows if r.accel == accel]
        out += [f"### R = {accel:g}", "", "| method | PSNR (dB) | SSIM | time / cine (s) | device |", "|---|---|---|---|---|"]
        out += [f"| {r.method} | {r.psnr_mean:.2f} ± {r.psnr_sd:.2f} | {r.ssim_mean:.3f} ± {r.ssim_sd:.3f} | "
                f"{r.seconds:.3f} | {r.device} |" for r in sub]
        by = {r.method: r for r in sub}
        naive, cs = by["naive (zero-filled)"], by["CS (l1-ESPIRiT)"]
        cnns = [r for r in sub if r.method.startswith("CNN-") and "DC" not in r.method]
        best = max(cnns, key=lambda r: r.psnr_mean)
        fastest = min(cnns, key=lambda r: r.seconds)
        dp = [r.psnr_mean - naive.psnr_mean for r in cnns]
        ds = [r.ssim_mean - naive.ssim_mean for r in cnns]
        out += ["", f"- CNN gain over naive: PSNR {min(dp):+.2f} to {max(dp):+.2f} dB, SSIM {min(ds):+.3f} to {max(ds):+.3f}",
                f"- best CNN ({best.method}) vs CS: PSNR {best.psnr_mean - cs.psnr_mean:+.2f} dB, "
                f"SSIM {best.ssim_mean - cs.ssim_mean:+.3f}",
                f"- speed: CS / CNN time = {cs.seconds / fastest.seconds:.0f}× "
                f"(CS {cs.seconds:.2f} s, {fastest.method} {fastest.seconds:.3f} s, both from k-space)", ""]
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
