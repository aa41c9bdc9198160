"""Measurements of a rendered figure: what a reviewer checks, computed from the renderer.

Every function takes a drawn matplotlib Figure (``fig.draw_without_rendering()``
has run, as :func:`workbench.export.draw` leaves it) and returns a list of
problems (empty when the figure passes), so tests assert ``== []`` and the
message says what is wrong.

* :func:`text_overlaps`: two visible texts whose bounding boxes intersect, or a
  text over an axes it does not belong to.
* :func:`unlabelled`: an axes with numeric axes but no x or y label; an image
  without a colour bar, or a colour bar without a label.
* :func:`legend_overlaps`: a legend whose box meets a plotted artist (lines and
  filled areas by path intersection, bars by their boxes, markers by position).
* :func:`drawn_arrays`: the arrays every axes plots, in drawing order (to compare
  two renders of the same data).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import Collection
from matplotlib.figure import Figure, SubFigure
from matplotlib.image import AxesImage
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox


def _renderer(fig: Figure):
    return fig.canvas.get_renderer()


def visible_ticks(axis) -> Iterator[Text]:
    lo, hi = sorted(axis.get_view_interval())
    span = hi - lo
    for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
        loc = tick.get_loc()
        if loc is None or not (lo - 1e-9 * span <= loc <= hi + 1e-9 * span):
            continue
        for label in (tick.label1, tick.label2):
            if label.get_visible() and label.get_text():
                yield label


def texts(fig: Figure) -> list[tuple[Text, Axes | None]]:
    """Every visible, non-empty text that is drawn, with the axes it belongs to (None: the figure's)."""
    out: list[tuple[Text, Axes | None]] = []
    seen: set[int] = set()
    for ax in fig.get_axes():
        if not ax.get_visible():
            continue
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                for t in visible_ticks(axis):
                    out.append((t, ax))
                    seen.add(id(t))
                if axis.label.get_visible() and axis.label.get_text():
                    out.append((axis.label, ax))
                    seen.add(id(axis.label))
            if ax.xaxis.offsetText.get_visible() and ax.xaxis.offsetText.get_text():
                out.append((ax.xaxis.offsetText, ax))
            if ax.yaxis.offsetText.get_visible() and ax.yaxis.offsetText.get_text():
                out.append((ax.yaxis.offsetText, ax))
            seen.update({id(ax.xaxis.offsetText), id(ax.yaxis.offsetText)})
    for t, ax in _free_texts(fig):
        if id(t) in seen or not t.get_visible() or not t.get_text().strip():
            continue
        out.append((t, ax))
        seen.add(id(t))
    return out


def _free_texts(container) -> Iterator[tuple[Text, Axes | None]]:
    """Titles, annotations, legend texts and figure texts (tick and axis labels are per axis)."""
    for c in container.get_children():
        if isinstance(c, Text):
            yield c, getattr(c, "axes", None) if isinstance(container, Axes) else None
        elif isinstance(c, Legend):
            owner = container if isinstance(container, Axes) else None
            for t in [*c.get_texts(), c.get_title()]:
                yield t, owner
        elif isinstance(c, Axes):
            if c.get_visible():
                for t, _ in _free_texts(c):
                    yield t, c
        elif isinstance(c, Figure | SubFigure):
            if c.get_visible():
                yield from _free_texts(c)


def overlap(a: Bbox, b: Bbox) -> bool:
    """Boxes share area (touching edges do not count)."""
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 0 and min(a.y1, b.y1) - max(a.y0, b.y0) > 0


def text_overlaps(fig: Figure) -> list[str]:
    """Pairs of overlapping texts, and texts over an axes other than their own."""
    r = _renderer(fig)
    items = [(t, ax, t.get_window_extent(r)) for t, ax in texts(fig)]
    problems = []
    for i, (t1, _a1, b1) in enumerate(items):
        for t2, _a2, b2 in items[i + 1:]:
            if overlap(b1, b2):
                problems.append(f"text {t1.get_text()!r} overlaps text {t2.get_text()!r}")
    frames = [(ax, ax.get_window_extent(r)) for ax in fig.get_axes() if ax.get_visible()]
    for t, ax, b in items:
        for other, frame in frames:
            if other is ax:
                continue
            if overlap(b, frame):
                problems.append(f"text {t.get_text()!r} overlaps another axes ({_name(other)})")
    page = fig.bbox
    for t, _ax, b in items:
        if b.x0 < page.x0 - 0.5 or b.x1 > page.x1 + 0.5 or b.y0 < page.y0 - 0.5 or b.y1 > page.y1 + 0.5:
            problems.append(f"text {t.get_text()!r} is cut by the page edge")
    return problems


def _name(ax: Axes) -> str:
    return ax.get_title(loc="left") or ax.get_title() or ax.get_label() or "untitled axes"


def colorbar_axes(fig: Figure) -> dict[int, object]:
    """id(colour-bar axes) -> its Colorbar, for every image/mesh mappable with a colour bar."""
    out = {}
    for ax in fig.get_axes():
        for m in [*ax.images, *ax.collections]:
            cb = getattr(m, "colorbar", None)
            if cb is not None:
                out[id(cb.ax)] = cb
    return out


def unlabelled(fig: Figure) -> list[str]:
    """Axes without labels, images without a (labelled) colour bar."""
    cbars = colorbar_axes(fig)
    problems = []
    for ax in fig.get_axes():
        if not ax.get_visible():
            continue
        if id(ax) in cbars:
            cb = cbars[id(ax)]
            label = cb.ax.get_ylabel() if cb.orientation == "vertical" else cb.ax.get_xlabel()
            if not label.strip():
                problems.append(f"colour bar of {_name(cb.mappable.axes)} has no label")
            continue
        if ax.axison:
            if ax.xaxis.get_visible() and not ax.get_xlabel().strip():
                problems.append(f"x axis of {_name(ax)} has no label")
            if ax.yaxis.get_visible() and not ax.get_ylabel().strip():
                problems.append(f"y axis of {_name(ax)} has no label")
        for m in ax.images:
            if getattr(m, "colorbar", None) is None:
                problems.append(f"image in {_name(ax)} has no colour bar")
        for m in ax.collections:
            if m.get_array() is not None and m.get_cmap() is not None and _is_map(m) \
                    and getattr(m, "colorbar", None) is None:
                problems.append(f"colour-mapped mesh in {_name(ax)} has no colour bar")
    return problems


def _is_map(m: Collection) -> bool:
    from matplotlib.collections import QuadMesh

    return isinstance(m, QuadMesh)


def data_artists(ax: Axes) -> Iterator[object]:
    yield from ax.lines
    yield from ax.patches
    yield from ax.collections
    yield from ax.images


def meets(artist: object, box: Bbox, r) -> bool:
    if isinstance(artist, Line2D):
        if not artist.get_visible() or len(artist.get_xdata()) == 0:
            return False
        path = artist.get_transform().transform_path(artist.get_path())
        if artist.get_linestyle() not in ("None", "none", "", " ") and len(path.vertices) > 1 \
                and path.intersects_bbox(box, filled=False):
            return True
        if artist.get_marker() not in (None, "None", "none", "", " "):
            pts = path.vertices
            return bool(((pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1)
                         & (pts[:, 1] >= box.y0) & (pts[:, 1] <= box.y1)).any())
        return bool(len(path.vertices) == 1 and box.contains(*path.vertices[0]))
    if isinstance(artist, Rectangle | Patch):
        if not artist.get_visible():
            return False
        if isinstance(artist, Rectangle):
            return overlap(artist.get_window_extent(r), box)
        path = artist.get_transform().transform_path(artist.get_path())
        return path.intersects_bbox(box, filled=artist.get_fill())
    if isinstance(artist, Collection):
        if not artist.get_visible():
            return False
        trans = artist.get_transform()
        offsets = artist.get_offsets()
        if len(artist.get_paths()) and (len(offsets) <= 1):
            for p in artist.get_paths():
                if len(p.vertices) and trans.transform_path(p).intersects_bbox(box, filled=True):
                    return True
            return False
        pts = artist.get_offset_transform().transform(offsets)
        return bool(((pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1)
                     & (pts[:, 1] >= box.y0) & (pts[:, 1] <= box.y1)).any())
    if isinstance(artist, AxesImage):
        return overlap(artist.get_window_extent(r), box)
    return False


def legend_overlaps(fig: Figure) -> list[str]:
    """Legends whose box meets any plotted artist of an axes they lie over."""
    r = _renderer(fig)
    problems = []
    legends = [a for a in fig.findobj(Legend) if a.get_visible()]
    for leg in legends:
        box = leg.get_window_extent(r)
        for ax in fig.get_axes():
            if not overlap(box, ax.get_window_extent(r)):
                continue
            for artist in data_artists(ax):
                if meets(artist, box, r):
                    problems.append(f"legend of {_name(ax)} covers {type(artist).__name__} "
                                    f"{getattr(artist, 'get_label', lambda: '')()!r}")
                    break
    return problems


def problems(fig: Figure) -> list[str]:
    """All of the above."""
    return [*text_overlaps(fig), *unlabelled(fig), *legend_overlaps(fig)]


def drawn_arrays(fig: Figure) -> list[np.ndarray]:
    """The data every axes draws, in order: line vertices, image arrays, bar boxes, collection paths."""
    out: list[np.ndarray] = []
    for ax in fig.get_axes():
        for line in ax.lines:
            out.append(np.asarray(line.get_xydata(), dtype=float))
        for im in ax.images:
            out.append(np.asarray(im.get_array(), dtype=float))
        for p in ax.patches:
            if isinstance(p, Rectangle):
                out.append(np.array([p.get_x(), p.get_y(), p.get_width(), p.get_height()], dtype=float))
            else:
                out.append(np.asarray(p.get_path().vertices, dtype=float))
        for c in ax.collections:
            arr = c.get_array()
            if arr is not None:
                out.append(np.asarray(arr, dtype=float).ravel())
            for p in c.get_paths():
                out.append(np.asarray(p.vertices, dtype=float))
            out.append(np.asarray(c.get_offsets(), dtype=float))
        for t in ax.texts:
            out.append(np.asarray(t.get_position(), dtype=float))
    return out
