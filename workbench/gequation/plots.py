"""HoloViews views of flame-speed results (render in bokeh and matplotlib).

* :func:`speed_curves` — s_T(A) per model with error bars; log-log or
  against A/log A (the inviscid growth law, Liu, Xin & Yu 2013); the strain
  model's quenching amplitude A* as a vertical line.
* :func:`front_view` — the front G = P·x + u = 0 unfolded in the plane
  (3×3 cells around it) over the flow's streamlines (contours of ψ).
* :func:`history_view` — ⟨u⟩(t) with the fitted line ``c − s_T t`` on the window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  registers bokeh (dashboards), the current backend
import holoviews.plotting.mpl  # noqa: F401  registers matplotlib (export); bokeh stays current
import numpy as np
import xarray as xr

from .flows import get_flow

COLORS = {"inviscid": "#1f5f8b", "viscous": "#d1495b", "curvature": "#edae49",
          "strain": "#00798c", "curvature-strain": "#6a4c93"}
VIEWS = ("s_T vs A", "log-log", "s_T vs A/log A")


def _both(obj, **opts):
    """The same options on both backends (colors, log axes)."""
    return obj.opts(backend="bokeh", **opts).opts(backend="matplotlib", **opts)


def view_x(A: np.ndarray, view: str) -> np.ndarray:
    """The horizontal coordinate of amplitudes ``A`` in ``view`` (A, or A/log A for the inviscid law)."""
    if view == "s_T vs A/log A":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(A > math.e, A / np.log(A), np.nan)
    return A


def speed_curves(points: Mapping[str, Mapping[float, tuple[float, float]]], view: str = "s_T vs A",
                 a_star: Mapping[str, float] | None = None) -> hv.Overlay:
    """s_T(A) for each model from ``{model: {A: (s_T, s_T_error)}}``."""
    xlabel = {"s_T vs A/log A": "A/log A"}.get(view, "A")
    kx = hv.Dimension("x", label=xlabel)
    ky = hv.Dimension("s_T", label="s_T", unit="s_l")
    items = []
    for model, pts in points.items():
        if not pts:
            continue
        A = np.array(sorted(pts))
        s = np.array([pts[a][0] for a in A])
        e = np.array([pts[a][1] for a in A])
        x = view_x(A, view)
        ok = np.isfinite(x) & np.isfinite(s)
        if view == "log-log":
            ok &= (x > 0) & (s > 0)
        color = COLORS.get(model, "black")
        data = {"x": x[ok], "s_T": s[ok], "err": e[ok], "A": A[ok], "model": [model] * int(ok.sum())}
        items.append(_both(hv.Curve(data, kx, ky, label=model), color=color))
        items.append(_both(hv.ErrorBars(data, kx, [ky, "err"]), color=color))
        items.append(hv.Scatter(data, kx, [ky, "A", "model"]).opts(color=color, size=7, backend="bokeh")
                     .opts(tools=["tap", "hover"], backend="bokeh").opts(color=color, backend="matplotlib"))
    law = _growth_law(points.get("inviscid", {}), view)
    if law is not None:
        items.append(law)
    for model, a in (a_star or {}).items():
        if np.isfinite(a):
            xa = view_x(np.array([a]), view)[0]
            if np.isfinite(xa):
                line = _both(hv.VLine(xa), color=COLORS.get(model, "black"))
                items.append(line.opts(line_dash="dashed", backend="bokeh").opts(linestyle="--",
                                                                                 backend="matplotlib"))
    if not items:
        items = [hv.Curve([], kx, ky)]
    overlay = hv.Overlay(items).opts(title="turbulent flame speed", show_legend=True)
    if view == "log-log":
        overlay = _both(overlay, logx=True, logy=True)
    return overlay.opts(responsive=True, min_height=320, legend_position="top_left", backend="bokeh")


def _growth_law(pts: Mapping[float, tuple[float, float]], view: str) -> hv.Curve | None:
    """``c A/log A`` through the inviscid points with A > e (c their median ratio)."""
    A = np.array(sorted(a for a in pts if a > math.e and np.isfinite(pts[a][0])))
    if view == "s_T vs A" or len(A) == 0:
        return None
    c = float(np.median([pts[a][0] * math.log(a) / a for a in A]))
    grid = np.linspace(A.min(), A.max(), 50) if len(A) > 1 else A
    x = view_x(grid, view)
    return hv.Curve((x, c * grid / np.log(grid)), "x", "s_T", label=f"{c:.2f} A/log A").opts(
        color="gray", backend="bokeh").opts(line_dash="dotted", backend="bokeh").opts(
        color="gray", linestyle=":", backend="matplotlib")


def _tiles(u: np.ndarray, xs: np.ndarray, center: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """u tiled on 3×3 cells around ``center``; returns x, y (1-D) and u (y, x)."""
    L = 2 * math.pi
    kx, ky = math.floor(center[0] / L), math.floor(center[1] / L)
    x = np.concatenate([xs + L * k for k in (kx - 1, kx, kx + 1)])
    y = np.concatenate([xs + L * k for k in (ky - 1, ky, ky + 1)])
    return x, y, np.tile(u, (3, 3))


def front_view(ds: xr.Dataset, frame: int = -1, flow: str = "cellular", profile: str | None = None) -> hv.Overlay:
    """The front G = 0 of one run at snapshot ``frame`` over the flow's streamlines."""
    params = ds.attrs
    P = np.asarray(params.get("direction", [1.0, 0.0]), dtype=float)
    u = ds.front.isel(frame=frame).values.astype(float)
    t = float(ds.frame_time.isel(frame=frame))
    xs = ds.x.values
    shift = -float(np.nanmean(u))  # the front lies near P·x = −⟨u⟩
    x, y, uu = _tiles(u, xs, (shift * P[0], shift * P[1]))
    X, Y = np.meshgrid(x, y)
    G = P[0] * X + P[1] * Y + uu
    A = float(ds.A) if "A" in ds.coords else 1.0
    fl = get_flow(flow, profile if flow == "shear" else None)
    psi = fl.streamfunction(X, Y, t, A, float(ds.B) if "B" in ds.coords else 1.0,
                            float(ds.omega) if "omega" in ds.coords else 1.0)
    kd = [hv.Dimension("x", unit="length"), hv.Dimension("y", unit="length")]
    bounds = (x[0], y[0], x[-1], y[-1])
    stream = hv.operation.contours(hv.Image(psi, bounds=bounds, kdims=kd, vdims=["psi"]),
                                   levels=np.linspace(psi.min(), psi.max(), 10)[1:-1] if np.ptp(psi) > 0 else 1,
                                   filled=False)
    front = hv.operation.contours(hv.Image(G, bounds=bounds, kdims=kd, vdims=["G"]), levels=[0.0], filled=False)
    title = f"front G = 0 at t = {t:.3g} over streamlines"
    stream = stream.opts(color="gray", alpha=0.5, backend="bokeh").opts(color="gray", alpha=0.5, backend="matplotlib")
    front = front.opts(color="#d1495b", line_width=3, backend="bokeh").opts(color="#d1495b", linewidth=2.5,
                                                                            backend="matplotlib")
    return (stream * front
            ).opts(title=title).opts(aspect="equal", backend="matplotlib").opts(
        min_height=320, responsive=True, data_aspect=1, backend="bokeh")


def history_view(ds: xr.Dataset) -> hv.Overlay:
    """⟨u⟩(t) and the fitted line c − s_T t over the estimator's window."""
    t = ds.time.values.astype(float)
    m = ds.mean_u.values.astype(float)
    s, c = float(ds.s_T), float(ds.fit_intercept)
    kt = hv.Dimension("t", unit="time")
    km = hv.Dimension("mean_u", label="⟨u⟩", unit="length")
    tf = float(ds.t_final)
    tw = t[t >= tf / 2] if len(t) else t
    curve = hv.Curve((t, m), kt, km, label="⟨u⟩(t)")
    fit = hv.Curve((tw, c - s * tw), kt, km, label=f"fit: s_T = {s:.4g} ± {float(ds.s_T_error):.2g}")
    return (curve * fit.opts(color="black", line_dash="dashed", backend="bokeh")).opts(
        title="spatial mean ⟨u⟩(t)", legend_position="top_right").opts(
        min_height=260, responsive=True, backend="bokeh")
