"""PACS nodes: the presets in the settings file, and what ``NODE`` means on the command line.

``NODE`` is a preset name, ``AET@HOST:PORT`` (DIMSE; ``AET@[::1]:PORT`` for IPv6) or an
``http(s)://…`` DICOMweb root. The presets live in one JSON file that the CLI and the GUI
both read, ``$MRSTUDIO_CONFIG_DIR/pacs.json`` or else ``$XDG_CONFIG_HOME/mrstudio/pacs.json``
(``~/.config/mrstudio/pacs.json``)::

    {"calling_aet": "MRSTUDIO",
     "nodes": {"orthanc": {"aet": "ORTHANC", "host": "127.0.0.1", "port": 4242,
                           "dicomweb": "http://127.0.0.1:8042/dicom-web",
                           "retrieve": "get", "research_only": true}}}

Node fields (all optional but a DIMSE address or a DICOMweb root): ``aet``, ``host``,
``port``, ``dicomweb``, ``via`` (``"dimse"`` or ``"dicomweb"`` when a node has both; default
DIMSE), ``calling_aet`` (MR Studio's AE title; the file's ``calling_aet``, else ``MRSTUDIO``),
``retrieve`` (``"get"``, the default, or ``"move"``: C-MOVE to MR Studio's own storage SCP,
started on ``storage_port`` for the transfer; the PACS must know ``calling_aet`` at that
port), ``tls`` with ``tls_ca`` / ``tls_cert`` / ``tls_key`` / ``tls_hostname``, ``timeout``
(seconds, for connecting, association and each message), ``retries`` (reconnections after a
refused or dropped connection) and ``research_only`` (no identifiable data is sent there).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from ..core.errors import StudyError

DEFAULT_CALLING_AET = "MRSTUDIO"
DEFAULT_STORAGE_PORT = 11112
_AET = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")  # AE: ≤ 16 characters, no backslash or control character
_DIMSE = re.compile(r"^(?P<aet>[^@]+)@(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:@\[\]]+)):(?P<port>\d{1,5})$")


@dataclass(frozen=True)
class Node:
    """One PACS: a DIMSE peer (``aet``, ``host``, ``port``), a DICOMweb root, or both."""

    name: str
    aet: str | None = None
    host: str | None = None
    port: int | None = None
    dicomweb: str | None = None
    via: str | None = None
    calling_aet: str = DEFAULT_CALLING_AET
    retrieve: str = "get"
    storage_port: int = DEFAULT_STORAGE_PORT
    tls: bool = False
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_hostname: str | None = None
    timeout: float = 10.0
    retries: int = 1
    research_only: bool = False

    def __post_init__(self) -> None:
        src = f"PACS node {self.name!r}"
        if self.host is None and self.dicomweb is None:
            raise StudyError(src, "needs a DIMSE address (aet, host, port) or a DICOMweb root (dicomweb)")
        if self.host is not None:
            if not self.aet or not _AET.match(self.aet):
                raise StudyError(src, f"AE title {self.aet!r} is not 1–16 printable characters")
            if not isinstance(self.port, int) or not 0 < self.port < 65536:
                raise StudyError(src, f"port {self.port!r} is not a TCP port (1–65535)")
        if not _AET.match(self.calling_aet or ""):
            raise StudyError(src, f"calling AE title {self.calling_aet!r} is not 1–16 printable characters")
        if self.dicomweb is not None and not self.dicomweb.startswith(("http://", "https://")):
            raise StudyError(src, f"DICOMweb root {self.dicomweb!r} is not an http(s):// URL")
        if self.via not in (None, "dimse", "dicomweb"):
            raise StudyError(src, f"via must be 'dimse' or 'dicomweb', not {self.via!r}")
        if (self.via == "dicomweb" and self.dicomweb is None) or (self.via == "dimse" and self.host is None):
            raise StudyError(src, f"has no {'DICOMweb root' if self.via == 'dicomweb' else 'DIMSE address'} "
                                  f"to go via {self.via}")
        if self.retrieve not in ("get", "move"):
            raise StudyError(src, f"retrieve must be 'get' or 'move', not {self.retrieve!r}")
        if not (isinstance(self.timeout, (int, float)) and self.timeout > 0):
            raise StudyError(src, f"timeout must be a positive number of seconds, not {self.timeout!r}")
        if not (isinstance(self.retries, int) and 0 <= self.retries <= 10):
            raise StudyError(src, f"retries must be a whole number from 0 to 10, not {self.retries!r}")

    @property
    def protocol(self) -> str:
        """``"dimse"`` or ``"dicomweb"``: what this node is reached by."""
        return self.via or ("dimse" if self.host is not None else "dicomweb")

    @property
    def label(self) -> str:
        """``AET@HOST:PORT`` or the DICOMweb root: how errors name the node."""
        if self.protocol == "dicomweb":
            return str(self.dicomweb).rstrip("/")
        host = f"[{self.host}]" if ":" in str(self.host) else self.host
        return f"{self.aet}@{host}:{self.port}"

    @property
    def source(self) -> str:
        """The ``source`` of this node's errors: ``PACS AET@HOST:PORT``."""
        return f"PACS {self.label}"

    def error(self, reason: str, cli_hint: str | None = None) -> StudyError:
        """A one-line :class:`StudyError` about this node."""
        return StudyError(self.source, reason, cli_hint)

    def to_dict(self) -> dict[str, Any]:
        """The preset's fields (without ``name``), defaults left out."""
        default = {f.name: f.default for f in fields(self)}
        return {k: v for k, v in asdict(self).items() if k != "name" and v != default[k]}


def config_path() -> Path:
    """The presets file: ``$MRSTUDIO_CONFIG_DIR/pacs.json``, else ``$XDG_CONFIG_HOME/mrstudio/pacs.json``."""
    if os.environ.get("MRSTUDIO_CONFIG_DIR"):
        return Path(os.environ["MRSTUDIO_CONFIG_DIR"]) / "pacs.json"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mrstudio" / "pacs.json"


def load_presets(path: str | Path | None = None) -> dict[str, Node]:
    """The presets by name (none when the file does not exist); a malformed file is an error."""
    path = Path(path) if path is not None else config_path()
    data = _settings(path)
    calling = data.get("calling_aet", DEFAULT_CALLING_AET)
    known = {f.name for f in fields(Node)} - {"name"}
    out = {}
    for name, spec in data.get("nodes", {}).items():
        if not isinstance(spec, dict):
            raise StudyError(path, f"node {name!r} must be a JSON object")
        unknown = sorted(set(spec) - known)
        if unknown:
            raise StudyError(path, f"node {name!r}: unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        try:
            out[name] = Node(name=name, **{"calling_aet": calling, **spec})
        except TypeError as exc:
            raise StudyError(path, f"node {name!r}: {exc}") from None
    return out


def _settings(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StudyError(path, f"unreadable PACS settings ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("nodes", {}), dict):
        raise StudyError(path, "PACS settings must be a JSON object with a 'nodes' object (name → node)")
    return data


def save_presets(nodes: dict[str, Node], path: str | Path | None = None, calling_aet: str | None = None) -> Path:
    """Write ``nodes`` as the presets file (atomically; the folder is created)."""
    from ..io.atomic import atomic_path

    path = Path(path) if path is not None else config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"nodes": {name: node.to_dict() for name, node in nodes.items()}}
    if calling_aet:
        data["calling_aet"] = calling_aet
    with atomic_path(path, force=True) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def parse_node(text: str, presets: dict[str, Node] | None = None, **overrides: Any) -> Node:
    """``NODE`` → :class:`Node`: a preset name, ``AET@HOST:PORT`` or an ``http(s)://`` DICOMweb root.

    ``overrides`` (e.g. ``timeout=5``, ``via="dicomweb"``) replace the preset's fields.
    """
    presets = load_presets() if presets is None else presets
    text = text.strip()
    if text in presets:
        node = presets[text]
    elif text.startswith(("http://", "https://")):
        node = Node(name=text, dicomweb=text.rstrip("/"))
    elif m := _DIMSE.match(text):
        calling = _settings(config_path()).get("calling_aet", DEFAULT_CALLING_AET)
        node = Node(name=text, aet=m["aet"], host=m["ip6"] or m["host"], port=int(m["port"]), calling_aet=calling)
    else:
        names = ", ".join(sorted(presets)) or "none"
        raise StudyError(f"PACS node {text!r}", f"not a preset (presets in {config_path()}: {names}), "
                                                "nor AET@HOST:PORT, nor an http(s):// DICOMweb root")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return replace(node, **overrides) if overrides else node
