"""Safe writing: a temporary file in the target folder, renamed into place on success."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..core.errors import StudyError


def check_target(path: str | os.PathLike, force: bool = False) -> Path:
    """Validate an output path: folder exists, and no overwrite unless ``force``."""
    path = Path(path)
    if path.exists() and not force:
        raise StudyError(path, "already exists", cli_hint="use --force to overwrite")
    if not path.parent.exists():
        raise StudyError(path, f"folder {path.parent} does not exist")
    return path


def check_folder_target(folder: str | os.PathLike, force: bool = False) -> Path:
    """Validate an output folder (a DICOM series): its parent exists, and a non-empty one needs ``force``."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())) and not force:
        raise StudyError(folder, "exists and is not empty", cli_hint="use --force to replace it")
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
            raise StudyError(path, "already exists", cli_hint="use --force to overwrite")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_folder(folder: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling folder (``.NAME.XXXX.part``); rename it onto ``folder`` if the block succeeds.

    An existing non-empty ``folder`` needs ``force`` (checked before and again at the end, in case it
    was filled meanwhile) and is replaced only once the new one is complete. On any exception the
    temporary folder is removed and ``folder`` is untouched.
    """
    folder = check_folder_target(folder, force)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".part", dir=folder.parent))
    try:
        yield tmp
        old = None
        if folder.exists():
            if not force and any(folder.iterdir()):
                raise StudyError(folder, "was filled meanwhile (by another writer); nothing replaced")
            old = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            folder.rename(old)
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp makes 0700; give the folder the usual mode
        tmp.rename(folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
