"""The series browser: the series of a DICOM folder as a table to choose from (Slicer's DICOM browser).

One row per openable stack of :func:`mrstudio.io.dicom_read.list_series`: series number,
description (and the stack's label when a series was split), modality, kind (cine or
volume), orientation, size, files; what the reader noticed is the row's tooltip. Sorting by
any column; a double-click or Open opens the series.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

COLUMNS = ("#", "description", "modality", "kind", "orientation", "size", "files")


def series_row(s: dict) -> list[str]:
    """The table cells of one series summary."""
    number = "" if s.get("number") is None else str(s["number"])
    description = (s.get("description") or "(no description)") + (f" [{s['label']}]" if s.get("label") else "")
    shape = " × ".join(map(str, s.get("shape", [])))
    return [number, description, str(s.get("modality") or "?"), str(s.get("kind") or "?"), str(s.get("plane") or "?"),
            shape, str(s.get("files", ""))]


class _Item(QtWidgets.QTableWidgetItem):
    """Numbers sort as numbers."""

    def __lt__(self, other) -> bool:
        a, b = self.data(QtCore.Qt.ItemDataRole.UserRole), other.data(QtCore.Qt.ItemDataRole.UserRole)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return a < b
        return super().__lt__(other)


class SeriesBrowser(QtWidgets.QDialog):
    """Choose one of ``series`` (summaries); ``chosen`` is its ``index`` after ``exec()`` returns Accepted."""

    def __init__(self, series: list[dict], folder: str = "", parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Series in {folder}" if folder else "Choose a series")
        self.series = series
        self.chosen: int | str | None = None
        self.table = QtWidgets.QTableWidget(len(series), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        for r, s in enumerate(series):
            for c, text in enumerate(series_row(s)):
                item = _Item(text)
                item.setData(QtCore.Qt.ItemDataRole.UserRole,
                             s.get("number") if c == 0 else s.get("files") if c == 6 else text)
                if c == 0:
                    item.setData(QtCore.Qt.ItemDataRole.UserRole + 1, s["index"])
                notes = s.get("notes") or []
                item.setToolTip("\n".join(notes) if notes else s.get("uid", ""))
                self.table.setItem(r, c, item)
        self.table.setSortingEnabled(True)
        self.table.sortItems(0, QtCore.Qt.SortOrder.AscendingOrder)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.selectRow(0)
        self.table.doubleClicked.connect(lambda _index: self.accept())
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Open
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel(f"{len(series)} series; choose one to open (double-click or Open)."))
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(860, 360)

    def selected_index(self) -> int | str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.table.item(rows[0].row(), 0).data(QtCore.Qt.ItemDataRole.UserRole + 1)

    def select_index(self, index: int | str) -> None:
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(QtCore.Qt.ItemDataRole.UserRole + 1) == index:
                self.table.selectRow(r)
                return

    def accept(self) -> None:
        self.chosen = self.selected_index()
        super().accept()
