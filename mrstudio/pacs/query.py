"""What a PACS search asks for and what it answers, the same over DIMSE (C-FIND) and DICOMweb (QIDO-RS).

A :class:`Query` holds the filters (patient name with ``*`` wildcards, patient ID, study
date or range, modality, series description); a search answers one row per series
(:data:`SERIES_KEYS`), per study or per patient. Description matching is done here,
case-insensitively, so that it behaves the same on every server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..core.errors import StudyError

LEVELS = ("patient", "study", "series")
# row key → DICOM keyword; patient_name/patient_id are shown to the user, never logged
SERIES_KEYS = {"patient_name": "PatientName", "patient_id": "PatientID", "study_uid": "StudyInstanceUID",
               "study_date": "StudyDate", "study_description": "StudyDescription",
               "series_uid": "SeriesInstanceUID", "series_number": "SeriesNumber", "modality": "Modality",
               "series_description": "SeriesDescription", "instances": "NumberOfSeriesRelatedInstances"}
STUDY_KEYS = {k: SERIES_KEYS[k] for k in ("patient_name", "patient_id", "study_uid", "study_date",
                                          "study_description")} | {
    "modalities": "ModalitiesInStudy", "series": "NumberOfStudyRelatedSeries",
    "instances": "NumberOfStudyRelatedInstances"}
PATIENT_KEYS = {"patient_name": "PatientName", "patient_id": "PatientID", "birth_date": "PatientBirthDate",
                "studies": "NumberOfPatientRelatedStudies"}
KEYS = {"patient": PATIENT_KEYS, "study": STUDY_KEYS, "series": SERIES_KEYS}
_INTS = ("series_number", "instances", "series", "studies")
_DATE = re.compile(r"^(\d{8})?(-)?(\d{8})?$")
_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def parse_date_range(text: str | None) -> str | None:
    """``YYYYMMDD``, ``A-B``, ``A-`` or ``-B`` (DICOM date range) → the same, checked; ``None`` stays ``None``."""
    if not text:
        return None
    m = _DATE.match(text.strip())
    if not m or not (m[1] or m[3]) or (m[3] and not m[2]):
        raise StudyError(f"study date {text!r}", "expected YYYYMMDD or a range YYYYMMDD-YYYYMMDD (either end open)")
    if m[1] and m[3] and m[1] > m[3]:
        raise StudyError(f"study date {text!r}", "the range ends before it starts")
    return text.strip()


def check_uid(uid: str, what: str = "series UID") -> str:
    """A DICOM UID (digits and dots, ≤ 64 characters), safe to use as a folder name."""
    uid = str(uid).strip()
    if not _UID.match(uid) or len(uid) > 64:
        raise StudyError(f"{what} {uid!r}", "not a DICOM UID (digits and dots, at most 64 characters)")
    return uid


@dataclass(frozen=True)
class Query:
    """Search filters; empty ones match everything. ``patient_name`` may hold ``*`` and ``?`` wildcards."""

    patient_name: str | None = None
    patient_id: str | None = None
    study_date: str | None = None
    modality: str | None = None
    description: str | None = None
    study_uid: str | None = None
    series_uid: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "study_date", parse_date_range(self.study_date))
        for k in ("patient_name", "patient_id", "modality", "description", "study_uid", "series_uid"):
            v = getattr(self, k)
            object.__setattr__(self, k, (v.strip() or None) if isinstance(v, str) else v)
        if self.modality:
            object.__setattr__(self, "modality", self.modality.upper())
        for k in ("study_uid", "series_uid"):
            if getattr(self, k):
                check_uid(getattr(self, k), k.replace("_", " ").replace("uid", "UID"))

    def matching(self, level: str) -> dict[str, str]:
        """DICOM keyword → matching value for a search at ``level`` (only the filters that level supports)."""
        keys = {"PatientName": self.patient_name, "PatientID": self.patient_id}
        if level in ("study", "series"):
            keys.update(StudyDate=self.study_date, StudyInstanceUID=self.study_uid)
        if level == "study":
            keys["ModalitiesInStudy"] = self.modality
        if level == "series":
            keys.update(Modality=self.modality, SeriesInstanceUID=self.series_uid)
        return {k: v for k, v in keys.items() if v}

    def keep(self, row: dict[str, Any]) -> bool:
        """Whether a series row passes the filters a server may not apply alike (description, modality)."""
        if self.description and self.description.lower() not in str(row.get("series_description") or "").lower():
            return False
        return not (self.modality and row.get("modality") and str(row["modality"]).upper() != self.modality)

    def keep_patient(self, row: dict[str, Any]) -> bool:
        """Whether a row's patient matches ``patient_name`` (any case) and ``patient_id`` (exactly, wildcards allowed)."""
        return ((not self.patient_name or wildcard_match(self.patient_name, row.get("patient_name")))
                and (not self.patient_id or wildcard_match(self.patient_id, row.get("patient_id"), fold_case=False)))


def wildcard_match(pattern: str, value: str | None, fold_case: bool = True) -> bool:
    """DICOM wildcard matching (``*`` any run, ``?`` one character), trailing ``^`` and spaces ignored."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.rstrip("^ "))
    return re.fullmatch(rx, (value or "").rstrip("^ "), re.IGNORECASE if fold_case else 0) is not None


def row_from(values: dict[str, Any], level: str) -> dict[str, Any]:
    """A result row from DICOM keyword → value (``None`` where the server gave nothing)."""
    row: dict[str, Any] = {}
    for key, keyword in KEYS[level].items():
        v = values.get(keyword)
        if isinstance(v, (list, tuple)):
            v = "\\".join(str(x) for x in v)
        v = None if v in (None, "") else str(v)
        if v is not None and key in _INTS:
            try:
                v = int(float(v))
            except ValueError:
                v = None
        row[key] = v
    return row


def sort_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest study first, then by series number."""
    rows = sorted(rows, key=lambda r: (r.get("study_uid") or "", r.get("series_number") or 0, r.get("series_uid") or ""))
    return sorted(rows, key=lambda r: str(r.get("study_date") or ""), reverse=True)  # stable: keeps the order above
