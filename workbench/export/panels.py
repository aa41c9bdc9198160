"""Drawing helpers shared by the families' paper figures, and the finishing pass.

* :func:`image`: a map with its labelled colour bar (quantity and unit), in
  the dashboards' colour map.
* :func:`letter`: panel letters "(a)", "(b)" ... prefixed to the panel titles
  (titles are laid out by constrained layout: they never overlap an axes).
* :func:`finish`: after layout, thin tick labels that collide and move each
  legend to the emptiest corner of its axes, measured (the first corner
  whose box meets no plotted artist), or outside the axes when none is empty.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import FixedLocator, LogLocator, MaxNLocator
from matplotlib.transforms import Bbox, ScaledTranslation

from . import measure

CORNERS = ("upper right", "upper left", "lower right", "lower left", "center right", "center left",
           "upper center", "lower center")
DASHBOARD_CMAP = "viridis"  # the dashboards' LiveImage / HeatMap palette


def image(fig: Figure | SubFigure, ax: Axes, x: np.ndarray, y: np.ndarray, values: np.ndarray, label: str,
          cmap: str = DASHBOARD_CMAP, *, equal: bool = True):
    """``values[y, x]`` as an image on cell-centred ``x``, ``y``, with a colour bar labelled ``label``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    dx = (x[-1] - x[0]) / max(len(x) - 1, 1) if len(x) > 1 else 1.0
    dy = (y[-1] - y[0]) / max(len(y) - 1, 1) if len(y) > 1 else 1.0
    extent = (x[0] - dx / 2, x[-1] + dx / 2, y[0] - dy / 2, y[-1] + dy / 2)
    im = ax.imshow(np.asarray(values, dtype=float), origin="lower", extent=extent, cmap=cmap,
                   aspect="auto", interpolation="nearest")
    if equal:  # the box, not the image, takes the data aspect: the colour bar is as tall as the map
        ax.set_box_aspect((extent[3] - extent[2]) / (extent[1] - extent[0]))
    cax = ax.inset_axes([1.04, 0.0, 0.05, 1.0])  # follows the map's box: exactly as tall as the map
    cb = fig.colorbar(im, cax=cax)
    cb.set_label(label)
    cb.outline.set_linewidth(0.4)
    return im


def text_size() -> float:
    """The preset's text size in points (inside :func:`workbench.export.draw`)."""
    return float(matplotlib.rcParams["font.size"])


def letter(axes: Sequence[Axes], start: int = 0) -> int:
    """Prefix "(a) ", "(b) " ... to the titles of ``axes`` (left-aligned); returns the next index."""
    for i, ax in enumerate(axes):
        title = ax.get_title(loc="left") or ax.get_title()
        ax.set_title("")
        mark = f"({string.ascii_lowercase[(start + i) % 26]})"
        ax.set_title(f"{mark} {title}".strip(), loc="left")
    return start + len(axes)


# ---- the finishing pass ---------------------------------------------------------------------------

def _tick_labels_collide(ax: Axes, which: str, r) -> bool:
    axis = ax.xaxis if which == "x" else ax.yaxis
    boxes = [t.get_window_extent(r) for t in measure.visible_ticks(axis)]
    key = (lambda b: b.x0) if which == "x" else (lambda b: b.y0)
    boxes.sort(key=key)
    pad = 1.0  # one pixel at 100 dpi: neighbours may not touch
    for a, b in zip(boxes, boxes[1:]):
        if which == "x" and b.x0 < a.x1 + pad and min(a.y1, b.y1) > max(a.y0, b.y0):
            return True
        if which == "y" and b.y0 < a.y1 + pad and min(a.x1, b.x1) > max(a.x0, b.x0):
            return True
    return False


def _thin(ax: Axes, which: str) -> bool:
    """Show fewer ticks on one axis; False when it cannot be thinned further."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    loc = axis.get_major_locator()
    if isinstance(loc, FixedLocator):
        locs = np.asarray(loc.locs)
        labels = [t.get_text() for t in axis.get_majorticklabels()]
        if len(locs) <= 2:
            return False
        step = 2
        keep = np.arange(0, len(locs), step)
        axis.set_major_locator(FixedLocator(locs[keep]))
        if len(labels) == len(locs):
            axis.set_ticklabels([labels[i] for i in keep])
        return True
    n = len([t for t in measure.visible_ticks(axis)])
    if n <= 2:
        return False
    scale = axis.get_scale()
    if scale == "log":
        axis.set_major_locator(LogLocator(numticks=max(2, n // 2)))
        axis.set_minor_formatter(_null())
    else:
        axis.set_major_locator(MaxNLocator(nbins=max(2, n // 2 - 1)))
    return True


def _null():
    from matplotlib.ticker import NullFormatter

    return NullFormatter()


def thin_ticks(fig: Figure, rounds: int = 4) -> None:
    """Halve the ticks of each axis whose labels collide, up to ``rounds`` times."""
    for _ in range(rounds):
        fig.draw_without_rendering()
        r = fig.canvas.get_renderer()
        changed = False
        for ax in fig.get_axes():
            if not ax.axison or not ax.get_visible():
                continue
            for which in ("x", "y"):
                if _tick_labels_collide(ax, which, r) and _thin(ax, which):
                    changed = True
        if not changed:
            return


def _corner(frame: Bbox, w: float, h: float, loc: str, pad: float) -> Bbox:
    """The box a ``w`` x ``h`` legend takes at ``loc`` inside ``frame`` (``pad`` from the edges)."""
    vert, _, horiz = loc.partition(" ")
    if not horiz:  # "center right" style names are vertical first too
        vert, horiz = "center", vert
    x0 = {"left": frame.x0 + pad, "right": frame.x1 - pad - w, "center": (frame.x0 + frame.x1 - w) / 2}[horiz]
    y0 = {"lower": frame.y0 + pad, "upper": frame.y1 - pad - h, "center": (frame.y0 + frame.y1 - h) / 2}[vert]
    return Bbox.from_bounds(x0, y0, w, h)


def _free(ax: Axes, box: Bbox, r) -> bool:
    frame = ax.get_window_extent(r)
    if box.x0 < frame.x0 or box.x1 > frame.x1 or box.y0 < frame.y0 or box.y1 > frame.y1:
        return False  # a corner legend that does not fit inside the axes
    if any(measure.meets(a, box, r) for a in measure.data_artists(ax)):
        return False
    own = [t.get_window_extent(r) for t in ax.texts if t.get_visible() and t.get_text()]
    return not any(measure.overlap(box, b) for b in own)


def place_legends(fig: Figure) -> None:
    """Each axes legend to the first corner that covers no data (measured), else outside on the right."""
    fig.draw_without_rendering()
    r = fig.canvas.get_renderer()
    for ax in fig.get_axes():
        leg = ax.get_legend()
        if leg is None:
            continue
        size = leg.get_window_extent(r)
        pad = leg.borderaxespad * leg.prop.get_size_in_points() * fig.dpi / 72.0
        frame = ax.get_window_extent(r)
        for loc in CORNERS:
            if _free(ax, _corner(frame, size.width, size.height, loc, pad), r):
                leg.set_loc(loc)
                break
        else:
            _outside(fig, ax, leg, size, frame, r)
    fig.draw_without_rendering()


def _outside(fig: Figure, ax: Axes, leg, size: Bbox, frame: Bbox, r) -> None:
    """Right of the axes when it is wide enough (3 legend widths), else below its x-axis decorations."""
    if frame.width >= 3 * size.width:
        leg.set_bbox_to_anchor((1.02, 1.0), transform=ax.transAxes)
        leg.set_loc("upper left")
        return
    below = frame.y0 - ax.xaxis.get_tightbbox(r).y0  # pixels taken by tick labels and the x label
    shift = ScaledTranslation(0, -(below + 2) / fig.dpi, fig.dpi_scale_trans)
    handles, labels = ax.get_legend_handles_labels()
    ncols = 2 if len(labels) >= 3 and size.width * 2 <= 1.6 * frame.width else 1
    ax.legend(handles, labels, title=leg.get_title().get_text() or None, ncols=ncols, loc="upper center",
              bbox_to_anchor=(0.5, 0.0), bbox_transform=ax.transAxes + shift, columnspacing=1.0)


def finish(fig: Figure) -> Figure:
    """The finishing pass: tick thinning, then legend placement (both after layout)."""
    thin_ticks(fig)
    place_legends(fig)
    return fig
