"""Slice interpolation in the window: binds a :class:`~mrstudio.workspace.volume.VolumeWorkspace` to the
grid, the reformat view and the interpolation panel, and runs interpolations and hold-outs as jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..core.profiles import display_levels
from ..core.study import VolumeStudy
from ..workspace.volume import VolumeWorkspace
from .jobs import Job

if TYPE_CHECKING:
    from .main_window import MainWindow


def volume_levels(study: VolumeStudy) -> tuple[float, float]:
    """Display window of a volume: CT −1000…400 HU, any other modality its 0.5–99.5th percentiles."""
    return (-1000.0, 400.0) if study.is_ct else display_levels(study.volume)


class VolumeController:
    """``ws`` is the current workspace (``None`` while a cine is shown)."""

    def __init__(self, win: MainWindow):
        self.win = win
        self.ws: VolumeWorkspace | None = None

    def show(self, study: VolumeStudy) -> None:
        win = self.win
        self.ws = VolumeWorkspace(study, device=win.device)
        title = "CT volume (HU)" if study.is_ct else f"{study.modality} volume"
        win.show_stacks({title: study.volume.astype(np.float32)}, title)
        win.playback.set_window(*volume_levels(study), silent=False)
        win.playback.frame_slider.setValue(study.shape[0] // 2)
        win.reformat.show_volumes({"original": study.volume}, {"original": study.spacing[0]}, study.spacing[2],
                                  levels=volume_levels(study))
        warn = "; ".join(study.meta.get("warnings", []))
        msg = f"{study.name}: {study.shape[0]} slices, {study.spacing[0]:.3g} mm"
        (win.notify(f"{study.modality} volume", f"{msg} — {warn}") if warn else win.inform(msg))
        if win.autorun:  # the default: the first learned interpolator (else cubic), ×3
            panel = win.ct_panel
            labels = [m[0] for m in panel.methods]
            panel.method.setCurrentIndex(next((i for i, lab in enumerate(labels) if lab.startswith("HRINet")),
                                              labels.index("cubic")))
            method, model = panel.selected()
            self.run(method, model, panel.factor.value(), False)
            win.tabs.setCurrentWidget(win.reformat)

    def run(self, method: str, model: str | None, factor: int, holdout: bool) -> Job | None:
        """Interpolate the volume (or hold out slices and score) in the background."""
        ws = self.ws
        if ws is None:
            return None
        work = ws.compute_holdout if holdout else ws.compute_interpolation
        label = model or method
        return self.win.bridge.submit(ws.label(method, model, factor, holdout), work, method, model, factor,
                                      on_done=lambda r: self._done(ws, r, label, factor, holdout))

    def _done(self, ws: VolumeWorkspace, r, label: str, factor: int, holdout: bool) -> None:
        if ws is not self.ws:
            return
        win, study = self.win, ws.study
        if holdout:
            ws.apply_holdout(r)
            truth = r["truth"].reshape(-1, *r["truth"].shape[2:])
            pred = r["pred"].reshape(-1, *r["pred"].shape[2:])
            win.show_stacks({"held-out truth": truth, label: pred}, "held-out truth")
            win.metrics.show_holdouts(ws.holdouts)
            scale = "HU −1000…1000" if r["intensity"]["kind"] == "hu-window" else "robust range"
            text = (f"{label}, hold-out gap {factor}: PSNR {r['psnr']:.2f} dB, SSIM {r['ssim']:.3f} "
                    f"({scale} → [0, 1]), RMSE {r['rmse']:.1f} {r['rmse_units']}, {r['seconds']:.2f} s")
        else:
            ws.apply_interpolation(r)
            new = r.study.volume
            nearest = study.volume[np.minimum(np.round(np.arange(len(new)) / factor).astype(int), study.shape[0] - 1)]
            same = {name: res for name, res in ws.interpolations.items() if res.factor == factor}  # side by side
            win.show_stacks({"original (nearest)": nearest, **{name: res.study.volume for name, res in same.items()}},
                            None)
            win.playback.frame_slider.setValue(len(new) // 2 + 1)  # an inserted slice
            win.reformat.show_volumes({"original": study.volume, **{n: res.study.volume for n, res in same.items()}},
                                      {"original": study.spacing[0], **{n: res.study.spacing[0] for n, res in same.items()}},
                                      study.spacing[2], levels=volume_levels(study))
            text = (f"{label} ×{factor}: {study.shape[0]} → {new.shape[0]} slices, {r.study.spacing[0]:.3g} mm, "
                    f"{r.seconds:.2f} s on {r.device}")
        win.playback.set_window(*volume_levels(study), silent=False)
        win.ct_panel.result.setText(text)
        win.inform(text)
