"""PACS without a server: node presets and NODE parsing, queries, pacs:// URLs, the cache's atomic rule,
the no-overwrite writer, anonymisation, the research-only rule, and importing without pynetdicom."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pydicom
import pytest

from mrstudio.core.errors import StudyError
from mrstudio.pacs.nodes import Node, config_path, load_presets, parse_node, save_presets


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("MRSTUDIO_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("MRSTUDIO_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cfg").mkdir()
    path = tmp_path / "cfg" / "pacs.json"
    path.write_text(json.dumps({"calling_aet": "WORKSTATION1", "nodes": {
        "hospital": {"aet": "PACS", "host": "pacs.example.org", "port": 104, "tls": True, "retrieve": "move"},
        "research": {"dicomweb": "https://research.example.org/dicom-web/", "research_only": True},
        "both": {"aet": "ORTHANC", "host": "127.0.0.1", "port": 4242, "dicomweb": "http://127.0.0.1:8042/dicom-web",
                 "calling_aet": "OTHER"}}}))
    return path


def test_presets_and_node_strings(settings):
    assert config_path() == settings
    nodes = load_presets()
    h = nodes["hospital"]
    assert (h.aet, h.host, h.port, h.tls, h.retrieve, h.calling_aet) == ("PACS", "pacs.example.org", 104, True, "move",
                                                                         "WORKSTATION1")
    assert h.protocol == "dimse" and h.label == "PACS@pacs.example.org:104" and h.source == "PACS PACS@pacs.example.org:104"
    r = nodes["research"]
    assert r.protocol == "dicomweb" and r.research_only and r.label == "https://research.example.org/dicom-web"
    assert nodes["both"].protocol == "dimse" and nodes["both"].calling_aet == "OTHER"
    assert parse_node("both", via="dicomweb").protocol == "dicomweb"
    with pytest.raises(StudyError, match="has no DICOMweb root to go via dicomweb"):
        parse_node("hospital", via="dicomweb")
    n = parse_node("STORESCP@10.0.0.5:11112", timeout=3)
    assert (n.aet, n.host, n.port, n.timeout, n.calling_aet) == ("STORESCP", "10.0.0.5", 11112, 3, "WORKSTATION1")
    assert parse_node("X@[::1]:104").host == "::1" and parse_node("X@[::1]:104").label == "X@[::1]:104"
    assert parse_node("http://h:8042/dicom-web/").dicomweb == "http://h:8042/dicom-web"
    with pytest.raises(StudyError, match=r"not a preset \(presets in .*pacs.json: both, hospital, research\)"):
        parse_node("nowhere")


def test_bad_presets_are_clear_errors(settings, tmp_path):
    with pytest.raises(StudyError, match="AE title 'SEVENTEEN-CHARS-X' is not 1–16"):
        Node("n", aet="SEVENTEEN-CHARS-X", host="h", port=104)
    with pytest.raises(StudyError, match="port 70000 is not a TCP port"):
        parse_node("A@h:70000")
    with pytest.raises(StudyError, match="needs a DIMSE address"):
        Node("n")
    settings.write_text(json.dumps({"nodes": {"x": {"aet": "A", "host": "h", "port": 1, "colour": "red"}}}))
    with pytest.raises(StudyError, match="unknown field"):
        load_presets()
    settings.write_text("{not json")
    with pytest.raises(StudyError, match="unreadable PACS settings"):
        load_presets()


def test_presets_round_trip(tmp_path):
    nodes = {"a": Node("a", aet="A", host="h", port=1, research_only=True, timeout=4.5),
             "w": Node("w", dicomweb="https://w/dicom-web")}
    path = save_presets(nodes, tmp_path / "sub" / "pacs.json", calling_aet="ME")
    back = load_presets(path)
    assert back["a"] == Node("a", aet="A", host="h", port=1, research_only=True, timeout=4.5, calling_aet="ME")
    assert back["w"].dicomweb == "https://w/dicom-web" and json.loads(path.read_text())["calling_aet"] == "ME"


def test_config_path_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("MRSTUDIO_CONFIG_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_path() == tmp_path / "mrstudio" / "pacs.json"


def test_queries_dates_uids_and_urls():
    from mrstudio.pacs.cache import split_pacs_url
    from mrstudio.pacs.query import Query, check_uid, parse_date_range, row_from

    for ok in ("20240101", "20240101-20241231", "20240101-", "-20241231"):
        assert parse_date_range(ok) == ok
    for bad in ("2024-01-01", "20241231-20240101", "-", "2024"):
        with pytest.raises(StudyError):
            parse_date_range(bad)
    q = Query(patient_name="DOE^*", modality="mr", study_date="20240101-", description="Cine")
    assert q.matching("series") == {"PatientName": "DOE^*", "StudyDate": "20240101-", "Modality": "MR"}
    assert q.matching("study") == {"PatientName": "DOE^*", "StudyDate": "20240101-", "ModalitiesInStudy": "MR"}
    assert q.keep({"modality": "MR", "series_description": "short-axis CINE"})
    assert not q.keep({"modality": "MR", "series_description": "T1"})
    assert row_from({"NumberOfSeriesRelatedInstances": "20", "Modality": "CT"}, "series")["instances"] == 20
    for bad in ("../../etc", "1.2.abc", "1." * 40 + "1"):
        with pytest.raises(StudyError, match="not a DICOM UID"):
            check_uid(bad)
    assert split_pacs_url("pacs://orthanc/1.2.3", True) == ("orthanc", "1.2.3")
    assert split_pacs_url("pacs://A@h:104/1.2.3", True) == ("A@h:104", "1.2.3")
    assert split_pacs_url("pacs://http://h:8042/dicom-web/1.2.3", True) == ("http://h:8042/dicom-web", "1.2.3")
    assert split_pacs_url("pacs://orthanc", False) == ("orthanc", None)
    with pytest.raises(StudyError, match="expected pacs://NODE/SERIES_UID"):
        split_pacs_url("pacs://orthanc", True)
    with pytest.raises(StudyError, match="not a DICOM UID"):
        split_pacs_url("pacs://orthanc/../../x", True)


def test_retrieve_into_is_all_or_nothing(tmp_path):
    from mrstudio.pacs.cache import retrieve_into

    final = tmp_path / "cache" / "1.2.3"

    def half(tmp):
        (tmp / "a.dcm").write_bytes(b"x")
        raise StudyError("PACS X", "connection lost")

    with pytest.raises(StudyError, match="connection lost"):
        retrieve_into(final, half)
    assert not final.exists() and list(final.parent.iterdir()) == []
    assert retrieve_into(final, lambda tmp: (tmp / "b.dcm").write_bytes(b"y")) == final
    assert [p.name for p in final.iterdir()] == ["b.dcm"] and final.stat().st_mode & 0o777 != 0o700
    with pytest.raises(StudyError, match="not empty"):
        retrieve_into(final, lambda tmp: None)
    retrieve_into(final, lambda tmp: (tmp / "c.dcm").write_bytes(b"z"), force=True)
    assert [p.name for p in final.iterdir()] == ["c.dcm"] and [p.name for p in final.parent.iterdir()] == ["1.2.3"]


def test_incoming_store_never_overwrites(tmp_path):
    from mrstudio.pacs.storage import InstanceWriter

    w = InstanceWriter(tmp_path / "in", series_uid="1.2.3")
    first = w.write(b"first", "1.2.3.4")
    second = w.write(b"second", "1.2.3.4")
    odd = w.write(b"odd", "../../escape")
    assert first.name == "1.2.3.4.dcm" and second.name == "1.2.3.4.2.dcm" and first.read_bytes() == b"first"
    assert odd.parent == tmp_path / "in" and odd.name.startswith("IM")
    assert w.count == 3 and w.accepts("1.2.3") and not w.accepts("9.9")


def _dataset(tmp_path):
    from mrstudio.io.dicom_export import write_cine_dicom

    folder = write_cine_dicom(np.random.default_rng(0).random((3, 8, 8)), tmp_path / "src")
    files = sorted(folder.glob("*.dcm"))
    for f in files:
        d = pydicom.dcmread(f)
        d.PatientName, d.PatientID, d.InstitutionName, d.OperatorsName = "Doe^John", "MRN42", "St Elsewhere", "Op^X"
        d.OtherPatientIDs = "OLD-7"
        d.add_new(0x00091010, "LO", "private secret")
        d.save_as(f)
    return files


def test_anonymise_copies(tmp_path):
    from mrstudio.pacs.anonymize import anonymise_files, is_anonymised

    files = _dataset(tmp_path)
    (tmp_path / "out").mkdir()
    out = anonymise_files(files, tmp_path / "out")
    src = [pydicom.dcmread(f) for f in files]
    anon = [pydicom.dcmread(f) for f in out]
    assert not is_anonymised(files) and is_anonymised(out)
    for s, a in zip(src, anon):
        assert (str(a.PatientName), a.PatientID) == ("Anonymous", "ANON")
        for kw in ("InstitutionName", "OperatorsName", "OtherPatientIDs"):
            assert kw not in a
        assert 0x00091010 not in a and a.PatientIdentityRemoved == "YES"
        assert a.SOPInstanceUID != s.SOPInstanceUID and a.file_meta.MediaStorageSOPInstanceUID == a.SOPInstanceUID
        np.testing.assert_array_equal(a.pixel_array, s.pixel_array)
    assert len({a.SeriesInstanceUID for a in anon}) == 1 and anon[0].SeriesInstanceUID != src[0].SeriesInstanceUID
    assert str(pydicom.dcmread(files[0]).PatientName) == "Doe^John"  # the originals are untouched
    (tmp_path / "again").mkdir()
    again = anonymise_files(files, tmp_path / "again")
    assert [pydicom.dcmread(f).SOPInstanceUID for f in again] == [a.SOPInstanceUID for a in anon]  # reproducible


def test_research_only_refuses_before_writing(tmp_path):
    from mrstudio.pacs.send import send_files, send_written

    node = Node("r", aet="A", host="127.0.0.1", port=9, research_only=True)
    calls = []
    with pytest.raises(StudyError, match="research-only.*nothing sent"):
        send_written(lambda folder: calls.append(folder), node, anonymised=False)
    assert calls == []  # refused before the export was written
    with pytest.raises(StudyError, match="research-only"):
        send_files(node, _dataset(tmp_path))


def test_imports_and_clear_error_without_pynetdicom():
    code = ("import sys; sys.modules['pynetdicom'] = None; sys.modules['dicomweb_client'] = None\n"
            "import mrstudio.pacs, mrstudio.pacs.client, mrstudio.pacs.dimse, mrstudio.pacs.dicomweb\n"
            "from mrstudio.cli import main\n"
            "sys.exit(main(['pacs', 'echo', '--node', 'A@127.0.0.1:9']))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stderr
    assert p.stderr == "mrstudio: error: PACS: needs pynetdicom, which is not installed (pip install 'mrstudio[pacs]')\n"
