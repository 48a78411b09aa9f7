"""Safe writing: a temporary file in the target folder, renamed into place on success."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..core.errors import StudyError


def check_target(path: str | os.PathLike, force: bool = False) -> Path:
    """Validate an output path: folder exists, and no overwrite unless ``force``."""
    path = Path(path)
    if path.exists() and not force:
        raise StudyError(path, "already exists (use --force to overwrite)")
    if not path.parent.exists():
        raise StudyError(path, f"folder {path.parent} does not exist")
    return path


def check_folder_target(folder: str | os.PathLike, force: bool = False) -> Path:
    """Validate an output folder (a DICOM series): its parent exists, and a non-empty one needs ``force``."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())) and not force:
        raise StudyError(folder, "exists and is not empty (use --force to replace it)")
    if not folder.parent.exists():
        raise StudyError(folder, f"folder {folder.parent} does not exist")
    return folder


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds.

    On any exception the temporary file is removed and ``path`` (if it existed) is untouched.
    """
    path = check_target(path, force)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if path.exists() and not force:  # appeared meanwhile
            raise StudyError(path, "already exists (use --force to overwrite)")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
