"""Help → Keyboard shortcuts and mouse: one table, also the source of the list in ``docs/guide.md``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtWidgets

if TYPE_CHECKING:
    from .main_window import MainWindow

SHORTCUTS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Frames and playback", [
        ("Space", "play / pause"),
        ("← / →", "previous / next frame (or slice)"),
        ("Mouse wheel over a panel", "previous / next frame (or slice)"),
    ]),
    ("Panels (every panel, linked)", [
        ("Left-drag", "pan"),
        ("Ctrl + wheel", "zoom about the pointer"),
        ("Right-drag", "window/level: right widens the window, up raises the level"),
        ("Double-click", "fit the image again"),
        ("Ctrl+0", "reset zoom"),
        ("Drag the blue line / green box (first panel)", "x–t profile line / ROI measured in every panel"),
    ]),
    ("Mask editor", [
        ("Left-drag (or click) on the ky–t mask", "paint ky lines (brush: lines per point; Symmetric: mirrored)"),
        ("Shift + left-drag", "erase ky lines"),
        ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo a stroke or a mask change"),
        ("Ctrl+Return", "Apply: the mask for every method, CS included"),
    ]),
    ("Layers", [
        ("Tick / untick", "show / hide a panel"),
        ("Drag a row, or ▲ ▼", "reorder the panels"),
        ("Delete", "remove the selected layers (results stay cached)"),
    ]),
    ("Window", [
        ("Ctrl+O", "open a study"),
        ("Ctrl+R", "run the ticked methods (what is cached is not re-run)"),
        ("Ctrl+.", "cancel all jobs"),
        ("Ctrl+B", "batch over a folder"),
        ("F1", "this list"),
        ("Ctrl+Q", "quit"),
    ]),
]


def shortcuts_html() -> str:
    rows = []
    for section, items in SHORTCUTS:
        rows.append(f"<tr><td colspan=2><br><b>{section}</b></td></tr>")
        rows += [f"<tr><td style='padding-right:16px'><tt>{k}</tt></td><td>{v}</td></tr>" for k, v in items]
    return "<table>" + "".join(rows) + "</table>"


def shortcuts_markdown() -> str:
    """The same list as Markdown tables (``docs/guide.md``)."""
    out = []
    for section, items in SHORTCUTS:
        out += [f"**{section}**", "", "| keys / mouse | does |", "|---|---|"]
        out += [f"| {k} | {v} |" for k, v in items]
        out.append("")
    return "\n".join(out)


def show_shortcuts(win: MainWindow) -> QtWidgets.QDialog:
    """A non-modal dialog with the list."""
    dialog = QtWidgets.QDialog(win)
    dialog.setWindowTitle("Keyboard shortcuts and mouse")
    text = QtWidgets.QTextBrowser()
    text.setHtml(shortcuts_html())
    buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.close)
    layout = QtWidgets.QVBoxLayout(dialog)
    layout.addWidget(text)
    layout.addWidget(buttons)
    dialog.resize(620, 560)
    dialog.show()
    return dialog
