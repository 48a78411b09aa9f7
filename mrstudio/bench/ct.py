"""``bench ct``: the analogue of the HRINet paper's Table 2 on held-out CT phantom volumes.

Each test volume (seeds 20000…, never used in training) is the procedural thoracic phantom
at 256², 1 mm thin slices averaged to 3 mm. The "large gap" of the paper: every 6th slice
is kept, the 5 between are predicted from the two ends (18 mm apart) and scored. Methods:
linear, cubic, and every shipped ``ct-*`` model (HRINet, its ablations, MR Studio's
residual variant). Scores: PSNR and SSIM (ARCHITECTURE.md definitions) on HU clipped to
[−1000, 1000] and scaled to [0, 1], RMSE in HU, wall time per volume.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.jobs import CancelToken, Progress, check, report

TABLE2_ORDER = ("ae", "acai", "patchgan", "hrinet", "hrinet-res")


@dataclass
class CTRow:
    method: str
    psnr_mean: float
    psnr_sd: float
    ssim_mean: float
    ssim_sd: float
    rmse_hu: float
    seconds: float
    n: int
    device: str


def _ct_models() -> list[tuple[str, dict]]:
    from ..train.checkpoint import list_models

    cards = [(c["name"], c) for c in list_models("ct-") if c.get("task") == "ct-interpolation"]
    return sorted(cards, key=lambda nc: (TABLE2_ORDER.index(nc[1].get("variant", "hrinet"))
                                         if nc[1].get("variant") in TABLE2_ORDER else 99, nc[0]))


def run_ct(quick: bool = False, device: str = "cpu", progress: Progress | None = None,
           cancel: CancelToken | None = None, figure_dir: str | Path | None = None) -> dict[str, Any]:
    """Hold-out large-gap scores for linear, cubic and the shipped CT models."""
    from ..core.ct_phantom import make_ct_phantom, thick
    from ..interp.pipeline import holdout

    size, n_vol, slices = (128, 1, 13) if quick else (256, 4, 37)
    seeds = list(range(20_000, 20_000 + n_vol))
    methods: list[tuple[str, str, dict, str]] = [("linear", "linear", {}, "cpu"), ("cubic", "cubic", {}, "cpu")]
    methods += [(f"{name} ({card.get('variant', '?')}, {card.get('loss', '?')})", "hrinet", {"model": name}, device)
                for name, card in _ct_models()]
    scores: dict[str, list[tuple[float, float, float, float]]] = {m[0]: [] for m in methods}
    shown: dict[str, np.ndarray] = {}
    for vi, seed in enumerate(seeds):
        vol = thick(make_ct_phantom(size=size, slices=slices * 3, seed=seed), 3)
        for label, name, params, dev in methods:
            check(cancel)
            r = holdout(vol, name, gap=6, device=dev, **params)
            scores[label].append((r["psnr"], r["ssim"], r["rmse_hu"], r["seconds"]))
            if vi == 0:
                shown[label] = r["pred"][0, 2]  # the middle of the first gap (α = 3/6)
                if "ground truth (held out)" not in shown:
                    shown = {"end a (kept)": vol.volume[0], "ground truth (held out)": r["truth"][0, 2],
                             "end b (kept)": vol.volume[6], **shown}
        report(progress, (vi + 1) / len(seeds), f"volume {seed}")
    rows = []
    for label, _, _, dev in methods:
        a = np.array(scores[label])
        sd = a.std(axis=0, ddof=1) if len(a) > 1 else np.zeros(4)
        rows.append(CTRow(label, float(a[:, 0].mean()), float(sd[0]), float(a[:, 1].mean()), float(sd[1]),
                          float(a[:, 2].mean()), float(a[:, 3].mean()), len(a), dev))
    figures = []
    if figure_dir is not None:
        figures.append(str(write_ct_figure(shown, Path(figure_dir) / "bench-ct.png")))
    shipped = {c.get("variant") for _, c in _ct_models()}
    missing = [v for v in TABLE2_ORDER if v not in shipped]
    return {"rows": [asdict(r) for r in rows], "seeds": seeds, "size": size, "figures": figures,
            "markdown": ct_markdown(rows, seeds, size, figures, missing)}


def ct_markdown(rows: list[CTRow], seeds: list[int], size: int, figures: list[str], missing: list[str]) -> str:
    out = [f"Held-out CT phantom volumes (seeds {seeds[0]}–{seeds[-1]}, {size}², 3 mm slices from 1 mm thin "
           "slices). Large gap: every 6th slice kept, the 5 between predicted (ends 18 mm apart). PSNR/SSIM on HU "
           "clipped to [−1000, 1000] scaled to [0, 1]; mean ± sd over volumes; time per volume.", "",
           "| method | PSNR (dB) | SSIM | RMSE (HU) | time (s) | device |", "|---|---|---|---|---|---|"]
    out += [f"| {r.method} | {r.psnr_mean:.2f} ± {r.psnr_sd:.2f} | {r.ssim_mean:.3f} ± {r.ssim_sd:.3f} | "
            f"{r.rmse_hu:.1f} | {r.seconds:.3f} | {r.device} |" for r in rows]
    by = {r.method: r for r in rows}
    learned = [r for r in rows if r.method not in ("linear", "cubic")]
    if learned:
        best = max(learned, key=lambda r: r.psnr_mean)
        out += ["", f"- best learned ({best.method}) vs linear: PSNR {best.psnr_mean - by['linear'].psnr_mean:+.2f} dB, "
                f"vs cubic: {best.psnr_mean - by['cubic'].psnr_mean:+.2f} dB"]
    if missing:
        out += ["", f"- not shipped, so not in this table: {', '.join(missing)} (train them with "
                "`mrstudio train ct --variant V`)"]
    if figures:
        out += ["", "Figure (first volume, middle of the first gap): kept ends, held-out truth, each method and "
                "|error| × 4:", ""] + [f"![{Path(f).stem}]({Path(f).name})" for f in figures]
    return "\n".join(out) + "\n"


def write_ct_figure(slices: dict[str, np.ndarray], path: Path) -> Path:
    """Two rows: every slice in a soft-tissue/lung window, and |error| × 4 against the truth."""
    from PIL import Image, ImageDraw

    from ..io.atomic import atomic_path

    names = list(slices)
    truth = slices["ground truth (held out)"]
    h, w = truth.shape

    def win(x: np.ndarray) -> np.ndarray:
        return (np.clip((x + 1000.0) / 1400.0, 0, 1) * 255).astype(np.uint8)  # [−1000, 400] HU

    head, gap = 16, 4
    canvas = Image.new("L", (len(names) * (w + gap), head + 2 * (h + head)), 0)
    draw = ImageDraw.Draw(canvas)
    for i, n in enumerate(names):
        x0 = i * (w + gap)
        canvas.paste(Image.fromarray(win(slices[n])), (x0, head))
        draw.text((x0 + 2, 2), n[:28], fill=255)
        if n not in ("end a (kept)", "end b (kept)", "ground truth (held out)"):
            err = np.clip(np.abs(slices[n] - truth) * 4 / 1400.0, 0, 1) * 255
            canvas.paste(Image.fromarray(err.astype(np.uint8)), (x0, 2 * head + h))
            draw.text((x0 + 2, head + h + 2), "|error| x4", fill=255)
    with atomic_path(path, force=True) as tmp:
        canvas.save(tmp, format="PNG")
    return path
