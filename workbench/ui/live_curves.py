"""Curves whose data is replaced in place, for 1-D views that update while a slider moves.

Re-rendering a HoloViews overlay on each slider step builds a new Bokeh figure on the
server (about 100 ms for three curves of 256 points) and makes the browser lay out and
draw a new plot (several hundred milliseconds on a busy 2-core machine), so a 1-D
explorer answered a slider step in about 1.2 s. :class:`LiveCurves` keeps one Bokeh
figure per session with a line per named curve and, on :meth:`LiveCurves.update`, only
swaps the data of the curves' sources (and the title), as
:class:`~workbench.ui.live_image.LiveImage` does for heat maps. Axes carry labels and
units; curves left out of an update are hidden. Exported figures do not use this view:
they are drawn from the result data by the family's HoloViews plots.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.plotting import figure

from .live_image import one_message


class LiveCurves(pn.viewable.Viewer):
    """A titled line plot of named curves (``{name: (label, colour)}``), updated in place."""

    def __init__(self, title: str, curves: dict[str, tuple[str, str]], x_label: str, y_label: str,
                 height: int = 320, css_classes: list[str] | None = None, **params: Any):
        super().__init__(**params)
        self.figure = figure(title=title, height=height, sizing_mode="stretch_width", x_axis_label=x_label,
                             y_axis_label=y_label, tools="pan,wheel_zoom,box_zoom,reset,save",
                             toolbar_location="above")
        self.sources: dict[str, ColumnDataSource] = {}
        self.renderers = {}
        for name, (label, color) in curves.items():
            self.sources[name] = ColumnDataSource(data={"x": [], "y": []})
            self.renderers[name] = self.figure.line("x", "y", source=self.sources[name], line_color=color,
                                                    line_width=2, legend_label=label)
        self.figure.add_tools(HoverTool(tooltips=[(x_label, "@x{0.000}"), (y_label, "@y{0.0000}")]))
        self.figure.legend.location = "top_left"
        self.view = pn.Column(pn.pane.Bokeh(self.figure), css_classes=css_classes or [], margin=0,
                              sizing_mode="stretch_width")

    def update(self, curves: dict[str, tuple[np.ndarray, np.ndarray]], title: str | None = None) -> None:
        """Show ``curves[name] = (x, y)``; named curves not given are hidden.

        In a served app call it under the document lock (a widget callback, or a result
        delivered by :class:`~workbench.ui.tasks.LatestRunner`).
        """
        unknown = set(curves) - set(self.sources)
        if unknown:
            raise ValueError(f"curves must be among {sorted(self.sources)}, got {sorted(unknown)}")
        with one_message():
            for name, source in self.sources.items():
                if name in curves:
                    x, y = curves[name]
                    source.data = {"x": np.asarray(x, float), "y": np.asarray(y, float)}
                self.renderers[name].visible = name in curves
            if title is not None:
                self.figure.title.text = title

    def __panel__(self) -> pn.viewable.Viewable:
        return self.view
