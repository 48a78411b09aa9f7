"""Image views: cine panels, the linked comparison grid, and a helper to link plot axes."""


def link_axes(plots) -> None:
    """Link the x and y ranges of every plot to the first one (zoom and pan together)."""
    plots = list(plots)
    for plot in plots[1:]:
        plot.setXLink(plots[0])
        plot.setYLink(plots[0])
