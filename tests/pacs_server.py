"""A real Orthanc for the PACS tests: free localhost ports, a temporary configuration and storage.

``Orthanc(folder).start()`` writes ``folder/orthanc.json`` (DICOM port, HTTP port, the
DICOMweb plugin, MR Studio's AE registered in ``DicomModalities`` so that C-GET and
C-MOVE are allowed, called AE title checked) and waits until both ports answer;
``stop()`` / ``kill()`` end it, ``start()`` again brings it back on the same ports and
storage. ``tls=`` (a :func:`make_certificates` dict) turns on Orthanc's DICOM TLS.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ORTHANC = shutil.which("Orthanc") or ("/usr/sbin/Orthanc" if Path("/usr/sbin/Orthanc").exists() else None)
_PLUGINS = [Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so"), *sorted(Path("/usr/lib/orthanc").glob(
    "libOrthancDicomWeb.so*"))]
DICOMWEB_PLUGIN = next((str(p) for p in _PLUGINS if p.exists()), None)
SKIP_REASON = "Orthanc is not installed (scripts/setup.sh --test installs Debian's orthanc and orthanc-dicomweb)"
CALLING_AET = "MRSTUDIO-T"


def free_port() -> int:
    """A TCP port nothing listens on now (the kernel's choice)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificates(folder: Path) -> dict[str, str]:
    """A self-signed CA and a server certificate for localhost/127.0.0.1 it signed (openssl), as PEM paths."""
    folder.mkdir(parents=True, exist_ok=True)

    def ssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]  # EC: fast to generate
    ssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=MR Studio test CA")
    ssl("req", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (folder / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                                    "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf")
    return {"ca": str(folder / "ca.crt"), "cert": str(folder / "server.crt"), "key": str(folder / "server.key")}


class _Exited(RuntimeError):
    """Orthanc ended before it answered."""


class Orthanc:
    """One Orthanc process on free localhost ports (see the module docstring)."""

    def __init__(self, folder: Path, aet: str = "ORTHANC", tls: dict[str, str] | None = None,
                 storage_port: int | None = None):
        self.folder = Path(folder)
        self.aet = aet
        self.dicom_port, self.http_port = free_port(), free_port()
        self.storage_port = storage_port or free_port()  # where MR Studio's C-MOVE storage SCP listens
        self.tls = tls
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        """Orthanc's REST API, plain HTTP: Debian's Orthanc 1.10.1 dies (SIGSEGV) on its first HTTPS
        request (``SslEnabled``), so TLS here is DICOM TLS only."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb(self) -> str:
        return f"{self.base_url}/dicom-web"

    def config(self) -> dict:
        storage = self.folder / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        cfg = {
            "Name": "mrstudio-test", "DicomAet": self.aet, "DicomPort": self.dicom_port, "HttpPort": self.http_port,
            "StorageDirectory": str(storage), "IndexDirectory": str(storage), "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False, "DicomCheckCalledAet": True, "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowEcho": True, "DicomScpTimeout": 10, "DicomScuTimeout": 10, "SaveJobs": False,
            "SyncStorageArea": False, "StorageCompression": False, "LogExportedResources": False,
            "DicomModalities": {"mrstudio": {"AET": CALLING_AET, "Host": "127.0.0.1", "Port": self.storage_port}},
            "Plugins": [DICOMWEB_PLUGIN] if DICOMWEB_PLUGIN else [],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
        }
        if self.tls:
            cfg.update(DicomTlsEnabled=True, DicomTlsCertificate=self.tls["cert"], DicomTlsPrivateKey=self.tls["key"],
                       DicomTlsTrustedCertificates=self.tls["ca"], DicomTlsRemoteCertificateRequired=False)
        return cfg

    def start(self, timeout_s: float = 20.0) -> Orthanc:
        """Start (again, on the same ports and storage); a first start that dies early, e.g. because another
        process took a port meanwhile, is tried on new ports."""
        for attempt in range(3):
            try:
                self._start(timeout_s)
                self.started = True
                return self
            except _Exited:
                if getattr(self, "started", False) or attempt == 2:
                    raise
                self.dicom_port, self.http_port = free_port(), free_port()
        raise AssertionError("unreachable")

    def _start(self, timeout_s: float) -> None:
        cfg = self.folder / "orthanc.json"
        cfg.write_text(json.dumps(self.config(), indent=1))
        log = open(self.folder / "orthanc.log", "ab")
        # TCP_NODELAY: DCMTK (Orthanc's DICOM stack) reads it from the environment; without it every
        # DIMSE response waits for a delayed ACK (~40 ms an instance)
        self.proc = subprocess.Popen([ORTHANC, str(cfg)], stdout=log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "TCP_NODELAY": "1"})
        log.close()
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise _Exited(f"Orthanc exited ({self.proc.returncode}): {self.log_tail()}")
            if self._http_up() and self._dicom_up():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Orthanc did not start within {timeout_s} s: {self.log_tail()}")

    def _http_up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/system", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def _dicom_up(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.dicom_port), timeout=1):
            return True
        return False

    def log_tail(self, n: int = 15) -> str:
        p = self.folder / "orthanc.log"
        return " | ".join(p.read_text(errors="replace").splitlines()[-n:]) if p.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: the server vanishes mid-whatever, as a crashed PACS does."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def rest(self, path: str, method: str = "GET"):
        req = urllib.request.Request(f"{self.base_url}{path}", method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
        return json.loads(body) if body else None

    def series_uids(self) -> set[str]:
        """The SeriesInstanceUIDs Orthanc holds (through its REST API, not through MR Studio)."""
        return {self.rest(f"/series/{s}")["MainDicomTags"]["SeriesInstanceUID"] for s in self.rest("/series")}

    def preset(self, **fields) -> dict:
        """A node preset for ``pacs.json`` pointing at this server (DIMSE and DICOMweb)."""
        tls = {"tls": True, "tls_ca": self.tls["ca"], "tls_hostname": "localhost"} if self.tls else {}
        return {"aet": self.aet, "host": "127.0.0.1", "port": self.dicom_port, "dicomweb": self.dicomweb,
                "calling_aet": CALLING_AET, "storage_port": self.storage_port, "timeout": 5, **tls, **fields}


PATIENTS = {"cine": ("DOE^JANE", "PACS-0001"), "ct": ("ROE^RICHARD", "PACS-0002")}


@functools.lru_cache(maxsize=1)
def _series_once() -> dict[str, Path]:
    folder = Path(tempfile.mkdtemp(prefix="mrstudio-pacs-series-"))
    atexit.register(shutil.rmtree, folder, True)
    return _write_series(folder)


def write_series(folder: Path) -> dict[str, Path]:
    """Two series written by MR Studio's own export path (once per test session, copied into ``folder``):
    a 20-frame zero-filled cine (MR) of patient DOE^JANE, and a linearly interpolated CT volume (11
    slices) of patient ROE^RICHARD. The copies keep every UID: each module's server gets the same series."""
    return {kind: Path(shutil.copytree(src, Path(folder) / kind)) for kind, src in _series_once().items()}


def _write_series(folder: Path) -> dict[str, Path]:
    import dataclasses

    from mrstudio.core.ct_phantom import make_ct_phantom, thick
    from mrstudio.core.phantom import make_phantom
    from mrstudio.interp.pipeline import interpolate
    from mrstudio.recon.pipeline import resolve_mask, run_recon
    from mrstudio.workspace.export import recon_provenance, write_interpolation, write_recon

    def patient(study, kind):
        name, pid = PATIENTS[kind]
        return dataclasses.replace(study, meta={**study.meta, "PatientName": name, "PatientID": pid,
                                                "StudyDescription": f"pacs test {kind}"})

    folder.mkdir(parents=True, exist_ok=True)
    cine = patient(make_phantom(size=48, frames=20, coils=2, seed=7), "cine")
    mask = resolve_mask(cine, "vd-kt", 4.0, 2, 0)
    res = run_recon(cine, mask, "zero-filled")
    out = {"cine": write_recon(res, cine, folder / "cine", "dicom", recon_provenance(res, cine, "vd-kt", 4.0, 2, 0))}
    ct = patient(thick(make_ct_phantom(size=32, slices=18, seed=20_001), 3), "ct")
    out["ct"] = write_interpolation(interpolate(ct, "linear", 2), folder / "ct")
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real Orthanc for the test module (imported by each module as a fixture)."""
    srv = Orthanc(tmp_path_factory.mktemp("orthanc")).start()
    yield srv
    srv.kill()  # a graceful stop takes Orthanc a second or two; its storage is temporary anyway


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """``mrstudio ARGS`` in this process: ``(exit status, stdout, stderr)``."""
    from mrstudio.cli import main

    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def pixels_by_uid(folder: Path) -> dict[str, tuple[str, bytes]]:
    """SOPInstanceUID → (SeriesInstanceUID, PixelData) of every file in ``folder``."""
    import pydicom

    return {str(d.SOPInstanceUID): (str(d.SeriesInstanceUID), bytes(d.PixelData))
            for d in (pydicom.dcmread(f) for f in sorted(folder.glob("*.dcm")))}
