"""Training the through-plane interpolator (:mod:`mrstudio.nets.throughplane`) on real MR volumes.

Data: 2D planes that contain the slice normal, cut from the thin (1 mm) Colin 27 volume of
``mricron-data`` in all three orientations (slice normal along any axis, the plane along
either other one), and from training seeds of the CT phantom (``ct_fraction`` of the
batches). A thick-slice input is simulated by slab averaging ``k`` thin slices, ``k`` in
``factors`` (2–6 mm); the target is the thin slices between the slab centres.

Split (:mod:`mrstudio.core.splits`): nothing of the axial slab ``ANATOMY_VAL_SLAB_MM`` of
Colin 27, widened by ``ANATOMY_GUARD_MM`` on both sides, enters training (a crop that
touches it is redrawn); validation uses full planes inside that slab; the test volumes are
INIA19's (:func:`mrstudio.io.anatomy.test_volumes`), never seen here. Loss: L1 on the
inserted rows. Time-budgeted and resumable, as every trainer (``last.pt``, ``best.pt`` by
validation PSNR); the card records data, split, steps, minutes and device.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.jobs import CancelToken, Progress
from ..core.splits import ANATOMY_GUARD_MM, ANATOMY_VAL_SLAB_MM, CT_PHANTOM
from ..interp.throughplane import plane_example
from .run import RunOptions
from .runner import run_training

TASK = "volume-throughplane"
VAL_FACTORS = (3, 6)


@dataclass
class PlaneTrainConfig(RunOptions):
    steps: int = 100_000
    batch: int = 16
    lr: float = 1e-3
    crop_z: int = 48  # output rows (thin slices) of a training plane
    crop_w: int = 64
    factors: tuple[int, ...] = (2, 3, 4, 5, 6)
    ct_fraction: float = 0.2
    ct_volumes: int = 4
    channels: int = 16
    dilations: tuple[int, ...] = (2, 4, 8, 2)
    run_dir: str = "runs/interp-throughplane"
    val_every: int = 200


def _unit(vol: np.ndarray) -> np.ndarray:
    """The pipeline's MR normalisation: the robust range (0.5–99.5th percentile) onto [0, 1]."""
    from ..interp.pipeline import ROBUST_PERCENTILES

    lo, hi = np.percentile(vol, ROBUST_PERCENTILES)
    return ((vol - lo) / max(hi - lo, 1e-6)).astype(np.float32)


class PlaneSampler:
    """Random crops of planes containing the slice normal, outside (``train``) or inside (``val``) the slab."""

    def __init__(self, vol: np.ndarray, cfg: PlaneTrainConfig, rng: np.random.Generator,
                 excluded: tuple[float, float] | None = (ANATOMY_VAL_SLAB_MM[0] - ANATOMY_GUARD_MM,
                                                          ANATOMY_VAL_SLAB_MM[1] + ANATOMY_GUARD_MM)):
        self.vol, self.cfg, self.rng = vol, cfg, rng
        self.excluded = excluded  # axial mm (volume axis 2, 1 mm voxels) no crop may touch

    def _touches_slab(self, ranges: dict[int, tuple[int, int]]) -> bool:
        a0, a1 = ranges[2]
        return self.excluded is not None and a0 < self.excluded[1] and a1 > self.excluded[0]

    def crop(self, k: int) -> np.ndarray:
        """A thin ``(L, W)`` crop (rows along the slice normal) for slabs of ``k``, away from the validation slab."""
        cfg, rng, vol = self.cfg, self.rng, self.vol
        length = (cfg.crop_z // k + 1) * k
        for _ in range(1000):
            a, b = rng.permutation(3)[:2]
            c = 3 - a - b
            if vol.shape[a] < length or vol.shape[b] < cfg.crop_w:
                continue
            sa, sb = rng.integers(0, vol.shape[a] - length + 1), rng.integers(0, vol.shape[b] - cfg.crop_w + 1)
            sc = rng.integers(0, vol.shape[c])
            ranges = {a: (sa, sa + length), b: (sb, sb + cfg.crop_w), c: (sc, sc + 1)}
            if self._touches_slab(ranges):
                continue
            idx = [slice(*ranges[i]) for i in range(3)]
            plane = np.moveaxis(vol[tuple(idx)], (a, b), (0, 1))[:, :, 0]
            if plane.mean() < 0.05:  # mostly background
                continue
            return plane[::-1] if rng.random() < 0.5 else plane
        raise RuntimeError("no training crop found outside the validation slab")


def val_planes(vol: np.ndarray, n: int = 6) -> list[np.ndarray]:
    """Full planes inside the validation slab: axial sections (fixed axial index), slice normal along x or y."""
    lo, hi = ANATOMY_VAL_SLAB_MM
    out = []
    for j, i in enumerate(np.linspace(lo, hi - 1, n).astype(int)):
        sec = vol[:, :, i]
        out.append(sec if j % 2 == 0 else sec.T)
    return out


def _ct_planes(n: int) -> list[np.ndarray]:
    """Thin (1 mm) CT phantom volumes of the training seeds, on the network's [0, 1] scale, as (Z, Y, X)."""
    from ..core.ct_phantom import make_ct_phantom

    return [((make_ct_phantom(size=128, slices=96, seed=CT_PHANTOM["train"][s]).volume + 1000) / 2000).astype(np.float32)
            for s in range(n)]


def evaluate(net, planes: list[np.ndarray], device: str) -> dict[str, float]:
    """Mean PSNR of the refined and of the linear inserted rows over the validation planes at ×3 and ×6."""
    import torch

    from ..core.metrics import psnr

    net.eval()
    ours, lin = [], []
    with torch.inference_mode():
        for plane in planes:
            for k in VAL_FACTORS:
                ex = plane_example(plane, k)
                x = torch.from_numpy(ex["x"])[None].to(device)
                y = net(x)[0, 0].cpu().numpy()
                ins = ex["inserted"]
                ours.append(psnr(y[ins], ex["y"][ins], 1.0))
                lin.append(psnr(ex["x"][0][ins], ex["y"][ins], 1.0))
    net.train()
    return {"psnr": float(np.mean(ours)), "linear_psnr": float(np.mean(lin))}


def train_throughplane(cfg: PlaneTrainConfig, progress: Progress | None = None,
                       cancel: CancelToken | None = None) -> dict[str, Any]:
    """Train (or resume) the through-plane network (:func:`~.runner.run_training`); returns its model card."""
    import torch

    from ..core.device import choose_device
    from ..io.anatomy import thin_volume
    from ..io.model_store import save_model
    from ..nets.throughplane import PlaneNet, PlaneNetConfig

    device = choose_device(cfg.device)
    cfg.check_out()
    torch.manual_seed(cfg.seed)
    vol = _unit(thin_volume("colin27"))
    val = val_planes(vol)
    ct = _ct_planes(cfg.ct_volumes) if cfg.ct_fraction > 0 else []
    net = PlaneNet(PlaneNetConfig(cfg.channels, tuple(cfg.dilations))).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)

    def make_step(start: int):
        rng = np.random.default_rng([cfg.seed, start])
        mr = PlaneSampler(vol, cfg, rng)
        ct_samplers = [PlaneSampler(v, cfg, rng, excluded=None) for v in ct]  # the phantom's split is by seed

        def step(_i: int) -> float:
            k = int(rng.choice(cfg.factors))
            sampler = ct_samplers[rng.integers(len(ct_samplers))] if ct and rng.random() < cfg.ct_fraction else mr
            exs = [plane_example(sampler.crop(k), k) for _ in range(cfg.batch)]
            x = torch.from_numpy(np.stack([e["x"] for e in exs])).to(device)
            y = torch.from_numpy(np.stack([e["y"] for e in exs])).to(device)
            ins = torch.from_numpy(exs[0]["inserted"]).to(device)
            loss = (net(x)[:, 0] - y).abs()[:, ins].mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return float(loss.detach())

        return step

    res = run_training(cfg, net, opt, make_step, lambda: evaluate(net, val, device), cfg.steps, progress, cancel)
    lo, hi = ANATOMY_VAL_SLAB_MM
    card = {"task": TASK, "architecture": "throughplane", "planenet": net.cfg.as_dict(),
            "method": "linear along z, refined by a residual 2D CNN on the (z, x) and (z, y) planes, averaged",
            "loss": "L1 on the inserted slices",
            "training_data": {"kind": "real anatomy: mricron-data Colin 27 at 1 mm, planes containing the slice normal "
                                      "in all three orientations (io/anatomy.thin_volume)",
                              "split": f"train: Colin 27 except axial {lo - ANATOMY_GUARD_MM:g}–{hi + ANATOMY_GUARD_MM:g} mm; "
                                       f"val: axial slab {lo:g}–{hi:g} mm; test: INIA19 (never used here)",
                              "thick_slices": f"slab averages of {min(cfg.factors)}–{max(cfg.factors)} thin slices",
                              "ct_phantom": {"fraction": cfg.ct_fraction, "seeds": f"train split, {cfg.ct_volumes} volumes"},
                              "crop": [cfg.crop_z, cfg.crop_w]},
            "steps": res.steps, "batch": cfg.batch, "lr": cfg.lr, "device": device,
            "validation": {"psnr": res.best["val_psnr"], "linear_psnr": res.best["val_linear_psnr"],
                           "factors": list(VAL_FACTORS), "step": res.best["step"]},
            "train_seconds": round(res.seconds, 1), "parameters": sum(p.numel() for p in net.parameters())}
    if cfg.out:
        card = save_model(net.state_dict(), card, cfg.out, force=True)
    (Path(cfg.run_dir) / "card.json").write_text(json.dumps(card, indent=2, default=str) + "\n")
    return card
