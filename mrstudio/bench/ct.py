"""``bench ct``: the analogue of the HRINet paper's Table 2 on held-out CT phantom volumes.

Each test volume (seeds 20000…, never used in training) is the procedural thoracic phantom
at 256², 1 mm thin slices averaged to 3 mm. The "large gap" of the paper: every 6th slice
is kept, the 5 between are predicted from the two ends (18 mm apart) and scored. Methods:
linear, cubic, and every shipped ``ct-*`` model (HRINet, its ablations, MR Studio's
residual variant). Scores: PSNR and SSIM (ARCHITECTURE.md definitions) on HU clipped to
[−1000, 1000] and scaled to [0, 1], RMSE in HU, wall time per volume.

Large slices: the same hold-out on one 512² volume (the models were trained at 256²; the
paper trained separate 512² networks), and the time and peak memory of inserting slices
(×3) into a 512² volume of 100 slices with every method.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.jobs import CancelToken, Progress, check, report

TABLE2_ORDER = ("ae", "acai", "patchgan", "hrinet", "hrinet-res", "hrinet-skip")


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


@dataclass
class LargeRow:
    """Inserting slices into one large volume: wall time and memory (MiB, see :func:`peak_memory`)."""

    method: str
    seconds: float
    peak_mib: float
    added_mib: float
    slices_in: int
    slices_out: int
    device: str
    memory: str  # what peak_mib measures: "cuda tensors" or "process RSS"


def _ct_models() -> list[tuple[str, dict]]:
    from ..io.model_store import INTERP_TASK, list_models

    cards = [(c.name, c) for c in list_models(task=INTERP_TASK)]
    return sorted(cards, key=lambda nc: (TABLE2_ORDER.index(nc[1].get("variant", "hrinet"))
                                         if nc[1].get("variant") in TABLE2_ORDER else 99, nc[0]))


def _plane_models() -> list:
    from ..interp.throughplane import TASK
    from ..io.model_store import list_models

    return list_models(task=TASK)


def _score_rows(methods: list[tuple[str, str, dict, str]], volumes: list[tuple[int, Any]],
                cancel: CancelToken | None, progress: Progress | None, span: tuple[float, float],
                shown: dict[str, np.ndarray] | None = None) -> list[CTRow]:
    """Large-gap hold-out scores of every method on every ``(seed, VolumeStudy)``; mean ± sd rows."""
    from ..interp.pipeline import holdout

    scores: dict[str, list[tuple[float, float, float, float]]] = {m[0]: [] for m in methods}
    for vi, (seed, vol) in enumerate(volumes):
        for label, name, params, dev in methods:
            check(cancel)
            r = holdout(vol, name, gap=6, device=dev, **params)
            scores[label].append((r["psnr"], r["ssim"], r["rmse_hu"], r["seconds"]))
            if vi == 0 and shown is not None:
                if not shown:
                    shown.update({"end a (kept)": vol.volume[0], "ground truth (held out)": r["truth"][0, 2],
                                  "end b (kept)": vol.volume[6]})
                shown[label] = r["pred"][0, 2]  # the middle of the first gap (α = 3/6)
        report(progress, span[0] + (span[1] - span[0]) * (vi + 1) / len(volumes), f"volume {seed}")
    rows = []
    for label, _, _, dev in methods:
        a = np.array(scores[label])
        sd = a.std(axis=0, ddof=1) if len(a) > 1 else np.zeros(4)
        rows.append(CTRow(label, float(a[:, 0].mean()), float(sd[0]), float(a[:, 1].mean()), float(sd[1]),
                          float(a[:, 2].mean()), float(a[:, 3].mean()), len(a), dev))
    return rows


def large_volume(methods: list[tuple[str, str, dict, str]], vol: Any, slices: int, factor: int = 3,
                 cancel: CancelToken | None = None) -> list[LargeRow]:
    """Time and memory of inserting ``factor − 1`` slices per gap into ``vol`` grown to ``slices`` slices.

    The volume is extended by mirroring along z (content does not change the cost). Each method
    runs in a fresh Python process (:func:`_cost_child`), so its peak memory is its own and not
    hidden in memory this process already holds.
    """
    import json
    import subprocess
    import sys
    import tempfile

    from ..core.errors import StudyError

    v = vol.volume
    reps = -(-slices // len(v))
    stack = np.concatenate([v if i % 2 == 0 else v[::-1] for i in range(reps)])[:slices]
    rows = []
    with tempfile.TemporaryDirectory(prefix="mrstudio-bench-") as tmp:
        path = Path(tmp) / "volume.npy"
        np.save(path, np.ascontiguousarray(stack))
        for label, name, params, dev in methods:
            check(cancel)
            job = json.dumps({"path": str(path), "spacing": list(vol.spacing), "method": name, "params": params,
                              "device": dev, "factor": factor})
            p = subprocess.run([sys.executable, "-c", "from mrstudio.bench.ct import _cost_child; _cost_child()", job],
                               capture_output=True, text=True, timeout=3600)
            if p.returncode != 0:
                raise StudyError(label, f"large-volume run failed: {p.stderr.strip().splitlines()[-1:]}")
            r = json.loads(p.stdout.strip().splitlines()[-1])
            rows.append(LargeRow(label, r["seconds"], r["peak_mib"], r["added_mib"], slices, r["slices_out"], dev,
                                 "cuda tensors" if dev.startswith("cuda") else "process RSS"))
    return rows


def _cost_child() -> None:
    """In a fresh process: load the volume and the method, interpolate twice, print one JSON line.

    ``seconds``: the second call (model loaded, warmed up). ``peak_mib``: CUDA — the peak of
    ``torch.cuda.max_memory_allocated``; CPU — the process's peak RSS (``VmHWM``), interpreter and
    libraries included. ``added_mib``: that peak minus the same measure just before the first call.
    """
    import json
    import sys

    from ..core.study import VolumeStudy
    from ..interp.pipeline import interpolate
    from .machine import peak_memory

    job = json.loads(sys.argv[1])
    study = VolumeStudy(volume=np.load(job["path"]), spacing=tuple(job["spacing"]), name="large", source=job["path"])
    dev, params = job["device"], job["params"]
    from ..interp import get_interp

    info = get_interp(job["method"])
    if info.prepare is not None:  # load the model before measuring (cached per process)
        info.prepare(dict(params), dev, None)
    with peak_memory(dev) as mem:
        r = interpolate(study, job["method"], job["factor"], device=dev, **params)
    n_out = r.study.shape[0]
    del r
    secs = interpolate(study, job["method"], job["factor"], device=dev, **params).seconds
    print(json.dumps({"seconds": secs, "slices_out": n_out, **mem}))


def run_ct(quick: bool = False, device: str = "cpu", progress: Progress | None = None,
           cancel: CancelToken | None = None, figure_dir: str | Path | None = None) -> dict[str, Any]:
    """Hold-out large-gap scores for linear, cubic and the shipped CT models at 256² and 512²,
    and the cost of interpolating a large volume."""
    from ..core.ct_phantom import make_ct_phantom, thick

    size, n_vol, slices = (128, 1, 13) if quick else (256, 4, 37)
    big_size, big_slices = (192, 20) if quick else (512, 100)
    from ..core.splits import CT_PHANTOM

    seeds = list(CT_PHANTOM["test"][:n_vol])
    methods: list[tuple[str, str, dict, str]] = [("linear", "linear", {}, "cpu"), ("cubic", "cubic", {}, "cpu")]
    methods += [(f"{name} ({card.get('variant', '?')}, {card.get('loss', '?')})", "hrinet", {"model": name}, device)
                for name, card in _ct_models()]
    methods += [(f"throughplane ({c.name})", "throughplane", {"model": c.name}, device) for c in _plane_models()]
    shown: dict[str, np.ndarray] = {}
    vols = [(s, thick(make_ct_phantom(size=size, slices=slices * 3, seed=s), 3)) for s in seeds]
    rows = _score_rows(methods, vols, cancel, progress, (0.0, 0.6), shown)
    big = thick(make_ct_phantom(size=big_size, slices=slices * 3, seed=seeds[0]), 3)
    big_rows = _score_rows(methods, [(seeds[0], big)], cancel, progress, (0.6, 0.8))
    few = [methods[0]] + [m for m in methods if m[1] == "hrinet"][:1] + [m for m in methods if m[1] == "throughplane"][:1]
    cost = large_volume(few if quick else methods, big, big_slices, 3, cancel)
    report(progress, 1.0, "large volume")
    figures = []
    if figure_dir is not None:
        figures.append(str(write_ct_figure(shown, Path(figure_dir) / "bench-ct.png")))
    shipped = {c.get("variant") for _, c in _ct_models()}
    missing = [v for v in TABLE2_ORDER if v not in shipped]
    md = ct_markdown(rows, seeds, size, figures, missing) + "\n" + large_markdown(big_rows, cost, seeds[0], big_size)
    return {"rows": [asdict(r) for r in rows], "seeds": seeds, "size": size, "figures": figures,
            "large": {"size": big_size, "seed": seeds[0], "rows": [asdict(r) for r in big_rows],
                      "cost": [asdict(r) for r in cost]},
            "markdown": md}


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


def large_markdown(rows: list[CTRow], cost: list[LargeRow], seed: int, size: int) -> str:
    out = [f"### {size}² slices", "",
           f"The same hold-out on one {size}² volume (seed {seed}, {rows[0].n} volume; the learned models were "
           "trained at 256² and run unchanged — fully convolutional — at this size):", "",
           "| method | PSNR (dB) | SSIM | RMSE (HU) | time (s) | device |", "|---|---|---|---|---|---|"]
    out += [f"| {r.method} | {r.psnr_mean:.2f} | {r.ssim_mean:.3f} | {r.rmse_hu:.1f} | {r.seconds:.3f} | {r.device} |"
            for r in rows]
    if cost:
        c0 = cost[0]
        out += ["", f"Inserting 2 slices per gap (×3) into a {size}² volume of {c0.slices_in} slices "
                f"({c0.slices_out} out; the volume above mirrored along z), each method in a fresh process. "
                "Peak memory: on the CPU the process's peak resident set size (VmHWM, interpreter and "
                "libraries included), on CUDA torch.cuda.max_memory_allocated; added: its rise during the "
                f"call (on the CPU this includes the {c0.slices_out}-slice output volume). Time: a second call, "
                "the model loaded.", "",
                "| method | time (s) | peak (MiB) | added (MiB) | measured | device |", "|---|---|---|---|---|---|"]
        out += [f"| {c.method} | {c.seconds:.2f} | {c.peak_mib:.0f} | {c.added_mib:.0f} | {c.memory} | {c.device} |"
                for c in cost]
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
