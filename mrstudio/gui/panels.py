"""Side panels: metrics table with per-frame curves and ROI statistics, x–t profiles, jobs."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ..core.profiles import display_levels, line_profile, roi_stats
from .jobs import Job, JobBridge
from .views import link_axes

COLOURS = [(230, 230, 230), (255, 140, 0), (0, 190, 255), (120, 220, 80), (230, 80, 200), (255, 220, 0), (160, 120, 255),
           (255, 90, 90), (90, 255, 200)]


class MetricsPanel(QtWidgets.QWidget):
    """PSNR / SSIM / NMSE / time / device per method, per-frame curves, ROI mean/sd and its time curve.

    Updates in place (curves get new data, cells new text), so that the live loop can refresh
    it on every result without stalling the event loop.
    """

    COLUMNS = ("method", "R (eff.)", "PSNR dB", "SSIM", "NMSE", "time s", "device", "ROI mean", "ROI sd")

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.table = QtWidgets.QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setMinimumWidth(160)
        self.reference_label = QtWidgets.QLabel("reference: —")
        self.reference_label.setWordWrap(True)
        copy = QtWidgets.QPushButton("Copy as CSV")
        copy.clicked.connect(self.copy_csv)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.reference_label, 1)
        top.addWidget(copy)
        self.curves = pg.PlotWidget(title="per-frame PSNR (dB)")
        self.legend = self.curves.addLegend(offset=(5, 5))
        self.curves.setLabel("bottom", "frame")
        self.roi_curves = pg.PlotWidget(title="ROI mean over time")
        self.roi_curves.setLabel("bottom", "frame")
        for plot in (self.curves, self.roi_curves):
            plot.setMinimumSize(120, 80)
        left = QtWidgets.QVBoxLayout()
        left.addLayout(top)
        left.addWidget(self.table, 1)
        layout = QtWidgets.QHBoxLayout(self)
        layout.addLayout(left, 5)
        layout.addWidget(self.curves, 3)
        layout.addWidget(self.roi_curves, 3)
        self.rows: list[list[str]] = []
        self._columns: tuple[str, ...] = self.COLUMNS
        self._psnr: dict[str, pg.PlotDataItem] = {}
        self._roi: dict[str, pg.PlotDataItem] = {}

    def update_metrics(self, results: dict, accel_eff: float, reference_kind: str | None,
                       stacks: dict[str, np.ndarray], roi: tuple[slice, slice] | None,
                       stale: set[str] | frozenset[str] = frozenset()) -> None:
        """One row per stack; ``results`` (name → ReconResult) give the scores, ``stale`` names are marked."""
        from ..core.masks import accel_effective

        if self._columns != self.COLUMNS:
            self.table.setColumnCount(len(self.COLUMNS))
            self.table.setHorizontalHeaderLabels(self.COLUMNS)
            self._columns, self.rows = self.COLUMNS, []

        self.reference_label.setText(f"reference: <b>{reference_kind or '—'}</b> · metrics on magnitudes, "
                                     "data range of the reference")
        rows, psnr, roi_mean = [], {}, {}
        for name, stack in stacks.items():
            res = results.get(name)
            stats = roi_stats(stack, *roi) if roi else None
            if res is not None and res.scores:
                s = res.scores
                r = accel_effective(res.mask) if res.mask is not None else accel_eff
                row = [name + (" (stale)" if name in stale else ""), f"{r:.2f}", f"{s['psnr']:.2f}",
                       f"{s['ssim']:.4f}", f"{s['nmse']:.3g}", f"{res.seconds:.2f}", res.device]
                psnr[name] = s["psnr_frames"]
            else:
                row = [name, "—", "—", "—", "—", "—", "—"]
            row += [f"{stats['mean']:.4g}", f"{stats['sd']:.4g}"] if stats else ["—", "—"]
            if stats is not None and len(stats["mean_frames"]):
                roi_mean[name] = stats["mean_frames"]
            rows.append(row)
        self._curves(self.curves, self._psnr, psnr, list(stacks), legend=True)
        self._curves(self.roi_curves, self._roi, roi_mean, list(stacks))
        self._table(rows)

    def _curves(self, plot: pg.PlotWidget, items: dict[str, pg.PlotDataItem], data: dict, order: list[str],
                legend: bool = False) -> None:
        """Give each curve its new data; add or remove curves only when the set of names changed (a result
        waiting for its scores keeps its curve)."""
        names = [n for n in order if n in data or n in items]
        if list(items) != names:
            for item in items.values():
                plot.removeItem(item)
            if legend:
                self.legend.clear()
            items.clear()
            for name in names:
                pen = pg.mkPen(COLOURS[order.index(name) % len(COLOURS)], width=2)
                items[name] = plot.plot(np.asarray(data.get(name, [])), pen=pen, name=name if legend else None)
            return
        for name, item in items.items():  # only curves whose values changed: an unchanged plot is not repainted
            if name in data:
                new = np.asarray(data[name], dtype=float)
                old = item.yData
                if old is None or len(old) != len(new) or not np.array_equal(old, new):
                    item.setData(new)

    def _table(self, rows: list[list[str]]) -> None:
        resize = len(rows) != self.table.rowCount() or [r[0] for r in rows] != [r[0] for r in self.rows]
        self.rows = rows
        self.table.setUpdatesEnabled(False)
        try:
            self.table.setRowCount(len(rows))
            for r, row in enumerate(rows):
                for c, text in enumerate(row):
                    item = self.table.item(r, c)
                    if item is None:
                        self.table.setItem(r, c, QtWidgets.QTableWidgetItem(text))
                    elif item.text() != text:
                        item.setText(text)
            if resize:
                self.table.resizeColumnsToContents()
        finally:
            self.table.setUpdatesEnabled(True)

    HOLDOUT_COLUMNS = ("hold-out", "gap", "PSNR dB", "SSIM", "RMSE", "time s", "device")

    def show_holdouts(self, holdouts: dict) -> None:
        """The hold-out scores of a volume's interpolators, one row each (the CT workspace's metrics)."""
        self.reference_label.setText("reference: <b>the held-out slices</b> · PSNR/SSIM on the HU window (CT) or the "
                                     "robust range, scaled to [0, 1]")
        self.table.setColumnCount(len(self.HOLDOUT_COLUMNS))
        self.table.setHorizontalHeaderLabels(self.HOLDOUT_COLUMNS)
        self.rows = []
        self._columns = self.HOLDOUT_COLUMNS
        self._table([[name, str(h["factor"]), f"{h['psnr']:.2f}", f"{h['ssim']:.4f}",
                      f"{h['rmse']:.1f} {h.get('rmse_units', '')}".strip(), f"{h['seconds']:.2f}", str(h.get("device", ""))]
                     for name, h in holdouts.items()])

    def csv(self) -> str:
        lines = [",".join(self._columns)] + [",".join(row) for row in self.rows]
        return "\n".join(lines) + "\n"

    def copy_csv(self) -> None:
        QtWidgets.QApplication.clipboard().setText(self.csv())


class ProfilePanel(QtWidgets.QWidget):
    """x–t profiles along the grid's line, one image per method (position along the line × frame),
    fitted to their extent, with a marker at the current frame."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("k")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self.items: dict[str, pg.ImageItem] = {}
        self.plots: dict[str, pg.PlotItem] = {}
        self.markers: dict[str, pg.InfiniteLine] = {}
        self.profiles: dict[str, np.ndarray] = {}
        self.frame = 0
        self._extent: tuple[int, int] | None = None
        self._made: dict[str, tuple] = {}  # name → (stack, line, profile): unchanged stacks are not sampled again

    def update_profiles(self, stacks: dict[str, np.ndarray], p0, p1, levels: tuple[float, float]) -> None:
        rebuilt = set(stacks) != set(self.items)
        if rebuilt:
            self.graphics.clear()
            self.items, self.plots, self.markers = {}, {}, {}
            for i, name in enumerate(stacks):
                plot = self.graphics.addPlot(row=0, col=i, title=name)
                plot.hideAxis("left")
                plot.setLabel("bottom", "frame")
                plot.invertY(True)
                img = pg.ImageItem(axisOrder="row-major")
                plot.addItem(img)
                marker = pg.InfiniteLine(self.frame + 0.5, angle=90, pen=pg.mkPen("y", width=1))
                plot.addItem(marker)
                self.plots[name], self.items[name], self.markers[name] = plot, img, marker
            link_axes(list(self.plots.values()))
        key = (tuple(np.round(p0, 3)), tuple(np.round(p1, 3)))
        cache = {n: self._made[n][2] for n, s in stacks.items()
                 if n in self._made and self._made[n][0] is s and self._made[n][1] == key}
        self.profiles = {n: cache[n] if n in cache else line_profile(s, p0, p1).T
                         for n, s in stacks.items()}  # (position, frame)
        self._made = {n: (s, key, self.profiles[n]) for n, s in stacks.items()}
        for name, prof in self.profiles.items():
            self.items[name].setImage(prof, levels=levels or display_levels(prof), autoLevels=False)
        extent = next(iter(self.profiles.values())).shape if self.profiles else None
        if extent is not None and (rebuilt or extent != self._extent):  # fit the new extent (frames × positions)
            self._extent = extent
            for plot in self.plots.values():
                plot.setRange(xRange=(0, extent[1]), yRange=(0, extent[0]), padding=0)

    def set_frame(self, t: int) -> None:
        """Move the current-frame marker to frame ``t``."""
        self.frame = int(t)
        for marker in self.markers.values():
            marker.setValue(self.frame + 0.5)


class JobsPanel(QtWidgets.QTableWidget):
    """Every background job: title, status, progress, elapsed time, a cancel button."""

    def __init__(self, bridge: JobBridge, parent: QtWidgets.QWidget | None = None):
        super().__init__(0, 5, parent)
        self.bridge = bridge
        self.setHorizontalHeaderLabels(("job", "status", "progress", "elapsed", ""))
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rows: dict[int, int] = {}
        bridge.changed.connect(self.on_job)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(500)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def on_job(self, job: Job) -> None:
        if job.id not in self.rows:
            row = self.rowCount()
            self.insertRow(row)
            self.rows[job.id] = row
            self.setItem(row, 0, QtWidgets.QTableWidgetItem(job.title))
            bar = QtWidgets.QProgressBar()
            bar.setRange(0, 1000)
            self.setCellWidget(row, 2, bar)
            btn = QtWidgets.QPushButton("Cancel")
            btn.clicked.connect(lambda _=False, jid=job.id: self.bridge.cancel(jid))
            self.setCellWidget(row, 4, btn)
        row = self.rows[job.id]
        status = job.status + (f": {job.message}" if job.message and job.status == "running" else "")
        if job.error:
            status = f"failed: {job.error.splitlines()[0]}"
        self.setItem(row, 1, QtWidgets.QTableWidgetItem(status))
        self.cellWidget(row, 2).setValue(int(job.fraction * 1000))
        self.setItem(row, 3, QtWidgets.QTableWidgetItem(f"{job.elapsed:.1f} s"))
        self.cellWidget(row, 4).setEnabled(job.active)

    def _tick(self) -> None:
        for job in self.bridge.active():
            if job.id in self.rows:
                self.setItem(self.rows[job.id], 3, QtWidgets.QTableWidgetItem(f"{job.elapsed:.1f} s"))
