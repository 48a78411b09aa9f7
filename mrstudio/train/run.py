"""What every training run shares: where it reads and writes, how it resumes, its seed and budget."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RunOptions:
    """Base of :class:`~mrstudio.train.loop.TrainConfig` and :class:`~mrstudio.train.ct.CTTrainConfig`."""

    val_every: int = 200
    seed: int = 0
    data: str = "phantom"  # 'phantom' or a file/folder of studies
    run_dir: str = "runs/run"
    out: str | None = None  # final weights models/NAME.pt (+ NAME.json)
    init: str | None = None  # start from these weights
    resume: bool = True
    device: str = "auto"
    time_budget_s: float | None = None  # if set, ``steps`` is lowered to what fits the measured time per step

    def check_out(self) -> None:
        """Refuse an ``out`` whose folder does not exist before training, not after it (StudyError)."""
        if self.out:
            from ..io.atomic import check_target

            check_target(self.out, force=True)  # a training run replaces its own output, as documented


def cumulative_seconds(rows: list[dict]) -> list[float]:
    """Training time up to each row of a run's log, over all its (resumed) parts: each part's
    ``seconds`` restart from 0."""
    out, done, prev = [], 0.0, 0.0
    for r in rows:
        if r["seconds"] < prev:  # a resumed part began: bank the previous part
            done += prev
        prev = r["seconds"]
        out.append(done + prev)
    return out


def total_seconds(rows: list[dict]) -> float:
    """Training time over all the (resumed) parts of a run's log."""
    return cumulative_seconds(rows)[-1] if rows else 0.0
