"""``bench interp`` (alias ``bench ct``): slice interpolation on real anatomy, then the CT phantom tables.

Real anatomy: the test volumes of :func:`mrstudio.io.anatomy.test_volumes` (INIA19 at 1 mm,
slices normal to each axis; never used for training or tuning). Thick slices are simulated
by slab averaging (:mod:`mrstudio.interp.slab`) of 3 and of 6 thin slices; every method
interpolates the thick volume ×3 / ×6 back onto the 1 mm grid, and the inserted slices are
scored against the thin ones: PSNR/SSIM on the robust range mapped to [0, 1] (as the CLI's
hold-out), RMSE in the volume's units (its 99.9th percentile is 1), time per volume (for the
self-supervised row, its ``ADAPT_S`` s of refinement on the volume included). A figure
shows a plane across the slices (a reformat) of the first volume at ×6 for every method.
Then the CT phantom's Table 2 analogue and the large-volume cost (:mod:`.ct`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..core.jobs import CancelToken, Progress, check, report
from .ct import _ct_models, _plane_models, run_ct

FACTORS = (3, 6)
ADAPT_S = 30.0  # the self-supervised refinement on each test volume (SMORE-style), seconds


def anatomy_methods(device: str) -> list[tuple[str, str, dict, str]]:
    """``(label, method, params, device)``: linear, cubic, the through-plane models and the CT-trained HRINets."""
    methods: list[tuple[str, str, dict, str]] = [("linear", "linear", {}, "cpu"), ("cubic", "cubic", {}, "cpu")]
    for c in _plane_models():
        methods += [(f"throughplane ({c.name})", "throughplane", {"model": c.name}, device),
                    (f"throughplane + self-supervised {ADAPT_S:g} s ({c.name})", "throughplane",
                     {"model": c.name, "adapt_seconds": ADAPT_S}, device)]
    methods += [(f"{name} ({card.get('variant', '?')}, {card.get('loss', '?')}; {trained_on(card)})", "hrinet",
                 {"model": name}, device) for name, card in _ct_models()]
    return methods


def trained_on(card: Any) -> str:
    """``anatomy + phantom`` or ``CT phantom``: the training data of an HRINet-family card, for labels."""
    kind = str((card.get("training_data") or {}).get("kind", ""))
    return "anatomy + phantom" if kind.startswith("real anatomy") else "CT phantom" if "phantom" in kind else "files"


def run_anatomy(quick: bool = False, device: str = "cpu", progress: Progress | None = None,
                cancel: CancelToken | None = None, span: tuple[float, float] = (0.0, 1.0)) -> dict[str, Any]:
    from ..interp.slab import slab_holdout
    from ..io.anatomy import test_volumes

    vols = test_volumes()[:1] if quick else test_volumes()
    methods = anatomy_methods(device)
    if quick:
        methods = [m for m in methods if m[1] != "hrinet" and "adapt_seconds" not in m[2]]
        methods += [m for m in anatomy_methods(device) if m[1] == "hrinet"][:1]
    scores: dict[tuple[int, str], list[tuple[float, float, float, float]]] = {}
    shown: dict[str, np.ndarray] = {}
    steps, done = len(vols) * len(FACTORS) * len(methods), 0
    for vi, vol in enumerate(vols):
        for k in FACTORS:
            for label, name, params, dev in methods:
                check(cancel)
                r = slab_holdout(vol, name, k, device=dev, **params)
                scores.setdefault((k, label), []).append((r["psnr"], r["ssim"], r["rmse"], r["seconds"]))
                if vi == 0 and k == FACTORS[-1]:
                    shown.setdefault("truth (1 mm)", _reformat(r["truth"]))
                    shown[label] = _reformat(r["pred"])
                done += 1
                report(progress, span[0] + (span[1] - span[0]) * done / steps, f"{vol.name} ×{k} {label}")
    rows = []
    for (k, label), vals in scores.items():
        a = np.array(vals)
        sd = a.std(axis=0, ddof=1) if len(a) > 1 else np.zeros(4)
        rows.append({"factor": k, "method": label, "psnr": float(a[:, 0].mean()), "psnr_sd": float(sd[0]),
                     "ssim": float(a[:, 1].mean()), "ssim_sd": float(sd[1]), "rmse": float(a[:, 2].mean()),
                     "seconds": float(a[:, 3].mean()), "n": len(a)})
    return {"rows": rows, "volumes": [v.name for v in vols], "shown": shown}


def _reformat(slices: np.ndarray) -> np.ndarray:
    """The plane through the middle column of the inserted slices ``(N, Y, X)`` → ``(N, Y)`` (across the slices)."""
    return slices[:, :, slices.shape[2] // 2]


def anatomy_markdown(res: dict[str, Any], figures: list[str]) -> str:
    out = ["### Real anatomy (held-out INIA19 volumes)", "",
           f"Test volumes: {', '.join(res['volumes'])} (mricron-data; never used for training or tuning). Thick slices: "
           "slab averages of k thin 1 mm slices (k mm thick, gapless); each method interpolates them ×k back onto the "
           "1 mm grid; the inserted slices are scored against the thin ones. PSNR/SSIM on the robust range (0.5–99.5th "
           "percentile of the thick volume) mapped to [0, 1]; RMSE in the volume's units (99.9th percentile = 1); "
           "mean ± sd over volumes; time per volume.", ""]
    for k in FACTORS:
        rows = [r for r in res["rows"] if r["factor"] == k]
        out += [f"**×{k}** (slabs of {k} mm)", "", "| method | PSNR (dB) | SSIM | RMSE | time (s) |", "|---|---|---|---|---|"]
        out += [f"| {r['method']} | {r['psnr']:.2f} ± {r['psnr_sd']:.2f} | {r['ssim']:.4f} ± {r['ssim_sd']:.4f} | "
                f"{r['rmse']:.4f} | {r['seconds']:.2f} |" for r in rows]
        by = {r["method"]: r for r in rows}
        learned = [r for r in rows if r["method"] not in ("linear", "cubic")]
        if learned:
            best = max(learned, key=lambda r: r["psnr"])
            out += ["", f"- best learned ({best['method']}): {best['psnr'] - by['linear']['psnr']:+.2f} dB / "
                    f"{best['ssim'] - by['linear']['ssim']:+.4f} SSIM vs linear, {best['psnr'] - by['cubic']['psnr']:+.2f} dB"
                    f" / {best['ssim'] - by['cubic']['ssim']:+.4f} vs cubic"]
            out += _family_lines(rows, by["linear"])
        out.append("")
    if figures:
        out += ["Figure (first volume, ×6): a plane across the slices — the 1 mm truth and every method, with "
                "|error| × 4 below:", ""] + [f"![{Path(f).stem}]({Path(f).name})" for f in figures]
    return "\n".join(out) + "\n"


def _family_lines(rows: list[dict], linear: dict) -> list[str]:
    """Per training set: each HRINet-family network's gap to linear, and HRINet-MSE against ACAI (the paper's order)."""
    out = []
    for data in ("anatomy + phantom", "CT phantom"):
        fam = {r["method"].split(" (")[0]: r for r in rows if r["method"].endswith(f"; {data})")}
        if not fam:
            continue
        out.append(f"- {data}-trained networks, gap to linear: " + ", ".join(
            f"{n} {r['psnr'] - linear['psnr']:+.2f} dB / {r['ssim'] - linear['ssim']:+.4f}" for n, r in fam.items()))
        hr = [r for n, r in fam.items() if "(hrinet, mse;" in r["method"]]
        acai = [r for n, r in fam.items() if "(acai," in r["method"]]
        if hr and acai:
            d, ds = hr[0]["psnr"] - acai[0]["psnr"], hr[0]["ssim"] - acai[0]["ssim"]
            out.append(f"- {data}: HRINet-MSE vs ACAI {d:+.2f} dB / {ds:+.4f} SSIM "
                       f"({'the paper’s order' if d > 0 else 'not the paper’s order'})")
    return out


def write_reformat_figure(planes: dict[str, np.ndarray], path: Path) -> Path:
    """Each reformatted plane (stretched ×2 along the slices for legibility) and |error| × 4 against the truth."""
    from PIL import Image, ImageDraw

    from ..io.atomic import atomic_path

    names = list(planes)
    truth = planes["truth (1 mm)"]
    scale = max(float(np.percentile(truth, 99.5)), 1e-6)
    h, w = truth.shape

    def img(x: np.ndarray) -> Image.Image:
        return Image.fromarray((np.clip(x / scale, 0, 1) * 255).astype(np.uint8)).resize((w * 2, h * 2))

    head, gap = 16, 4
    canvas = Image.new("L", (len(names) * (2 * w + gap), 2 * head + 4 * h), 0)
    draw = ImageDraw.Draw(canvas)
    for i, n in enumerate(names):
        x0 = i * (2 * w + gap)
        canvas.paste(img(planes[n]), (x0, head))
        draw.text((x0 + 2, 2), n.split(" (")[0][:24], fill=255)
        if n != "truth (1 mm)":
            canvas.paste(img(4 * np.abs(planes[n] - truth)), (x0, 2 * head + 2 * h))
            draw.text((x0 + 2, head + 2 * h + 2), "|error| x4", fill=255)
    with atomic_path(path, force=True) as tmp:
        canvas.save(tmp, format="PNG")
    return path


def run_interp(quick: bool = False, device: str = "cpu", progress: Progress | None = None,
               cancel: CancelToken | None = None, figure_dir: str | Path | None = None,
               data: str | None = None) -> dict[str, Any]:
    """Real anatomy first, then the CT phantom (Table 2 analogue, 512², large-volume cost); ``data``
    ``anatomy`` or ``phantom`` runs one of the two."""
    out: dict[str, Any] = {"figures": [], "markdown": ""}
    split = 0.4 if data is None else 1.0 if data == "anatomy" else 0.0
    if data in (None, "anatomy"):
        anat = run_anatomy(quick, device, progress, cancel, (0.0, split))
        shown = anat.pop("shown")
        if figure_dir is not None:
            out["figures"].append(str(write_reformat_figure(shown, Path(figure_dir) / "bench-interp-anatomy.png")))
        out["anatomy"] = anat
        out["markdown"] = anatomy_markdown(anat, out["figures"])
    if data in (None, "phantom"):
        def later(f: float, m: str) -> None:
            report(progress, split + (1 - split) * f, m)

        ct = run_ct(quick, device, later, cancel, figure_dir)
        out["ct"] = {k: v for k, v in ct.items() if k != "markdown"}
        out["figures"] += ct["figures"]
        out["markdown"] += ("\n" if out["markdown"] else "") + "### CT phantom (the paper's Table 2 setting)\n\n" \
            + ct["markdown"]
    return out
