"""HoloViews views of effective-diffusivity results (bokeh and matplotlib).

* :func:`diffusivity_curve` — D_eff per direction against A or D₀ (a sweep Dataset), error bars,
  log-log, with an optional reference power law ``c·x^p`` (e.g. √D₀ of the steady cells).
* :func:`msd_view` — the mean-square displacement per direction with the fitted slope 2 D_eff
  over the estimator's window.
* :func:`step_error_view` — |D_eff(h) − D_ref| against the time step h for each integrator.
* :func:`cloud_view` — a particle cloud at one snapshot over the flow's streamlines.
* :func:`realisation_speeds_view` — s_T against A of the periodic and the stochastic flow: error
  bars, and each realisation of the stochastic flow as a dot (the spread).
"""

from __future__ import annotations

from collections.abc import Mapping

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  registers bokeh (dashboards), the current backend
import holoviews.plotting.mpl  # noqa: F401  registers matplotlib (export); bokeh stays current
import numpy as np
import xarray as xr

from .diffusivity import DIRECTIONS
from .particle_cloud import stream_on
from .plots import both_backends

DIRECTION_COLORS = {"x": "#1f5f8b", "y": "#d1495b"}
LABELS = {"A": ("A", "length/time"), "d0": ("D₀", "length²/time")}


def log_ticks(lo: float, hi: float, most: int = 5) -> list[float]:
    """Tick values for a log axis over ``[lo, hi]`` (``0 < lo``), at most ``most``: powers of ten, with 2 and 5
    times them while that leaves at most ``most`` ticks, every other (third, ...) power over many decades; a
    range too short for three powers or multiples gets evenly spaced round values."""
    def rounded(ticks) -> list[float]:
        return [float(f"{t:.3g}") for t in ticks]

    if not hi > lo:
        return rounded([lo])
    k0, k1 = int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi)))
    inside = [[m * 10.0 ** k for k in range(k0, k1 + 1) for m in mantissas
               if lo * (1 - 1e-9) <= m * 10.0 ** k <= hi * (1 + 1e-9)] for mantissas in ((1, 2, 5), (1,))]
    for ticks in inside:
        if 3 <= len(ticks) <= most:
            return rounded(ticks)
    if len(inside[1]) > most:
        return rounded(inside[1][::-(-len(inside[1]) // most)])
    base = 10.0 ** np.floor(np.log10((hi - lo) / 2))
    for step in (base, 2 * base, 5 * base, 10 * base):
        ticks = np.arange(np.ceil(lo / step - 1e-9), np.floor(hi / step + 1e-9) + 1) * step
        if len(ticks) <= most:
            return [float(f"{t:.6g}") for t in ticks]
    return rounded([lo, hi])


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
        items += [both_backends(hv.Curve(data, kx, ky, label=tag), color=color),
                  both_backends(hv.ErrorBars(data, kx, [ky, "err"]), color=color),
                  both_backends(hv.Scatter(data, kx, ky), color=color)]
    if reference is not None:
        c, p = reference
        grid = np.geomspace(xs.min(), xs.max(), 20)
        items.append(hv.Curve({x: grid, "D_eff": c * grid**p}, kx, ky, label=f"{c:.2g}·{name}^{p:g}")
                     .opts(color="gray", line_dash="dotted", backend="bokeh")
                     .opts(color="gray", linestyle=":", backend="matplotlib"))
    overlay = both_backends(hv.Overlay(items), logx=True, logy=True, padding=0.05)
    return overlay.opts(title=f"effective diffusivity ({ds.attrs.get('flow', '')})", legend_position="top_left").opts(
        min_height=300, responsive=True, xticks=log_ticks(xs.min(), xs.max()) if xs.min() > 0 else None,
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
        items.append(both_backends(hv.Curve((t, m), kt, km, label=f"MSD {direction}"), color=color))
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
    overlay = both_backends(hv.Overlay(items), logx=True, logy=True)
    return overlay.opts(title="integrator error against step size", legend_position="bottom_right").opts(
        min_height=300, responsive=True, backend="bokeh")


def cloud_view(cloud: xr.Dataset, frame: int = -1, max_cells: int = 4) -> hv.Overlay:
    """Particles of ``cloud`` at snapshot ``frame`` (unwrapped) over the streamlines ψ = const.

    The view spans the cloud's extent rounded out to whole cells, at most ``max_cells`` cells
    (2π) each way; particles further out are not drawn."""
    x = cloud.x.isel(frame=frame).values
    y = cloud.y.isel(frame=frame).values
    t = float(cloud.time.isel(frame=frame))
    cell = 2 * np.pi

    def span(v: np.ndarray) -> tuple[float, float]:
        lo, hi = np.floor(np.percentile(v, 1) / cell), np.ceil(np.percentile(v, 99) / cell)
        mid = 0.5 * (lo + hi)
        half = min(max(hi - lo, 1) / 2, max_cells / 2)
        return float(np.floor(mid - half) * cell), float(np.ceil(mid + half) * cell)

    (x0, x1), (y0, y1) = span(x), span(y)
    gx, gy = np.linspace(x0, x1, 161), np.linspace(y0, y1, 161)
    X, Y = np.meshgrid(gx, gy)
    psi = stream_on(cloud, frame, X, Y)
    kx, ky = hv.Dimension("x", unit="length"), hv.Dimension("y", unit="length")
    image = hv.Image(psi, bounds=(x0, y0, x1, y1), kdims=[kx, ky], vdims=["psi"])
    levels = np.linspace(psi.min(), psi.max(), 9)[1:-1] if np.ptp(psi) > 0 else 1
    stream = hv.operation.contours(image, levels=levels, filled=False).opts(
        color="gray", alpha=0.6, backend="bokeh").opts(color="gray", alpha=0.6, backend="matplotlib")
    inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    dots = hv.Scatter((x[inside], y[inside]), kx, ky).opts(color="#d1495b", size=2, alpha=0.6, backend="bokeh").opts(
        color="#d1495b", s=2, alpha=0.6, backend="matplotlib")
    title = f"particles at t = {t:.3g} ({cloud.attrs.get('flow', '')} flow, streamlines)"
    return (stream * dots).opts(title=title, xlim=(x0, x1), ylim=(y0, y1)).opts(
        aspect="equal", backend="matplotlib").opts(min_height=320, responsive=True, data_aspect=1, backend="bokeh")


def realisation_speeds_view(periodic: xr.Dataset | None, stochastic: xr.Dataset | None,
                            locked: float | None = None) -> hv.Overlay:
    """s_T against A: the periodic flow's and the stochastic flow's realisation mean, both with their
    ``s_T_error`` bars, each realisation of the stochastic flow as a small dot, and a
    ``locked`` reference level (e.g. 1.5ω) when given. Points with a ``flag`` are hollow."""
    kA = hv.Dimension("A", label="flow amplitude A", unit="s_l")
    ks = hv.Dimension("s_T", label="flame speed s_T", unit="s_l")
    items: list = []
    for ds, color, name in ((periodic, "#1f5f8b", "periodic B sin ωt"), (stochastic, "#d1495b", "stochastic θ(t)")):
        if ds is None or ds.sizes.get("point", 0) == 0:
            continue
        A, s, e = ds.A.values, ds.s_T.values, ds.s_T_error.values
        data = {"A": A, "s_T": s, "err": e}
        flagged = np.array([bool(f) for f in ds.flag.values]) if "flag" in ds else np.zeros(len(A), bool)
        items += [both_backends(hv.Curve(data, kA, ks, label=name), color=color),
                  both_backends(hv.ErrorBars(data, kA, [ks, "err"]), color=color),
                  both_backends(hv.Scatter({k: v[~flagged] for k, v in data.items()}, kA, ks), color=color)
                  .opts(size=7, backend="bokeh"),
                  hv.Scatter({k: v[flagged] for k, v in data.items()}, kA, ks, label=f"{name}: flagged")
                  .opts(color=color, fill_alpha=0.0, size=9, backend="bokeh")
                  .opts(facecolors="none", edgecolors=color, backend="matplotlib")]
        if "s_T_realisation" in ds:
            r = ds.s_T_realisation.values
            items.append(hv.Scatter({"A": np.repeat(A, r.shape[1]), "s_T": r.ravel()}, kA, ks,
                                    label="realisations").opts(color=color, alpha=0.35, size=3, backend="bokeh")
                         .opts(color=color, alpha=0.35, s=4, backend="matplotlib"))
    if locked is not None:
        items.append(hv.HLine(locked, label=f"locked: s_T = {locked:.3g}").opts(color="gray", line_dash="dotted",
                                                                               backend="bokeh"))
    if not items:
        items = [hv.Curve([], kA, ks)]
    return hv.Overlay(items).opts(title="flame speed: periodic vs stochastic",
                                  legend_position="bottom_right", padding=0.05).opts(min_height=300, responsive=True, backend="bokeh")
