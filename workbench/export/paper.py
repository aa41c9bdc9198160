"""Paper figures drawn from a Dataset that names its figure, exported at exact page sizes.

A Dataset names the figure it is drawn as in ``attrs["figure"]``
(``"<family>.<name>"``) and its drawing options as JSON in
``attrs["figure_options"]``. Each family's ``paper`` module registers its
drawing functions with :func:`register`; :func:`draw` looks the name up
(importing ``workbench.<family>.paper`` on first use), draws into a
fixed-size figure laid out by matplotlib's constrained layout, letters the
panels and runs the finishing pass of :mod:`.panels`. Nothing is cropped: the
page is the preset's width and the requested height.

:func:`export` writes the figure (PDF, SVG, PNG) and the Dataset beside it;
:func:`regenerate` redraws from that netCDF alone; :func:`compose` makes one
Dataset of several, drawn side by side with shared styling and letters.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # export never needs a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure, SubFigure  # noqa: E402

from .. import results, validate  # noqa: E402
from . import panels, presets  # noqa: E402

FORMATS = ("pdf", "svg", "png")
FIGURE_ATTR, OPTIONS_ATTR = "figure", "figure_options"
Draw = Callable[..., list]  # draw(ds, fig, width_in=..., **options) -> the panels' axes, in reading order


@dataclass(frozen=True)
class Entry:
    name: str
    draw: Draw
    aspect: Callable[[xr.Dataset, float], float]  # height / width for a page width (in)


FIGURES: dict[str, Entry] = {}


def register(name: str, aspect: float | Callable[[xr.Dataset, float], float] = 0.62) -> Callable[[Draw], Draw]:
    """Decorator: ``draw(ds, fig, width_in=..., **options)`` draws figure ``name``."""
    ratio = aspect if callable(aspect) else (lambda _ds, _w, a=float(aspect): a)

    def deco(fn: Draw) -> Draw:
        FIGURES[name] = Entry(name, fn, ratio)
        return fn
    return deco


def named(ds: xr.Dataset, name: str, **options: Any) -> xr.Dataset:
    """``ds`` (a shallow copy) naming figure ``name`` drawn with ``options``."""
    out = ds.copy(deep=False)
    out.attrs = {**ds.attrs, FIGURE_ATTR: name, OPTIONS_ATTR: results.dumps(options)}
    return out


def figure_dataset(data: xr.Dataset, sources: Sequence[xr.Dataset], name: str, **opts: Any) -> xr.Dataset:
    """``data`` (what a figure draws) stamped with the provenance of the results it was taken from.

    ``attrs["parameters"]`` maps each source's ``kind`` to its parameters; the seed
    is the first source's seed that is set, the elapsed time their sum; ``sources``
    lists each source's kind and creation time. The Dataset names figure ``name``.
    """
    sources = list(sources)
    params = {str(s.attrs.get("kind") or f"source{i}"): results.parameters(s) for i, s in enumerate(sources)}
    seeds = [int(s.attrs["seed"]) for s in sources if int(s.attrs.get("seed", -1)) >= 0]
    elapsed = float(np.nansum([float(s.attrs.get("elapsed_s", np.nan)) for s in sources])) if sources else None
    out = data.copy(deep=False)
    out.attrs = {}
    out = results.stamp(out, params, kind=name, seed=seeds[0] if seeds else None,
                        device=sources[0].attrs.get("device") if sources else None, elapsed=elapsed,
                        sources=[{"kind": s.attrs.get("kind", ""), "created": s.attrs.get("created", "")}
                                 for s in sources])
    return named(out, name, **opts)


def names_figure(ds: Any) -> bool:
    """True when ``ds`` is a Dataset that names a registered (or registrable) figure."""
    if not isinstance(ds, xr.Dataset) or not isinstance(ds.attrs.get(FIGURE_ATTR), str):
        return False
    try:
        lookup(ds.attrs[FIGURE_ATTR])
    except ValueError:
        return False
    return True


def lookup(name: str) -> Entry:
    """The registry entry of figure ``name`` (loading its family's ``paper`` module)."""
    if name not in FIGURES:
        family = name.split(".")[0]
        if family.isidentifier() and family != "export":
            import importlib

            try:  # a family declares its paper figures in workbench/<family>/paper.py
                importlib.import_module(f"workbench.{family}.paper")
            except ModuleNotFoundError as exc:
                if exc.name not in (f"workbench.{family}", f"workbench.{family}.paper"):
                    raise
    if name not in FIGURES:
        raise ValueError(f"figure must be one of {', '.join(sorted(FIGURES)) or 'the registered figures'}; "
                         f"got {name!r}")
    return FIGURES[name]


def options(ds: xr.Dataset) -> dict[str, Any]:
    return json.loads(ds.attrs.get(OPTIONS_ATTR) or "{}")


# ---- drawing ----------------------------------------------------------------------------------------

def draw(ds: xr.Dataset, *, preset: str | presets.Preset = "single", width: str | None = None,
         height_in: float | None = None, letters: bool = True) -> Figure:
    """The paper figure that ``ds`` names, at the preset's page width (and ``height_in``)."""
    if not isinstance(ds, xr.Dataset) or FIGURE_ATTR not in ds.attrs:
        raise ValueError("ds must be a Dataset naming its figure in attrs['figure']")
    entry = lookup(str(ds.attrs[FIGURE_ATTR]))
    p = presets.get(preset)
    w = p.width_in(width)
    p, w, h = presets.page(p, width, height_in, aspect=entry.aspect(ds, w))
    with plt.rc_context(p.rc()):
        fig = Figure(figsize=(w, h), layout="constrained")
        FigureCanvasAgg(fig)  # a renderer to measure text with (the Agg canvas; savefig picks per format)
        axes = entry.draw(ds, fig, width_in=w, **options(ds))
        if letters and len(axes) > 1:
            panels.letter(axes)
        panels.finish(fig)
    return fig


def draw_into(ds: xr.Dataset, fig: Figure | SubFigure, width_in: float) -> list:
    """Draw the figure ``ds`` names into ``fig`` (a sub-figure of a composition)."""
    return lookup(str(ds.attrs[FIGURE_ATTR])).draw(ds, fig, width_in=width_in, **options(ds))


def figure_bytes(fig: Figure, fmt: str, preset: str | presets.Preset = "single") -> bytes:
    """``fig`` as PDF/SVG/PNG bytes in ``preset``'s file style (fonts embedded, its dpi), uncropped."""
    validate.choice("format", fmt, FORMATS)
    p = presets.get(preset)
    buf = io.BytesIO()
    with plt.rc_context(p.rc()):
        fig.savefig(buf, format=fmt, dpi=p.dpi, metadata=_metadata(fmt))
    return buf.getvalue()


def _metadata(fmt: str) -> dict[str, Any]:
    # reproducible files: no creation date in PDF/SVG
    return {"pdf": {"CreationDate": None}, "svg": {"Date": None}}.get(fmt, {})


# ---- files ------------------------------------------------------------------------------------------

def check_output(path: str | os.PathLike, *, name: str = "out") -> tuple[Path, str]:
    """``path`` and its format (from the suffix); its folder must exist or be creatable, and be writable."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    validate.choice(f"{name} format", fmt, FORMATS)
    _writable(path.parent, name)
    return path, fmt


def _writable(folder: Path, name: str) -> None:
    probe = folder
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise ValueError(f"{name} {str(folder)!r} is not a writable folder")


def export(ds: xr.Dataset, path: str | os.PathLike, *, formats: Sequence[str] = FORMATS,
           preset: str = "single", width: str | None = None, height_in: float | None = None) -> dict[str, Path]:
    """Write the figure ``ds`` names as ``path.<fmt>`` for each format and ``ds`` as ``path.nc``.

    Every argument is checked (and the folder's permission) before anything is drawn.
    """
    stem = Path(path)
    if stem.suffix.lstrip(".") in (*FORMATS, "nc"):
        stem = stem.with_suffix("")
    formats = [validate.choice("format", f, FORMATS) for f in formats]
    presets.get(preset).width_in(width)
    _writable(stem.parent, "path")
    if not names_figure(ds):
        raise ValueError("ds must be a Dataset naming its figure in attrs['figure'] (see workbench.export.named)")
    fig = draw(ds, preset=preset, width=width, height_in=height_in)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for fmt in formats:
        target = stem.with_suffix(f".{fmt}")
        target.write_bytes(figure_bytes(fig, fmt, preset))
        out[fmt] = target
    out["nc"] = results.save(ds, stem.with_suffix(".nc"))
    return out


def load_figure_data(path: str | os.PathLike) -> xr.Dataset:
    """The Dataset of a workbench figure export; a one-line error naming the file otherwise."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"file {str(path)!r} does not exist")
    try:
        ds = results.load(path)
    except Exception as exc:  # noqa: BLE001 — any reader failure means "not a netCDF we can read"
        raise ValueError(f"file {str(path)!r} is not a readable netCDF file ({type(exc).__name__})") from None
    if not isinstance(ds.attrs.get(FIGURE_ATTR), str):
        raise ValueError(f"file {str(path)!r} was not written by a workbench figure export "
                         "(no figure description in its attributes)")
    try:
        lookup(ds.attrs[FIGURE_ATTR])
    except ValueError:
        raise ValueError(f"file {str(path)!r} names an unknown figure {ds.attrs[FIGURE_ATTR]!r}") from None
    return ds


def regenerate(path: str | os.PathLike, out: str | os.PathLike | None = None, *, preset: str = "single",
               width: str | None = None, height_in: float | None = None) -> Path:
    """Redraw the figure of an exported netCDF (nothing recomputed); writes ``out`` (default: ``path`` as PDF)."""
    presets.get(preset).width_in(width)
    target, fmt = check_output(Path(path).with_suffix(".pdf") if out is None else out)
    ds = load_figure_data(path)
    try:
        fig = draw(ds, preset=preset, width=width, height_in=height_in)
    except (KeyError, IndexError, TypeError) as exc:  # the description is there, the data it needs is not
        raise ValueError(f"file {str(path)!r} lacks the data of figure {ds.attrs[FIGURE_ATTR]!r} "
                         f"({type(exc).__name__}: {exc})") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(figure_bytes(fig, fmt, preset))
    return target


# ---- composition --------------------------------------------------------------------------------

COMPOSE = "export.compose"


def compose(items: Sequence[xr.Dataset], *, ncols: int | None = None, letters: bool = True) -> xr.Dataset:
    """One Dataset drawing several figures side by side (``ncols`` per row), lettered across all panels.

    Each item is a Dataset that names its figure (for example the ``data()`` of
    an explorer, or a family's ``paper`` Dataset). Its variables and dims are
    stored under the prefix ``p<i>_`` and its attrs as JSON, so the composition
    is one netCDF that :func:`regenerate` redraws::

        fig = export.compose([hj_ds, phase_ds])
        export.export(fig, "figs/fig1", preset="aps", width="double")
    """
    items = list(validate.non_empty("items", list(items)))
    validate.integer("items", len(items), lo=1, hi=12)
    for i, ds in enumerate(items):
        if not names_figure(ds):
            raise ValueError(f"items[{i}] must be a Dataset naming its figure in attrs['figure']")
    n = len(items)
    ncols = validate.integer("ncols", n if ncols is None else ncols, lo=1, hi=n)
    parts = []
    for i, ds in enumerate(items):
        prefix = f"p{i}_"
        renamed = ds.rename({**{v: prefix + str(v) for v in ds.variables}, **{d: prefix + str(d) for d in ds.dims}})
        renamed.attrs = {}
        parts.append(renamed)
    out = xr.merge(parts, combine_attrs="drop")
    first = items[0].attrs
    out.attrs = results.clean_attrs({
        **{k: first[k] for k in ("workbench", "torch", "device") if k in first},
        "kind": COMPOSE, FIGURE_ATTR: COMPOSE,
        OPTIONS_ATTR: results.dumps({"n": n, "ncols": ncols, "letters": bool(letters)}),
        **{f"p{i}_attrs": results.dumps(ds.attrs) for i, ds in enumerate(items)},
    })
    return out


def panel(ds: xr.Dataset, i: int) -> xr.Dataset:
    """Item ``i`` of a composition, as it was given."""
    prefix = f"p{i}_"
    keep = [v for v in ds.variables if str(v).startswith(prefix)]
    sub = ds[[v for v in keep if v in ds.data_vars]].copy()
    sub = sub.assign_coords({c: ds[c] for c in keep if c in ds.coords and c not in sub.coords})
    sub = sub.rename({**{v: str(v)[len(prefix):] for v in sub.variables},
                      **{d: str(d)[len(prefix):] for d in sub.dims if str(d).startswith(prefix)}})
    sub.attrs = json.loads(ds.attrs[f"p{i}_attrs"])
    return sub


def _compose_aspect(ds: xr.Dataset, width_in: float) -> float:
    o = options(ds)
    ncols, n = o["ncols"], o["n"]
    rows = -(-n // ncols)
    sub_w = width_in / ncols
    ratios = [lookup(panel(ds, i).attrs[FIGURE_ATTR]).aspect(panel(ds, i), sub_w) for i in range(n)]
    return rows * max(ratios) * sub_w / width_in


@register(COMPOSE, aspect=_compose_aspect)
def _draw_composition(ds: xr.Dataset, fig: Figure, *, width_in: float, n: int, ncols: int,
                      letters: bool = True) -> list:
    rows = -(-n // ncols)
    subs = np.atleast_1d(fig.subfigures(rows, ncols, squeeze=False).ravel())
    start = 0
    for i in range(n):
        axes = draw_into(panel(ds, i), subs[i], width_in / ncols)
        if letters:
            start = panels.letter(axes, start)
    for extra in subs[n:]:
        extra.set_visible(False)
    return []  # lettered here, across the sub-figures


__all__ = ["FORMATS", "FIGURES", "register", "named", "draw", "export", "regenerate", "compose",
           "figure_bytes", "load_figure_data", "check_output"]
