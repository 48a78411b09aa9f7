"""PACS over DICOMweb against a real Orthanc (its DICOMweb plugin): STOW-RS, QIDO-RS, WADO-RS, errors."""

from __future__ import annotations

import json
import logging
import socket
import time

import pytest
from pacs_server import (  # noqa: F401 (server: the Orthanc fixture)
    CALLING_AET,
    DICOMWEB_PLUGIN,
    ORTHANC,
    PATIENTS,
    SKIP_REASON,
    Orthanc,
    cli,
    free_port,
    pixels_by_uid,
    server,
    write_series,
)

pytestmark = [pytest.mark.skipif(ORTHANC is None, reason=SKIP_REASON),
              pytest.mark.skipif(DICOMWEB_PLUGIN is None, reason="Orthanc's DICOMweb plugin (orthanc-dicomweb) is missing")]
pytest.importorskip("dicomweb_client")


@pytest.fixture(scope="module")
def config(server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("config")
    (folder / "pacs.json").write_text(json.dumps({"calling_aet": CALLING_AET, "nodes": {
        "web": server.preset(via="dicomweb"), "dimse": server.preset()}}))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MRSTUDIO_CONFIG_DIR", str(folder))
        yield folder


@pytest.fixture(autouse=True)
def cache(config, tmp_path, monkeypatch):
    monkeypatch.setenv("MRSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    return write_series(tmp_path_factory.mktemp("series"))


@pytest.fixture(scope="module")
def stored(config, series, server):
    """Both series sent by STOW-RS (the CLI's send to the DICOMweb root)."""
    from mrstudio.pacs import parse_node
    from mrstudio.pacs.send import send_path

    return {kind: send_path(parse_node(server.dicomweb), folder) for kind, folder in series.items()}


def test_echo_is_a_qido_search(capsys, server):
    rc, out, _ = cli(capsys, "pacs", "echo", "--node", server.dicomweb, "--json")
    got = json.loads(out)
    assert rc == 0 and got["protocol"] == "dicomweb" and got["node"] == server.dicomweb


def test_stow_then_qido_by_patient_and_modality(capsys, stored, server):
    assert {stored["cine"]["series_uid"], stored["ct"]["series_uid"]} <= server.series_uids()
    assert stored["cine"]["sent"] == 20 and stored["ct"]["sent"] == 11
    rc, out, _ = cli(capsys, "pacs", "find", "--node", "web", "--patient", "DOE^JANE", "--json", "--show-phi")
    rows = json.loads(out)["rows"]
    assert rc == 0 and [r["series_uid"] for r in rows] == [stored["cine"]["series_uid"]]
    assert rows[0]["instances"] == 20 and rows[0]["modality"] == "MR" and rows[0]["patient_id"] == PATIENTS["cine"][1]
    rc, out, _ = cli(capsys, "pacs", "find", "--node", "web", "--modality", "CT", "--json")
    rows = json.loads(out)["rows"]
    assert [r["series_uid"] for r in rows] == [stored["ct"]["series_uid"]] and rows[0]["instances"] == 11


def test_qido_and_cfind_answer_the_same_rows_without_logging_patients(stored, caplog):
    from mrstudio.pacs import Query, client, parse_node

    caplog.set_level(logging.DEBUG)
    web, dimse = client.find(parse_node("web")), client.find(parse_node("dimse"))
    assert len(web) == 2 and web == dimse
    rows = client.find(parse_node("web"), Query(patient_name="DOE^JANE"))
    assert [r["patient_name"] for r in rows] == ["DOE^JANE"]
    assert "DOE" not in caplog.text + " ".join(str(r.args) for r in caplog.records)  # not even the query URL


def test_wado_retrieve_identical_pixels_and_uids(capsys, stored, series, cache):
    for kind, shape in (("cine", [1, 20, 48, 48]), ("ct", [11, 32, 32])):
        uid = stored[kind]["series_uid"]
        rc, out, _ = cli(capsys, "pacs", "get", "--node", "web", "--series", uid)
        folder = cache / "pacs" / uid
        assert rc == 0 and out.strip() == str(folder)
        assert pixels_by_uid(folder) == pixels_by_uid(series[kind])
        desc = json.loads(cli(capsys, "info", str(folder), "--json")[1])
        assert desc["shape"] == shape and desc["SeriesInstanceUID"] == uid


def test_http_errors_are_one_clear_line(capsys, server):
    port = free_port()
    rc, _, err = cli(capsys, "pacs", "find", "--node", f"http://127.0.0.1:{port}/dicom-web", "--patient", "DOE^JANE")
    assert rc == 2 and err == f"mrstudio: error: PACS http://127.0.0.1:{port}/dicom-web: connection refused during QIDO-RS\n"
    rc, _, err = cli(capsys, "pacs", "echo", "--node", f"http://127.0.0.1:{server.http_port}/no-such-root")
    assert rc == 2 and "HTTP 404" in err and err.count("\n") == 1
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        url = f"http://127.0.0.1:{s.getsockname()[1]}/dicom-web"
        t0 = time.perf_counter()
        rc, _, err = cli(capsys, "pacs", "echo", "--node", url, "--timeout", "0.5")
        assert time.perf_counter() - t0 < 2
    assert rc == 2 and err == f"mrstudio: error: PACS {url}: no answer within 0.5 s during QIDO-RS\n"
