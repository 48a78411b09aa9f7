"""Training the cine U-Net (``mrstudio train cine``): one process, or DistributedDataParallel under ``torchrun``.

The task only: data pools, model, optimiser, cosine schedule and one training step; the loop
(run folder, resume, time budget, validation, checkpoints, logs, DDP) is
:func:`~mrstudio.train.runner.run_training`. ``torchrun --nproc-per-node N -m mrstudio train
cine …`` runs the same entry point on N processes (NCCL on GPUs, gloo on CPU); each rank
draws its training items from its shard of the pool (a
:class:`~torch.utils.data.DistributedSampler`) and gradients are averaged by DDP.

A run folder holds ``last.pt`` (full training state for resuming, weights-only loadable),
``best.pt``, ``log.csv``, ``log.json``, ``curves.png`` and ``config.json``. The final model
(best validation PSNR) goes to ``--out`` with its model card.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import ParameterError, StudyError
from ..core.jobs import CancelToken, Progress
from ..core.splits import CINE_PHANTOM as SPLITS
from .run import RunOptions


@dataclass
class TrainConfig(RunOptions):
    """Everything a cine training run depends on (saved as ``config.json`` in the run folder)."""

    loss: str = "l2"  # l2 | l1-fourier | ssim (the paper's three)
    accel: float = 15.0  # R of the training masks
    mask_kind: str = "vd-kt"  # a MASK_KINDS name
    acs: int = 2  # fully sampled central ky lines
    steps: int = 2000  # optimiser steps (a time budget may lower it)
    batch: int = 4  # cines per step
    lr: float = 1e-3  # peak Adam learning rate (linear warm-up, cosine decay to 5 %)
    weight_decay: float = 1e-5  # l2 loss only, as in the paper
    grad_clip: float = 1.0  # gradient-norm clipping
    warmup: float = 0.05  # fraction of steps in the warm-up
    base: int = 16  # U-Net channels at the first level
    depth: int = 4  # U-Net levels below the first
    size: int = 128  # phantom matrix (pixels, square)
    frames: int = 20  # cardiac phases per cine
    coils: int = 8  # receive coils of the simulated acquisition
    snr: float = 30.0  # body signal / per-coil noise sd
    crop: int | None = 64  # readout columns (x) of a training crop; None: the whole width
    train_cines: int = 96  # phantom cines per split (seeds from core.splits)
    anatomy_cines: int = 48  # data 'anatomy': real-anatomy training cines (io/anatomy), mixed with the phantom's
    val_cines: int = 8
    test_cines: int = 10
    run_dir: str = "runs/cine"
    half_weights: bool = True
    extra: dict[str, Any] = field(default_factory=dict)




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




def train_cine(cfg: TrainConfig, progress: Progress | None = None, cancel: CancelToken | None = None) -> dict[str, Any]:
    """Train (or resume) a cine U-Net through :func:`~.runner.run_training`; returns the final model card
    (rank 0) or ``{}``."""
    import torch
    from torch.utils.data import DistributedSampler

    from ..core.device import choose_device
    from ..io.model_store import load_state, save_model
    from ..nets.unet import CineUNet, UNetConfig, normalise
    from .data import PhantomCines, SimConfig
    from .losses import get_loss
    from .runner import init_distributed, run_training

    loss_fn = get_loss(cfg.loss)
    cfg.check_out()
    d = init_distributed(choose_device(cfg.device))
    device = d.device
    torch.manual_seed(cfg.seed)
    shown = progress if d.main else None
    sim = SimConfig(accel=cfg.accel, mask_kind=cfg.mask_kind, acs=cfg.acs, snr=cfg.snr, crop=cfg.crop)
    full = SimConfig(**{**asdict(sim), "crop": None})  # validation: whole cines
    kw = dict(size=cfg.size, frames=cfg.frames, coils=cfg.coils)
    if cfg.data == "phantom":
        train_pool = PhantomCines(SPLITS["train"][: cfg.train_cines], sim=sim, **kw, progress=shown)
        val_pool = PhantomCines(SPLITS["val"][: cfg.val_cines], sim=full, **kw)
        data_desc = {"kind": "phantom", "train_seeds": [SPLITS["train"][0], SPLITS["train"][0] + cfg.train_cines - 1],
                     "val_seeds": [SPLITS["val"][0], SPLITS["val"][0] + cfg.val_cines - 1], "snr": cfg.snr,
                     "size": cfg.size, "frames": cfg.frames, "coils": cfg.coils}
    elif cfg.data == "anatomy":  # real anatomy mixed with the phantom, validated on real-anatomy cines only
        from ..core.anatomy_cine import AnatomyCineConfig
        from .data import AnatomyCines, MixedCines

        a = AnatomyCineConfig()
        if (cfg.size, cfg.frames, cfg.coils) != (a.size, a.frames, a.coils):
            raise ParameterError("data", f"real-anatomy cines are {a.size}², {a.frames} frames, {a.coils} coils; "
                                         f"got size {cfg.size}, frames {cfg.frames}, coils {cfg.coils}")
        phantom = PhantomCines(SPLITS["train"][: cfg.train_cines], sim=sim, **kw, progress=shown)
        anatomy = AnatomyCines("train", cfg.anatomy_cines, sim, progress=shown)
        train_pool = MixedCines([anatomy, phantom])
        val_pool = AnatomyCines("val", cfg.val_cines, full)
        data_desc = {"kind": "real anatomy (mricron-data Colin 27 cines, io/anatomy.py) + phantom",
                     "split": "train: anatomy train split + phantom train seeds; val: anatomy val split; "
                              "test: INIA19 (never used here)",
                     "anatomy_cines": cfg.anatomy_cines, "val_cines": cfg.val_cines,
                     "phantom_train_seeds": [SPLITS["train"][0], SPLITS["train"][0] + cfg.train_cines - 1],
                     "snr": {"phantom": cfg.snr, "anatomy": "random per cine (io/anatomy)"}}
    else:
        train_pool, val_pool, data_desc = _file_pools(cfg, sim, d.main, shown)
    model = CineUNet(UNetConfig(frames=cfg.frames, base=cfg.base, depth=cfg.depth)).to(device)
    if cfg.init:
        state, _, _ = load_state(cfg.init)
        model.load_state_dict({k: v.float() for k, v in state.items()})
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.9, 0.999),
                           weight_decay=cfg.weight_decay if cfg.loss == "l2" else 0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(cfg))  # reads cfg.steps: follows a time budget's plan
    net = d.wrap(model)
    sampler = DistributedSampler(range(len(train_pool)), num_replicas=d.world, rank=d.rank, shuffle=True, seed=cfg.seed)
    batched = hasattr(train_pool, "sample_batch")
    if batched:
        train_pool.to_device(device)
    amp = device.startswith("cuda")

    def make_step(start: int):
        rng = np.random.default_rng([cfg.seed, d.rank] + ([start] if start else []))
        epoch = start * cfg.batch // max(1, len(sampler))
        sampler.set_epoch(epoch)
        order = iter(list(sampler))

        def next_index() -> int:
            nonlocal order, epoch
            try:
                return next(order)
            except StopIteration:
                epoch += 1
                sampler.set_epoch(epoch)
                order = iter(list(sampler))
                return next(order)

        def step(_i: int) -> dict[str, float]:
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
            return {"loss": float(loss.detach()), "lr": sched.get_last_lr()[0]}

        return step

    model.train()
    res = run_training(cfg, model, opt, make_step, lambda: evaluate(model, val_pool, device), cfg.steps, progress,
                       cancel, parts={"sched": sched}, dist=d)
    card: dict[str, Any] = {}
    if d.main:
        card = _finish(cfg, model, data_desc, res, device, save_model)
    d.close()
    return card


def _file_pools(cfg: TrainConfig, sim, main: bool, progress: Progress | None):
    """Train and validation pools from a folder of studies, split by study (the split is written to the run)."""
    from .data import StudyCines, find_studies, split_files, write_split

    files = find_studies(Path(cfg.data))
    if len(files) < 2:
        raise StudyError(cfg.data, f"found {len(files)} study files; training needs at least 2 (train + val)")
    split = split_files(files, seed=cfg.seed)
    run = Path(cfg.run_dir)
    if main:
        run.mkdir(parents=True, exist_ok=True)
        write_split(split, run)
    cache = run / "reference-cache"
    train_pool = StudyCines([Path(p) for p in split["train"]], sim, cache, progress=progress)
    val_pool = StudyCines([Path(p) for p in split["val"] or split["train"][:1]], sim, cache)
    data_desc = {"kind": "files", "root": cfg.data, "split": {k: len(v) for k, v in split.items()}}
    pools = train_pool.kspace + val_pool.kspace
    shapes = {(k.shape[1], k.shape[2]) for k in pools}
    if len(shapes) > 1:
        first = (train_pool.kspace[0].shape[1], train_pool.kspace[0].shape[2])
        odd = [n for n, k in zip(train_pool.names + val_pool.names, pools) if (k.shape[1], k.shape[2]) != first]
        raise StudyError(cfg.data, f"studies differ in (frames, phase encodes) {sorted(shapes)}, e.g. {odd[0]}; "
                                   "the U-Net takes the frames as channels, so train on one frame count and matrix")
    cfg.frames = train_pool.kspace[0].shape[1]
    return train_pool, val_pool, data_desc


def _finish(cfg: TrainConfig, model, data_desc: dict, res, device: str, save_model) -> dict[str, Any]:
    """The card of a finished run (the best weights are in ``model``): test scores, then the model saved."""
    from .data import PhantomCines, SimConfig

    card: dict[str, Any] = {
        "task": "cine-reconstruction", "architecture": "unet", "unet": asdict(model.cfg), "residual": True,
        "normalisation": "naive scaled to [0, 1000], mean subtracted (undone on output)",
        "loss": cfg.loss, "accel": cfg.accel, "mask": cfg.mask_kind, "acs": cfg.acs, "training_data": data_desc,
        "steps": cfg.steps, "batch": cfg.batch, "lr": cfg.lr, "optimizer": "Adam(0.9, 0.999), warm-up + cosine",
        "crop": cfg.crop, "init": cfg.init, "device": device,
        "validation": {"psnr": res.best["val_psnr"], "ssim": res.best["val_ssim"],
                       "naive_psnr": res.best["val_naive_psnr"], "step": res.best["step"]},
        "train_seconds": round(res.seconds, 2),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    if res.replica_max_diff is not None:
        card["ddp"] = {"world": int(os.environ.get("WORLD_SIZE", "1")), "replica_max_diff": res.replica_max_diff}
    if cfg.data == "phantom" and cfg.test_cines:
        test = PhantomCines(SPLITS["test"][: cfg.test_cines], size=cfg.size, frames=cfg.frames, coils=cfg.coils,
                            sim=SimConfig(accel=cfg.accel, mask_kind=cfg.mask_kind, acs=cfg.acs, snr=cfg.snr))
        card["test"] = evaluate(model, test, device, mask_seed0=200_000, noise_seed=1)
        card["test"]["seeds"] = [SPLITS["test"][0], SPLITS["test"][0] + cfg.test_cines - 1]
    if cfg.out:
        card = save_model(model.state_dict(), card, cfg.out, force=True, half=cfg.half_weights)
    (Path(cfg.run_dir) / "card.json").write_text(json.dumps(card, indent=2, default=str) + "\n")
    return card
