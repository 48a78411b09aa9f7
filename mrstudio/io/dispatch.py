"""Open any supported study by looking at its content, not only its extension."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import StudyError
from ..core.study import CineStudy, CTStudy

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"


def sniff(path: Path) -> str:
    """Name the format of ``path``: ``"hdf5"``, ``"npz"``, or raise :class:`StudyError`."""
    if not path.exists():
        raise StudyError(path, "file not found")
    if path.is_dir():
        raise StudyError(path, "is a folder with no study this version can read")
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise StudyError(path, f"cannot be read ({exc.strerror})") from None
    if not head:
        raise StudyError(path, "file is empty")
    if head.startswith(HDF5_MAGIC) or (len(head) >= 520 and head[512:520] == HDF5_MAGIC):
        return "hdf5"
    if head.startswith(ZIP_MAGIC):
        return "npz"
    raise StudyError(path, "not a study file this version can read (expected HDF5 or NPZ)")


def open_study(path: str | Path, **options) -> CineStudy | CTStudy:
    """Open a study: ``"phantom"`` (the built-in phantom) or a path.

    ``options`` are passed to the reader (``seed``, ``size``, … for the phantom).
    """
    if str(path) == "phantom":
        from ..core.phantom import make_phantom

        return make_phantom(**options)
    p = Path(path)
    kind = sniff(p)
    if kind == "npz" and p.suffix != ".npz":
        raise StudyError(p, "a zip archive that is not a .npz study")
    if kind == "hdf5" and p.suffix == ".npz":
        raise StudyError(p, "HDF5 content with a .npz name")
    from .native import read_native

    return read_native(p)
