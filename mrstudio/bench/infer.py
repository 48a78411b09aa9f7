"""``bench infer``: inference time for one cine, per matrix size, on the chosen device.

The network alone: times :func:`~mrstudio.recon.cnn.cnn_magnitude` on a naive (zero-filled) phantom cine —
host→device copy, temporal resampling, the U-Net (bf16 autocast on CUDA) and the copy
back — as the median of repeated runs after warm-up, model loading excluded. The
shipped default model is used when present; otherwise a randomly initialised network
of the same architecture (the time does not depend on the weights; the table says
which).

Whole methods (:func:`time_method`): ``unrolled`` (coil maps, every cascade's data
consistency and CNN) and ``cs`` (ESPIRiT and 100 iterations) from undersampled k-space to
the image, as a user waits for them, after one warm-up run with the model loaded.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict
from typing import Any

from ..core.jobs import CancelToken, Progress, check, report


def _model_for_timing(device: str) -> tuple[str, str]:
    """A model name/path usable by :func:`load_cine_model`, and how it was obtained."""
    from ..io.model_store import resolve_model
    from ..recon.cnn import DEFAULT_MODEL

    try:
        resolve_model(DEFAULT_MODEL)
        return DEFAULT_MODEL, DEFAULT_MODEL
    except Exception:  # noqa: BLE001 — no shipped weights: time the architecture
        import tempfile

        from ..io.model_store import save_model
        from ..nets.unet import CineUNet, UNetConfig

        model = CineUNet(UNetConfig(frames=20, base=16, depth=4))
        path = f"{tempfile.mkdtemp(prefix='mrstudio-bench-')}/random-unet.pt"
        save_model(model.state_dict(), {"unet": asdict(model.cfg), "task": "cine-reconstruction"}, path, force=True)
        return path, "random init (shipped architecture)"


def time_inference(size: int, device: str, frames: int = 20, reps: int = 10, warmup: int = 3,
                   model: str | None = None) -> dict[str, Any]:
    """Median / min seconds of one cine's CNN inference at ``size``² on ``device``."""
    from ..core.phantom import make_phantom
    from ..recon.base import undersample
    from ..recon.cnn import cnn_magnitude
    from ..recon.zerofilled import sos_naive_torch

    name, what = (model, model) if model else _model_for_timing(device)
    from ..core.splits import TEST_SEED

    study = make_phantom(size=size, frames=frames, seed=TEST_SEED)
    from ..core.masks import MaskSpec, make_mask

    mask = make_mask(MaskSpec(kind="vd-kt", accel=15, seed=0), frames, size)
    naive = sos_naive_torch(undersample(study.kspace, mask), mask, device)[None]  # the input cnn() gives the U-Net
    for _ in range(warmup):
        cnn_magnitude(naive, name, device)
    times = []
    for _ in range(reps):
        if device.startswith("cuda"):
            import torch

            torch.cuda.synchronize()
        t0 = time.perf_counter()
        cnn_magnitude(naive, name, device)  # returns numpy: includes the device→host copy (a sync)
        times.append(time.perf_counter() - t0)
    return {"size": size, "frames": frames, "device": device, "model": what, "median_s": statistics.median(times),
            "min_s": min(times), "reps": reps}


def time_method(method: str, size: int, device: str, frames: int = 20, reps: int = 5) -> dict[str, Any]:
    """Median / min seconds of ``method`` from undersampled k-space (R 15 vd-kt phantom, 8 coils) to the image."""
    from ..core.masks import MaskSpec, make_mask
    from ..core.phantom import make_phantom
    from ..core.splits import TEST_SEED
    from ..recon import get_method
    from ..recon.base import undersample

    study = make_phantom(size=size, frames=frames, coils=8, seed=TEST_SEED)
    mask = make_mask(MaskSpec(kind="vd-kt", accel=15, acs=2, seed=0), frames, size)
    k = undersample(study.kspace, mask)
    info = get_method(method)
    params: dict[str, Any] = {"iters": 100, "tol": 0.0} if method == "cs" else {}  # cs: exactly 100 iterations
    if info.prepare is not None:
        params, _ = info.prepare(params, device, 15.0)
    info.func(k, mask, device=device, **params)  # warm-up: model loading, kernels, thread pools
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        info.func(k, mask, device=device, **params)  # returns numpy: includes the device→host copy
        times.append(time.perf_counter() - t0)
    return {"method": method, "size": size, "frames": frames, "device": device,
            "median_s": statistics.median(times), "min_s": min(times), "reps": reps}


def run_infer(quick: bool = False, device: str = "cpu", progress: Progress | None = None,
              cancel: CancelToken | None = None) -> dict[str, Any]:
    sizes = (64,) if quick else (128, 256)
    rows = []
    for i, n in enumerate(sizes):
        check(cancel)
        rows.append(time_inference(n, device, reps=3 if quick else 10, warmup=1 if quick else 3))
        report(progress, (i + 1) / (len(sizes) + 1), f"{n}²")
    methods = [("unrolled", 64, 1), ("cs", 64, 1)] if quick else [("unrolled", 128, 10), ("unrolled", 256, 5),
                                                                  ("cs", 128, 3)]
    whole = []
    for name, n, reps in methods:
        check(cancel)
        whole.append(time_method(name, n, device, reps=reps))
    report(progress, 1.0, "methods")
    lines = ["The network alone (zero-filled input in, image out):", "",
             "| size | frames | device | model | median (s) | min (s) | runs |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['size']}² | {r['frames']} | {r['device']} | {r['model']} | {r['median_s']:.4f} | {r['min_s']:.4f} "
              f"| {r['reps']} |" for r in rows]
    lines += ["", "Whole methods, undersampled k-space (8 coils, R 15) in, image out (unrolled: coil maps and every "
              "cascade's data consistency; cs: ESPIRiT and 100 iterations):", "",
              "| method | size | frames | device | median (s) | min (s) | runs |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['method']} | {r['size']}² | {r['frames']} | {r['device']} | {r['median_s']:.4f} | "
              f"{r['min_s']:.4f} | {r['reps']} |" for r in whole]
    return {"rows": rows, "methods": whole, "markdown": "\n".join(lines) + "\n"}
