"""The PACS dialogs against a real Orthanc (pytest-qt): open a series from the PACS, send a result back."""

from __future__ import annotations

import json

import pytest
from pacs_server import CALLING_AET, ORTHANC, SKIP_REASON, server, write_series  # noqa: F401 (server: the Orthanc fixture)

pytestmark = pytest.mark.skipif(ORTHANC is None, reason=SKIP_REASON)
pytest.importorskip("pytestqt")
pytest.importorskip("pynetdicom")

from PySide6 import QtCore  # noqa: E402


@pytest.fixture(scope="module")
def stored(server, tmp_path_factory):
    from mrstudio.pacs import Node
    from mrstudio.pacs.send import send_path

    series = write_series(tmp_path_factory.mktemp("series"))
    return {kind: send_path(Node("t", **server.preset()), folder) for kind, folder in series.items()}


@pytest.fixture
def window(qtbot, server, stored, tmp_path, monkeypatch):
    from mrstudio.gui.app import make_app
    from mrstudio.gui.main_window import MainWindow

    (tmp_path / "pacs.json").write_text(json.dumps({"calling_aet": CALLING_AET, "nodes": {
        "orthanc": server.preset(), "research": server.preset(research_only=True)}}))
    monkeypatch.setenv("MRSTUDIO_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("MRSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    make_app()
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    w = MainWindow(None, device="cpu", autorun=False, settings=settings)
    qtbot.addWidget(w)
    yield w
    w.bridge.cancel_all()
    w.bridge.wait_all(10)


def test_open_a_series_from_the_pacs_and_send_a_result_back(qtbot, window, server, stored, tmp_path):
    from mrstudio.core.study import VolumeStudy
    from mrstudio.gui.pacs_dialog import PacsOpenDialog, SendDialog
    from mrstudio.pacs import Query, client, parse_node

    dlg = PacsOpenDialog(window)
    assert dlg.node_box.findText("orthanc") >= 0 and dlg.node_box.findText("research") >= 0
    dlg.node_box.setCurrentText("orthanc")
    dlg.patient.setText("ROE^*")
    dlg.modality.setCurrentText("CT")
    dlg.search()
    qtbot.waitUntil(lambda: dlg.table.rowCount() == 1, timeout=10_000)
    cells = [dlg.table.item(0, c).text() for c in range(dlg.table.columnCount())]
    assert "ROE^RICHARD" in cells and "CT" in cells and "11" in cells and stored["ct"]["series_uid"] in cells
    job = dlg.retrieve()
    qtbot.waitUntil(lambda: isinstance(window.study, VolumeStudy), timeout=20_000)
    assert job.status == "done" and dlg.progress.value() == 100
    assert window.study.shape == (11, 32, 32) and window.study.modality == "CT"
    assert window.study.source.endswith(stored["ct"]["series_uid"]) and "cache" in window.study.source

    interp = window.volumes.run("linear", None, 2, False)
    qtbot.waitUntil(lambda: interp.status == "done", timeout=20_000)
    before = server.series_uids()

    refused = SendDialog(window)
    refused.node_box.setCurrentText("research")
    assert refused.send() is None and "research-only" in refused.status.text()  # identifiable: not sent

    send = SendDialog(window)
    assert send.result.currentText() == window.volume.latest
    send.node_box.setCurrentText("research")
    send.anonymize.setChecked(True)
    job = send.send()
    qtbot.waitUntil(lambda: not job.active, timeout=20_000)
    assert job.status == "done", job.error
    assert send.sent["sent"] == 21 and "sent 21 images" in send.status.text()
    assert server.series_uids() - before == {send.sent["series_uid"]}
    rows = client.find(parse_node("orthanc"), Query(patient_name="Anonymous", modality="CT"))
    assert [r["instances"] for r in rows if r["series_uid"] == send.sent["series_uid"]] == [21]

