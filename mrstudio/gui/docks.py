"""The main window's docks: making one, letting it scroll, and their sizes for the screen.

Left: *Layers* above *Methods* (tabbed together on a small screen) or *Slice interpolation* for a volume;
right: the *Mask* editor; bottom: the *Analysis* tabs. Which widgets go into them is the window's business.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


def scrolled(widget: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """``widget`` in a frameless scroll area (a dock may then be smaller than its content)."""
    area = QtWidgets.QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    area.setWidget(widget)
    return area


def add_dock(window: QtWidgets.QMainWindow, title: str, widget: QtWidgets.QWidget,
             area: QtCore.Qt.DockWidgetArea) -> QtWidgets.QDockWidget:
    """A closable dock titled ``title`` (object name ``dock-TITLE``) holding ``widget``, added in ``area``."""
    dock = QtWidgets.QDockWidget(title, window)
    dock.setObjectName(f"dock-{title}")
    dock.setFeatures(dock.features() | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable)
    dock.setWidget(widget)
    window.addDockWidget(area, dock)
    return dock


def arrange_docks(window: QtWidgets.QMainWindow, layers: QtWidgets.QDockWidget, methods: QtWidgets.QDockWidget,
                  mask: QtWidgets.QDockWidget, bottom: QtWidgets.QDockWidget) -> None:
    """Dock sizes for the screen: narrow side docks and a low analysis strip on small screens."""
    screen = window.screen().availableGeometry()
    small = screen.width() < 1600 or screen.height() < 900
    if small:
        window.tabifyDockWidget(layers, methods)
        layers.raise_()
    else:
        window.splitDockWidget(layers, methods, QtCore.Qt.Orientation.Vertical)
    window.resizeDocks([layers, mask], [230 if small else 270, 290 if small else 340],
                       QtCore.Qt.Orientation.Horizontal)
    window.resizeDocks([bottom], [170 if small else 280], QtCore.Qt.Orientation.Vertical)
