"""PACS over DIMSE against a real Orthanc: echo, send, find, get, move, pacs:// studies and outputs, errors."""

from __future__ import annotations

import json
import logging
import socket
import time

import numpy as np
import pytest
from pacs_server import (  # noqa: F401 (server: the Orthanc fixture)
    CALLING_AET,
    ORTHANC,
    PATIENTS,
    SKIP_REASON,
    cli,
    free_port,
    pixels_by_uid,
    server,
    write_series,
)

pytestmark = pytest.mark.skipif(ORTHANC is None, reason=SKIP_REASON)
pytest.importorskip("pynetdicom")


@pytest.fixture(scope="module")
def config(server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("config")
    (folder / "pacs.json").write_text(json.dumps({"calling_aet": CALLING_AET, "nodes": {
        "test": server.preset(), "research": server.preset(research_only=True),
        "moving": server.preset(retrieve="move")}}))
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
def stored(config, series):
    """Both series sent (C-STORE) once for the module: kind → the send summary."""
    from mrstudio.pacs import parse_node
    from mrstudio.pacs.send import send_path

    node = parse_node("test")
    return {kind: send_path(node, folder) for kind, folder in series.items()}


def test_echo(capsys, server):
    rc, out, _ = cli(capsys, "pacs", "echo", "--node", "test", "--json")
    got = json.loads(out)
    assert rc == 0 and got["ok"] is True and got["protocol"] == "dimse"
    assert got["node"] == f"ORTHANC@127.0.0.1:{server.dicom_port}" and got["seconds"] < 1
    rc, out, _ = cli(capsys, "pacs", "echo", "--node", f"ORTHANC@127.0.0.1:{server.dicom_port}")
    assert rc == 0 and "answers" in out


def test_send_puts_both_series_on_the_server(stored, server, series):
    assert {stored["cine"]["series_uid"], stored["ct"]["series_uid"]} <= server.series_uids()
    assert stored["cine"]["sent"] == 20 and stored["ct"]["sent"] == len(list(series["ct"].glob("*.dcm"))) == 11
    counts = {server.rest(f"/series/{s}")["MainDicomTags"]["SeriesInstanceUID"]: len(server.rest(f"/series/{s}")["Instances"])
              for s in server.rest("/series")}
    assert counts[stored["cine"]["series_uid"]] == 20 and counts[stored["ct"]["series_uid"]] == 11


def test_find_by_patient_and_modality(capsys, stored):
    rc, out, _ = cli(capsys, "pacs", "find", "--node", "test", "--patient", "DOE^*", "--json")
    got = json.loads(out)
    assert rc == 0 and got["count"] == 1 and got["level"] == "series"
    row = got["rows"][0]
    assert row["series_uid"] == stored["cine"]["series_uid"] and row["modality"] == "MR" and row["instances"] == 20
    assert row["series_description"] == "MR Studio zero-filled" and row["study_uid"] == stored["cine"]["study_uid"]
    assert "DOE^JANE" not in out and "PACS-0001" not in out  # masked unless --show-phi
    rc, out, _ = cli(capsys, "pacs", "find", "--node", "test", "--modality", "ct", "--json", "--show-phi")
    rows = json.loads(out)["rows"]
    assert [r["series_uid"] for r in rows] == [stored["ct"]["series_uid"]] and rows[0]["instances"] == 11
    assert (rows[0]["patient_name"], rows[0]["patient_id"]) == PATIENTS["ct"]
    rc, out, _ = cli(capsys, "pacs", "find", "--node", "test", "--patient-id", "PACS-0002", "--description", "LINEAR")
    assert rc == 0 and stored["ct"]["series_uid"] in out and stored["cine"]["series_uid"] not in out
    today = time.strftime("%Y%m%d")
    rc, out, _ = cli(capsys, "pacs", "find", "--node", "test", "--study-date", f"{today}-", "--level", "study", "--json")
    assert {r["study_uid"] for r in json.loads(out)["rows"]} >= {stored["cine"]["study_uid"], stored["ct"]["study_uid"]}
    rc, out, _ = cli(capsys, "pacs", "find", "--node", "test", "--level", "patient", "--patient", "*E^*")
    assert rc == 0 and out.count("\n") == 3 and "D******E" in out and "R*********D" in out  # header + 2, masked
    rc, out, _ = cli(capsys, "pacs", "find", "--node", "test", "--study-date", "19000101-19001231", "--json")
    assert json.loads(out)["count"] == 0
    rc, out, err = cli(capsys, "pacs", "find", "--node", "test", "--study-date", "2024-01-01")
    assert rc == 2 and "expected YYYYMMDD" in err


def test_get_back_identical_pixels_and_uids(capsys, stored, series, cache, tmp_path):
    uid = stored["cine"]["series_uid"]
    t0 = time.perf_counter()
    rc, out, _ = cli(capsys, "pacs", "get", "--node", "test", "--series", uid)
    first = time.perf_counter() - t0
    folder = cache / "pacs" / uid
    assert rc == 0 and out.strip() == str(folder) and folder.is_dir()
    assert pixels_by_uid(folder) == pixels_by_uid(series["cine"])  # same SOP UIDs, series UID, pixel bytes
    rc, out, _ = cli(capsys, "info", str(folder), "--json")
    desc = json.loads(out)
    assert desc["shape"] == [1, 20, 48, 48] and desc["SeriesInstanceUID"] == uid and desc["format"] == "dicom"
    from mrstudio.io import open_study

    np.testing.assert_array_equal(open_study(folder).reference, open_study(series["cine"]).reference)
    t0 = time.perf_counter()
    assert cli(capsys, "pacs", "get", "--node", "test", "--series", uid)[1].strip() == str(folder)  # from the cache
    assert time.perf_counter() - t0 < first
    ct = tmp_path / "ct"
    rc, out, _ = cli(capsys, "pacs", "get", "--node", "test", "--series", stored["ct"]["series_uid"], "--out", str(ct))
    assert rc == 0 and out.strip() == str(ct) and pixels_by_uid(ct) == pixels_by_uid(series["ct"])
    assert json.loads(cli(capsys, "info", str(ct), "--json")[1])["shape"] == [11, 32, 32]
    rc, _, err = cli(capsys, "pacs", "get", "--node", "test", "--series", stored["ct"]["series_uid"], "--out", str(ct))
    assert rc == 2 and "not empty" in err


def test_move_to_our_storage_scp(stored, series):
    from mrstudio.pacs import client, parse_node

    node = parse_node("moving")
    assert node.retrieve == "move"
    folder = client.retrieve(node, stored["ct"]["series_uid"])
    assert pixels_by_uid(folder) == pixels_by_uid(series["ct"])


def test_unknown_series_and_cancel_leave_nothing(stored, cache):
    from mrstudio.core.errors import StudyError
    from mrstudio.core.jobs import Cancelled, CancelToken
    from mrstudio.pacs import client, parse_node

    node = parse_node("test")
    with pytest.raises(StudyError, match="has no series 1.2.3.4"):
        client.retrieve(node, "1.2.3.4")
    token = CancelToken()
    seen = []

    def progress(fraction, message):
        seen.append(message)
        if "instances" in message:
            token.cancel()

    with pytest.raises(Cancelled):
        client.retrieve(node, stored["cine"]["series_uid"], progress=progress, cancel=token)
    assert seen and not (cache / "pacs" / stored["cine"]["series_uid"]).exists()
    assert [p.name for p in (cache / "pacs").iterdir()] == []  # the temporary folder went too


def test_wrong_ae_title_or_port_is_one_clear_line(capsys, server):
    t0 = time.perf_counter()
    rc, out, err = cli(capsys, "pacs", "echo", "--node", f"WRONG@127.0.0.1:{server.dicom_port}")
    assert rc == 2 and out == "" and err == (f"mrstudio: error: PACS WRONG@127.0.0.1:{server.dicom_port}: association "
                                             "rejected (called AE title 'WRONG' not recognised)\n")
    port = free_port()
    rc, _, err = cli(capsys, "pacs", "find", "--node", f"ORTHANC@127.0.0.1:{port}", "--timeout", "2")
    assert rc == 2 and err.count("\n") == 1
    assert err.startswith(f"mrstudio: error: PACS ORTHANC@127.0.0.1:{port}: connection refused")
    assert time.perf_counter() - t0 < 5  # no waiting on a refused port (one quick retry)


def test_silent_server_times_out(capsys):
    with socket.socket() as s:  # accepts TCP connections (backlog) but never answers
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        port = s.getsockname()[1]
        t0 = time.perf_counter()
        rc, _, err = cli(capsys, "pacs", "echo", "--node", f"ANY@127.0.0.1:{port}", "--timeout", "0.5")
        elapsed = time.perf_counter() - t0
    assert rc == 2 and err == f"mrstudio: error: PACS ANY@127.0.0.1:{port}: no answer within 0.5 s\n"
    assert 0.45 < elapsed < 2  # the timeout, not retried: waiting again would not help


def test_research_only_node_refuses_identifiable_data(capsys, server, series):
    before = server.series_uids()
    rc, _, err = cli(capsys, "pacs", "send", "--node", "research", str(series["cine"]))
    assert rc == 2 and "research-only" in err and "--anonymize" in err and server.series_uids() == before
    rc, out, _ = cli(capsys, "pacs", "send", "--node", "research", str(series["cine"]), "--anonymize", "--json")
    sent = json.loads(out)
    assert rc == 0 and sent["sent"] == 20 and sent["anonymised"] is True
    new = server.series_uids() - before
    assert new == {sent["series_uid"]}
    orthanc_id = next(s for s in server.rest("/series") if s not in before and
                      server.rest(f"/series/{s}")["MainDicomTags"]["SeriesInstanceUID"] == sent["series_uid"])
    patient = server.rest(f"/series/{orthanc_id}/patient")["MainDicomTags"]
    assert patient["PatientName"] == "Anonymous" and patient["PatientID"] == "ANON"
    rc, out, _ = cli(capsys, "pacs", "send", "--node", "research", str(series["ct"]), "--allow-identifiable", "--json")
    assert rc == 0 and json.loads(out)["anonymised"] is False


def test_no_patient_data_in_logs(caplog, stored):
    from mrstudio.pacs import Query, client, parse_node

    caplog.set_level(logging.DEBUG)
    node = parse_node("test")
    rows = client.find(node, Query(patient_name="DOE^JANE"))
    assert rows and rows[0]["patient_name"] == "DOE^JANE"  # the caller sees it …
    client.retrieve(node, rows[0]["series_uid"])
    text = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert "DOE" not in text and "PACS-0001" not in text  # … the logs do not


def test_recon_and_interp_read_from_and_write_to_the_pacs(capsys, stored, server):
    cine = f"pacs://test/{stored['cine']['series_uid']}"
    rc, out, err = cli(capsys, "recon", "--study", cine, "--method", "zero-filled", "--accel", "4", "--out",
                       "pacs://test", "--json")
    assert rc == 0, err
    got = json.loads(out)
    assert got["sent"] == 20 and got["series_uid"] in server.series_uids() and got["out"] == "pacs://test"
    ct = f"pacs://ORTHANC@127.0.0.1:{server.dicom_port}/{stored['ct']['series_uid']}"
    rc, out, err = cli(capsys, "interp", "--study", ct, "--method", "linear", "--factor", "2", "--out", "pacs://test",
                       "--json")
    assert rc == 0, err
    got = json.loads(out)
    assert got["slices_in"] == 11 and got["sent"] == got["slices_out"] == 21 and got["series_uid"] in server.series_uids()
    rc, _, err = cli(capsys, "recon", "--study", "phantom", "--size", "32", "--frames", "4", "--coils", "2", "--method",
                     "zero-filled", "--accel", "2", "--out", "pacs://research")
    assert rc == 2 and "research-only" in err and "--anonymize" in err


def test_send_a_result_file(capsys, stored, server, tmp_path):
    from mrstudio.pacs import Query, client, parse_node

    result = tmp_path / "r.npz"
    rc, _, err = cli(capsys, "recon", "--study", f"pacs://test/{stored['cine']['series_uid']}", "--method",
                     "zero-filled", "--accel", "4", "--out", str(result))
    assert rc == 0, err
    rc, out, err = cli(capsys, "pacs", "send", "--node", "test", str(result), "--json")
    assert rc == 0, err
    sent = json.loads(out)
    assert sent["sent"] == 20 and sent["study_uid"] == stored["cine"]["study_uid"]  # into the source's study
    rows = client.find(parse_node("test"), Query(patient_id=PATIENTS["cine"][1]))
    assert sent["series_uid"] in {r["series_uid"] for r in rows}
    raw, res2 = tmp_path / "raw.h5", tmp_path / "r2.npz"
    assert cli(capsys, "phantom", "--out", str(raw), "--size", "32", "--frames", "4", "--coils", "2")[0] == 0
    assert cli(capsys, "recon", "--study", str(raw), "--method", "zero-filled", "--accel", "2", "--out", str(res2))[0] == 0
    rc, _, err = cli(capsys, "pacs", "send", "--node", "test", str(res2))
    assert rc == 2 and "patient and study it belongs to are unknown" in err and "--anonymize" in err


def test_batch_reads_studies_from_the_pacs(capsys, stored, tmp_path):
    pytest.importorskip("distributed")
    cine = f"pacs://test/{stored['cine']['series_uid']}"
    rc, out, err = cli(capsys, "batch", "recon", "--studies", cine, "--method", "zero-filled,cs", "--accel", "4",
                       "--param", "iters=5", "--out", str(tmp_path / "out"), "--workers", "1", "--json")
    assert rc == 0, err
    s = json.loads(out)
    assert (s["studies"], s["done"], s["failed"]) == (1, 2, 0)
    names = sorted(p.name for p in (tmp_path / "out").glob("*.h5"))
    assert names == [f"pacs-{stored['cine']['series_uid']}.{m}.h5" for m in ("cs", "zero-filled")]
