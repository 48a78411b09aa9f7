"""Anonymise DICOM files before they leave for a PACS (``mrstudio pacs send --anonymize``).

The same choices as the exporter's ``anonymize=True`` (:mod:`mrstudio.io.dicom_export`):
patient name ``Anonymous``, patient ID ``ANON``, birth date and sex emptied, study
identifiers (accession number, study ID, referring physician) emptied, and a new
StudyInstanceUID. Beyond that, the identifying attributes of :data:`REMOVE` and all private
elements are deleted, and the Study, Series, SOP Instance and Frame of Reference UIDs are
replaced by UIDs derived from the originals (the same source gives the same anonymous
series every time, and the files of a series stay one series). PatientIdentityRemoved is
``YES``. Dates stay. This is not the whole PS3.15 Basic Application Level Confidentiality
Profile: identifiers burned into the pixels, or hidden in free-text descriptions, stay too.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..core.jobs import CancelToken, Progress, check, report

EMPTY = ("PatientBirthDate", "PatientSex", "AccessionNumber", "StudyID", "ReferringPhysicianName")
REMOVE = ("OtherPatientIDs", "OtherPatientIDsSequence", "OtherPatientNames", "PatientBirthName", "PatientAddress",
          "PatientTelephoneNumbers", "PatientMotherBirthName", "MilitaryRank", "BranchOfService",
          "MedicalRecordLocator", "PatientComments", "PatientBirthTime", "PatientAge", "PatientWeight", "PatientSize",
          "EthnicGroup", "Occupation", "AdditionalPatientHistory", "InstitutionName", "InstitutionAddress",
          "InstitutionalDepartmentName", "PerformingPhysicianName", "OperatorsName", "PhysiciansOfRecord",
          "NameOfPhysiciansReadingStudy", "RequestingPhysician", "ReferringPhysicianAddress",
          "ReferringPhysicianTelephoneNumbers", "StationName", "DeviceSerialNumber", "RequestAttributesSequence",
          "ReferencedPatientSequence", "ReferencedStudySequence", "ReferencedPerformedProcedureStepSequence",
          "SourceImageSequence", "ReferencedImageSequence", "IssuerOfPatientID", "PerformedProcedureStepID",
          "ScheduledProcedureStepID", "RequestedProcedureID", "AdmissionID", "CurrentPatientLocation")
UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")
_SALT = "mrstudio-anonymised"


def _new_uid(old: str) -> str:
    from pydicom.uid import generate_uid

    return generate_uid(entropy_srcs=[_SALT, str(old)])


def anonymise_dataset(ds) -> None:
    """Anonymise ``ds`` in place (see the module docstring)."""
    ds.remove_private_tags()
    ds.PatientName, ds.PatientID = "Anonymous", "ANON"
    for kw in EMPTY:
        setattr(ds, kw, "")
    for kw in REMOVE:
        if kw in ds:
            delattr(ds, kw)
    for kw in UIDS:
        if kw in ds and ds.get(kw):
            setattr(ds, kw, _new_uid(ds.get(kw)))
    if hasattr(ds, "file_meta") and "SOPInstanceUID" in ds:
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "MR Studio: identifiers replaced, private attributes removed"


def anonymise_files(files: Iterable[Path], folder: Path, progress: Progress | None = None,
                    cancel: CancelToken | None = None) -> list[Path]:
    """Anonymised copies of ``files`` in ``folder`` (an existing, empty folder); the originals are untouched."""
    import pydicom

    files = list(files)
    out = []
    for i, path in enumerate(files):
        check(cancel)
        ds = pydicom.dcmread(path)
        anonymise_dataset(ds)
        target = Path(folder) / f"AN{i + 1:05d}.dcm"
        ds.save_as(target, enforce_file_format=True)
        out.append(target)
        report(progress, (i + 1) / len(files), f"anonymised {i + 1}/{len(files)}")
    return out


def is_anonymised(files: Iterable[Path]) -> bool:
    """Whether every file says PatientIdentityRemoved ``YES`` (as MR Studio's anonymised exports do)."""
    import pydicom

    files = list(files)
    return bool(files) and all(
        str(pydicom.dcmread(p, stop_before_pixels=True, specific_tags=["PatientIdentityRemoved"])
            .get("PatientIdentityRemoved", "")).upper() == "YES" for p in files)
