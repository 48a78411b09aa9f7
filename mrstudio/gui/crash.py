"""Unexpected exceptions: log them with their traceback to a file and tell the user; keep running."""

from __future__ import annotations

import datetime as _dt
import os
import sys
import traceback
from pathlib import Path


def log_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    d = Path(base) / "mrstudio"
    d.mkdir(parents=True, exist_ok=True)
    return d


def log_exception(exc_type, exc, tb, context: str = "") -> Path:
    path = log_dir() / "mrstudio.log"
    with open(path, "a") as fh:
        fh.write(f"--- {_dt.datetime.now().isoformat(timespec='seconds')} {context}\n")
        fh.write("".join(traceback.format_exception(exc_type, exc, tb)))
    return path


def install_excepthook(parent_getter) -> None:
    """Route uncaught exceptions in Qt slots to a log file and a dialog instead of a crash."""

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        path = log_exception(exc_type, exc, tb, context="uncaught")
        try:
            from PySide6 import QtWidgets

            from ..core.errors import StudyError

            if QtWidgets.QApplication.platformName() in ("offscreen", "minimal"):  # no one to click a dialog away
                print(f"mrstudio: error: {exc_type.__name__}: {exc} (details in {path})", file=sys.stderr)
            elif isinstance(exc, StudyError):
                QtWidgets.QMessageBox.warning(parent_getter(), "MR Studio", str(exc))
            else:
                QtWidgets.QMessageBox.critical(parent_getter(), "MR Studio — unexpected error",
                                               f"{exc_type.__name__}: {exc}\n\nThe details were written to {path}.")
        except Exception:  # never let the hook itself crash the app
            sys.__excepthook__(exc_type, exc, tb)

    sys.excepthook = hook
