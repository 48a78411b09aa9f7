"""Training the any-mask unrolled network (:mod:`mrstudio.nets.unrolled`) on real-anatomy cines.

Data: a pool of training cines of :mod:`mrstudio.io.anatomy` (the training split; made once,
kept as hybrid (ky, x) data), each step under a fresh random mask — every kind of
:data:`~mrstudio.core.masks.MASK_KINDS` at R log-uniform in ``accel_range``, or an irregular
"painted" mask of strokes — and on a random crop of ``crop`` readout columns (exact: the
readout is fully sampled, so data consistency decouples over x). Loss: L1 of the magnitude
plus ``ssim_weight · (1 − SSIM)``. Validation: PSNR on full validation cines at R 8/15/30,
through the same forward pass users run. With ``ema > 0`` the validated, kept and shipped weights are an
exponential moving average of the trained ones (batch-1 steps make the raw weights wander: their
validation PSNR swung by ±0.3 dB between checkpoints 200 steps apart). ``blur > 0`` blurs each
training cine's source slice by its own σ ~ U(0, blur) acquired pixels: on smoothed validation
slices CS gains and the model trained without it loses, at low R most. ``val_blur > 0`` validates on
the validation cines twice, as they are and from their slices blurred by σ = ``val_blur`` pixels, and
chooses ``best.pt`` by the mean of the two (both are logged: ``val_psnr_plain``, ``val_psnr_blur``).
Time-budgeted and resumable (``last.pt`` at every
validation; ``best.pt`` by validation PSNR); ``init`` warm-starts from a stored model, whose shapes
the model takes (``cascades``, ``channels``, ``layers``; ``x0`` and ``map_support`` stay the config's) and whose steps
and minutes the card adds to its own; a resumed run keeps the shapes of its ``config.json``. The
card records data, split, steps, minutes, device.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import ParameterError
from ..core.jobs import CancelToken, Progress, report
from ..core.masks import MASK_KINDS, MaskSpec, make_mask, painted_mask
from .run import RunOptions
from .runner import run_training

TASK = "cine-unrolled"
VAL_ACCELS = (8.0, 15.0, 30.0)


@dataclass
class UnrolledTrainConfig(RunOptions):
    steps: int = 100_000  # optimiser steps (the time budget usually ends the run first)
    batch: int = 2  # readout-column crops per step
    lr: float = 1e-3  # Adam learning rate
    crop: int = 24  # readout columns per crop (exact in hybrid (ky, x) space)
    pool: int = 48  # training cines held in memory
    val_cines: int = 3  # full-size validation cines, scored at VAL_ACCELS
    cascades: int = 5  # data-consistency + denoiser cascades
    channels: int = 12  # denoiser channels
    layers: int = 4  # denoiser 3-D conv layers
    accel_range: tuple[float, float] = (4.0, 60.0)  # R drawn log-uniformly from this range
    painted_fraction: float = 0.2  # share of masks painted line by line, not of a MASK_KINDS kind
    ssim_weight: float = 0.5  # loss = l1 + ssim_weight · (1 − SSIM)
    run_dir: str = "runs/cine-unrolled"
    val_every: int = 100
    x0: str = "viewshare"  # the network's start (nets/unrolled.py); "adjoint" for the first models
    map_support: float = 0.05  # coil maps zeroed outside the object (nets/sense.lowres_maps); 0 for the first models
    ema: float = 0.0  # decay per step of the weights' moving average that is validated and kept; 0 = the raw weights
    blur: float = 0.0  # training cines' source slices blurred by σ ~ U(0, blur) acquired pixels (smoother anatomy); 0 = off
    val_blur: float = 0.0  # validate also on the validation slices blurred by this σ (pixels); 0 = only as they are

    def __post_init__(self) -> None:
        if not 0.0 <= self.ema < 1.0:
            raise ParameterError("ema", f"must be in [0, 1), got {self.ema}")
        for k in ("blur", "val_blur"):
            if getattr(self, k) < 0:
                raise ParameterError(k, f"must be ≥ 0, got {getattr(self, k)}")


def random_mask(rng: np.random.Generator, frames: int, ny: int, cfg: UnrolledTrainConfig) -> np.ndarray:
    accel = float(np.exp(rng.uniform(*np.log(cfg.accel_range))))
    if rng.random() < cfg.painted_fraction:
        return painted_mask(rng, frames, ny, accel)
    spec = MaskSpec(kind=str(rng.choice(MASK_KINDS)), accel=accel, acs=int(rng.integers(1, 5)),
                    seed=int(rng.integers(1 << 30)))
    return make_mask(spec, frames, ny)


def training_sample(model, y, ref, mask, c0: int, crop: int):
    """One training sample: fully sampled hybrid ``y (C, T, Ny, Nx)`` under ``mask (T, Ny)``, readout columns
    ``c0 … c0 + crop`` → ``(data (C, T, Ny, crop), maps (C, Ny, crop), |truth| (T, Ny, crop))``.

    The maps are the model's maps of the whole image (what inference computes), then cropped: the
    support of :func:`~mrstudio.nets.sense.lowres_maps` depends on the whole image."""
    import torch

    ym = y * mask[None, :, :, None]
    with torch.no_grad():
        maps = model.maps(ym[None], mask[None])[0]
    cut = slice(c0, c0 + crop)
    return ym[..., cut], maps[..., cut], ref[..., cut]


def _pool(split: str, n: int, progress: Progress | None = None, blur: float = 0.0, seed: int = 0,
          fixed: bool = False):
    """``[(hybrid data complex64 (C, T, Ny, Nx), |truth| float32 (T, Ny, Nx))]`` of ``n`` cines of ``split``;
    ``blur > 0``: cine ``k`` from its slice blurred by σ ~ U(0, blur) acquired pixels (drawn from ``(seed, k)``),
    or by σ = ``blur`` for every cine when ``fixed``."""
    import torch

    from ..io.anatomy import anatomy_cine
    from ..nets.sense import ifftc_x

    out = []
    for k in range(n):
        sigma = blur if fixed or not blur else float(np.random.default_rng([seed, k]).uniform(0.0, blur))
        st = anatomy_cine(split, k, blur=sigma)
        out.append((ifftc_x(torch.from_numpy(st.kspace)), torch.from_numpy(np.abs(st.reference).astype(np.float32))))
        report(progress, 0.05 * (k + 1) / n, f"{split} cine {k + 1}/{n}")
    return out


def evaluate(model, val, device: str) -> dict[str, float]:
    """Mean PSNR/SSIM of full-size validation cines at R 8, 15, 30 (fixed masks)."""
    import torch

    from ..core.metrics import score

    model.eval()
    ps, ss = [], []
    with torch.inference_mode():
        for i, (y, ref) in enumerate(val):
            t, ny = ref.shape[:2]
            for r in VAL_ACCELS:
                m = torch.from_numpy(make_mask(MaskSpec(accel=r, seed=100 + i), t, ny))
                out = model((y * m[None, :, :, None])[None].to(device), m[None].to(device))[0].abs().cpu().numpy()
                sc = score(out, ref.numpy())
                ps.append(sc.psnr), ss.append(sc.ssim)
    model.train()
    return {"psnr": float(np.mean(ps)), "ssim": float(np.mean(ss)), "accels": list(VAL_ACCELS), "n": len(val)}


SHAPES = ("cascades", "channels", "layers")  # the model's shapes; x0 and map_support are the config's own


def _take_shapes(cfg: UnrolledTrainConfig, shapes: dict[str, Any], where: str) -> None:
    """Set ``cfg``'s shapes to ``shapes``; one the caller set to something else (not the default) is an error."""
    for k, v in shapes.items():
        mine, default = getattr(cfg, k), UnrolledTrainConfig.__dataclass_fields__[k].default
        if mine not in (v, default):
            grow = "grow a model with scripts/grow_unrolled.py, or " if k in SHAPES else ""
            raise ParameterError(k, f"{where} has {k} = {v}, not {mine} ({grow}train in another --run-dir)")
        setattr(cfg, k, type(default)(v))


def train_unrolled(cfg: UnrolledTrainConfig, progress: Progress | None = None,
                   cancel: CancelToken | None = None) -> dict[str, Any]:
    """Train (or resume) the unrolled network; returns its model card."""
    import torch

    from ..core.device import choose_device
    from ..io.model_store import save_model
    from ..nets.unrolled import Unrolled, UnrolledConfig
    from .losses import ssim_map

    device = choose_device(cfg.device)
    cfg.check_out()
    run = Path(cfg.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    resuming = cfg.resume and (run / "last.pt").exists()
    init_state, prior = None, {}
    if resuming:  # the run's own shapes, whatever started it
        prior = json.loads((run / "init.json").read_text()) if (run / "init.json").exists() else {}
        saved = json.loads((run / "config.json").read_text()) if (run / "config.json").exists() else {}
        _take_shapes(cfg, {k: saved[k] for k in SHAPES if k in saved}, f"run folder {run}")
        if saved:  # the run's maps, average and data too (runs from before these fields had none)
            _take_shapes(cfg, {k: saved.get(k, 0.0) for k in ("map_support", "ema", "blur", "val_blur")},
                         f"run folder {run}")
        if cfg.init and prior.get("sha256"):
            from ..io.model_store import read_card, resolve_model

            if read_card(resolve_model(cfg.init)).sha256 != prior["sha256"]:
                raise ParameterError("init", f"run folder {run} holds a run started from another model "
                                     f"({prior.get('model')}); use --no-resume or another --run-dir")
    elif cfg.init:  # a warm start gives the model its shapes; its steps and minutes go into the card
        from ..io.model_store import load_state
        from ..recon.unrolled import unrolled_config

        init_state, init_card, path = load_state(cfg.init)
        arch = asdict(unrolled_config(init_card, path))
        _take_shapes(cfg, {k: arch[k] for k in SHAPES}, f"--init {cfg.init}")
        prior = {"model": init_card.name, "sha256": init_card.sha256, "steps": int(init_card.fields.get("steps", 0)),
                 "train_seconds": float(init_card.fields.get("train_seconds", 0.0)),
                 **{k: init_card.fields[k] for k in ("grown_from",) if k in init_card.fields}}
    train, val = _pool("train", cfg.pool, progress, cfg.blur, cfg.seed), _pool("val", cfg.val_cines)
    val_soft = _pool("val", cfg.val_cines, blur=cfg.val_blur, fixed=True) if cfg.val_blur else None
    model = Unrolled(UnrolledConfig(cfg.cascades, cfg.channels, cfg.layers, cfg.x0, cfg.map_support)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    if init_state is not None:
        model.load_state_dict({k: v.float() for k, v in init_state.items()})
        (run / "init.json").write_text(json.dumps(prior) + "\n")
    elif not resuming:  # a fresh start owes nothing to an earlier run's warm start
        (run / "init.json").unlink(missing_ok=True)
    ema = None
    if cfg.ema:  # starts from the model's (warm-started) weights
        import copy

        ema = copy.deepcopy(model).requires_grad_(False)
    t, ny, nx = train[0][1].shape

    def make_step(start: int):
        rng = np.random.default_rng([cfg.seed, start])

        def step(_i: int) -> float:
            ys, ms, maps, refs = [], [], [], []
            for _ in range(cfg.batch):
                y, ref = train[rng.integers(len(train))]
                m = torch.from_numpy(random_mask(rng, t, ny, cfg))
                c0 = int(rng.integers(0, nx - cfg.crop + 1))
                yc, sc, rc = training_sample(model, y, ref, m, c0, cfg.crop)
                ys.append(yc), maps.append(sc), ms.append(m), refs.append(rc)
            y, m, ref = torch.stack(ys).to(device), torch.stack(ms).to(device), torch.stack(refs).to(device)
            out = model(y, m, torch.stack(maps).to(device)).abs()
            scale = ref.flatten(1).amax(1).clamp_min(1e-8).view(-1, 1, 1, 1)
            o, r = out / scale, ref / scale
            loss = (o - r).abs().mean() + cfg.ssim_weight * (1 - ssim_map(o, r, 1.0).mean())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if ema is not None:
                with torch.no_grad():
                    for e, w in zip(ema.parameters(), model.parameters()):
                        e.lerp_(w, 1.0 - cfg.ema)
            return float(loss.detach())

        return step

    def validate() -> dict[str, float]:
        v = evaluate(model if ema is None else ema, val, device)
        if val_soft is None:
            return {"psnr": v["psnr"], "ssim": v["ssim"]}
        b = evaluate(model if ema is None else ema, val_soft, device)  # best.pt by the mean of the two
        return {"psnr": (v["psnr"] + b["psnr"]) / 2, "ssim": (v["ssim"] + b["ssim"]) / 2, "psnr_plain": v["psnr"],
                "ssim_plain": v["ssim"], "psnr_blur": b["psnr"], "ssim_blur": b["ssim"]}

    res = run_training(cfg, model, opt, make_step, validate, cfg.steps, progress, cancel,
                       parts={} if ema is None else {"ema": ema}, kept=ema)
    card = {"task": TASK, "architecture": "unrolled", "unrolled": asdict(model.cfg),
            "data_consistency": "gradient step through SENSE, coil maps from the time-averaged centre (nets/sense.py)"
                                + (f", zero below {cfg.map_support:g} of their low-res RSS maximum" if cfg.map_support else ""),
            "loss": f"L1(|x|) + {cfg.ssim_weight}·(1 − SSIM)", "masks": f"{', '.join(MASK_KINDS)} and painted strokes, "
            f"R {cfg.accel_range[0]:g}–{cfg.accel_range[1]:g}",
            "training_data": {"kind": "real anatomy (mricron-data Colin 27, io/anatomy.py)", "split": "train",
                              "cines": cfg.pool, "validation": f"val split, {cfg.val_cines} cines, R 8/15/30"
                              + (f", mean of as-is and blurred by {cfg.val_blur:g} px" if cfg.val_blur else ""),
                              **({"blur_px": [0.0, cfg.blur]} if cfg.blur else {}),
                              "crop_columns": cfg.crop},
            "steps": prior.get("steps", 0) + res.steps, "batch": cfg.batch, "lr": cfg.lr, "device": device,
            **({"ema": cfg.ema} if cfg.ema else {}),
            "validation": {"step": res.best["step"], **{k[4:]: v for k, v in res.best.items() if k.startswith("val_")}},
            "train_seconds": round(prior.get("train_seconds", 0.0) + res.seconds, 1),
            **({"init": prior} if prior else {}),
            "parameters": sum(p.numel() for p in model.parameters())}
    if cfg.out:
        card = save_model(model.state_dict(), card, cfg.out, force=True)
    (run / "card.json").write_text(json.dumps(card, indent=2, default=str) + "\n")
    return card
