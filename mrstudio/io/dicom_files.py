"""Which files make up a DICOM input, and their headers, read without surprises.

* a **folder** is searched recursively; files without the DICM preamble (PS3.10 7.1) are
  recognised by their first element and read with ``force``;
* a **single file** opens its series from its own folder only (not sub-folders, not the
  parents); siblings are read by header only, and unreadable siblings are skipped with a
  note, while an unreadable chosen file is an error;
* a **DICOMDIR** lists its instances through :mod:`pydicom.fileset`;
* non-regular files (FIFOs, devices, sockets) are refused, never opened.

pydicom's warnings and log messages are captured into the notes (``info`` shows them)
instead of reaching stderr, so the CLI's error stays one line.
"""

from __future__ import annotations

import contextlib
import logging
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import StudyError

_GROUPS = (b"\x02\x00", b"\x08\x00")  # file meta group or identifying group, little endian


@dataclass
class Inputs:
    """The files of a DICOM input: ``label`` for messages, ``focus`` the file the user named (if one)."""

    label: Path
    files: list[Path]
    focus: Path | None = None
    notes: list[str] = field(default_factory=list)


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def dicom_kind(path: Path) -> str | None:
    """``"preamble"`` (a PS3.10 file), ``"raw"`` (a data set without preamble) or ``None``."""
    if not _regular(path):
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return None
    if len(head) == 132 and head[128:132] == b"DICM":
        return "preamble"
    if len(head) >= 8 and head[:2] in _GROUPS and head[2:4] < b"\xff\xff":
        vr = head[4:6]
        if vr.isalpha() and vr.isupper():  # explicit VR little endian
            return "raw"
        length = int.from_bytes(head[4:8], "little")  # implicit VR: a plausible element length
        if length < 1 << 16:
            return "raw"
    return None


def looks_like_dicom(path: Path, limit: int = 200) -> bool:
    """A DICOM file (with or without preamble), or a folder holding at least one among its first ``limit`` files."""
    if path.is_dir():
        return any(dicom_kind(p) for p in _walk(path, limit=limit))
    return dicom_kind(path) is not None


def _walk(folder: Path, limit: int | None = None, recursive: bool = True):
    n = 0
    for p in sorted(folder.rglob("*") if recursive else folder.iterdir()):
        if p.is_file():
            yield p
            n += 1
            if limit is not None and n >= limit:
                return


def collect(source: str | Path | list) -> Inputs:
    """The candidate DICOM files of ``source`` (see the module docstring)."""
    if isinstance(source, (list, tuple)):
        files = [Path(p) for p in source]
        inputs = Inputs(files[0].parent if files else Path("<no files>"), files)
    else:
        label = Path(source)
        if not label.exists():
            raise StudyError(label, "file or folder not found")
        if label.is_dir():
            files = [p for p in _walk(label) if p.name.upper() != "DICOMDIR" and dicom_kind(p)]
            inputs = Inputs(label, files)
        elif not _regular(label):
            raise StudyError(label, "not a regular file (a FIFO, device or socket); give a file or a folder")
        elif label.name.upper() == "DICOMDIR":
            notes: list[str] = []
            inputs = Inputs(label, dicomdir_files(label, notes), notes=notes)
        else:
            if dicom_kind(label) is None:
                raise StudyError(label, "not a DICOM file")
            siblings = [p for p in _walk(label.parent, recursive=False)
                        if p != label and p.name.upper() != "DICOMDIR" and dicom_kind(p)]
            inputs = Inputs(label, [label, *siblings], focus=label)
    if not inputs.files:
        raise StudyError(inputs.label, "no DICOM files found")
    raw = sum(1 for p in inputs.files if dicom_kind(p) == "raw")
    if raw:
        inputs.notes.append(f"{raw} file(s) without the DICOM preamble read anyway (force)")
    return inputs


def dicomdir_files(path: Path, notes: list[str]) -> list[Path]:
    """The files a DICOMDIR references (PS3.10 media storage), in its directory order.

    pydicom's FileSet drops a record whose file is gone (with a warning); MR Studio refuses
    such a DICOMDIR rather than open part of a series.
    """
    import pydicom
    from pydicom.fileset import FileSet  # a sub-module: `import pydicom` alone does not load it

    try:
        with pydicom_notes(notes):
            ds = pydicom.dcmread(path)
            fs = FileSet(ds)
        files = [Path(inst.path) for inst in fs]
        referenced = sum(1 for rec in ds.get("DirectoryRecordSequence", []) if "ReferencedFileID" in rec)
    except Exception as exc:
        raise StudyError(path, f"unreadable DICOMDIR ({type(exc).__name__}: {exc})") from None
    missing = [p for p in files if not p.is_file()]
    if missing or referenced > len(files):
        n = len(missing) + referenced - len(files)
        what = f", e.g. {missing[0]}" if missing else ""
        raise StudyError(path, f"the DICOMDIR references {n} file(s) that do not exist{what}")
    return files


class _ListHandler(logging.Handler):
    def __init__(self, out: list[str]):
        super().__init__(logging.WARNING)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        self.out.append(record.getMessage())


@contextlib.contextmanager
def pydicom_notes(notes: list[str]):
    """Capture pydicom's warnings and log messages into ``notes`` (deduplicated, one line each)."""
    caught: list[str] = []
    logger = logging.getLogger("pydicom")
    handler = _ListHandler(caught)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("ignore")  # what pydicom itself warns is recorded; nothing else is
            warnings.filterwarnings("always", module=r"pydicom(\..*)?$")
            yield
        caught.extend(str(w.message) for w in ws)
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
        for msg in caught:
            line = "pydicom: " + " ".join(msg.split())
            if line not in notes:
                notes.append(line[:300])


def read_header(path: Path, notes: list[str]) -> Any:
    """The data set of ``path`` without its pixel data (``force`` for files without preamble)."""
    import pydicom

    with pydicom_notes(notes):
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=dicom_kind(path) == "raw")
        ds.walk(lambda _ds, _elem: None)  # convert every value now, so that pydicom's warnings are caught here
    return ds


def series_uid(path: Path) -> str | None:
    """Only the SeriesInstanceUID of ``path`` (cheap: the other values are skipped); raises if unreadable."""
    import pydicom

    with pydicom_notes([]):
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=dicom_kind(path) == "raw",
                             specific_tags=["SeriesInstanceUID"])
        return str(ds.get("SeriesInstanceUID", "")) or None


def read_full(path: Path, notes: list[str]) -> Any:
    """The whole data set of ``path``, with a transfer syntax set when a preamble-less file had none."""
    import pydicom
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

    with pydicom_notes(notes):
        ds = pydicom.dcmread(path, force=dicom_kind(path) == "raw")
        if "TransferSyntaxUID" not in getattr(ds, "file_meta", {}):
            from pydicom.dataset import FileMetaDataset

            ds.file_meta = getattr(ds, "file_meta", None) or FileMetaDataset()
            implicit = getattr(ds, "original_encoding", (True, True))[0]
            ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    return ds
