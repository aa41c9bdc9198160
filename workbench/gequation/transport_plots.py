"""HoloViews views of effective-diffusivity results (bokeh and matplotlib).

* :func:`diffusivity_curve` — D_eff per direction against A or D₀ (a sweep Dataset), error bars,
  log-log, with an optional reference power law ``c·x^p`` (e.g. √D₀ of the steady cells).
* :func:`msd_view` — the mean-square displacement per direction with the fitted slope 2 D_eff
  over the estimator's window.
* :func:`step_error_view` — |D_eff(h) − D_ref| against the time step h for each integrator.
"""

from __future__ import annotations

from collections.abc import Mapping

import holoviews as hv
import numpy as np
import xarray as xr

from .diffusivity import DIRECTIONS

DIRECTION_COLORS = {"x": "#1f5f8b", "y": "#d1495b"}
LABELS = {"A": ("A", "length/time"), "d0": ("D₀", "length²/time")}


def diffusivity_curve(ds: xr.Dataset, x: str = "d0", reference: tuple[float, float] | None = None,
                      label: str = "") -> hv.Overlay:
    """D_eff (both directions) against the sweep axis ``x`` (``A`` or ``d0``), log-log."""
    name, unit = LABELS[x]
    kx = hv.Dimension(x, label=name, unit=unit)
    ky = hv.Dimension("D_eff", label="D_eff", unit="length²/time")
    sub = ds
    for other in [d for d in ds.D_eff.dims if d not in (x, "direction")]:
        sub = sub.isel({other: 0})
    xs = sub[x].values.astype(float)
    items = []
    for i, direction in enumerate(DIRECTIONS):
        d = sub.D_eff.isel(direction=i).values
        e = sub.D_eff_error.isel(direction=i).values
        color = DIRECTION_COLORS[direction]
        data = {x: xs, "D_eff": d, "err": e}
        tag = f"{label} D_eff,{direction}{direction}".strip()
        items += [hv.Curve(data, kx, ky, label=tag).opts(color=color),
                  hv.ErrorBars(data, kx, [ky, "err"]).opts(color=color),
                  hv.Scatter(data, kx, ky).opts(color=color)]
    if reference is not None:
        c, p = reference
        grid = np.geomspace(xs.min(), xs.max(), 20)
        items.append(hv.Curve({x: grid, "D_eff": c * grid**p}, kx, ky, label=f"{c:.2g}·{name}^{p:g}")
                     .opts(color="gray", line_dash="dotted", backend="bokeh"))
    return hv.Overlay(items).opts(logx=True, logy=True, title=f"effective diffusivity ({ds.attrs.get('flow', '')})",
                                  legend_position="top_left").opts(min_height=300, responsive=True,
                                                                   backend="bokeh")


def msd_view(ds: xr.Dataset) -> hv.Overlay:
    """E(X_i(t) − X_i(0))² and the line of slope 2 D_eff through it on the window (one point)."""
    kt = hv.Dimension("t", unit="time")
    km = hv.Dimension("msd", label="mean-square displacement", unit="length²")
    t = ds.time.values.astype(float)
    t0 = float(ds.attrs["window_start"])
    items = []
    for i, direction in enumerate(DIRECTIONS):
        m = ds.msd.isel(direction=i).values.astype(float)
        d = float(ds.D_eff.isel(direction=i))
        w = t >= t0
        c = float(np.mean(m[w] - 2 * d * t[w]))
        color = DIRECTION_COLORS[direction]
        items.append(hv.Curve((t, m), kt, km, label=f"MSD {direction}").opts(color=color))
        items.append(hv.Curve((t[w], c + 2 * d * t[w]), kt, km, label=f"slope 2·{d:.3g}")
                     .opts(color="black", line_dash="dashed", backend="bokeh"))
    return hv.Overlay(items).opts(title="mean-square displacement", legend_position="top_left").opts(
        min_height=260, responsive=True, backend="bokeh")


def step_error_view(errors: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> hv.Overlay:
    """``{integrator: (h, |D_eff(h) − D_ref|)}`` on log-log axes."""
    kh = hv.Dimension("h", label="time step h", unit="time")
    ke = hv.Dimension("error", label="|D_eff(h) − D_ref|", unit="length²/time")
    items = []
    for name, (h, err) in errors.items():
        items += [hv.Curve((h, err), kh, ke, label=name), hv.Scatter((h, err), kh, ke)]
    return hv.Overlay(items).opts(logx=True, logy=True, title="integrator error against step size",
                                  legend_position="bottom_right").opts(min_height=300, responsive=True,
                                                                       backend="bokeh")
