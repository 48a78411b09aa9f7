"""Incoming instances → files: the one writer C-GET, C-MOVE and WADO-RS retrieves use.

Every instance is written as ``SOPInstanceUID.dcm`` with an exclusive create, so an
incoming store never overwrites a file: a second copy of an instance gets ``UID.2.dcm``.
A writer may be limited to one series (``series_uid``): the storage SCP of a C-MOVE then
refuses anything else that arrives while it listens.
"""

from __future__ import annotations

import threading
from pathlib import Path

from .query import _UID

# The image storage SOP classes MR Studio reads (and a few it may be sent alongside them)
IMAGE_STORAGE = {
    "MR": "1.2.840.10008.5.1.4.1.1.4", "Enhanced MR": "1.2.840.10008.5.1.4.1.1.4.1",
    "CT": "1.2.840.10008.5.1.4.1.1.2", "Enhanced CT": "1.2.840.10008.5.1.4.1.1.2.1",
    "Legacy Converted Enhanced MR": "1.2.840.10008.5.1.4.1.1.4.4",
    "Legacy Converted Enhanced CT": "1.2.840.10008.5.1.4.1.1.2.2",
    "Secondary Capture": "1.2.840.10008.5.1.4.1.1.7",
    "Multi-frame Grayscale Word Secondary Capture": "1.2.840.10008.5.1.4.1.1.7.3",
}
# Transfer syntaxes accepted for incoming instances: uncompressed first, then what io/dicom_codecs decodes
TRANSFER_SYNTAXES = [
    "1.2.840.10008.1.2.1",  # explicit VR little endian
    "1.2.840.10008.1.2",  # implicit VR little endian
    "1.2.840.10008.1.2.1.99",  # deflated explicit VR little endian
    "1.2.840.10008.1.2.4.70",  # JPEG lossless, first-order prediction
    "1.2.840.10008.1.2.4.57",  # JPEG lossless
    "1.2.840.10008.1.2.4.80",  # JPEG-LS lossless
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 lossless
    "1.2.840.10008.1.2.5",  # RLE lossless
]


class InstanceWriter:
    """Write incoming instances into ``folder`` (created if needed), never over an existing file.

    ``count`` is the number written; ``refused`` the number refused (another series).
    Thread-safe: pynetdicom calls :meth:`store` from its association threads.
    """

    def __init__(self, folder: str | Path, series_uid: str | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.series_uid = series_uid
        self.count = 0
        self.refused = 0
        self._lock = threading.Lock()

    def accepts(self, series_uid: str | None) -> bool:
        """Whether an instance of ``series_uid`` is wanted here."""
        return self.series_uid is None or series_uid == self.series_uid

    def write(self, data: bytes, sop_uid: str | None) -> Path:
        """Write one encoded DICOM file (preamble, meta and data set) under a new name; return its path."""
        stem = str(sop_uid) if sop_uid and _UID.match(str(sop_uid)) and len(str(sop_uid)) <= 64 else None
        with self._lock:
            self.count += 1
            stem = stem or f"IM{self.count:05d}"
            for k in range(1, 1000):
                path = self.folder / (f"{stem}.dcm" if k == 1 else f"{stem}.{k}.dcm")
                try:
                    fh = open(path, "xb")  # exclusive: never replaces a file
                except FileExistsError:
                    continue
                break
            else:  # pragma: no cover - a thousand copies of one instance
                raise FileExistsError(f"too many copies of {stem}")
        with fh:
            fh.write(data)
        return path

    def write_dataset(self, ds) -> Path:
        """Write a pydicom data set (with its file meta) as a DICOM file."""
        from io import BytesIO

        import pydicom

        buf = BytesIO()
        pydicom.dcmwrite(buf, ds, enforce_file_format=True)
        return self.write(buf.getvalue(), ds.get("SOPInstanceUID"))

    def store(self, event) -> int:
        """pynetdicom ``EVT_C_STORE`` handler: write the instance, answer a C-STORE status."""
        try:
            ds = event.dataset
            if not self.accepts(ds.get("SeriesInstanceUID")):
                with self._lock:
                    self.refused += 1
                return 0xA900  # data set does not match what this retrieve asked for
            self.write(event.encoded_dataset(include_meta=True), event.request.AffectedSOPInstanceUID)
        except OSError:
            return 0xA700  # out of resources: cannot write
        except Exception:
            return 0xC210  # cannot understand
        return 0x0000
