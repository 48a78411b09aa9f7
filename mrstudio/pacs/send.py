"""What leaves for a PACS: a DICOM folder, a result file written as DICOM first, or a series the
caller writes into a temporary folder (``recon``/``interp --out pacs://NODE``, the GUI's Send).

Safety: a node marked ``research_only`` gets no identifiable data. Data count as
anonymised when MR Studio anonymised them (``anonymize``) or when every file says
PatientIdentityRemoved ``YES``; anything else is refused unless ``allow_identifiable``.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.errors import StudyError
from ..core.jobs import CancelToken, Progress, check, sub_progress
from . import client
from .anonymize import anonymise_files, is_anonymised
from .nodes import Node

SYNTHETIC_SOURCES = ("phantom", "ct-phantom", "anatomy:")  # studies MR Studio made: no patient to lose


SEND_CLI_HINT = "pass --anonymize, or --allow-identifiable if the data may go there"


def check_allowed(node: Node, anonymised: bool, allow_identifiable: bool = False, hint: str | None = None,
                  cli_hint: str = SEND_CLI_HINT) -> None:
    """Refuse identifiable data for a research-only node (unless ``allow_identifiable``).

    ``hint`` (the GUI's words, e.g. "tick Anonymise") goes into the reason; ``cli_hint`` is the CLI's.
    """
    if node.research_only and not anonymised and not allow_identifiable:
        raise node.error("is marked research-only and the data are not anonymised; nothing sent"
                         + (f" ({hint})" if hint else ""), cli_hint=None if hint else cli_hint)


def _summary(node: Node, files: list[Path], n: int, seconds: float, anonymised: bool) -> dict[str, Any]:
    import pydicom

    head = pydicom.dcmread(files[0], stop_before_pixels=True, specific_tags=["SeriesInstanceUID", "StudyInstanceUID"])
    return {"node": node.label, "sent": n, "series_uid": str(head.get("SeriesInstanceUID", "")),
            "study_uid": str(head.get("StudyInstanceUID", "")), "anonymised": anonymised,
            "seconds": round(seconds, 3)}


def send_files(node: Node, files: list[Path], anonymize: bool = False, allow_identifiable: bool = False,
               progress: Progress | None = None, cancel: CancelToken | None = None,
               cli_hint: str = SEND_CLI_HINT) -> dict[str, Any]:
    """Send DICOM ``files`` (anonymised copies when ``anonymize``); a summary (sent, series UID, seconds)."""
    files = [Path(p) for p in files]
    if not files:
        raise node.error("nothing to send (no DICOM files)")
    anonymised = anonymize or is_anonymised(files)
    check_allowed(node, anonymised, allow_identifiable, cli_hint=cli_hint)
    with tempfile.TemporaryDirectory(prefix="mrstudio-send-") as tmp:
        if anonymize:
            files = anonymise_files(files, Path(tmp), sub_progress(progress, 0.0, 0.3), cancel)
        t0 = time.perf_counter()
        n = client.store(node, files, sub_progress(progress, 0.3 if anonymize else 0.0, 1.0), cancel)
        return _summary(node, files, n, time.perf_counter() - t0, anonymised)


def send_written(write: Callable[[Path], Path], node: Node, anonymised: bool, allow_identifiable: bool = False,
                 progress: Progress | None = None, cancel: CancelToken | None = None,
                 hint: str | None = None, cli_hint: str = "export with --anonymize") -> dict[str, Any]:
    """``write(folder)`` a DICOM series into a temporary folder (the shared exporters), send it, remove it.

    ``anonymised`` says whether ``write`` anonymises; the research-only check runs before anything is written.
    """
    check_allowed(node, anonymised, allow_identifiable, hint, cli_hint)
    with tempfile.TemporaryDirectory(prefix="mrstudio-send-") as tmp:
        folder = Path(write(Path(tmp) / "series"))
        check(cancel)
        files = sorted(folder.glob("*.dcm"))
        t0 = time.perf_counter()
        n = client.store(node, files, sub_progress(progress, 0.3, 1.0), cancel)
        return _summary(node, files, n, time.perf_counter() - t0, anonymised)


def result_to_dicom(path: Path, folder: Path, anonymize: bool = False) -> Path:
    """A ``.h5``/``.npz`` result as an MR series in ``folder``, belonging to the patient and study of its source.

    The patient and study come from the source the result was reconstructed from (its
    provenance names it) when that is a DICOM series still at hand; a result of MR
    Studio's own phantoms needs none. Anything else is refused unless ``anonymize`` (then
    it becomes a new anonymous study, on the result's own geometry).
    """
    from ..core.fft import ifft2c
    from ..io import open_study
    from ..io.dicom_export import write_cine_dicom
    from ..io.native import read_native

    res = read_native(path)
    prov = res.meta.get("provenance") or {}
    if not prov.get("method"):
        raise StudyError(path, "is not an MR Studio result file (no provenance with a method); send a DICOM folder")
    image = ifft2c(res.kspace[0])  # a result file's k-space is the FFT of its image (io.native)
    source = str(prov.get("study") or "")
    study = res
    if source and Path(source).exists():
        try:
            src = open_study(source)
        except StudyError:
            src = None
        if src is not None and src.format == "dicom":
            study = dataclasses.replace(res, meta={**src.meta, "provenance": prov},
                                        geometry=res.geometry or src.geometry)
        elif not anonymize:
            raise StudyError(path, f"its source {source} is not a DICOM series, so the patient and study it belongs "
                                   "to are unknown; it can only be sent anonymised, as a new study",
                             cli_hint="pass --anonymize")
    elif not source.startswith(SYNTHETIC_SOURCES) and not anonymize:
        raise StudyError(path, f"its source ({source or 'not recorded'}) is not at hand, so the patient and study it "
                               "belongs to are unknown; send the DICOM export of the result, or send it anonymised",
                         cli_hint="pass --anonymize")
    return write_cine_dicom(image, folder, study=study, provenance=prov, anonymize=anonymize)


def send_path(node: Node, path: str | Path, anonymize: bool = False, allow_identifiable: bool = False,
              progress: Progress | None = None, cancel: CancelToken | None = None) -> dict[str, Any]:
    """Send a DICOM folder/file, or a ``.h5``/``.npz`` result file (written as DICOM first)."""
    from ..io.dispatch import sniff

    path = Path(path)
    kind = sniff(path)
    if kind == "dicom":
        from ..io.dicom_files import collect

        return send_files(node, collect(path).files, anonymize, allow_identifiable, progress, cancel)
    check_allowed(node, anonymize, allow_identifiable)
    tmp = Path(tempfile.mkdtemp(prefix="mrstudio-send-"))
    try:
        folder = result_to_dicom(path, tmp / "series", anonymize=anonymize)
        return send_files(node, sorted(folder.glob("*.dcm")), False, True, sub_progress(progress, 0.1, 1.0), cancel) | {
            "anonymised": anonymize}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
