"""Figure export for papers.

Any HoloViews object is rendered through HoloViews' matplotlib backend with a
publication style and written as PDF, SVG and/or PNG. The Dataset behind the
figure is saved beside it (``fig.pdf`` + ``fig.nc``), so every figure can be
regenerated from its data.

Widths follow the common two-column journal layout: ``single`` = 3.4 in
(8.6 cm), ``double`` = 7.0 in (17.8 cm); the height defaults to width / 1.5.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # export never needs a display

import matplotlib.pyplot as plt  # noqa: E402
import xarray as xr  # noqa: E402

from . import results, validate  # noqa: E402

WIDTHS_IN = {"single": 3.4, "double": 7.0}
FORMATS = ("pdf", "svg", "png")


def paper_style(width: str = "single", fontsize: float = 8.0, serif: bool = False) -> dict[str, Any]:
    """matplotlib rcParams of the publication style."""
    validate.choice("width", width, WIDTHS_IN)
    validate.number("fontsize", fontsize, lo=4, hi=24)
    return {
        "font.size": fontsize,
        "axes.titlesize": fontsize,
        "axes.labelsize": fontsize,
        "xtick.labelsize": fontsize - 1,
        "ytick.labelsize": fontsize - 1,
        "legend.fontsize": fontsize - 1,
        "font.family": "serif" if serif else "sans-serif",
        "mathtext.fontset": "cm" if serif else "dejavusans",
        "axes.linewidth": 0.6,
        "lines.linewidth": 1.0,
        "savefig.bbox": "tight",
        "savefig.pad_inches": 0.02,
        "pdf.fonttype": 42,  # embed TrueType, editable text in the PDF
        "svg.fonttype": "none",
    }


def render(obj: Any, *, width: str = "single", height_in: float | None = None,
           fontsize: float = 8.0, serif: bool = False) -> plt.Figure:
    """A matplotlib Figure of a HoloViews object in the publication style."""
    import holoviews as hv
    import holoviews.plotting.mpl  # noqa: F401  registers the matplotlib backend, keeps the current one

    w = WIDTHS_IN[validate.choice("width", width, WIDTHS_IN)]
    h = height_in if height_in is not None else w / 1.5
    with plt.rc_context(paper_style(width, fontsize, serif)):
        fig = hv.render(obj, backend="matplotlib")
        fig.set_size_inches(w, h)
    return fig


def figure_bytes(obj: Any, fmt: str, **style: Any) -> bytes:
    """The figure of ``obj`` as bytes in format ``fmt`` (pdf, svg or png)."""
    validate.choice("format", fmt, FORMATS)
    fig = render(obj, **style)
    buf = io.BytesIO()
    with plt.rc_context(paper_style(style.get("width", "single"), style.get("fontsize", 8.0),
                                    style.get("serif", False))):
        fig.savefig(buf, format=fmt, dpi=300)
    plt.close(fig)
    return buf.getvalue()


def export_figure(obj: Any, path: str | os.PathLike, *, data: xr.Dataset | xr.DataArray | None = None,
                  formats: tuple[str, ...] = FORMATS, **style: Any) -> dict[str, Path]:
    """Write ``obj`` as ``path.<fmt>`` for each format, and ``data`` as ``path.nc``.

    ``path`` is a stem (an extension, if given, is dropped). Returns the
    written paths by format ("nc" for the data). Style keywords: ``width``
    ("single" or "double"), ``height_in``, ``fontsize``, ``serif``.
    """
    stem = Path(path)
    if stem.suffix.lstrip(".") in FORMATS + ("nc",):
        stem = stem.with_suffix("")
    for fmt in formats:
        validate.choice("format", fmt, FORMATS)
    stem.parent.mkdir(parents=True, exist_ok=True)
    if not os.access(stem.parent, os.W_OK):
        raise ValueError(f"path {str(stem.parent)!r} is not writable")
    out: dict[str, Path] = {}
    for fmt in formats:
        target = stem.with_suffix(f".{fmt}")
        target.write_bytes(figure_bytes(obj, fmt, **style))
        out[fmt] = target
    if data is not None:
        out["nc"] = results.save(data, stem.with_suffix(".nc"))
    return out
