"""A heat map whose data is replaced in place, for views that update while a slider moves.

Re-rendering a HoloViews plot on each slider step rebuilds its Bokeh models and
ships the whole plot again (hundreds of milliseconds for a 256 x 256 image with
contours). :class:`LiveImage` keeps one Bokeh figure per session and, on
:meth:`LiveImage.update`, only swaps the data of its sources: the image
(sent as float32 binary), the contour lines (``contourpy``, ``levels`` equally
spaced between the finite minimum and maximum) and the colour range. Axes
carry labels, the colour bar the quantity's name; hovering shows x, y and the
value. Exported figures do not use this view: they are drawn from the result
data by the family's HoloViews plots.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import contourpy
import numpy as np
import panel as pn
from bokeh.models import ColorBar, ColumnDataSource, HoverTool, LinearColorMapper
from bokeh.palettes import Greys256, Magma256, Viridis256
from bokeh.plotting import figure
from panel.io.document import hold

from .internals import writes_idle
from .tasks import in_server

PALETTES = {"viridis": Viridis256, "magma": Magma256, "greys": Greys256}


def one_message():
    """Context for an in-place update of a live view's sources: served, and with the session's socket
    idle, its changes go out as one patch message (Panel's ``hold``); otherwise one message each,
    in order. Only for changes that create no model (holding is then safe)."""
    return hold() if in_server() and writes_idle(pn.state.curdoc) else nullcontext()


CONTOUR_POINTS = 128  # contours are traced on at most this many points per axis (plots are ~300 px)


def contour_lines(x: np.ndarray, y: np.ndarray, z: np.ndarray, levels: int) -> dict[str, list]:
    """Iso-lines of ``z`` on the grid ``(y, x)`` at ``levels`` equally spaced interior values.

    One NaN-separated polyline per level; grids finer than :data:`CONTOUR_POINTS` per
    axis are traced on an evenly strided subgrid.
    """
    finite = np.isfinite(z)
    if levels <= 0 or not finite.any():
        return {"xs": [], "ys": []}
    lo, hi = float(z[finite].min()), float(z[finite].max())
    if not hi > lo:
        return {"xs": [], "ys": []}
    sy, sx = (max(1, -(-n // CONTOUR_POINTS)) for n in z.shape)
    zs = np.where(finite, z, hi)[::sy, ::sx]
    gen = contourpy.contour_generator(x[::sx], y[::sy], zs, line_type="ChunkCombinedNan")
    xs, ys = [], []
    for level in np.linspace(lo, hi, levels + 2)[1:-1]:
        points = gen.lines(level)[0][0]
        if points is not None and len(points):
            xs.append(points[:, 0])
            ys.append(points[:, 1])
    return {"xs": xs, "ys": ys}


class LiveImage(pn.viewable.Viewer):
    """A titled heat map with colour bar, hover and optional contours, updated in place."""

    def __init__(self, title: str, label: str, palette: str = "viridis", levels: int = 8,
                 tap: bool = False, width: int = 330, height: int = 300, css_classes: list[str] | None = None,
                 **params: Any):
        super().__init__(**params)
        self.levels = levels
        self.image = ColumnDataSource(data={"image": [np.zeros((2, 2), np.float32)], "x": [0.0], "y": [0.0],
                                            "dw": [1.0], "dh": [1.0]})
        self.lines = ColumnDataSource(data={"xs": [], "ys": []})
        self.mapper = LinearColorMapper(palette=PALETTES[palette], low=0.0, high=1.0)
        tools = "pan,wheel_zoom,box_zoom,reset,save" + (",tap" if tap else "")
        self.figure = figure(title=title, width=width, height=height, tools=tools, x_axis_label="x",
                             y_axis_label="y", match_aspect=False, toolbar_location="above")
        renderer = self.figure.image(source=self.image, image="image", x="x", y="y", dw="dw", dh="dh",
                                     color_mapper=self.mapper)
        self.figure.multi_line(xs="xs", ys="ys", source=self.lines, line_color="white", line_alpha=0.5)
        self.figure.add_tools(HoverTool(renderers=[renderer], tooltips=[("x", "$x{0.000}"), ("y", "$y{0.000}"),
                                                                          (label, "@image{0.0000}")]))
        self.figure.add_layout(ColorBar(color_mapper=self.mapper, title=label, width=10), "right")
        self.figure.x_range.range_padding = self.figure.y_range.range_padding = 0
        self.pane = pn.pane.Bokeh(self.figure)
        # show or hide through this wrapper: a Bokeh pane syncs layout changes back into the figure
        self.view = pn.Column(self.pane, css_classes=css_classes or [], margin=0)

    def update(self, x: np.ndarray, y: np.ndarray, values: np.ndarray, title: str | None = None) -> None:
        """Show ``values`` (shape ``(len(y), len(x))``) on the uniform grid ``x``, ``y``.

        In a served app call it under the document lock (a widget callback, or a result
        delivered by :class:`~workbench.ui.tasks.LatestRunner`).
        """
        x, y = np.asarray(x, float), np.asarray(y, float)
        z = np.asarray(values, dtype=np.float32)
        finite = z[np.isfinite(z)]
        hx, hy = (x[-1] - x[0]) / max(len(x) - 1, 1), (y[-1] - y[0]) / max(len(y) - 1, 1)
        # served: the image, contours, colour range and title go out as one patch message (Panel's
        # hold), not one per changed property; no model is created here, so holding is safe
        with one_message():
            self.image.data = {"image": [z], "x": [x[0] - hx / 2], "y": [y[0] - hy / 2],
                               "dw": [x[-1] - x[0] + hx], "dh": [y[-1] - y[0] + hy]}
            self.lines.data = contour_lines(x, y, z, self.levels)
            if finite.size:
                lo, hi = float(finite.min()), float(finite.max())
                self.mapper.update(low=lo, high=hi if hi > lo else lo + 1.0)
            if title is not None:
                self.figure.title.text = title

    def __panel__(self) -> pn.viewable.Viewable:
        return self.view
