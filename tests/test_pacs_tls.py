"""PACS over DICOM TLS against a real Orthanc (DicomTlsEnabled), with certificates made by openssl."""

from __future__ import annotations

import json
import shutil
import time

import pydicom
import pytest
from pacs_server import CALLING_AET, ORTHANC, SKIP_REASON, Orthanc, cli, make_certificates, write_series

pytestmark = [pytest.mark.skipif(ORTHANC is None, reason=SKIP_REASON),
              pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")]
pytest.importorskip("pynetdicom")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def server(tmp_path_factory, certs):
    srv = Orthanc(tmp_path_factory.mktemp("orthanc"), tls=certs).start()
    yield srv
    srv.kill()


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("other-ca"))["ca"]


@pytest.fixture(autouse=True)
def env(server, other_ca, tmp_path, monkeypatch):
    (tmp_path / "pacs.json").write_text(json.dumps({"calling_aet": CALLING_AET, "nodes": {
        "secure": server.preset(), "plain": server.preset(tls=False),
        "untrusted": server.preset(tls_ca=other_ca)}}))
    monkeypatch.setenv("MRSTUDIO_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("MRSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_tls_echo_send_find_get(capsys, server, env, tmp_path):
    rc, out, err = cli(capsys, "pacs", "echo", "--node", "secure", "--json")
    assert rc == 0, err
    cine = write_series(tmp_path / "series")["cine"]
    rc, out, err = cli(capsys, "pacs", "send", "--node", "secure", str(cine), "--json")
    assert rc == 0, err
    uid = json.loads(out)["series_uid"]
    assert json.loads(out)["sent"] == 20 and uid in server.series_uids()
    rc, out, _ = cli(capsys, "pacs", "find", "--node", "secure", "--modality", "MR", "--json")
    assert [r["series_uid"] for r in json.loads(out)["rows"]] == [uid]
    rc, out, _ = cli(capsys, "pacs", "get", "--node", "secure", "--series", uid)
    back = sorted((pydicom.dcmread(f).SOPInstanceUID, bytes(pydicom.dcmread(f).PixelData)) for f in (env / "pacs" / uid).glob("*"))
    assert rc == 0 and back == sorted((pydicom.dcmread(f).SOPInstanceUID, bytes(pydicom.dcmread(f).PixelData))
                                      for f in cine.glob("*.dcm"))


def test_tls_mismatches_are_clear(capsys, server):
    t0 = time.perf_counter()
    rc, _, err = cli(capsys, "pacs", "echo", "--node", "plain")
    assert rc == 2 and err.count("\n") == 1 and "aborted by the peer" in err and '"tls": true' in err
    rc, _, err = cli(capsys, "pacs", "echo", "--node", "untrusted")
    assert rc == 2 and err.count("\n") == 1 and "TLS handshake failed (CERTIFICATE_VERIFY_FAILED)" in err
    assert time.perf_counter() - t0 < 5
