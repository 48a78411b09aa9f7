"""PACS faults against a real Orthanc: the server dies mid-retrieve, then comes back."""

from __future__ import annotations

import json

import pydicom
import pytest
from pacs_server import CALLING_AET, ORTHANC, SKIP_REASON, server, write_series  # noqa: F401 (server: the Orthanc fixture)

pytestmark = pytest.mark.skipif(ORTHANC is None, reason=SKIP_REASON)
pytest.importorskip("pynetdicom")


@pytest.fixture
def env(server, tmp_path, monkeypatch):
    (tmp_path / "pacs.json").write_text(json.dumps({"calling_aet": CALLING_AET, "nodes": {
        "test": server.preset(), "moving": server.preset(retrieve="move")}}))
    monkeypatch.setenv("MRSTUDIO_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("MRSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def cine(server, tmp_path_factory):
    from mrstudio.pacs import Node
    from mrstudio.pacs.send import send_path

    folder = write_series(tmp_path_factory.mktemp("series"))["cine"]
    sent = send_path(Node("t", **server.preset()), folder)
    return folder, sent["series_uid"]


@pytest.mark.parametrize("node", ["test", "moving"])
def test_server_killed_mid_retrieve_then_second_attempt_completes(capsys, server, env, cine, node):
    from mrstudio.cli import main
    from mrstudio.core.errors import StudyError
    from mrstudio.pacs import client, parse_node

    folder, uid = cine
    arrived = []

    def kill_after_five(fraction, message):
        arrived.append(message)
        if server.proc is not None and fraction >= 0.25:  # 5 of 20 instances in
            server.kill()

    what = "C-GET" if node == "test" else "C-MOVE"
    with pytest.raises(StudyError) as exc:
        client.retrieve(parse_node(node), uid, progress=kill_after_five)
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(f"PACS ORTHANC@127.0.0.1:{server.dicom_port}: ")
    assert f"during {what}" in msg and "of 20 instances" in msg
    final = env / "pacs" / uid
    assert not final.exists() and list((env / "pacs").iterdir()) == []  # nothing under its name, no leftovers
    rc = main(["pacs", "get", "--node", node, "--series", uid])  # the server is still down
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "connection refused" in err and not final.exists()
    server.start()
    assert client.retrieve(parse_node(node), uid) == final
    got = sorted(pydicom.dcmread(f).SOPInstanceUID for f in final.glob("*.dcm"))
    assert got == sorted(pydicom.dcmread(f).SOPInstanceUID for f in folder.glob("*.dcm")) and len(got) == 20


def test_server_killed_mid_wado_retrieve(server, env, tmp_path):
    """WADO-RS streams one HTTP answer: the series must outgrow the socket buffers (12 × 1024² × 2 bytes)
    for a server that dies after the first instance to leave the rest unsent."""
    import numpy as np

    from mrstudio.core.errors import StudyError
    from mrstudio.io.dicom_export import write_cine_dicom
    from mrstudio.pacs import Node, client
    from mrstudio.pacs.send import send_path

    folder = write_cine_dicom(np.random.default_rng(5).random((12, 1024, 1024), np.float32), tmp_path / "big")
    if server.proc is None:
        server.start()
    uid = send_path(Node("t", **server.preset()), folder)["series_uid"]
    node = Node("w", **server.preset(via="dicomweb"))

    def kill_at_first(fraction, message):
        if server.proc is not None and fraction > 0.05:
            server.kill()

    with pytest.raises(StudyError, match=r"WADO-RS (incomplete: \d+ of 12 instances arrived|.*after \d+ of 12)") as exc:
        client.retrieve(node, uid, progress=kill_at_first)
    assert "\n" not in str(exc.value) and not (env / "pacs" / uid).exists() and list((env / "pacs").iterdir()) == []
    server.start()
    assert len(list(client.retrieve(node, uid).glob("*.dcm"))) == 12
