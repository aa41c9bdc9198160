"""Figures for papers: designed per family, exact journal page sizes, regenerable from their data.

A Dataset that names its figure (``attrs["figure"] = "<family>.<name>"``, see
:func:`named`) is drawn by that family's ``paper`` module with matplotlib
(:func:`draw`), in a page preset of :mod:`.presets` (``single``, ``double``,
``aps``, ``siam``; ``width`` = ``single`` or ``double`` column). The page is
the column width exactly (no tight cropping), laid out by constrained
layout; fonts are embedded (TrueType in PDF, paths in SVG).

* :func:`export` writes ``stem.pdf/.svg/.png`` and ``stem.nc`` (the Dataset drawn);
* :func:`regenerate` redraws the figure from that netCDF alone (``workbench figure FILE.nc``);
* :func:`compose` puts several figures' Datasets into one, drawn side by side
  with shared styling and panel letters running across them;
* :mod:`.measure` holds the checks the tests apply (text overlaps, labels,
  colour bars, legends over data).

:func:`export_figure` and :func:`figure_bytes` also accept any HoloViews
object (rendered through HoloViews' matplotlib backend at the same page size)
for views without a designed figure.

Widths: ``single`` = 3.4 in (8.6 cm), ``double`` = 7.0 in (17.8 cm); APS
3.375 / 7.0 in; SIAM 5.125 in.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import xarray as xr

from .. import results, validate
from . import measure, panels, presets
from .holoviews import render
from .paper import (FIGURES, FORMATS, compose, draw, export, load_figure_data, named, names_figure,
                    regenerate, register)
from .paper import figure_bytes as _fig_bytes
from .presets import PRESETS, WIDTHS, Preset

WIDTHS_IN = {w: PRESETS["single"].columns[w] for w in WIDTHS}


def figure_bytes(obj: Any, fmt: str, *, preset: str = "single", width: str | None = None,
                 height_in: float | None = None) -> bytes:
    """The figure of ``obj`` as ``fmt`` bytes: a Dataset naming its figure, a matplotlib Figure,
    or any HoloViews object."""
    from matplotlib.figure import Figure

    validate.choice("format", fmt, FORMATS)
    presets.get(preset).width_in(width)
    if isinstance(obj, Figure):
        return _fig_bytes(obj, fmt, preset)
    if isinstance(obj, xr.Dataset) and names_figure(obj):
        return _fig_bytes(draw(obj, preset=preset, width=width, height_in=height_in), fmt, preset)
    fig = render(obj, preset=preset, width=width, height_in=height_in)
    try:
        return _fig_bytes(fig, fmt, preset)
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def export_figure(obj: Any, path: str | os.PathLike, *, data: xr.Dataset | xr.DataArray | None = None,
                  formats: tuple[str, ...] = FORMATS, preset: str = "single", width: str | None = None,
                  height_in: float | None = None) -> dict[str, Path]:
    """Write ``obj`` as ``path.<fmt>`` for each format, and ``data`` as ``path.nc``.

    ``obj`` may be a Dataset naming its figure (then it is also the data, see
    :func:`export`) or a HoloViews object (then ``data`` is saved beside it).
    """
    if isinstance(obj, xr.Dataset) and data is None:
        return export(obj, path, formats=formats, preset=preset, width=width, height_in=height_in)
    stem = Path(path)
    if stem.suffix.lstrip(".") in (*FORMATS, "nc"):
        stem = stem.with_suffix("")
    for fmt in formats:
        validate.choice("format", fmt, FORMATS)
    presets.get(preset).width_in(width)
    stem.parent.mkdir(parents=True, exist_ok=True)
    if not os.access(stem.parent, os.W_OK):
        raise ValueError(f"path {str(stem.parent)!r} is not writable")
    out: dict[str, Path] = {}
    for fmt in formats:
        target = stem.with_suffix(f".{fmt}")
        target.write_bytes(figure_bytes(obj, fmt, preset=preset, width=width, height_in=height_in))
        out[fmt] = target
    if data is not None:
        out["nc"] = results.save(data, stem.with_suffix(".nc"))
    return out


__all__ = ["FIGURES", "FORMATS", "PRESETS", "WIDTHS", "WIDTHS_IN", "Preset", "compose", "draw", "export",
           "export_figure", "figure_bytes", "load_figure_data", "measure", "named", "names_figure",
           "panels", "presets", "regenerate", "register", "render"]
