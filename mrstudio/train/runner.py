"""The one training loop: run folder, resume, time budget, validation, checkpoints, logs, DDP.

Every trainer (cine U-Net, HRINet, unrolled, through-plane) builds its model, optimiser and
data, then hands :func:`run_training` a ``make_step(start) -> step(i) -> loss or row`` factory
(``start`` is the step it resumes from, for its random generator) and a
``validate() -> {"psnr": …, …}`` function. The loop

- writes ``config.json``; resumes from ``last.pt`` (model, optimiser, the trainer's other
  ``parts`` such as a scheduler or critics, its ``extra_state``; step; best) unless told not to;
- with a time budget, plans the step count that fits it: first after 10 steps (with a 20 %
  margin), then again at every validation from the mean time per step so far (validation
  included), so a slow start does not end a run early; a trainer whose schedule depends on the
  step count (cosine learning rate, HRINet's Stage I/II boundary) is told through ``on_plan``;
- validates every ``val_every`` steps and at the end, so a run always ends on a validated,
  checkpointed step; keeps ``best.pt`` by validation PSNR and ``last.pt`` (atomically); a trainer
  that validates an average of the weights rather than the weights themselves names it ``kept``;
- logs every step to ``log.json`` and ``log.csv`` (validation metrics as ``val_*``) and draws
  ``curves.png``; leaves the best weights in the model.

Under ``torchrun`` (:func:`init_distributed`), rank 0 validates, logs and writes; the plan is
rank 0's, broadcast, so every rank stops and validates at the same steps; at the end the
replicas are compared (``LoopResult.replica_max_diff``, 0 when DDP kept them identical).
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.jobs import CancelToken, Progress, check, report
from .run import RunOptions, total_seconds

PLAN_AFTER = 10  # steps timed before the first plan of a time-budgeted run


@dataclass
class Dist:
    """Where this process stands in a (possibly single-process) training run."""

    device: str
    rank: int = 0
    world: int = 1
    local: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def ddp(self) -> bool:
        return self.world > 1

    def wrap(self, module):
        """``module`` in DistributedDataParallel under DDP, else itself."""
        if not self.ddp:
            return module
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(module, device_ids=[self.local] if self.device.startswith("cuda") else None)

    def barrier(self) -> None:
        if self.ddp:
            import torch.distributed as dist

            dist.barrier()

    def broadcast(self, values: list[int]) -> list[int]:
        """Rank 0's ``values`` on every rank."""
        if not self.ddp:
            return values
        import torch
        import torch.distributed as dist

        t = torch.tensor(values, device=self.device if self.device.startswith("cuda") else "cpu")
        dist.broadcast(t, 0)
        return [int(v) for v in t.tolist()]

    def close(self) -> None:
        if self.ddp:
            import torch.distributed as dist

            dist.barrier()
            dist.destroy_process_group()


def init_distributed(device: str) -> Dist:
    """This process's rank from torchrun's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``); joins
    the process group (NCCL on GPUs, gloo on CPU) and takes the local GPU when there are several ranks."""
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if world > 1:
        import torch
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
        if device.startswith("cuda"):
            device = f"cuda:{local}"
            torch.cuda.set_device(local)
    return Dist(device=device, rank=rank, world=world, local=local)


@dataclass
class LoopResult:
    rows: list[dict[str, Any]]  # rank 0's log (empty on other ranks)
    best: dict[str, Any] | None  # the validated row with the best PSNR (rank 0)
    steps: int
    seconds: float  # training time over all (resumed) parts
    replica_max_diff: float | None = None  # DDP: largest weight difference between replicas at the end


def plot_curves(rows: list[dict[str, Any]], path: Path) -> None:
    """Training loss (left, log scale) and validation PSNR (right) against step, as a PNG."""
    from PIL import Image, ImageDraw

    w, h, m = 900, 360, 50
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    panels = [("train loss (log10)", [(r["step"], math.log10(max(r["loss"], 1e-12))) for r in rows
                                      if r.get("loss") is not None], (30, 90, 200)),
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


def write_logs(rows: list[dict[str, Any]], run: Path, curves: bool = True) -> None:
    """``log.json``, ``log.csv`` and (``curves``) ``curves.png`` of a run's rows."""
    (run / "log.json").write_text(json.dumps(rows) + "\n")
    keys = sorted({k for r in rows for k in r}, key=lambda k: (k != "step", k))
    with open(run / "log.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    if curves:
        plot_curves(rows, run / "curves.png")


def _plan(cfg: RunOptions, max_steps: int, start: int, done: int, elapsed: float) -> int:
    """The step count that fits ``cfg.time_budget_s`` at the mean time per step so far."""
    per = elapsed / (done - start) * (1.2 if done == start + PLAN_AFTER else 1.0)
    return max(done + 1, min(max_steps, done + int((cfg.time_budget_s - elapsed) / per)))


def _write_config(cfg: RunOptions, run: Path) -> None:
    (run / "config.json").write_text(json.dumps(asdict(cfg), indent=2, default=str) + "\n")


def _replica_diff(model) -> float:
    """Largest difference of any weight between the DDP replicas (0 when they are identical)."""
    import torch
    import torch.distributed as dist

    vec = torch.cat([p.detach().float().flatten() for p in model.parameters()])
    hi, lo = vec.clone(), vec.clone()
    dist.all_reduce(hi, op=dist.ReduceOp.MAX)
    dist.all_reduce(lo, op=dist.ReduceOp.MIN)
    return float((hi - lo).abs().max())


def run_training(cfg: RunOptions, model, opt, make_step: Callable[[int], Callable[[int], float | dict[str, Any]]],
                 validate: Callable[[], dict[str, float]], steps: int, progress: Progress | None = None,
                 cancel: CancelToken | None = None, *, parts: dict[str, Any] | None = None,
                 extra_state: Callable[[], dict[str, int | float]] | None = None,
                 on_resume: Callable[[dict[str, Any], list[dict[str, Any]]], None] | None = None,
                 on_plan: Callable[[int, int], None] | None = None, dist: Dist | None = None,
                 curves: bool = True, kept: Any | None = None) -> LoopResult:
    """Train ``model`` with ``opt`` for up to ``steps`` steps under ``cfg``'s run options (see the module).

    ``parts``: further objects with ``state_dict``/``load_state_dict`` resumed with the model
    (``{"sched": …, "d1": …}``); ``extra_state()``: plain numbers saved in ``last.pt``, handed back
    with the logged rows to ``on_resume(checkpoint, rows)``; ``on_plan(steps, done)``: told the step
    count a time budget allows (``cfg.steps`` and ``cfg.val_every`` are updated too). A step may
    return its loss or a row (``{"loss": …, …}``) to log. ``kept``: a module of ``model``'s shapes whose
    weights ``best.pt`` keeps and the model ends with — an average of the weights, which the trainer's
    ``validate`` scores and ``parts`` resumes; default ``model`` itself.
    """
    import torch

    d = dist or Dist(device="cpu")  # one process: the device matters only to DDP's collectives
    parts = parts or {}
    run = Path(cfg.run_dir)
    if d.main:
        run.mkdir(parents=True, exist_ok=True)
        _write_config(cfg, run)
    start, best, rows = 0, -math.inf, []
    last = run / "last.pt"
    if cfg.resume and last.exists():
        ck = torch.load(last, map_location="cpu", weights_only=True)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        for key, part in parts.items():
            part.load_state_dict(ck[key])
        if getattr(cfg, "lr", None) and "sched" not in parts:  # the rate asked for now, not the one saved
            for group in opt.param_groups:
                group["lr"] = cfg.lr
        start, best = int(ck["step"]), float(ck["best"])
        if (run / "log.json").exists():
            rows = [r for r in json.loads((run / "log.json").read_text()) if r["step"] <= start]
        if on_resume is not None:
            on_resume(ck, rows)
        if not d.main:
            rows = []
    step_fn = make_step(start)
    max_steps = steps
    plan_at = start + PLAN_AFTER if cfg.time_budget_s else None
    t0 = time.perf_counter()

    def checkpoint(step: int, row: dict[str, Any], sync: bool = True) -> None:
        nonlocal best
        if d.main:
            v = validate()
            row.update({f"val_{k}": float(x) for k, x in v.items()})
            if v["psnr"] > best:
                best = v["psnr"]
                torch.save((model if kept is None else kept).state_dict(), run / "best.pt")
            state = {"model": model.state_dict(), "opt": opt.state_dict(),
                     **{k: p.state_dict() for k, p in parts.items()}, "step": step, "best": best,
                     **(extra_state() if extra_state else {})}
            torch.save(state, run / "last.tmp")
            os.replace(run / "last.tmp", last)
            write_logs(rows + [row], run, curves)
        if sync:
            d.barrier()

    done = start
    for step in range(start, max_steps):
        if step >= steps:  # lowered by the time budget
            break
        check(cancel)
        if not d.ddp and cfg.time_budget_s is not None and time.perf_counter() - t0 > cfg.time_budget_s:
            if hasattr(cfg, "steps"):  # a hard stop (one process only: under DDP the broadcast plan decides,
                cfg.steps = done  # or the ranks would hang); the run's step count is what it ran
                _write_config(cfg, run)
            break
        out = step_fn(step)
        done = step + 1
        row = {"step": done, **(out if isinstance(out, dict) else {"loss": float(out)})}
        if plan_at is not None and (done == plan_at or (done > plan_at and done % cfg.val_every == 0)):
            steps = _plan(cfg, max_steps, start, done, time.perf_counter() - t0)
            val_every = max(1, min(cfg.val_every, steps // 5)) if done == plan_at else cfg.val_every
            steps, cfg.val_every = d.broadcast([steps, val_every])  # rank 0's clock decides
            if hasattr(cfg, "steps"):
                cfg.steps = steps
            if on_plan is not None:
                on_plan(steps, done)
            if d.main:
                _write_config(cfg, run)
        row["seconds"] = round(time.perf_counter() - t0, 2)
        if done % cfg.val_every == 0 or done == steps:
            checkpoint(done, row)
        if d.main:
            rows.append(row)
        loss = row.get("loss")
        report(progress, done / steps, f"step {done}/{steps}" + (f" loss {loss:.4g}" if loss is not None else "")
               + (f" val {row['val_psnr']:.2f} dB" if "val_psnr" in row else ""))
    if d.main and (not rows or rows[-1].get("val_psnr") is None):  # end on a validated, checkpointed step
        row = rows.pop() if rows and rows[-1]["step"] == done else {"step": done}
        checkpoint(done, row, sync=False)  # rank 0 alone (a loop that ran under DDP ended validated)
        rows.append(row)
    replica = _replica_diff(model) if d.ddp else None
    best_row = None
    if d.main:  # the logs were written by the last checkpoint, which every run ends on
        model.load_state_dict(torch.load(run / "best.pt", map_location="cpu", weights_only=True))
        best_row = next(r for r in reversed(rows) if r.get("val_psnr") == best)
    return LoopResult(rows, best_row, done, total_seconds(rows), replica)
