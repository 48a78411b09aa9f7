"""File → Open from PACS… and Export → Send to PACS…: two dialogs over :mod:`mrstudio.pacs`.

*Open from PACS* searches a node (a preset from ``pacs.json``, ``AET@HOST:PORT`` or a
DICOMweb root) by patient, study date range, modality and series description, lists the
series, and retrieves the chosen one into the cache through the window's job bridge
(progress, cancel), then opens it as :class:`~mrstudio.gui.study_opener.StudyOpener` opens
a folder. *Send to PACS* writes the current result with the shared export code into a
temporary folder and sends it (:meth:`~mrstudio.gui.exports.Exports.send_to_pacs`). The
networking is Qt-free; these dialogs only ask and show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from ..core.errors import StudyError
from .jobs import Job

if TYPE_CHECKING:
    from ..pacs import Node
    from .main_window import MainWindow

COLUMNS = (("patient_name", "Patient"), ("patient_id", "Patient ID"), ("study_date", "Study date"),
           ("modality", "Modality"), ("series_number", "#"), ("series_description", "Series"),
           ("instances", "Images"), ("series_uid", "Series UID"))


def _search_job(node: Node, query, progress=None, cancel=None) -> list[dict]:
    from ..pacs import client

    if progress:
        progress(0.1, f"searching {node.label}")
    return client.find(node, query, "series", cancel=cancel)


def _retrieve_job(node: Node, series_uid: str, progress=None, cancel=None):
    from ..pacs import client

    return client.retrieve(node, series_uid, progress=progress, cancel=cancel)


class NodeChooser(QtWidgets.QComboBox):
    """The presets of ``pacs.json`` by name; any ``AET@HOST:PORT`` or ``http(s)://`` root may be typed."""

    def __init__(self, settings: QtCore.QSettings, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.setEditable(True)
        self.setMinimumWidth(260)
        self.presets: dict = {}
        try:
            from ..pacs import load_presets

            self.presets = load_presets()
        except StudyError:
            pass  # a malformed file: node() names the problem when it is used
        self.addItems(sorted(self.presets))
        last = str(self.settings.value("pacs/node", ""))
        if last:
            self.setCurrentText(last)

    def node(self) -> Node:
        """The chosen node (a :class:`StudyError` when the text names none); remembered for next time."""
        from ..pacs import parse_node

        node = parse_node(self.currentText(), presets=self.presets or None)
        self.settings.setValue("pacs/node", self.currentText())
        return node


class _JobDialog(QtWidgets.QDialog):
    """A dialog that follows one job of the window's bridge at a time, with a progress bar and a status line."""

    def __init__(self, win: MainWindow, title: str):
        super().__init__(win)
        self.win = win
        self.setWindowTitle(title)
        self.job: Job | None = None
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 100)
        self.status = QtWidgets.QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        win.bridge.changed.connect(self._job_changed)
        self.finished.connect(lambda _r: self._disconnect())

    def lay_out(self, form: QtWidgets.QLayout, action: QtWidgets.QPushButton, *middle: QtWidgets.QWidget) -> None:
        """Stack ``form``, the ``middle`` widgets, the status line and a row of progress, Cancel,
        ``action`` and Close."""
        close = QtWidgets.QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        for b in (self.cancel_button, action, close):
            buttons.addWidget(b)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        for w in middle:
            layout.addWidget(w, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

    def _disconnect(self) -> None:
        try:
            self.win.bridge.changed.disconnect(self._job_changed)
        except (RuntimeError, TypeError):
            pass

    def follow(self, job: Job) -> Job:
        self.job = job
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        return job

    def cancel(self) -> None:
        if self.job is not None:
            self.win.bridge.cancel(self.job.id)

    def say(self, text: str) -> None:
        self.status.setText(text)

    def _job_changed(self, job: Job) -> None:
        if self.job is None or job.id != self.job.id:
            return
        self.progress.setValue(int(round(100 * job.fraction)))
        if job.active and job.message:
            self.say(job.message)
        if not job.active:
            self.cancel_button.setEnabled(False)
            if job.status == "failed":
                self.say((job.error or "failed").splitlines()[0])
            elif job.status == "cancelled":
                self.say("cancelled")


class PacsOpenDialog(_JobDialog):
    """Search a node, list its series, retrieve one into the cache and open it in the window."""

    def __init__(self, win: MainWindow):
        super().__init__(win, "Open from PACS")
        self.resize(980, 520)
        self.node_box = NodeChooser(win.settings)
        self.patient, self.patient_id = QtWidgets.QLineEdit(), QtWidgets.QLineEdit()
        self.patient.setPlaceholderText("name, wildcards * ?  (e.g. DOE^*)")
        self.date_from, self.date_to = QtWidgets.QLineEdit(), QtWidgets.QLineEdit()
        for w in (self.date_from, self.date_to):
            w.setPlaceholderText("YYYYMMDD")
            w.setMaximumWidth(110)
        self.modality = QtWidgets.QComboBox()
        self.modality.setEditable(True)
        self.modality.addItems(["", "MR", "CT"])
        self.description = QtWidgets.QLineEdit()
        self.description.setPlaceholderText("contains")
        search = QtWidgets.QPushButton("Search")
        search.setDefault(True)
        search.clicked.connect(self.search)
        form = QtWidgets.QGridLayout()
        dates = QtWidgets.QHBoxLayout()
        dates.addWidget(self.date_from)
        dates.addWidget(QtWidgets.QLabel("to"))
        dates.addWidget(self.date_to)
        dates.addStretch(1)
        for i, (label, widget) in enumerate((("Node", self.node_box), ("Patient", self.patient),
                                             ("Patient ID", self.patient_id), ("Modality", self.modality))):
            form.addWidget(QtWidgets.QLabel(label), i % 2, 2 * (i // 2))
            form.addWidget(widget, i % 2, 2 * (i // 2) + 1)
        form.addWidget(QtWidgets.QLabel("Study date"), 2, 0)
        form.addLayout(dates, 2, 1)
        form.addWidget(QtWidgets.QLabel("Series description"), 2, 2)
        form.addWidget(self.description, 2, 3)
        form.addWidget(search, 2, 4)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([c[1] for c in COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _i: self.retrieve())
        self.retrieve_button = QtWidgets.QPushButton("Retrieve and open")
        self.retrieve_button.clicked.connect(self.retrieve)
        self.lay_out(form, self.retrieve_button, self.table)
        self.rows: list[dict] = []
        self._node: Node | None = None

    def query(self):
        from ..pacs import Query

        a, b = self.date_from.text().strip(), self.date_to.text().strip()
        return Query(patient_name=self.patient.text(), patient_id=self.patient_id.text(),
                     study_date=f"{a}-{b}" if a or b else None,
                     modality=self.modality.currentText(), description=self.description.text())

    def search(self) -> Job | None:
        """Search in the background; the table shows the series found."""
        try:
            node, query = self.node_box.node(), self.query()
        except StudyError as exc:
            self.say(str(exc))
            return None
        self._node = node
        self.say(f"searching {node.label}…")
        return self.follow(self.win.bridge.submit(f"PACS search {node.label}", _search_job, node, query,
                                                  on_done=self.show_rows))

    def show_rows(self, rows: list[dict]) -> None:
        self.rows = rows
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, (key, _title) in enumerate(COLUMNS):
                value = row.get(key)
                self.table.setItem(r, c, QtWidgets.QTableWidgetItem("" if value is None else str(value)))
        self.table.resizeColumnsToContents()
        if rows:
            self.table.selectRow(0)
        self.say(f"{len(rows)} series" if rows else "nothing matches")

    def retrieve(self) -> Job | None:
        """Retrieve the selected series into the cache (progress, cancel); on success it opens in the window."""
        selected = self.table.selectionModel().selectedRows()
        if not selected or self._node is None:
            self.say("search, then choose a series")
            return None
        row = self.rows[selected[0].row()]
        uid = row["series_uid"]
        self.say(f"retrieving {row.get('series_description') or uid}…")
        return self.follow(self.win.bridge.submit(f"retrieve {uid[-12:]}", _retrieve_job, self._node, uid,
                                                  on_done=self._retrieved))

    def _retrieved(self, folder) -> None:
        self.say(f"retrieved into {folder}")
        self.win.opener.open_path(str(folder))
        self.accept()


class SendDialog(_JobDialog):
    """Send the current result (a reconstruction, or the latest interpolated volume) to a node as DICOM."""

    def __init__(self, win: MainWindow):
        super().__init__(win, "Send to PACS")
        self.node_box = NodeChooser(win.settings)
        self.result = QtWidgets.QComboBox()
        ws = win.session
        if win.volume is not None:
            latest = win.volume.latest
            self.result.addItems([latest] if latest else [])
        elif ws is not None:
            self.result.addItems(list(ws.results))
            self.result.setCurrentIndex(self.result.count() - 1)
        self.anonymize = QtWidgets.QCheckBox("Anonymise (replace patient and study identifiers)")
        self.send_button = QtWidgets.QPushButton("Send")
        self.send_button.setEnabled(self.result.count() > 0)
        self.send_button.clicked.connect(self.send)
        form = QtWidgets.QFormLayout()
        form.addRow("Node", self.node_box)
        form.addRow("Result", self.result)
        form.addRow("", self.anonymize)
        self.lay_out(form, self.send_button)
        if self.result.count() == 0:
            self.say("Nothing to send yet: run a reconstruction or an interpolation first.")
        self.sent: dict | None = None

    def send(self) -> Job | None:
        try:
            node = self.node_box.node()
        except StudyError as exc:
            self.say(str(exc))
            return None
        job = self.win.exports.send_to_pacs(node, self.result.currentText(), self.anonymize.isChecked(),
                                            on_done=self._sent, on_error=self.say)
        return self.follow(job) if job is not None else None

    def _sent(self, summary: dict) -> None:
        self.sent = summary
        self.say(f"sent {summary['sent']} images to {summary['node']} (series {summary['series_uid']})")


def open_from_pacs(win: MainWindow) -> PacsOpenDialog:
    """File → Open from PACS…"""
    dlg = PacsOpenDialog(win)
    dlg.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    return dlg


def send_to_pacs(win: MainWindow) -> SendDialog:
    """Export → Send to PACS…"""
    dlg = SendDialog(win)
    dlg.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    return dlg
