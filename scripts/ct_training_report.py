"""Write docs/ct-training.md: the validation rows of the run logs behind the shipped CT models.

Usage: .venv/bin/python scripts/ct_training_report.py [--out docs/ct-training.md]
       .venv/bin/python scripts/ct_training_report.py --anatomy [--out docs/interp-anatomy-training.md]

Each run folder (``runs/NAME``, not in git) holds ``log.json`` (one row per step; validation rows carry
``val_psnr``/``val_ssim``/``linear_psnr``) and ``config.json`` (the last command's options). The shipped
model's card (``models/NAME.json``) says which step was kept.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (run folder, shipped model, title, how the run was made)
RUNS = [
    ("runs/ct-hrinet-mse-256", "ct-hrinet-mse-256", "HRINet-MSE, the paper's configuration",
     "Started by `scripts/train_ct_cpu.sh`, resumed by `scripts/train_ct_more_cpu.sh` and then by "
     "`scripts/train_ct_long_cpu.sh` (same options, a longer time budget). Step counts continue over the resumed parts; "
     "the first resume (step 367) went back to Stage I until step 400, a bug since fixed (a resumed run keeps its stage)."),
    ("runs/ct-hrinet-skip-lr1e-4", "ct-hrinet-skip-mse-256", "HRINet-skip, lr 1e-4",
     "Trained by `scripts/train_ct_cpu.sh`; resumed once, and the resumed part was stopped and not shipped "
     "(adversarial instability after about step 1200)."),
]


def _table(log: list[dict]) -> list[str]:
    from mrstudio.train.run import cumulative_seconds

    out = ["| step | stage | minutes | val PSNR (dB) | val SSIM |", "|---|---|---|---|---|"]
    for row, sec in zip(log, cumulative_seconds(log)):
        if "val_psnr" in row:
            out.append(f"| {row['step']} | {row['stage']} | {sec / 60:.0f} | {row['val_psnr']:.2f} | {row['val_ssim']:.3f} |")
    return out


def report() -> str:
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from ct_autoencode_ceiling import ceiling_table

    out = ["## CT training runs (issue 7)", "",
           "Validation rows of the run logs behind the shipped CT models (2-core Xeon, CPU; validation seeds "
           "10000–10001, large gap: 5 slices predicted from the ends of 7; PSNR dB / SSIM on HU [−1000, 1000] → "
           "[0, 1]). Written by `scripts/ct_training_report.py` from `runs/NAME/log.json`. \"minutes\": wall time "
           "of the training process(es) from their first step (data generation excluded, validation included)."]
    for run, model, title, how in RUNS:
        log_path = ROOT / run / "log.json"
        if not log_path.exists():
            continue
        log = json.loads(log_path.read_text())
        card = json.loads((ROOT / "models" / f"{model}.json").read_text())
        lin = next((r["linear_psnr"] for r in log if "linear_psnr" in r), None)
        out += ["", f"### {title} (`{model}`)", "", how, "",
                f"Shipped: best step {card.get('best_step')} of {card.get('steps')} "
                f"(test seeds {card['test']['seeds'][0]}–{card['test']['seeds'][1]}: {card['test']['psnr']:.2f} dB / "
                f"{card['test']['ssim']:.3f}; linear {card['test']['linear_psnr']:.2f} dB / "
                f"{card['test']['linear_ssim']:.3f})." + (f" Linear on the validation slices: {lin:.2f} dB." if lin else ""),
                ""]
        out += _table(log)
    out += ["", "### Autoencoding ceiling (`scripts/ct_autoencode_ceiling.py`)", "",
            "Each shipped model given one slice (α = 0) on the validation volumes (every 3rd slice): what its decoder "
            "can reproduce. The paper's bottleneck (256² → 16×16×16 + 8×8×8 + 4×4×8) limits HRINet-MSE here (its "
            "interpolation comes close to this figure); "
            "the residual skip variant adds its input back, so it reproduces it almost exactly.", "",
            ceiling_table().rstrip()]
    return "\n".join(out) + "\n"


# the real-anatomy fine-tunes (issue 18), all made by scripts/train_interp_anatomy_cpu.sh from the CT weights
ANATOMY_RUNS = [("runs/interp-hrinet-mse-mix", "interp-hrinet-mse-mix", "HRINet-MSE, the paper's configuration"),
                ("runs/interp-hrinet-skip-mse-mix", "interp-hrinet-skip-mse-mix", "HRINet-skip (MR Studio)"),
                ("runs/interp-acai-mse-mix", "interp-acai-mse-mix", "ACAI (ablation)")]


def anatomy_report() -> str:
    out = ["## HRINet-family fine-tunes on real anatomy (issue 18)", "",
           "Validation rows of the runs behind the shipped `interp-*-mix` models. They were made by "
           "`scripts/train_interp_anatomy_cpu.sh` on the 2-core EPYC CPU, from the CT-phantom weights, starting in "
           "Stage II. The data are Colin 27 stacks plus 20 % CT phantom crops (docs/data.md). Validation is the "
           "axial slab of Colin 27 at 1 mm, with the large gap: every 6th slice kept, the 5 between predicted; "
           "PSNR dB / SSIM on the robust range mapped to [0, 1], the mean over the slab's three stacks. Written by "
           "`scripts/ct_training_report.py --anatomy`."]
    for run, model, title in ANATOMY_RUNS:
        log_path = ROOT / run / "log.json"
        if not log_path.exists():
            continue
        log = json.loads(log_path.read_text())
        card = json.loads((ROOT / "models" / f"{model}.json").read_text())
        v = card["validation"]
        out += ["", f"### {title} (`{model}`)", "",
                f"Shipped: best step {card.get('best_step')} of {card.get('steps')}, {card['train_seconds'] / 60:.0f} "
                f"minutes on {card['device']}, from `{card.get('init')}`: {v['psnr']:.2f} dB / {v['ssim']:.3f} "
                f"(linear on the same slices {v['linear_psnr']:.2f} dB / {v['linear_ssim']:.3f}).", ""]
        out += _table(log)
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--anatomy", action="store_true", help="the real-anatomy fine-tunes instead")
    ap.add_argument("--out")
    a = ap.parse_args()
    out = a.out or str(ROOT / "docs" / ("interp-anatomy-training.md" if a.anatomy else "ct-training.md"))
    tmp = Path(out + ".part")
    tmp.write_text(anatomy_report() if a.anatomy else report())
    tmp.replace(out)
    print(a.out)


if __name__ == "__main__":
    main()
