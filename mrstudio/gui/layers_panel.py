"""The Layers dock: the comparison's result panels as a list (napari's layer list).

Tick to show or hide a panel, drag (or ▲ ▼) to reorder, Delete (or Remove) to take one out;
"Add all losses at this R" adds one U-Net per trained loss; selecting two layers and
"Difference" shows their signed difference as an extra panel. Each row says whether its
result is fresh, updating (live), stale (Apply re-runs it) or still to come. The widget
only emits what the user asked for; the workspace holds the list.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

STATUS_TEXT = {"fresh": "", "updating": "updating…", "stale": "stale", "missing": "computing…"}


class LayersPanel(QtWidgets.QWidget):
    """Emits ``visibility_changed(title, visible)``, ``move_requested(title, index)``, ``remove_requested(title)``,
    ``add_losses_requested()`` and ``difference_requested(a, b)`` (``""`` for none)."""

    visibility_changed = QtCore.Signal(str, bool)
    move_requested = QtCore.Signal(str, int)
    remove_requested = QtCore.Signal(str)
    add_losses_requested = QtCore.Signal()
    difference_requested = QtCore.Signal(str, str)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.list = QtWidgets.QListWidget()
        self.list.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setDragDropMode(QtWidgets.QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(QtCore.Qt.DropAction.MoveAction)
        self.list.setToolTip("tick: show · drag: reorder · Delete: remove · select two: Difference")
        self.list.model().rowsMoved.connect(self._rows_moved)
        self.list.itemChanged.connect(self._item_changed)
        self.up = QtWidgets.QToolButton()
        self.up.setArrowType(QtCore.Qt.ArrowType.UpArrow)
        self.up.setToolTip("move the selected layer up (earlier in the grid)")
        self.down = QtWidgets.QToolButton()
        self.down.setArrowType(QtCore.Qt.ArrowType.DownArrow)
        self.down.setToolTip("move the selected layer down")
        self.remove = QtWidgets.QPushButton("Remove")
        self.remove.setToolTip("take the selected layers out of the comparison (Delete); their results stay cached")
        self.losses = QtWidgets.QPushButton("Add all losses at this R")
        self.losses.setToolTip("one U-Net per trained loss, each the model trained nearest the mask's R")
        self.diff = QtWidgets.QPushButton("Difference")
        self.diff.setToolTip("show |first| − |second| of the two selected layers as an extra panel (again: off)")
        self.up.clicked.connect(lambda: self._step(-1))
        self.down.clicked.connect(lambda: self._step(1))
        self.remove.clicked.connect(self._remove_selected)
        self.losses.clicked.connect(self.add_losses_requested)
        self.diff.clicked.connect(self._difference)
        QtGui.QShortcut(QtGui.QKeySequence(QtGui.QKeySequence.StandardKey.Delete), self.list,
                        context=QtCore.Qt.ShortcutContext.WidgetShortcut).activated.connect(self._remove_selected)
        row = QtWidgets.QHBoxLayout()
        for w in (self.up, self.down, self.remove, self.diff):
            row.addWidget(w)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        layout.addWidget(self.losses)
        self._updating = False

    def titles(self) -> list[str]:
        return [self.list.item(i).data(QtCore.Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def set_layers(self, layers: list[tuple[str, bool, str, tuple[str, bool]]]) -> None:
        """``(title, visible, status, (model note, R mismatch))`` per layer, in display order."""
        selected = {i.data(QtCore.Qt.ItemDataRole.UserRole) for i in self.list.selectedItems()}
        self._updating = True
        try:
            if self.titles() != [t for t, *_ in layers]:
                self.list.clear()
                for title, *_ in layers:
                    item = QtWidgets.QListWidgetItem(title)
                    item.setData(QtCore.Qt.ItemDataRole.UserRole, title)
                    item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable
                                  | QtCore.Qt.ItemFlag.ItemIsDragEnabled)
                    self.list.addItem(item)
            for i, (title, visible, status, (note, mismatch)) in enumerate(layers):
                item = self.list.item(i)
                extra = [s for s in (STATUS_TEXT.get(status, status), "⚠ R" if mismatch else "") if s]
                item.setText(title + (f"  [{', '.join(extra)}]" if extra else ""))
                item.setToolTip(note or title)
                item.setCheckState(QtCore.Qt.CheckState.Checked if visible else QtCore.Qt.CheckState.Unchecked)
                item.setForeground(QtGui.QColor("#d60") if status == "stale" else self.palette().text().color())
                item.setSelected(title in selected)
        finally:
            self._updating = False

    # -- user actions -------------------------------------------------------------------------------
    def _item_changed(self, item: QtWidgets.QListWidgetItem) -> None:
        if not self._updating:
            self.visibility_changed.emit(item.data(QtCore.Qt.ItemDataRole.UserRole),
                                         item.checkState() == QtCore.Qt.CheckState.Checked)

    def _rows_moved(self, *_args) -> None:
        if self._updating:
            return
        for i, title in enumerate(self.titles()):  # the dropped order becomes the layers' order
            self.move_requested.emit(title, i)

    def _selected(self) -> list[str]:
        rows = sorted(self.list.row(i) for i in self.list.selectedItems())
        return [self.list.item(r).data(QtCore.Qt.ItemDataRole.UserRole) for r in rows]

    def _step(self, delta: int) -> None:
        sel = self._selected()
        if len(sel) == 1:
            self.move_requested.emit(sel[0], max(0, self.titles().index(sel[0]) + delta))

    def _remove_selected(self) -> None:
        for title in self._selected():
            self.remove_requested.emit(title)

    def _difference(self) -> None:
        sel = self._selected()
        if len(sel) == 2:
            self.difference_requested.emit(sel[0], sel[1])
        else:
            self.difference_requested.emit("", "")
