"""The loop every single-process trainer shares: run folder, resume, time budget, validation, checkpoints.

A trainer builds its model, optimiser and data, then hands :func:`run_training` a
``make_step(start) -> step(i) -> loss`` factory (``start`` is the step it resumes from, for its
random generator) and a ``validate() -> {"psnr": …, …}`` function. The loop writes
``config.json``; resumes from ``last.pt`` (model, optimiser, step, best; at the configured
learning rate) unless told not to;
stops at ``steps`` or when ``time_budget_s`` of wall time is spent; validates every
``val_every`` steps and at the end (so a run always ends on a validated, checkpointed step),
keeping ``best.pt`` by validation PSNR and ``last.pt`` (atomically); logs every step to
``log.json`` (validation metrics as ``val_*``); and leaves the best weights in the model.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..core.jobs import CancelToken, Progress, check, report
from .run import RunOptions, total_seconds


@dataclass
class LoopResult:
    rows: list[dict[str, Any]]
    best: dict[str, Any]  # the validated row with the best PSNR
    steps: int
    seconds: float  # training time over all (resumed) parts


def run_training(cfg: RunOptions, model, opt, make_step: Callable[[int], Callable[[int], float]],
                 validate: Callable[[], dict[str, float]], steps: int, progress: Progress | None = None,
                 cancel: CancelToken | None = None) -> LoopResult:
    """Train ``model`` with ``opt`` for up to ``steps`` steps under ``cfg``'s run options (see the module)."""
    import torch

    run = Path(cfg.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    (run / "config.json").write_text(json.dumps(asdict(cfg), indent=2, default=str) + "\n")
    start, best, rows = 0, -math.inf, []
    last = run / "last.pt"
    if cfg.resume and last.exists():
        ck = torch.load(last, map_location="cpu", weights_only=True)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        if getattr(cfg, "lr", None):  # the learning rate asked for now, not the one saved (a resume may lower it)
            for group in opt.param_groups:
                group["lr"] = cfg.lr
        start, best = int(ck["step"]), float(ck["best"])
        if (run / "log.json").exists():
            rows = [r for r in json.loads((run / "log.json").read_text()) if r["step"] <= start]
    step_fn = make_step(start)
    t0 = time.perf_counter()

    def checkpoint(step: int, row: dict[str, Any]) -> None:
        nonlocal best
        v = validate()
        row.update({f"val_{k}": float(x) for k, x in v.items()})
        if v["psnr"] > best:
            best = v["psnr"]
            torch.save(model.state_dict(), run / "best.pt")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "best": best}, run / "last.tmp")
        os.replace(run / "last.tmp", last)

    for step in range(start, steps):
        check(cancel)
        if cfg.time_budget_s is not None and time.perf_counter() - t0 > cfg.time_budget_s:
            break
        loss = step_fn(step)
        done = step + 1
        row = {"step": done, "loss": float(loss), "seconds": round(time.perf_counter() - t0, 2)}
        if done % cfg.val_every == 0:
            checkpoint(done, row)
        rows.append(row)
        if done % cfg.val_every == 0:
            (run / "log.json").write_text(json.dumps(rows) + "\n")
        report(progress, done / steps, f"step {done} loss {row['loss']:.4g}")
    steps_done = rows[-1]["step"] if rows else start
    if not rows or rows[-1].get("val_psnr") is None:  # end on a validated, checkpointed step
        row = {"step": steps_done, "loss": rows[-1]["loss"] if rows else None, "seconds": round(time.perf_counter() - t0, 2)}
        checkpoint(steps_done, row)
        rows.append(row)
    (run / "log.json").write_text(json.dumps(rows) + "\n")
    model.load_state_dict(torch.load(run / "best.pt", map_location="cpu", weights_only=True))
    best_row = next(r for r in reversed(rows) if r.get("val_psnr") == best)
    return LoopResult(rows, best_row, steps_done, total_seconds(rows))
