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

Data: ``phantom`` (procedural thoracic CT, thin 1 mm slices averaged to ``thick`` mm),
``anatomy`` (real MR: stacks of Colin 27 in three orientations and slab thicknesses,
:mod:`.anatomy_stacks`, split by volume and slab, mixed with ``phantom_fraction`` of phantom
crops) or a folder of CT DICOM series, split by volume (never by slice). A run that starts from
weights (``init``: a fine-tune of a model already past Stage I) skips Stage I unless ``stage1``
says otherwise.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.errors import ParameterError, StudyError
from ..core.jobs import CancelToken, Progress
from ..core.splits import CT_PHANTOM
from .run import RunOptions

if TYPE_CHECKING:
    import torch

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
    stage1: float | None = None  # fraction of steps in Stage I (default: 0.5, the paper; 0 for hrinet-res or init)
    phantom_fraction: float = 0.2  # data 'anatomy': share of training crops drawn from the phantom volumes


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

    from ..nets.hrinet import hu_to_net, net_to_hu, pad_to_multiple

    keep = np.arange(0, len(vol), gap)
    preds, truths = [], []
    al = torch.arange(1, gap, dtype=torch.float32, device=device) / gap
    with torch.no_grad():
        for i in keep[:-1]:
            pair, (rows, cols) = pad_to_multiple(vol[[i, i + gap]])
            x = hu_to_net(torch.from_numpy(pair).to(device)[:, None])
            n = gap - 1
            y = net(x[:1].expand(n, -1, -1, -1), x[1:].expand(n, -1, -1, -1), al)
            preds.append(net_to_hu(y)[:, 0, rows, cols].cpu().numpy())
            truths.append(vol[i + 1:i + gap])
    return np.concatenate(preds), np.concatenate(truths)


def evaluate_ct(net, volumes: list[np.ndarray], device: str, gap: int = 6) -> dict[str, float]:
    """Held-out large-gap scores of the generator and of linear interpolation (same slices), each volume
    scored on its own and the scores averaged over volumes (the volumes may differ in size)."""
    from ..core.metrics import score
    from ..interp.classical import linear
    from ..interp.pipeline import to_unit

    was = net.training
    net.eval()
    rows = []
    for vol in volumes:
        p, t = _gap_predict(net, vol, gap, device)
        keep = np.arange(0, len(vol), gap)
        alphas = np.tile(np.arange(1, gap) / gap, (len(keep) - 1, 1))
        lin = linear(vol[keep], keep.astype(float), alphas).reshape(p.shape)
        s, sl = score(to_unit(p), to_unit(t)), score(to_unit(lin), to_unit(t))
        rows.append((s.psnr, s.ssim, float(np.sqrt(np.mean((p - t) ** 2))), sl.psnr, sl.ssim))
    net.train(was)
    m = np.mean(rows, axis=0)
    return {"psnr": float(m[0]), "ssim": float(m[1]), "rmse_hu": float(m[2]), "linear_psnr": float(m[3]),
            "linear_ssim": float(m[4])}


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
    """Train (or resume) one HRINet variant through :func:`~.runner.run_training`; returns the model card
    (rank 0) or ``{}``."""
    import torch

    from ..core.device import choose_device
    from ..io.model_store import load_state, save_model
    from ..nets.hrinet import AlphaCritic, HRINet, HRINetConfig, PatchCritic
    from .runner import init_distributed, run_training

    if cfg.variant not in VARIANTS:
        raise ParameterError("variant", f"unknown CT variant {cfg.variant!r} (choose from {', '.join(VARIANTS)})")
    if cfg.loss not in ("mse", "perceptual"):
        raise ParameterError("loss", f"CT losses are mse and perceptual, got {cfg.loss!r}")
    if cfg.crop % 64:
        raise ParameterError("crop", f"crop must be a multiple of 64 (the smallest map is 1/64), got {cfg.crop}")
    levels, _, _, _, residual, skips = VARIANTS[cfg.variant]
    cfg.check_out()
    d = init_distributed(choose_device(cfg.device))
    device = d.device
    torch.manual_seed(cfg.seed + d.rank)
    train, extra, val, data_desc = _volumes(cfg, d.main)
    crop = min(cfg.crop, min(min(v.shape[1:]) for v in train + extra) // 64 * 64)
    gen = HRINet(HRINetConfig.for_size(cfg.size, base=cfg.base, levels=levels, residual=residual,
                                       skips=skips)).to(device)
    if cfg.init:
        state, _, _ = load_state(cfg.init)
        gen.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    d1, d2 = AlphaCritic().to(device), PatchCritic().to(device)
    for m in (gen, d1, d2):  # channels-last (NHWC) convolutions, as at inference (interp/learned.load_ct_model)
        m.to(memory_format=torch.channels_last)
    opt_g, opt_d1, opt_d2 = (torch.optim.Adam(m.parameters(), lr=cfg.lr, betas=(0.5, 0.999)) for m in (gen, d1, d2))
    task = _Steps(cfg, gen, d1, d2, opt_g, opt_d1, opt_d2, train, crop, d, extra)
    res = run_training(cfg, gen, opt_g, task.make, lambda: evaluate_ct(gen, val, device), cfg.steps, progress, cancel,
                       parts={"d1": d1, "d2": d2, "opt_d1": opt_d1, "opt_d2": opt_d2},
                       extra_state=lambda: {"half": task.half}, on_resume=task.resume, on_plan=task.plan, dist=d)
    card: dict[str, Any] = {}
    if d.main:
        card = _card(cfg, gen, val, data_desc, res, task.beta, crop, device)
        if cfg.out:
            card = save_model(gen.state_dict(), card, cfg.out, force=True, half=True)
        (Path(cfg.run_dir) / "card.json").write_text(json.dumps(card, indent=2, default=str) + "\n")
    d.close()
    return card


def _volumes(cfg: CTTrainConfig, main: bool) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray],
                                                      dict[str, Any]]:
    """Training volumes, the phantom volumes mixed into them (``anatomy``; else empty), validation volumes
    (HU or the working scale) and the card's data entry; split by volume (a folder's split is written to the run)."""
    if cfg.data == "anatomy":
        from . import anatomy_stacks

        vol = anatomy_stacks.work_volume()
        train = anatomy_stacks.training_stacks(vol, cfg.crop)
        extra = phantom_volumes(CT_SPLITS["train"][: cfg.train_volumes], cfg.size, cfg.slices, cfg.thick)
        return train, extra, anatomy_stacks.validation_stacks(vol), anatomy_stacks.describe(
            len(train), cfg.phantom_fraction, _seed_span("train", cfg.train_volumes))
    if cfg.data == "phantom":
        train = phantom_volumes(CT_SPLITS["train"][: cfg.train_volumes], cfg.size, cfg.slices, cfg.thick)
        val = phantom_volumes(CT_SPLITS["val"][: cfg.val_volumes], cfg.size, cfg.slices, cfg.thick)
        return train, [], val, {"kind": "procedural CT phantom (synthetic; not real anatomy)",
                            "train_seeds": _seed_span("train", cfg.train_volumes),
                            "val_seeds": _seed_span("val", cfg.val_volumes), "size": cfg.size, "thin_mm": 1.0,
                            "thick_mm": cfg.thick, "slices": cfg.slices}
    vols = folder_volumes(Path(cfg.data))
    order = np.random.default_rng(cfg.seed).permutation(len(vols))
    n_val = max(1, len(vols) // 10)
    split = {"val": [vols[i][0] for i in order[:n_val]], "train": [vols[i][0] for i in order[n_val:]]}
    if main:
        run = Path(cfg.run_dir)
        run.mkdir(parents=True, exist_ok=True)
        (run / "split.json").write_text(json.dumps(split, indent=2) + "\n")
    return ([vols[i][1] for i in order[n_val:]], [], [vols[i][1] for i in order[:n_val]],
            {"kind": "files", "root": cfg.data, "split": {k: len(v) for k, v in split.items()}})


class _Steps:
    """HRINet's training step (Step I: ACAI, + PatchGAN in Stage II; Step II: the large gap) and its
    Stage I/II boundary ``half``, which follows a time budget's plan while still in Stage I and is
    kept by a resumed run (it never goes back to Stage I)."""

    def __init__(self, cfg: CTTrainConfig, gen, d1, d2, opt_g, opt_d1, opt_d2, train: list[np.ndarray], crop: int,
                 dist, extra: list[np.ndarray] | None = None):
        self.cfg, self.gen, self.d1, self.d2 = cfg, gen, d1, d2
        self.opt_g, self.opt_d1, self.opt_d2 = opt_g, opt_d1, opt_d2
        self.train, self.crop, self.dist = train, crop, dist
        self.extra = extra or []  # phantom volumes mixed into anatomy data (``phantom_fraction`` of the crops)
        self.skip_background = cfg.data == "anatomy"  # MR stacks hold sections that are mostly background
        self.g, self.critic1, self.critic2 = dist.wrap(gen), dist.wrap(d1), dist.wrap(d2)
        _, self.use_d1, self.use_d2, self.step2, residual, _ = VARIANTS[cfg.variant]
        self.stage1 = cfg.stage1 if cfg.stage1 is not None else (0.0 if residual or cfg.init else 0.5)
        self.beta = cfg.beta if cfg.beta is not None else (5e-3 if cfg.size >= 512 else 5e-4)
        self.stage2_from: int | None = None  # where Stage II began in the run being resumed, if it had begun
        self.half = int(cfg.steps * self.stage1)
        self.perceptual = None
        self.rng = np.random.default_rng([cfg.seed, dist.rank])

    def resume(self, ck: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        self.stage2_from = _stage2_start(ck, rows, int(ck["step"]))

    def plan(self, steps: int, done: int) -> None:
        if self.stage2_from is None and done < self.half:  # the boundary moves only while still in Stage I
            self.half = max(done, int(steps * self.stage1))

    def make(self, start: int):
        self.half = int(self.cfg.steps * self.stage1) if self.stage2_from is None else self.stage2_from
        if start:
            self.rng = np.random.default_rng([self.cfg.seed, self.dist.rank, start])
        return self.step

    def _window(self, n: int | None) -> torch.Tensor:
        """``(n, crop, crop)`` net-scale crop of ``n`` consecutive slices (two random slices if ``n`` is None)
        of a random training volume; with ``skip_background``, crops under a quarter foreground are drawn again."""
        for _ in range(100):
            if self.extra and self.rng.random() < self.cfg.phantom_fraction:
                vol = self.extra[self.rng.integers(len(self.extra))]
            else:
                vol = self.train[self.rng.integers(len(self.train))]
            if n is None:
                idx = list(self.rng.integers(0, len(vol), 2))
            else:
                s0 = self.rng.integers(0, len(vol) - n + 1)
                idx = list(range(s0, s0 + n))
            c = self._crop_stack(vol, idx)
            if not self.skip_background or float((c > -0.9).float().mean()) > 0.25:
                break
        return c

    def _crop_stack(self, vol: np.ndarray, idx):
        import torch

        from ..nets.hrinet import hu_to_net

        c = self.crop
        y0, x0 = self.rng.integers(0, vol.shape[1] - c + 1), self.rng.integers(0, vol.shape[2] - c + 1)
        return hu_to_net(torch.from_numpy(np.ascontiguousarray(vol[idx, y0:y0 + c, x0:x0 + c])).to(self.dist.device))

    def _content(self, pred, target):
        from torch.nn import functional as F

        if self.perceptual is None:
            return F.mse_loss(pred, target)
        fp, ft = self.perceptual(pred), self.perceptual(target)
        return sum(F.mse_loss(a, b) for a, b in zip(fp, ft)) / len(fp)

    def step(self, step: int) -> dict[str, Any]:
        cfg = self.cfg
        stage2 = step >= self.half
        if stage2 and cfg.loss == "perceptual" and self.perceptual is None:
            self.perceptual = copy.deepcopy(self.gen.encoder).eval()  # the Stage-I encoder, frozen (the paper's P_φ)
            for p in self.perceptual.parameters():
                p.requires_grad_(False)
        row: dict[str, Any] = {"stage": 2 if stage2 else 1}
        if stage2 and self.step2 and step % 2 == 1:
            row["step2"] = row["loss"] = self._large_gap()
        else:
            row.update(self._acai(stage2))
        return row

    def _large_gap(self) -> float:
        """Step II: 7 consecutive slices, ends in, the 5 between out at α = 1/6 … 5/6."""
        import torch

        w = torch.stack([self._window(7) for _ in range(self.cfg.batch)])  # (B, 7, H, W)
        al = (torch.arange(1, 6, device=w.device, dtype=torch.float32) / 6).repeat(w.shape[0])
        pred = self.g(w[:, :1].repeat_interleave(5, 0), w[:, 6:7].repeat_interleave(5, 0), al)
        loss = self._content(pred, w[:, 1:6].reshape(-1, 1, self.crop, self.crop))
        _update(self.opt_g, loss, self.gen, self.cfg.grad_clip)
        return loss.item()

    def _acai(self, stage2: bool) -> dict[str, float]:
        """Step I: ACAI on two random slices of one volume, α ~ U(0, 0.5); PatchGAN (D2) in Stage II."""
        import torch
        from torch.nn import functional as F

        cfg = self.cfg
        x = torch.stack([self._window(None) for _ in range(cfg.batch)])  # (B, 2, H, W)
        x1, x2 = x[:, :1], x[:, 1:]
        alpha = torch.rand(x.shape[0], device=x.device) * 0.5
        recon = self.g.module.autoencode(x1) if self.dist.ddp else self.gen.autoencode(x1)
        mixed = self.g(x1, x2, alpha)
        loss = self._content(recon, x1)
        if self.use_d1:
            loss = loss + cfg.lam * self.critic1(mixed).pow(2).mean()
        gan = stage2 and self.use_d2
        if gan:
            logits = self.critic2(mixed)
            loss = loss + self.beta * F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        _update(self.opt_g, loss, self.gen, cfg.grad_clip)
        row = {"step1": loss.item(), "loss": loss.item()}
        if self.use_d1:
            target_mix = cfg.gamma * x1 + (1 - cfg.gamma) * recon.detach()
            l_d1 = (self.critic1(mixed.detach()) - alpha).pow(2).mean() + self.critic1(target_mix).pow(2).mean()
            _update(self.opt_d1, l_d1, self.d1, cfg.grad_clip)
            row["d1"] = l_d1.item()
        if gan:
            real, fake = self.critic2(x1), self.critic2(mixed.detach())
            l_d2 = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                    + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))) / 2
            _update(self.opt_d2, l_d2, self.d2, cfg.grad_clip)
            row["d2"] = l_d2.item()
        return row


def _card(cfg: CTTrainConfig, gen, val: list[np.ndarray], data_desc: dict, res, beta: float, crop: int,
          device: str) -> dict[str, Any]:
    """The model card of a finished run (the best weights are in ``gen``), with its test scores."""
    card = {"task": "ct-interpolation", "architecture": "hrinet", "variant": cfg.variant,
            "hrinet": gen.cfg.as_dict(), "loss": cfg.loss, "lambda": cfg.lam, "gamma": cfg.gamma, "beta": beta,
            "steps": cfg.steps, "best_step": res.best["step"], "batch": cfg.batch, "lr": cfg.lr, "crop": crop,
            "training_data": data_desc, "device": device, "train_seconds": round(res.seconds, 1),
            "parameters": sum(p.numel() for p in gen.parameters()),
            "validation": evaluate_ct(gen, val, device),
            "metric": "large gap (ends of 7 consecutive slices in, 5 out); HU clipped to [-1000, 1000] "
                      "scaled to [0, 1]", "init": cfg.init}
    if res.replica_max_diff is not None:
        card["ddp"] = {"world": int(os.environ.get("WORLD_SIZE", "1")), "replica_max_diff": res.replica_max_diff}
    if cfg.data == "phantom" and cfg.test_volumes:
        test = phantom_volumes(CT_SPLITS["test"][: cfg.test_volumes], cfg.size, cfg.slices, cfg.thick)
        card["test"] = {**evaluate_ct(gen, test, device), "seeds": _seed_span("test", cfg.test_volumes)}
    card["note"] = ("trained on a synthetic phantom only: train on real CT (mrstudio train ct --data DICOM_FOLDER) "
                    "for clinical-grade weights") if cfg.data == "phantom" else ""
    return card
