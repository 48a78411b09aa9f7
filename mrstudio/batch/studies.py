"""Finding the studies of a batch: files and folders (searched recursively), globs, a CSV manifest."""

from __future__ import annotations

import csv
import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import StudyError

STUDY_SUFFIXES = (".h5", ".hdf5", ".npz", ".mat")  # one study per file (MR Studio, OCMR, CMRxRecon, fastMRI)
BUILT_IN = ("phantom", "ct-phantom")
SKIP_SUFFIXES = (".csv", ".json", ".jsonl", ".txt", ".md", ".png", ".jpg", ".log", ".py", ".part")


@dataclass(frozen=True)
class StudyRef:
    """One study of a batch.

    ``path`` is what :func:`~mrstudio.io.open_study` opens (a file, a DICOM folder, ``phantom``…);
    ``name`` the unique, file-system-safe stem of its outputs; ``reference`` an optional study whose
    reference image the results are scored against (a CSV manifest's ``reference`` column).
    """

    path: str
    name: str
    reference: str | None = None


def _safe(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "study"


def _is_dicom_file(p: Path) -> bool:
    from ..io.dicom_files import dicom_kind

    try:
        return p.name.upper() == "DICOMDIR" or bool(dicom_kind(p))
    except (OSError, StudyError):
        return False


def _walk(root: Path) -> list[Path]:
    """Studies under the folder ``root``: every study file, every folder that holds DICOM files, and
    any other file in a folder without DICOM (except notes, tables and pictures: SKIP_SUFFIXES)."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        here = Path(folder)
        dicom_here = False
        others: list[Path] = []
        for f in sorted(files):
            p = here / f
            if f.startswith(".") or p.suffix.lower() in SKIP_SUFFIXES:
                continue
            if p.suffix.lower() in STUDY_SUFFIXES:
                found.append(p)
            elif dicom_here or _is_dicom_file(p):
                dicom_here = True
            else:
                others.append(p)
        if dicom_here:  # the folder is a DICOM study (its reader notes files that are not DICOM)
            found.append(here)
        else:  # not dropped silently: each becomes a study, which fails with the reader's reason
            found += others
    return found


def _name(p: Path, root: Path | None) -> str:
    rel = p.relative_to(root) if root is not None and p != root and root in p.parents else Path(p.name)
    parts = list(rel.parts)
    if parts and Path(parts[-1]).suffix.lower() in STUDY_SUFFIXES:
        parts[-1] = Path(parts[-1]).stem
    return _safe("__".join(parts) or p.name)


def _from_csv(path: Path) -> list[tuple[str, str | None, str | None]]:
    """``(study, reference, name)`` rows of a CSV manifest with a ``study`` column (paths relative to it)."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "study" not in rows[0]:
        raise StudyError(path, "a CSV manifest needs a header with a 'study' column (optional: reference, name)")

    def rel(v: str | None) -> str | None:
        if not v:
            return None
        q = Path(v)
        return str(q if q.is_absolute() or v in BUILT_IN or v.startswith("anatomy:") else path.parent / q)

    return [(rel(r["study"]) or "", rel(r.get("reference")), r.get("name") or None) for r in rows if r.get("study")]


def find_studies(items: list[str]) -> list[StudyRef]:
    """The studies named by ``items`` (paths, folders, globs, ``.csv`` manifests, ``pacs://NODE/SERIES_UID``),
    in order, each once.

    A path that does not exist (and matches nothing as a glob) is refused with :class:`StudyError`;
    a file that exists but cannot be read is kept: it becomes a failed record of the batch.
    """
    entries: list[tuple[str, str | None, str | None, Path | None]] = []  # (path, reference, name, root)
    for item in items:
        p = Path(item)
        if item in BUILT_IN or item.startswith("anatomy:"):  # what open_study makes itself
            entries.append((item, None, item.replace(":", "-"), None))
            continue
        if item.startswith("pacs://"):  # a series on a PACS: each task retrieves it into the cache (mrstudio.pacs)
            entries.append((item, None, "pacs-" + item.rstrip("/").rpartition("/")[2], None))
            continue
        if item.lower().endswith(".csv") and p.is_file():
            entries += [(s, r, n, None) for s, r, n in _from_csv(p)]
            continue
        matches = [Path(m) for m in sorted(glob.glob(item, recursive=True))] if glob.has_magic(item) else [p]
        if not matches or not (matches[0].exists() or matches[0].is_symlink()):
            raise StudyError(item, "no such file or folder" + (" (the pattern matches nothing)" if glob.has_magic(item) else ""))
        for m in matches:
            if m.is_dir():
                under = _walk(m)
                entries += [(str(s), None, None, m) for s in under]
            else:
                entries.append((str(m), None, None, None))
    out: list[StudyRef] = []
    seen_paths: set[str] = set()
    used: set[str] = set()
    for path, ref, name, root in entries:
        key = os.path.realpath(path) if os.path.exists(path) else path
        if key in seen_paths:
            continue
        seen_paths.add(key)
        stem = _safe(name) if name else _name(Path(path), root)
        unique, k = stem, 2
        while unique in used:
            unique, k = f"{stem}-{k}", k + 1
        used.add(unique)
        out.append(StudyRef(path, unique, ref))
    return out
