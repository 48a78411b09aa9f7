"""The main window's size and place on its screen: the first size, the saved geometry, and keeping it on screen.

A geometry saved on a larger screen (or a second monitor since unplugged) must not leave the window, or
part of it, outside the screen it opens on; :func:`fit_to_screen` is applied after restoring it, once more
when the window manager's frame is known (the first show), and from View → Fit the window to the screen.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


def default_size(avail: QtCore.QSize) -> tuple[int, int]:
    """The first window size: 1600 × 1000, or the available screen less a margin."""
    return min(1600, avail.width() - 40), min(1000, avail.height() - 60)


def restore_saved_geometry(window: QtWidgets.QWidget, settings: QtCore.QSettings) -> None:
    """The geometry ``window`` had when last closed (if any is saved), then fitted to this screen."""
    geometry = settings.value("geometry")
    if isinstance(geometry, QtCore.QByteArray):
        window.restoreGeometry(geometry)
    fit_to_screen(window)


def fit_to_screen(window: QtWidgets.QWidget) -> None:
    """Keep the whole window on its screen: shrink it to the available area and move it inside."""
    avail = window.screen().availableGeometry()
    frame = window.frameGeometry()
    extra = frame.size() - window.geometry().size()  # the window manager's frame
    w = min(window.width(), avail.width() - extra.width())
    h = min(window.height(), avail.height() - extra.height())
    if (w, h) != (window.width(), window.height()):
        window.resize(w, h)
    frame = window.frameGeometry()
    x = min(max(frame.x(), avail.x()), avail.right() - frame.width() + 1)
    y = min(max(frame.y(), avail.y()), avail.bottom() - frame.height() + 1)
    if (x, y) != (frame.x(), frame.y()):
        window.move(x, y)
