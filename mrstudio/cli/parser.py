"""The argument parser of the ``mrstudio`` command line (argparse; imports nothing heavy)."""

from __future__ import annotations

import argparse

from .. import __version__
from .errors import UsageError

BENCHES = {"perf": "mrstudio.bench.perf:run_perf", "infer": "mrstudio.bench.infer:run_infer",
           "cine": "mrstudio.bench.cine:run_cine", "interp": "mrstudio.bench.interp:run_interp",
           "ct": "mrstudio.bench.interp:run_interp",  # the old name of bench interp
           "gui": "mrstudio.gui.bench_gui:run_gui_bench", "batch": "mrstudio.batch.bench:run_batch_bench"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage block
        raise UsageError(message)


def _add_study(p: argparse.ArgumentParser, required: bool = False) -> None:
    p.add_argument("--study", default=None if required else "phantom", required=required,
                   help="a study file or folder, pacs://NODE/SERIES_UID, or 'phantom' (default) for the built-in phantom")
    p.add_argument("--phantom-seed", type=int, default=0, help="seed of the built-in phantom (default 0)")
    p.add_argument("--size", type=int, default=128, help="phantom matrix size (default 128)")
    p.add_argument("--frames", type=int, default=20, help="phantom frames (default 20)")
    p.add_argument("--coils", type=int, default=8, help="phantom coils (default 8)")
    _add_select(p)


def _add_select(p: argparse.ArgumentParser) -> None:
    p.add_argument("--slice", type=int, help="slice of multi-slice data (default: 0 for OCMR, else the middle one)")
    p.add_argument("--series", help="DICOM series (index or SeriesInstanceUID) when a folder holds several")


def build_parser() -> argparse.ArgumentParser:
    from ..core.masks import MASK_KINDS
    from ..core.splits import TEST_SEED

    p = _Parser(prog="mrstudio", description="MR Studio: accelerated cine MRI reconstruction and CT slice "
                "interpolation. Without a subcommand, starts the workstation GUI.")
    p.add_argument("--version", action="version", version=f"mrstudio {__version__}{_commit()}")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    p.add_argument("--study", default="phantom", help="study to open in the GUI (default: the phantom)")
    p.add_argument("--screenshot", metavar="FILE.png",
                   help="run the default comparison on the study, render the GUI to FILE.png and exit")
    p.add_argument("--device", dest="gui_device", default="auto", help="GUI compute device: auto, cpu, cuda or mps")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    info = sub.add_parser("info", help="describe a study")
    info.add_argument("path", help="study file or folder, or 'phantom'")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.add_argument("--show-phi", action="store_true", help="show patient/study identifiers unmasked")
    _add_select(info)

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
    rc.add_argument("--method", required=True, help="zero-filled, cs, cnn or unrolled")
    rc.add_argument("--model", help="CNN model name (in models/) or checkpoint path")
    rc.add_argument("--mask", default="vd-kt", help=f"{', '.join(MASK_KINDS)} or FILE.npy (default vd-kt)")
    rc.add_argument("--accel", type=float, help="acceleration R (> 1)")
    rc.add_argument("--acs", type=int, default=2, help="fully-sampled central lines per frame (default 2)")
    rc.add_argument("--seed", type=int, default=0, help="mask seed (default 0)")
    rc.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    rc.add_argument("--out", help="output FILE.h5, FILE.npz, DIR with --format dicom, or pacs://NODE (send the series)")
    rc.add_argument("--format", choices=("h5", "npz", "dicom"), help="output format (default: from --out)")
    rc.add_argument("--force", action="store_true", help="overwrite existing output")
    rc.add_argument("--anonymize", action="store_true", help="--format dicom: replace patient and study identifiers")
    rc.add_argument("--movie", metavar="FILE.mp4|FILE.gif",
                    help="also write a movie: reference | result | |error| (result alone without a reference)")
    rc.add_argument("--fps", type=float, default=10.0, help="movie frame rate (default 10)")
    rc.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    rc.add_argument("--backend", choices=("mrstudio", "bart"), default="mrstudio",
                    help="cs only: MR Studio's solver (default) or BART's pics when bart is on PATH")
    rc.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="method parameter, repeatable (e.g. --param iters=40)")
    it = sub.add_parser("interp", help="insert slices into a volume, CT or MR (linear, cubic, hrinet)")
    it.add_argument("--study", default="ct-phantom",
                    help="volume DICOM folder/file, pacs://NODE/SERIES_UID, or 'ct-phantom' (default)")
    it.add_argument("--phantom-seed", type=int, default=TEST_SEED,
                    help=f"seed of the CT phantom (default {TEST_SEED}, the test split)")
    it.add_argument("--method", required=True, help="linear, cubic or hrinet")
    it.add_argument("--model", help="hrinet model name (in models/) or checkpoint path")
    it.add_argument("--factor", type=int, default=6, help="insert factor − 1 slices between each pair (default 6)")
    it.add_argument("--holdout", action="store_true",
                    help="evaluate instead: keep every factor-th slice, predict the others, score them")
    it.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    it.add_argument("--out", help="output DIR (with --format dicom), or pacs://NODE (send the series)")
    it.add_argument("--format", choices=("dicom",), default="dicom", help="output format (default dicom)")
    it.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    it.add_argument("--anonymize", action="store_true", help="replace patient and study identifiers")
    it.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    it.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="method parameter, repeatable")
    _add_select(it)

    tr = sub.add_parser("train", help="train a model (runs under torchrun for several GPUs/processes)")
    tr.add_argument("task", choices=("cine", "ct", "unrolled", "throughplane"),
                    help="cine U-Net, CT interpolation network, the any-mask unrolled network or the through-plane "
                         "interpolator (both on real anatomy)")
    tr.add_argument("--loss", help="cine: l2 (default), l1-fourier or ssim; ct: mse (default) or perceptual")
    tr.add_argument("--variant", choices=("ae", "acai", "patchgan", "hrinet", "hrinet-res", "hrinet-skip"),
                    help="ct: which Table-2 configuration (default hrinet)")
    tr.add_argument("--accel", type=float, default=15.0, help="cine: acceleration R (default 15)")
    tr.add_argument("--mask", default="vd-kt", help="cine: mask kind for training (default vd-kt)")
    tr.add_argument("--data", default="phantom",
                    help="'phantom', 'anatomy' (real anatomy from mricron-data; cine: mixed with the phantom) or a "
                         "folder/file of studies")
    tr.add_argument("--steps", type=int, default=2000)
    tr.add_argument("--batch", type=int, default=4)
    tr.add_argument("--time-budget", type=float, metavar="SECONDS",
                    help="lower --steps to what fits in this wall time (timed over the first 20 steps)")
    tr.add_argument("--lr", type=float, help="learning rate (cine 1e-3, ct 1e-4 as the papers)")
    tr.add_argument("--base", type=int, help="channels at the first level (cine 16, ct 32)")
    tr.add_argument("--depth", type=int, default=4, help="U-Net poolings")
    tr.add_argument("--crop", type=int, help="training crop: cine readout width (default 64, 0 = none); "
                                            "ct square crop (default 128, a multiple of 64)")
    tr.add_argument("--train-cines", type=int, default=96, help="phantom training seeds")
    tr.add_argument("--anatomy-cines", type=int, default=48,
                    help="cine --data anatomy: real-anatomy training cines mixed with the phantom's")
    tr.add_argument("--val-cines", type=int, help="validation cines (default 8; unrolled 3)")
    tr.add_argument("--test-cines", type=int, default=10, help="held-out phantom seeds scored into the model card")
    tr.add_argument("--val-every", type=int, help="steps between validations (default 200; unrolled 100)")
    tr.add_argument("--x0", choices=("adjoint", "viewshare"),
                    help="unrolled: the cascades' start, zero-filled or view-shared (default viewshare)")
    tr.add_argument("--map-support", type=float,
                    help="unrolled: zero the coil maps below this share of their low-res RSS maximum (default 0.05; 0 = off)")
    tr.add_argument("--ema", type=float, metavar="DECAY",
                    help="unrolled: validate and keep a moving average of the weights with this decay per step "
                         "(e.g. 0.999; default 0 = the raw weights)")
    tr.add_argument("--blur", type=float, metavar="PIXELS",
                    help="unrolled: blur each training cine's source slice by a Gaussian σ drawn from [0, PIXELS] "
                         "acquired pixels (smoother anatomy; default 0)")
    tr.add_argument("--val-blur", type=float, metavar="PIXELS",
                    help="unrolled: validate also on the validation slices blurred by σ = PIXELS and keep the "
                         "best mean of the two (default 0 = as they are only)")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--size", type=int, help="phantom matrix size (cine 128, ct 256)")
    tr.add_argument("--train-volumes", type=int, default=24, help="ct: phantom training volumes")
    tr.add_argument("--frames", type=int, default=20, help="phantom frames")
    tr.add_argument("--coils", type=int, default=8, help="phantom coils")
    tr.add_argument("--init", help="start from these weights (name or .pt)")
    tr.add_argument("--run-dir", help="run folder (default runs/NAME)")
    tr.add_argument("--no-resume", action="store_true", help="start over even if the run folder has a checkpoint")
    tr.add_argument("--out", help="final weights models/NAME.pt (+ NAME.json model card)")
    tr.add_argument("--device", default="auto")

    from .batch import add_parser as add_batch

    add_batch(sub)

    from .pacs import add_parser as add_pacs

    add_pacs(sub)

    bn = sub.add_parser("bench", help="run a benchmark and write its figures with the machine and command")
    bn.add_argument("suite", choices=sorted(BENCHES), help="which benchmark")
    bn.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    bn.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    bn.add_argument("--out", help="write the Markdown report to FILE.md")
    bn.add_argument("--force", action="store_true", help="overwrite --out")
    bn.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    bn.add_argument("--data", choices=("phantom", "anatomy"),
                    help="cine, perf: the phantom's test seeds or the real-anatomy test cines (default phantom); "
                         "interp: only the real-anatomy or only the CT-phantom part (default both)")
    return p


def _commit() -> str:
    from pathlib import Path

    head = Path(__file__).resolve().parent.parent.parent / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            ref = (head.parent / ref[5:]).read_text().strip()
        return f" (commit {ref[:10]})"
    except OSError:
        return ""
