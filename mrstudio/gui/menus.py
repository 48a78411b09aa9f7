"""The menu bar of the main window: File, Edit, Run, View and Help, each item bound to what already does the work.

Nothing here computes or keeps state: every action calls a method of the window's opener, exports, cine
controller, job bridge or mask editor (looked up when triggered, so a replaced mask editor is the one used).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtGui, QtWidgets

from .batch_dialog import batch_dialog
from .pacs_dialog import open_from_pacs, send_to_pacs
from .shortcuts import show_shortcuts
from .window_size import fit_to_screen

if TYPE_CHECKING:
    from .main_window import MainWindow


def action(menu: QtWidgets.QMenu, text: str, slot, shortcut=None) -> QtGui.QAction:
    """Add ``text`` to ``menu``, calling ``slot()`` (without Qt's ``checked`` argument) when triggered."""
    act = menu.addAction(text)
    act.triggered.connect(lambda _checked=False: slot())
    if shortcut is not None:
        act.setShortcut(QtGui.QKeySequence(shortcut))
    return act


def build_menus(win: MainWindow) -> None:
    """Fill ``win``'s menu bar; the docks, the opener and the controllers must exist already."""
    m = win.menuBar().addMenu("&File")
    action(m, "&Open study…", lambda: win.opener.open_dialog(), QtGui.QKeySequence.StandardKey.Open)
    m.addMenu(win.opener.recent_menu)
    action(m, "Open &DICOM folder…", win.opener.open_folder_dialog)
    action(m, "Open from &PACS…", lambda: open_from_pacs(win))
    action(m, "Open &phantom", lambda: win.opener.open_path("phantom"))
    m.addSeparator()
    action(m, "&Batch…", lambda: batch_dialog(win), "Ctrl+B")
    ex = m.addMenu("&Export")
    for text, slot in (("Result as HDF5 / NPZ…", win.exports.result_dialog),
                       ("Comparison movie (MP4 / GIF)…", win.exports.movie_dialog),
                       ("Current frame as PNG…", win.exports.png_dialog),
                       ("Result as DICOM series…", win.exports.dicom_dialog),
                       ("Send to PACS…", lambda: send_to_pacs(win))):
        action(ex, text, slot)
    ex.addSeparator()
    for text, extra in (("Pictures and movies: add error maps", "error"),
                        ("Pictures and movies: add x–t profiles", "xt")):
        act = ex.addAction(text)
        act.setCheckable(True)
        act.setChecked(extra in win.exports.extras)
        act.toggled.connect(lambda on, e=extra: win.exports.set_extra(e, on))
    m.addSeparator()
    action(m, "&Quit", win.close, QtGui.QKeySequence.StandardKey.Quit)
    edit = win.menuBar().addMenu("&Edit")
    action(edit, "&Undo mask edit", lambda: win.mask_editor.undo(), QtGui.QKeySequence.StandardKey.Undo)
    action(edit, "&Redo mask edit", lambda: win.mask_editor.redo(), "Ctrl+Shift+Z")
    action(edit, "&Apply mask (re-run slow methods)", lambda: win.cine.apply_mask(), "Ctrl+Return")
    action(edit, "&Snapshot the mask (A/B)", lambda: win.cine.snapshot())
    run = win.menuBar().addMenu("&Run")
    action(run, "Run selected methods", win.cine.run_selected, "Ctrl+R")
    action(run, "Add all losses at this R", win.cine.add_all_losses)
    action(run, "Cancel all jobs", win.bridge.cancel_all, "Ctrl+.")
    view = win.menuBar().addMenu("&View")
    for dock in (win.layers_dock, win.methods_dock, win.mask_dock, win.bottom_dock):
        view.addAction(dock.toggleViewAction())
    action(view, "Reset zoom", win.grid.reset_zoom, "Ctrl+0")
    action(view, "Fit the window to the screen", lambda: fit_to_screen(win))
    help_menu = win.menuBar().addMenu("&Help")
    action(help_menu, "&Keyboard shortcuts and mouse", lambda: show_shortcuts(win), "F1")
    action(help_menu, "About MR Studio", lambda: show_about(win))


def show_about(win: MainWindow) -> None:
    """Help → About: the version, what MR Studio does, and the device it computes on."""
    from .. import __version__

    QtWidgets.QMessageBox.about(win, "About MR Studio",
                                f"<b>MR Studio {__version__}</b><br>Accelerated cine MRI reconstruction and slice "
                                f"interpolation.<br>{win.status.device_label.text()}")
