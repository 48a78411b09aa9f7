"""The Qt-free application model: what every front end shows and does (napari's ViewerModel pattern).

``CineWorkspace`` (a cine comparison), ``VolumeWorkspace`` (slice interpolation of a
volume) and the exports they share with the CLI. The GUI observes their events and calls
their methods; scripts and tests drive them directly.
"""
