"""HoloViews views of a phase-retrieval study (the Dataset of :func:`workbench.phase.study.compare`).

Plain elements with labelled dimensions, so the same objects render in
bokeh (dashboards) and matplotlib (paper export); bokeh-only options are set
with ``backend="bokeh"``.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  registers bokeh (dashboards), the current backend
import holoviews.plotting.mpl  # noqa: F401  registers matplotlib (export); bokeh stays current
import numpy as np
import xarray as xr

COLORS = {"er": "#7f7f7f", "hio": "#2ca02c", "raar": "#9467bd", "oss": "#1f77b4", "gps": "#d62728",
          "gps-r": "#d62728", "gps-f": "#ff7f0e", "gps-rf": "#8c564b"}
RF = hv.Dimension("error", label="R_F")


def bin_edges(ds: xr.Dataset, bins: int = 30) -> np.ndarray:
    """Common histogram bins over all algorithms' final ``R_F`` (log-spaced when they span > 10x)."""
    err = ds["error"].values
    err = err[np.isfinite(err)]
    lo, hi = (float(err.min()), float(err.max())) if err.size else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo * 0.95, hi * 1.05 + 1e-12
    if lo > 0 and hi / lo > 10:
        return np.geomspace(lo, hi * 1.0001, bins + 1)
    return np.linspace(lo, hi + 1e-9 * abs(hi), bins + 1)


def histograms(ds: xr.Dataset, edges: np.ndarray) -> hv.Overlay:
    """Per-algorithm histograms of final ``R_F`` on common bins, with the good-minimum threshold."""
    items = []
    for name in ds["algorithm"].values:
        err = ds["error"].sel(algorithm=name).values
        counts, _ = np.histogram(err[np.isfinite(err)], bins=edges)
        items.append(hv.Histogram((edges, counts), kdims=[RF], vdims=[hv.Dimension("count", label="runs")],
                                  label=str(name)).opts(alpha=0.55, color=COLORS.get(str(name), "#444")))
    threshold = float(ds["threshold"]) if "threshold" in ds else None
    if threshold is not None:
        items.append(hv.VLine(threshold, label="good threshold").opts(color="black", line_dash="dashed",
                                                                       backend="bokeh"))
    return hv.Overlay(items).opts(title="Final R_F over random starts (click a bar: its runs)") \
        .opts(legend_position="top_right", tools=["tap", "hover"], responsive=True, height=300, backend="bokeh")


def convergence(ds: xr.Dataset) -> hv.Overlay:
    """Median ``R_F`` against iteration with the 10-90 % band of the runs, per algorithm."""
    items = []
    it = ds["iteration"].values
    for name in ds["algorithm"].values:
        h = ds["history"].sel(algorithm=name).values
        h = h[np.isfinite(h).all(axis=1)]
        if not h.size:
            continue
        lo, med, hi = np.percentile(h, [10, 50, 90], axis=0)
        color = COLORS.get(str(name), "#444")
        items.append(hv.Area((it, np.maximum(lo, 1e-12), hi), kdims=["iteration"], vdims=[RF, "high"],
                             label=str(name)).opts(alpha=0.2, color=color, logy=True)
                     .opts(logy=True, backend="matplotlib"))
        items.append(hv.Curve((it, med), kdims=["iteration"], vdims=[RF], label=str(name))
                     .opts(color=color, logy=True).opts(logy=True, backend="matplotlib"))
    return hv.Overlay(items).opts(title="Convergence: median and 10-90 % of runs") \
        .opts(responsive=True, height=300, legend_position="top_right", backend="bokeh")


def frc_curves(ds: xr.Dataset) -> hv.Overlay:
    """Median FRC against the truth per algorithm."""
    if "frc" not in ds:
        return hv.Overlay([hv.Curve([], "spatial frequency", "FRC")]).opts(title="FRC (needs the truth)")
    f = ds["frequency"].values
    items = [hv.Curve((f, np.nanmedian(ds["frc"].sel(algorithm=name).values, axis=0)),
                      kdims=[hv.Dimension("frequency", label="spatial frequency", unit="1/pixel")],
                      vdims=[hv.Dimension("frc", label="FRC")], label=str(name))
             .opts(color=COLORS.get(str(name), "#444")) for name in ds["algorithm"].values]
    items.append(hv.HLine(0.5).opts(color="gray", line_dash="dotted", backend="bokeh"))
    return hv.Overlay(items).opts(title="Fourier ring correlation with the truth (median)") \
        .opts(responsive=True, height=300, legend_position="bottom_left", backend="bokeh")


def _image(values: np.ndarray, x: np.ndarray, y: np.ndarray, title: str, label: str = "density",
           cmap: str = "viridis", kdims: tuple[str, str] = ("x", "y")) -> hv.Image:
    dx = float(x[1] - x[0]) if len(x) > 1 else 1.0
    dy = float(y[1] - y[0]) if len(y) > 1 else 1.0
    bounds = (x[0] - dx / 2, y[0] - dy / 2, x[-1] + dx / 2, y[-1] + dy / 2)
    return hv.Image(np.flipud(values), bounds=bounds, kdims=list(kdims), vdims=[label]).opts(
        title=title, cmap=cmap, aspect="equal").opts(cmap=cmap, aspect="equal", backend="matplotlib") \
        .opts(colorbar=True, width=300, height=280, backend="bokeh")


def pattern(ds: xr.Dataset) -> hv.Layout:
    """The diffraction pattern on a log scale (missing pixels blank) beside the support and truth."""
    k = ds["kx"].values
    logi = np.log10(ds["intensity"].values + 1.0)
    logi = np.where(ds["missing"].values > 0, np.nan, logi)
    pat = _image(logi, k, k, "Diffraction pattern (log10 photons)", "log10 I", "fire", ("kx", "ky"))
    sup = ds["support"].values.astype(float)
    inner = ds["truth"].values if "truth" in ds else sup
    rows, cols = np.nonzero(sup)
    r = slice(max(rows.min() - 2, 0), rows.max() + 3)
    c = slice(max(cols.min() - 2, 0), cols.max() + 3)
    xx = ds["xx"].values
    obj = _image(np.where(sup > 0, inner, np.nan)[r, c], xx[c], xx[r], "Support (with the truth inside)")
    return (pat + obj).cols(2)


def best_vs_truth(ds: xr.Dataset, algorithm: str) -> hv.Layout:
    """The best reconstruction (lowest ``R_F``) of ``algorithm`` beside the truth, same crop."""
    sub = ds.sel(algorithm=algorithm)
    err = sub["error"].values
    i = int(np.nanargmin(err))
    x, y = sub["x"].values, sub["y"].values
    rec = _image(sub["reconstruction"].values[i], x, y, f"best {algorithm}: R_F = {err[i]:.4f}")
    if "truth" not in ds:
        return hv.Layout([rec])
    t = ds["truth"].sel(yy=y, xx=x).values
    return (rec + _image(t, x, y, "truth")).cols(2)


def gallery(ds: xr.Dataset, algorithm: str, lo: float, hi: float, limit: int = 12) -> hv.Layout | None:
    """Reconstructions of ``algorithm`` whose final ``R_F`` lies in ``[lo, hi)``."""
    sub = ds.sel(algorithm=algorithm)
    err = sub["error"].values
    idx = np.nonzero((err >= lo) & (err < hi))[0][:limit]
    if not idx.size:
        return None
    x, y = sub["x"].values, sub["y"].values
    tiles = [_image(sub["reconstruction"].values[i], x, y, f"run {int(sub['run'].values[i])}: {err[i]:.4f}")
             .opts(colorbar=False, width=180, height=170, xaxis=None, yaxis=None, backend="bokeh")
             for i in idx]
    return hv.Layout(tiles).cols(4)


def clicked_algorithm(ds: xr.Dataset, edges: np.ndarray, x: float, y: float | None) -> tuple[str, int] | None:
    """The algorithm whose bar is under a click at ``(x, y)`` on :func:`histograms`, and the bin.

    Bars of all algorithms share the bins and are drawn over each other from 0 up to their count,
    so the bar under the point is the shortest one that reaches ``y`` (the others extend above
    it); a click above every bar of the bin picks none.
    """
    i = int(np.searchsorted(edges, x, side="right")) - 1
    if not 0 <= i < len(edges) - 1:
        return None
    best: tuple[int, str] | None = None
    for name in ds["algorithm"].values:
        err = ds["error"].sel(algorithm=name).values
        count = int(np.histogram(err[np.isfinite(err)], bins=edges)[0][i])
        if count > 0 and (y is None or y <= count) and (best is None or count < best[0]):
            best = (count, str(name))
    return None if best is None else (best[1], i)


def prtf_curves(res: xr.Dataset, frc: xr.Dataset | None = None) -> hv.Overlay:
    """PRTF of the selected runs per algorithm (solid), beside the median FRC against the truth (dashed)."""
    f = hv.Dimension("frequency", label="spatial frequency", unit="1/pixel")
    v = hv.Dimension("value", label="PRTF, FRC", unit="1", range=(0, 1.05))

    def curve(x: np.ndarray, y: np.ndarray, label: str, name: str, dashed: bool) -> hv.Curve:
        color = COLORS.get(str(name), "#444")
        c = hv.Curve((x, y), kdims=[f], vdims=[v], label=label).opts(color=color) \
            .opts(color=color, backend="matplotlib")
        return c.opts(line_dash="dashed", backend="bokeh").opts(linestyle="dashed", backend="matplotlib") \
            if dashed else c

    items = [curve(res["frequency"].values, res["prtf"].sel(algorithm=name).values, f"PRTF {name}", name, False)
             for name in res["algorithm"].values]
    if frc is not None and "frc" in frc:
        items += [curve(frc["frequency"].values, np.nanmedian(frc["frc"].sel(algorithm=name).values, axis=0),
                        f"FRC {name}", name, True) for name in frc["algorithm"].values]
    items.append(hv.HLine(1 / np.e).opts(color="gray").opts(color="gray", linestyle="dotted", backend="matplotlib")
                 .opts(line_dash="dotted", backend="bokeh"))
    title = f"PRTF of the best {res.attrs.get('selected_fraction', 0.5):.0%} of runs (dotted: 1/e)"
    return hv.Overlay(items).opts(title=title).opts(responsive=True, height=300, legend_position="bottom_left",
                                                    backend="bokeh")
