"""The cine CNN training loop: one process, or DistributedDataParallel under ``torchrun``.

``torchrun --nproc-per-node N -m mrstudio train cine …`` runs the same entry point on N
processes (NCCL on GPUs, gloo on CPU); each rank draws its training items from its
shard of the pool (a :class:`~torch.utils.data.DistributedSampler`), gradients are
averaged by DDP, and rank 0 validates, logs and writes checkpoints.

A run folder holds ``last.pt`` (full training state for resuming, weights-only
loadable), ``best.pt``, ``log.csv``, ``log.json``, ``curves.png`` and ``config.json``.
The final model (best validation PSNR) goes to ``--out`` with its model card.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import StudyError
from ..core.jobs import CancelToken, Progress, check, report
from ..core.splits import CINE_PHANTOM as SPLITS
from .run import RunOptions, total_seconds


@dataclass
class TrainConfig(RunOptions):
    """Everything a cine training run depends on (saved as ``config.json`` in the run folder)."""

    loss: str = "l2"
    accel: float = 15.0
    mask_kind: str = "vd-kt"
    acs: int = 2
    steps: int = 2000
    batch: int = 4
    lr: float = 1e-3
    weight_decay: float = 1e-5  # l2 loss only, as in the paper
    grad_clip: float = 1.0
    warmup: float = 0.05
    base: int = 16
    depth: int = 4
    size: int = 128
    frames: int = 20
    coils: int = 8
    snr: float = 30.0
    crop: int | None = 64
    train_cines: int = 96
    val_cines: int = 8
    test_cines: int = 10
    run_dir: str = "runs/cine"
    half_weights: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


_LAST_MODEL = None  # the most recently trained model of this process (tests compare DDP replicas)


def _dist_env() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0"))


def _lr_lambda(cfg: TrainConfig):
    def f(step: int) -> float:  # reads cfg.steps each call: a time budget may lower it
        warm = max(1, int(cfg.warmup * cfg.steps))
        if step < warm:
            return (step + 1) / warm
        p = (step - warm) / max(1, cfg.steps - warm)
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(p, 1.0)))

    return f


def evaluate(model, pool, device: str, mask_seed0: int = 100_000, noise_seed: int = 0) -> dict[str, float]:
    """Mean PSNR/SSIM (and naive's) over ``pool`` with fixed masks and noise per item."""
    import torch

    from ..core.metrics import score

    model.eval()
    p, s, pn, sn = [], [], [], []
    with torch.no_grad():
        for i in range(len(pool)):
            naive, target = pool.sample(i, np.random.default_rng([noise_seed, i]), mask_seed=mask_seed0 + i)
            out = model(torch.from_numpy(naive)[None].to(device)).float().clamp_min(0).cpu().numpy()[0]  # as inference
            sc, sc0 = score(out, target), score(naive, target)
            p.append(sc.psnr), s.append(sc.ssim), pn.append(sc0.psnr), sn.append(sc0.ssim)
    model.train()
    return {"psnr": float(np.mean(p)), "ssim": float(np.mean(s)), "naive_psnr": float(np.mean(pn)),
            "naive_ssim": float(np.mean(sn)), "n": len(pool)}


def plot_curves(rows: list[dict[str, Any]], path: Path) -> None:
    """Training loss (left, log scale) and validation PSNR (right) against step, as a PNG."""
    from PIL import Image, ImageDraw

    w, h, m = 900, 360, 50
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    panels = [("train loss (log10)", [(r["step"], math.log10(max(r["loss"], 1e-12))) for r in rows if "loss" in r], (30, 90, 200)),
              ("val PSNR (dB)", [(r["step"], r["val_psnr"]) for r in rows if r.get("val_psnr") is not None], (200, 60, 30))]
    for k, (title, pts, colour) in enumerate(panels):
        x0, x1 = m + k * w // 2, (k + 1) * w // 2 - 10
        y0, y1 = 30, h - m
        d.rectangle([x0, y0, x1, y1], outline="black")
        d.text((x0, 10), title, fill="black")
        if len(pts) < 2:
            continue
        xs, ys = np.array([p[0] for p in pts], float), np.array([p[1] for p in pts], float)
        lo, hi = ys.min(), ys.max() if ys.max() > ys.min() else ys.min() + 1
        px = x0 + (xs - xs.min()) / max(xs.max() - xs.min(), 1) * (x1 - x0)
        py = y1 - (ys - lo) / (hi - lo) * (y1 - y0)
        d.line(list(zip(px.tolist(), py.tolist())), fill=colour, width=2)
        d.text((x0 + 4, y1 + 6), f"step {int(xs.min())}…{int(xs.max())}", fill="black")
        d.text((x0 + 4, y0 + 4), f"{hi:.3g}", fill="black")
        d.text((x0 + 4, y1 - 14), f"{lo:.3g}", fill="black")
    img.save(path)


def train_cine(cfg: TrainConfig, progress: Progress | None = None, cancel: CancelToken | None = None) -> dict[str, Any]:
    """Train (or resume) a cine U-Net; returns the final model card (rank 0) or ``{}``."""
    import torch
    import torch.distributed as dist

    from ..core.device import choose_device
    from ..io.model_store import load_state, save_model
    from ..nets.unet import CineUNet, UNetConfig, normalise
    from .data import PhantomCines, SimConfig, StudyCines, find_studies, split_files, write_split
    from .losses import get_loss

    rank, world, local = _dist_env()
    ddp = world > 1
    device = choose_device(cfg.device)
    if ddp:
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if not dist.is_initialized():
            dist.init_process_group(backend)
        if device.startswith("cuda"):
            device = f"cuda:{local}"
            torch.cuda.set_device(local)
    main = rank == 0
    loss_fn = get_loss(cfg.loss)
    cfg.check_out()
    run = Path(cfg.run_dir)
    if main:
        run.mkdir(parents=True, exist_ok=True)
        (run / "config.json").write_text(json.dumps(asdict(cfg), indent=2) + "\n")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng([cfg.seed, rank])

    sim = SimConfig(accel=cfg.accel, mask_kind=cfg.mask_kind, acs=cfg.acs, snr=cfg.snr, crop=cfg.crop)
    if cfg.data == "phantom":
        kw = dict(size=cfg.size, frames=cfg.frames, coils=cfg.coils)
        train_pool = PhantomCines(SPLITS["train"][: cfg.train_cines], sim=sim, **kw, progress=progress if main else None)
        full = SimConfig(**{**asdict(sim), "crop": None})
        val_pool = PhantomCines(SPLITS["val"][: cfg.val_cines], sim=full, **kw)
        data_desc = {"kind": "phantom", "train_seeds": [SPLITS["train"][0], SPLITS["train"][0] + cfg.train_cines - 1],
                     "val_seeds": [SPLITS["val"][0], SPLITS["val"][0] + cfg.val_cines - 1], "snr": cfg.snr,
                     "size": cfg.size, "frames": cfg.frames, "coils": cfg.coils}
    else:
        files = find_studies(Path(cfg.data))
        if len(files) < 2:
            raise StudyError(cfg.data, f"found {len(files)} study files; training needs at least 2 (train + val)")
        split = split_files(files, seed=cfg.seed)
        if main:
            write_split(split, run)
        cache = run / "reference-cache"
        train_pool = StudyCines([Path(p) for p in split["train"]], sim, cache, progress=progress if main else None)
        val_pool = StudyCines([Path(p) for p in split["val"] or split["train"][:1]], sim, cache)
        data_desc = {"kind": "files", "root": cfg.data, "split": {k: len(v) for k, v in split.items()}}
        shapes = {(k.shape[1], k.shape[2]) for k in train_pool.kspace + val_pool.kspace}
        if len(shapes) > 1:
            names = train_pool.names + val_pool.names
            odd = [n for n, k in zip(names, train_pool.kspace + val_pool.kspace)
                   if (k.shape[1], k.shape[2]) != (train_pool.kspace[0].shape[1], train_pool.kspace[0].shape[2])]
            raise StudyError(cfg.data, f"studies differ in (frames, phase encodes) {sorted(shapes)}, e.g. {odd[0]}; "
                                       "the U-Net takes the frames as channels, so train on one frame count and matrix")
        frames = train_pool.kspace[0].shape[1]
        if frames != cfg.frames:
            cfg.frames = frames

    model = CineUNet(UNetConfig(frames=cfg.frames, base=cfg.base, depth=cfg.depth)).to(device)
    if cfg.init:
        state, _, _ = load_state(cfg.init)
        model.load_state_dict({k: v.float() for k, v in state.items()})
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.9, 0.999),
                           weight_decay=cfg.weight_decay if cfg.loss == "l2" else 0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(cfg))
    start, best, log_rows = 0, -float("inf"), []
    last = run / "last.pt"
    if cfg.resume and last.exists():
        ck = torch.load(last, map_location="cpu", weights_only=True)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        start, best = int(ck["step"]), float(ck["best"])
        rng = np.random.default_rng([cfg.seed, rank, start])
        if main and (run / "log.json").exists():
            log_rows = [r for r in json.loads((run / "log.json").read_text()) if r["step"] <= start]
    net = model
    if ddp:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[local] if device.startswith("cuda") else None)

    from torch.utils.data import DistributedSampler

    sampler = DistributedSampler(range(len(train_pool)), num_replicas=world, rank=rank, shuffle=True, seed=cfg.seed)
    epoch = start * cfg.batch // max(1, len(sampler))
    sampler.set_epoch(epoch)
    order = iter(list(sampler))
    amp = device.startswith("cuda")

    def next_index() -> int:
        nonlocal order, epoch
        try:
            return next(order)
        except StopIteration:
            epoch += 1
            sampler.set_epoch(epoch)
            order = iter(list(sampler))
            return next(order)

    batched = hasattr(train_pool, "sample_batch")
    if batched:
        train_pool.to_device(device)
    budget_from = start + 30 if cfg.time_budget_s else None
    t0 = time.perf_counter()
    model.train()
    val: dict[str, float] = {}
    for step in range(start, cfg.steps):
        if step >= cfg.steps:  # lowered by the time budget
            break
        check(cancel)
        if batched:
            naive, target = train_pool.sample_batch([next_index() for _ in range(cfg.batch)], rng)
        else:
            pairs = [train_pool.sample(next_index(), rng) for _ in range(cfg.batch)]
            naive = torch.from_numpy(np.stack([p[0] for p in pairs])).to(device)
            target = torch.from_numpy(np.stack([p[1] for p in pairs])).to(device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
            pred_n = net(naive, normalised=True)  # the [0, 1000] scale of the paper
        _, scale, _ = normalise(naive)
        loss = loss_fn(pred_n.float() / 1000.0, target * scale / 1000.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        sched.step()
        done = step + 1
        if budget_from is not None and done == budget_from - 20:
            t_warm = time.perf_counter()  # time steps after warm-up (CUDA context, cuDNN autotuning)
        if budget_from is not None and done == budget_from + 20:  # fit the schedule to the time budget
            now = time.perf_counter()
            per_step = (now - t_warm) / 40
            left = cfg.time_budget_s - (now - t0)
            fit = done + int(left / (per_step * 1.15))  # 15 % for validation and the test pass
            if ddp:
                t = torch.tensor([fit], device=device)
                dist.all_reduce(t, op=dist.ReduceOp.MIN)
                fit = int(t.item())
            cfg.steps = max(done, min(cfg.steps, fit))
            cfg.val_every = max(1, min(cfg.val_every, cfg.steps // 10))
            if main:
                (run / "config.json").write_text(json.dumps(asdict(cfg), indent=2) + "\n")
        row = {"step": done, "loss": float(loss.detach()), "lr": sched.get_last_lr()[0],
               "seconds": round(time.perf_counter() - t0, 2)}
        if done % cfg.val_every == 0 or done == cfg.steps:
            if main:
                val = evaluate(model, val_pool, device)
                row.update(val_psnr=val["psnr"], val_ssim=val["ssim"], naive_psnr=val["naive_psnr"])
                if val["psnr"] > best:
                    best = val["psnr"]
                    torch.save(model.state_dict(), run / "best.pt")
                torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                            "step": done, "best": best}, run / "last.tmp")
                os.replace(run / "last.tmp", last)
            if ddp:
                dist.barrier()
        if main:
            log_rows.append(row)
            if done % cfg.val_every == 0 or done == cfg.steps:
                _write_logs(log_rows, run)
        report(progress, done / cfg.steps, f"step {done}/{cfg.steps} loss {row['loss']:.4g}"
               + (f" val {val['psnr']:.2f} dB" if val else ""))
    global _LAST_MODEL
    _LAST_MODEL = model
    card: dict[str, Any] = {}
    if main:
        card = _finish(cfg, model, run, data_desc, log_rows, best, device, save_model)
    if ddp:
        dist.barrier()
        dist.destroy_process_group()
    return card


def _write_logs(rows: list[dict[str, Any]], run: Path) -> None:
    (run / "log.json").write_text(json.dumps(rows) + "\n")
    keys = sorted({k for r in rows for k in r}, key=lambda k: (k != "step", k))
    with open(run / "log.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    plot_curves(rows, run / "curves.png")


def _finish(cfg: TrainConfig, model, run: Path, data_desc: dict, rows: list, best: float, device: str,
            save_model) -> dict[str, Any]:
    import torch

    from .data import PhantomCines, SimConfig

    if (run / "best.pt").exists():
        model.load_state_dict(torch.load(run / "best.pt", map_location=device, weights_only=True))
    card: dict[str, Any] = {
        "task": "cine-reconstruction", "architecture": "unet", "unet": model.cfg.as_dict(), "residual": True,
        "normalisation": "naive scaled to [0, 1000], mean subtracted (undone on output)",
        "loss": cfg.loss, "accel": cfg.accel, "mask": cfg.mask_kind, "acs": cfg.acs, "training_data": data_desc,
        "steps": cfg.steps, "batch": cfg.batch, "lr": cfg.lr, "optimizer": "Adam(0.9, 0.999), warm-up + cosine",
        "crop": cfg.crop, "init": cfg.init, "device": device,
        "validation": next((dict(psnr=r["val_psnr"], ssim=r["val_ssim"], naive_psnr=r["naive_psnr"])
                            for r in reversed(rows) if r.get("val_psnr") == best), None),
        "train_seconds": round(total_seconds(rows), 2) if rows else None,
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    if cfg.data == "phantom" and cfg.test_cines:
        test = PhantomCines(SPLITS["test"][: cfg.test_cines], size=cfg.size, frames=cfg.frames, coils=cfg.coils,
                            sim=SimConfig(accel=cfg.accel, mask_kind=cfg.mask_kind, acs=cfg.acs, snr=cfg.snr))
        card["test"] = evaluate(model, test, device, mask_seed0=200_000, noise_seed=1)
        card["test"]["seeds"] = [SPLITS["test"][0], SPLITS["test"][0] + cfg.test_cines - 1]
    if cfg.out:
        card = save_model(model.state_dict(), card, cfg.out, force=True, half=cfg.half_weights)
    (run / "card.json").write_text(json.dumps(card, indent=2, default=str) + "\n")
    return card
