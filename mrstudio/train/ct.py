"""Training HRINet and its ablations (``mrstudio train ct``): Step I (ACAI, unsupervised) and
Step II (supervised "large gap"), one process or DDP under torchrun.

Variants (the paper's Table 2 rows are configurations of the same code):

=============  ======  ==  ==  =======  ==============================================
variant        levels  D1  D2  Step II  meaning
=============  ======  ==  ==  =======  ==============================================
``ae``         1       –   –   –        autoencoder, latent code mixed (no critics)
``acai``       1       ✓   –   –        ACAI (Berthelot et al.)
``patchgan``   3       ✓   ✓   –        HRINet architecture, critics, no large-gap step
``hrinet``     3       ✓   ✓   ✓        HRINet; content loss MSE or perceptual (``--loss``)
``hrinet-res`` 3       ✓   ✓   ✓        MR Studio extension: decoder adds to linear interp.
``hrinet-skip`` 3      ✓   ✓   ✓        extension: residual, and the full-, 1/2-, 1/4-,
                                        1/8-size features are α-mixed and decoded too
=============  ======  ==  ==  =======  ==============================================

Schedule: the first half of ``steps`` is Stage I (Step I with D1 only: "only trained the
autoencoder with discriminator D1"), the second half Stage II (Step I with D1 and D2,
alternating with Step II where the variant has it). ``hrinet-res`` starts at an identity
correction (linear interpolation), so it skips Stage I (``stage1 = 0``). λ = 0.5, γ = 0.2 (ACAI), β = 5e-4 at
256² (5e-3 at 512²), Adam lr 1e-4, as the paper. Step I: two random slices of one volume,
α ~ U(0, 0.5) (ACAI). Step II: 7 consecutive slices, ends in, the 5 between out at
α = 1/6 … 5/6. Training uses random square crops of ``crop`` pixels (the networks are
fully convolutional); validation runs on whole held-out volumes.

Data: ``phantom`` (procedural thoracic CT, thin 1 mm slices averaged to ``thick`` mm) or a
folder of CT DICOM series, split by volume (never by slice).
"""

from __future__ import annotations

import copy
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import StudyError
from ..core.jobs import CancelToken, Progress, check, report
from ..core.splits import CT_PHANTOM
from .run import RunOptions, total_seconds

VARIANTS = {"ae": (1, False, False, False, False, False), "acai": (1, True, False, False, False, False),
            "patchgan": (3, True, True, False, False, False), "hrinet": (3, True, True, True, False, False),
            "hrinet-res": (3, True, True, True, True, False),
            "hrinet-skip": (3, True, True, True, True, True)}  # levels, D1, D2, Step II, residual, skips
CT_SPLITS = CT_PHANTOM  # the one definition is core/splits.py


def _seed_span(part: str, n: int) -> list[int]:
    """``[first, last]`` of the ``n`` seeds used from split ``part``."""
    return [CT_SPLITS[part][0], CT_SPLITS[part][0] + n - 1]


@dataclass
class CTTrainConfig(RunOptions):
    variant: str = "hrinet"
    loss: str = "mse"
    steps: int = 2000
    batch: int = 4
    lr: float = 1e-4
    lam: float = 0.5
    gamma: float = 0.2
    beta: float | None = None  # default: 5e-4 (256²) or 5e-3 (512²)
    grad_clip: float = 1.0  # gradient-norm clipping of G, D1, D2 (the first long run diverged without it)
    base: int = 32
    size: int = 256
    crop: int = 128
    thick: int = 3  # phantom: thin 1 mm slices averaged to this many mm
    slices: int = 42  # phantom: thick slices per volume
    train_volumes: int = 24
    val_volumes: int = 2
    test_volumes: int = 4
    run_dir: str = "runs/ct"
    stage1: float | None = None  # fraction of steps in Stage I (default: 0.5, the paper; 0 for hrinet-res)


def phantom_volumes(seeds, size: int, slices: int, thick: int) -> list[np.ndarray]:
    """Thick-slice HU volumes ``(slices, size, size)`` of the procedural CT phantom."""
    from ..core.ct_phantom import make_ct_phantom
    from ..core.ct_phantom import thick as thicken

    return [thicken(make_ct_phantom(size=size, slices=slices * thick, seed=int(s)), thick).volume for s in seeds]


def folder_volumes(root: Path) -> list[tuple[str, np.ndarray]]:
    """(series folder, HU volume) for each CT DICOM series under ``root`` (a folder per series)."""
    from ..core.study import VolumeStudy
    from ..io.dicom_files import dicom_kind
    from ..io.dicom_read import list_series, read_dicom

    folders = sorted({p.parent for p in root.rglob("*") if p.is_file() and dicom_kind(p)})
    out = []
    for f in folders:
        for s in list_series(f):
            if s["modality"] == "CT" and s["kind"] == "volume":
                st = read_dicom(f, series=s["index"])
                if isinstance(st, VolumeStudy) and st.shape[0] >= 7:
                    out.append((f"{f}:{s['uid']}", st.volume))
    if len(out) < 2:
        raise StudyError(root, f"found {len(out)} CT series with ≥ 7 slices; training needs at least 2")
    return out


def _gap_predict(net, vol, gap: int, device: str):
    """Predict the ``gap − 1`` slices between every ``gap``-th slice with the generator (HU)."""
    import torch

    from ..nets.hrinet import hu_to_net, net_to_hu

    keep = np.arange(0, len(vol), gap)
    preds, truths = [], []
    al = torch.arange(1, gap, dtype=torch.float32, device=device) / gap
    with torch.no_grad():
        for i in keep[:-1]:
            x = hu_to_net(torch.from_numpy(vol[[i, i + gap]]).to(device)[:, None])
            n = gap - 1
            y = net(x[:1].expand(n, -1, -1, -1), x[1:].expand(n, -1, -1, -1), al)
            preds.append(net_to_hu(y)[:, 0].cpu().numpy())
            truths.append(vol[i + 1:i + gap])
    return np.concatenate(preds), np.concatenate(truths)


def evaluate_ct(net, volumes: list[np.ndarray], device: str, gap: int = 6) -> dict[str, float]:
    """Held-out large-gap scores of the generator and of linear interpolation (same slices)."""
    from ..core.metrics import score
    from ..interp.classical import linear
    from ..interp.pipeline import to_unit

    was = net.training
    net.eval()
    p_all, t_all, l_all = [], [], []
    for vol in volumes:
        p, t = _gap_predict(net, vol, gap, device)
        keep = np.arange(0, len(vol), gap)
        alphas = np.tile(np.arange(1, gap) / gap, (len(keep) - 1, 1))
        lin = linear(vol[keep], keep.astype(float), alphas).reshape(p.shape)
        p_all.append(p)
        t_all.append(t)
        l_all.append(lin)
    net.train(was)
    p, t, lin = (np.concatenate(a) for a in (p_all, t_all, l_all))
    s, sl = score(to_unit(p), to_unit(t)), score(to_unit(lin), to_unit(t))
    return {"psnr": s.psnr, "ssim": s.ssim, "rmse_hu": float(np.sqrt(np.mean((p - t) ** 2))),
            "linear_psnr": sl.psnr, "linear_ssim": sl.ssim}


def _update(opt, loss, module, clip: float) -> None:
    """One optimiser step on ``loss`` with the gradient norm of ``module`` clipped to ``clip``."""
    import torch

    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
    opt.step()


def _stage2_start(ck: dict, logged: list[dict], step: int) -> int | None:
    """The step at which Stage II began in a checkpointed run, or None if it was still in Stage I.

    From the checkpoint (``half``), or for older checkpoints from the run's log rows (first Stage-II row).
    """
    if "half" in ck:
        return int(ck["half"]) if int(ck["half"]) <= step else None
    stage2 = [r["step"] - 1 for r in logged if r.get("stage") == 2]
    return min(stage2) if stage2 else None


def train_ct(cfg: CTTrainConfig, progress: Progress | None = None, cancel: CancelToken | None = None) -> dict[str, Any]:
    """Train (or resume) one HRINet variant; returns the model card (rank 0) or ``{}``."""
    import torch
    import torch.distributed as dist
    from torch.nn import functional as F

    from ..core.device import choose_device
    from ..io.model_store import load_state, save_model
    from ..nets.hrinet import AlphaCritic, HRINet, HRINetConfig, PatchCritic, hu_to_net

    if cfg.variant not in VARIANTS:
        raise StudyError("--variant", f"unknown CT variant {cfg.variant!r} (choose from {', '.join(VARIANTS)})")
    if cfg.loss not in ("mse", "perceptual"):
        raise StudyError("--loss", f"CT losses are mse and perceptual, got {cfg.loss!r}")
    if cfg.crop % 64:
        raise StudyError("--crop", f"crop must be a multiple of 64 (the smallest map is 1/64), got {cfg.crop}")
    levels, use_d1, use_d2, step2, residual, skips = VARIANTS[cfg.variant]
    beta = cfg.beta if cfg.beta is not None else (5e-3 if cfg.size >= 512 else 5e-4)
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    ddp = world > 1
    device = choose_device(cfg.device)
    if ddp:
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
        if device.startswith("cuda"):
            device = f"cuda:{local}"
            torch.cuda.set_device(local)
    main = rank == 0
    cfg.check_out()
    run = Path(cfg.run_dir)
    if main:
        run.mkdir(parents=True, exist_ok=True)
        (run / "config.json").write_text(json.dumps(asdict(cfg), indent=2) + "\n")
    torch.manual_seed(cfg.seed + rank)
    rng = np.random.default_rng([cfg.seed, rank])

    if cfg.data == "phantom":
        train = phantom_volumes(CT_SPLITS["train"][: cfg.train_volumes], cfg.size, cfg.slices, cfg.thick)
        val = phantom_volumes(CT_SPLITS["val"][: cfg.val_volumes], cfg.size, cfg.slices, cfg.thick)
        data_desc = {"kind": "procedural CT phantom (synthetic; not real anatomy)",
                     "train_seeds": _seed_span("train", cfg.train_volumes), "val_seeds": _seed_span("val", cfg.val_volumes),
                     "size": cfg.size, "thin_mm": 1.0, "thick_mm": cfg.thick, "slices": cfg.slices}
    else:
        vols = folder_volumes(Path(cfg.data))
        order = np.random.default_rng(cfg.seed).permutation(len(vols))
        n_val = max(1, len(vols) // 10)
        val = [vols[i][1] for i in order[:n_val]]
        train = [vols[i][1] for i in order[n_val:]]
        split = {"val": [vols[i][0] for i in order[:n_val]], "train": [vols[i][0] for i in order[n_val:]]}
        if main:
            (run / "split.json").write_text(json.dumps(split, indent=2) + "\n")
        data_desc = {"kind": "files", "root": cfg.data, "split": {k: len(v) for k, v in split.items()}}
    size = min(min(v.shape[1:]) for v in train)
    crop = min(cfg.crop, size // 64 * 64)

    gen = HRINet(HRINetConfig.for_size(cfg.size, base=cfg.base, levels=levels, residual=residual,
                                       skips=skips)).to(device)
    if cfg.init:
        state, _, _ = load_state(cfg.init)
        gen.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    d1, d2 = AlphaCritic().to(device), PatchCritic().to(device)
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    opt_d1 = torch.optim.Adam(d1.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    opt_d2 = torch.optim.Adam(d2.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    start, best, best_step, rows = 0, -float("inf"), 0, []
    stage2_from: int | None = None  # where Stage II began in the run being resumed, if it had begun
    last = run / "last.pt"
    if cfg.resume and last.exists():
        ck = torch.load(last, map_location="cpu", weights_only=True)
        for mod, key in ((gen, "gen"), (d1, "d1"), (d2, "d2"), (opt_g, "opt_g"), (opt_d1, "opt_d1"), (opt_d2, "opt_d2")):
            mod.load_state_dict(ck[key])
        start, best, best_step = int(ck["step"]), float(ck["best"]), int(ck.get("best_step", 0))
        log = run / "log.json"
        logged = [r for r in json.loads(log.read_text()) if r["step"] <= start] if log.exists() else []
        stage2_from = _stage2_start(ck, logged, start)
        if main:
            rows = logged
    g = torch.nn.parallel.DistributedDataParallel(gen) if ddp else gen
    critic1 = torch.nn.parallel.DistributedDataParallel(d1) if ddp else d1
    critic2 = torch.nn.parallel.DistributedDataParallel(d2) if ddp else d2
    perceptual = None

    def crop_stack(vol: np.ndarray, idx) -> torch.Tensor:
        y0, x0 = rng.integers(0, vol.shape[1] - crop + 1), rng.integers(0, vol.shape[2] - crop + 1)
        return hu_to_net(torch.from_numpy(np.ascontiguousarray(vol[idx, y0:y0 + crop, x0:x0 + crop])).to(device))

    def content(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if perceptual is None:
            return F.mse_loss(pred, target)
        fp, ft = perceptual(pred), perceptual(target)
        return sum(F.mse_loss(a, b) for a, b in zip(fp, ft)) / len(fp)

    stage1 = cfg.stage1 if cfg.stage1 is not None else (0.0 if residual else 0.5)
    half = int(cfg.steps * stage1) if stage2_from is None else stage2_from  # a resumed run never goes back
    t0 = time.perf_counter()
    budget_at = start + 10 if cfg.time_budget_s else None
    max_steps = cfg.steps
    for step in range(start, cfg.steps):
        if step >= cfg.steps:
            break
        check(cancel)
        stage2 = step >= half
        if stage2 and cfg.loss == "perceptual" and perceptual is None:
            perceptual = copy.deepcopy(gen.encoder).eval()  # the Stage-I encoder, frozen (the paper's P_φ)
            for p in perceptual.parameters():
                p.requires_grad_(False)
        row: dict[str, Any] = {"step": step + 1, "stage": 2 if stage2 else 1}
        if stage2 and step2 and step % 2 == 1:  # Step II: the large gap
            wins = []
            for _ in range(cfg.batch):
                vol = train[rng.integers(len(train))]
                s0 = rng.integers(0, len(vol) - 6)
                wins.append(crop_stack(vol, list(range(s0, s0 + 7))))
            w = torch.stack(wins)  # (B, 7, H, W)
            b = w.shape[0]
            al = (torch.arange(1, 6, device=device, dtype=torch.float32) / 6).repeat(b)
            a_in = w[:, :1].repeat_interleave(5, 0)
            b_in = w[:, 6:7].repeat_interleave(5, 0)
            pred = g(a_in, b_in, al)
            loss = content(pred, w[:, 1:6].reshape(-1, 1, crop, crop))
            _update(opt_g, loss, gen, cfg.grad_clip)
            row["step2"] = loss.item()
        else:  # Step I: ACAI (+ PatchGAN in Stage II)
            pairs = []
            for _ in range(cfg.batch):
                vol = train[rng.integers(len(train))]
                pairs.append(crop_stack(vol, list(rng.integers(0, len(vol), 2))))
            x = torch.stack(pairs)  # (B, 2, H, W)
            x1, x2 = x[:, :1], x[:, 1:]
            alpha = torch.rand(x.shape[0], device=device) * 0.5
            recon = gen.autoencode(x1) if not ddp else g.module.autoencode(x1)
            mixed = g(x1, x2, alpha)
            loss = content(recon, x1)
            if use_d1:
                loss = loss + cfg.lam * critic1(mixed).pow(2).mean()
            gan = stage2 and use_d2
            if gan:
                logits = critic2(mixed)
                loss = loss + beta * F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
            _update(opt_g, loss, gen, cfg.grad_clip)
            row["step1"] = loss.item()
            if use_d1:
                target_mix = cfg.gamma * x1 + (1 - cfg.gamma) * recon.detach()
                l_d1 = (critic1(mixed.detach()) - alpha).pow(2).mean() + critic1(target_mix).pow(2).mean()
                _update(opt_d1, l_d1, d1, cfg.grad_clip)
                row["d1"] = l_d1.item()
            if gan:
                real, fake = critic2(x1), critic2(mixed.detach())
                l_d2 = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                        + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))) / 2
                _update(opt_d2, l_d2, d2, cfg.grad_clip)
                row["d2"] = l_d2.item()
        done = step + 1
        if budget_at is not None and (done == budget_at or (done > budget_at and done % cfg.val_every == 0)):
            # fit the step count to the time budget: first from 10 steps (with a margin), then again at
            # every validation from the mean time per step so far (validation included), so a slow start
            # (a busy machine) does not end the run early
            elapsed = time.perf_counter() - t0
            per = elapsed / (done - start) * (1.2 if done == budget_at else 1.0)
            cfg.steps = max(done + 1, min(max_steps, done + int((cfg.time_budget_s - elapsed) / per)))
            if done == budget_at:
                half = int(cfg.steps * stage1) if stage2_from is None else stage2_from
                cfg.val_every = max(1, min(cfg.val_every, cfg.steps // 5))
            elif done < half:  # the Stage I / II boundary moves only while still in Stage I
                half = max(done, int(cfg.steps * stage1))
            if ddp:  # every rank must stop, switch stage and validate at the same steps: rank 0's clock decides
                plan = torch.tensor([cfg.steps, half, cfg.val_every], device=device if device.startswith("cuda")
                                    else "cpu")
                dist.broadcast(plan, 0)
                cfg.steps, half, cfg.val_every = (int(v) for v in plan.tolist())
        row["seconds"] = round(time.perf_counter() - t0, 2)
        if done % cfg.val_every == 0 or done == cfg.steps:
            if main:
                v = evaluate_ct(gen, val, device)
                row.update(val_psnr=v["psnr"], val_ssim=v["ssim"], linear_psnr=v["linear_psnr"])
                if v["psnr"] > best:
                    best, best_step = v["psnr"], done
                    torch.save(gen.state_dict(), run / "best.pt")
                torch.save({"gen": gen.state_dict(), "d1": d1.state_dict(), "d2": d2.state_dict(),
                            "opt_g": opt_g.state_dict(), "opt_d1": opt_d1.state_dict(), "opt_d2": opt_d2.state_dict(),
                            "step": done, "best": best, "best_step": best_step, "half": half}, run / "last.tmp")
                os.replace(run / "last.tmp", last)
                (run / "log.json").write_text(json.dumps(rows + [row]) + "\n")
            if ddp:
                dist.barrier()
        if main:
            rows.append(row)
        report(progress, done / cfg.steps, f"step {done}/{cfg.steps} stage {row['stage']}"
               + (f" val {row['val_psnr']:.2f} dB" if "val_psnr" in row else ""))
    card: dict[str, Any] = {}
    if main:
        if (run / "best.pt").exists():
            gen.load_state_dict(torch.load(run / "best.pt", map_location=device, weights_only=True))
        card = {"task": "ct-interpolation", "architecture": "hrinet", "variant": cfg.variant,
                "hrinet": gen.cfg.as_dict(), "loss": cfg.loss, "lambda": cfg.lam, "gamma": cfg.gamma, "beta": beta,
                "steps": cfg.steps, "best_step": best_step, "batch": cfg.batch, "lr": cfg.lr, "crop": crop,
                "training_data": data_desc,
                "device": device, "train_seconds": round(total_seconds(rows), 1),
                "parameters": sum(p.numel() for p in gen.parameters()),
                "validation": evaluate_ct(gen, val, device),
                "metric": "large gap (ends of 7 consecutive slices in, 5 out); HU clipped to [-1000, 1000] "
                          "scaled to [0, 1]", "init": cfg.init}
        if cfg.data == "phantom" and cfg.test_volumes:
            test = phantom_volumes(CT_SPLITS["test"][: cfg.test_volumes], cfg.size, cfg.slices, cfg.thick)
            card["test"] = {**evaluate_ct(gen, test, device), "seeds": _seed_span("test", cfg.test_volumes)}
        card["note"] = ("trained on a synthetic phantom only: train on real CT (mrstudio train ct --data DICOM_FOLDER) "
                        "for clinical-grade weights") if cfg.data == "phantom" else ""
        if cfg.out:
            card = save_model(gen.state_dict(), card, cfg.out, force=True, half=True)
        (run / "card.json").write_text(json.dumps(card, indent=2, default=str) + "\n")
    if ddp:
        dist.barrier()
        dist.destroy_process_group()
    return card
