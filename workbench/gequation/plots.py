"""HoloViews views of flame-speed results (render in bokeh and matplotlib).

* :func:`speed_curves` — s_T(A) per model (a Dataset over model, A; :func:`speed_table`
  builds it from sweeps) with error bars, flagged points hollow; log-log or
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


def both_backends(obj, **opts):
    """The same options on both backends (colors, log axes); matplotlib draws error bars in ``edgecolor``
    (its ``color`` leaves them black)."""
    mpl = dict(opts)
    if isinstance(obj, hv.ErrorBars) and "color" in mpl:
        mpl["edgecolor"] = mpl.pop("color")
    return obj.opts(backend="bokeh", **opts).opts(backend="matplotlib", **mpl)


def view_x(A: np.ndarray, view: str) -> np.ndarray:
    """The horizontal coordinate of amplitudes ``A`` in ``view`` (A, or A/log A for the inviscid law)."""
    A = np.asarray(A, dtype=float)
    if view == "s_T vs A/log A":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(A > math.e, A / np.log(A), np.nan)
    return A


def speed_table(results: Mapping[str, xr.Dataset]) -> xr.Dataset:
    """One Dataset (model, A) of s_T, s_T_error and flag from per-model sweep results over A."""
    parts = []
    for model, ds in results.items():
        keep = ds[[v for v in ("s_T", "s_T_error", "flag") if v in ds]]
        for extra in [d for d in keep.dims if d != "A"]:
            keep = keep.isel({extra: 0})
        if "flag" not in keep:
            keep = keep.assign(flag=(("A",), np.full(keep.sizes["A"], "", dtype=object)))
        parts.append(keep.expand_dims(model=[model]))
    if not parts:
        return xr.Dataset({"s_T": (("model", "A"), np.zeros((0, 0))),
                           "s_T_error": (("model", "A"), np.zeros((0, 0))),
                           "flag": (("model", "A"), np.zeros((0, 0), dtype=str))},
                          coords={"model": [], "A": []})
    out = xr.concat(parts, dim="model", join="outer")
    out["flag"] = out.flag.fillna("").astype(str)
    return out


def speed_curves(ds: xr.Dataset, view: str = "s_T vs A",
                 a_star: Mapping[str, float] | None = None) -> hv.Overlay:
    """s_T(A) per model, with error bars, from a Dataset with dims (model, A) (:func:`speed_table`).

    A point with a non-empty ``flag`` (under-resolved, outside its proven bounds; see
    :mod:`.diagnostics`) is drawn hollow and left out of the curve, never as a plain point."""
    xlabel = {"s_T vs A/log A": "A/log A"}.get(view, "A")
    kx = hv.Dimension("x", label=xlabel)
    ky = hv.Dimension("s_T", label="s_T", unit="s_l")
    items = []
    inviscid = None
    for model in [str(m) for m in ds.model.values]:
        one = ds.sel(model=model)
        A = ds.A.values.astype(float)
        s, e = one.s_T.values.astype(float), one.s_T_error.values.astype(float)
        flag = one.flag.values.astype(str) if "flag" in one else np.full(len(A), "")
        x = view_x(A, view)
        ok = np.isfinite(x) & np.isfinite(s)
        if view == "log-log":
            ok &= (x > 0) & (s > 0)
        if not ok.any():
            continue
        color = COLORS.get(model, "black")
        plain, marked = ok & (flag == ""), ok & (flag != "")
        data = lambda m: {"x": x[m], "s_T": s[m], "err": e[m], "A": A[m], "model": [model] * int(m.sum()),  # noqa: E731
                          "flag": list(flag[m])}
        items.append(both_backends(hv.Curve(data(plain), kx, ky, label=model), color=color))
        items.append(both_backends(hv.ErrorBars(data(ok), kx, [ky, "err"]), color=color))
        items.append(hv.Scatter(data(plain), kx, [ky, "A", "model"]).opts(color=color, size=7, backend="bokeh")
                     .opts(tools=["tap", "hover"], backend="bokeh").opts(color=color, backend="matplotlib"))
        if marked.any():
            items.append(hv.Scatter(data(marked), kx, [ky, "A", "model", "flag"], label=f"{model} (flagged)")
                         .opts(size=10, marker="circle", fill_alpha=0, line_color=color, line_width=2,
                               tools=["tap", "hover"], backend="bokeh")
                         .opts(s=60, facecolors="none", edgecolors=color, backend="matplotlib"))
        if model == "inviscid":
            inviscid = {a: v for a, v, good in zip(A, s, plain) if good}
    law = _growth_law(inviscid or {}, view)
    if law is not None:
        items.append(law)
    for model, a in (a_star or {}).items():
        if np.isfinite(a):
            xa = view_x(np.array([a]), view)[0]
            if np.isfinite(xa):
                line = both_backends(hv.VLine(xa), color=COLORS.get(model, "black"))
                items.append(line.opts(line_dash="dashed", backend="bokeh").opts(linestyle="--",
                                                                                 backend="matplotlib"))
    if not items:
        items = [hv.Curve([], kx, ky)]
    overlay = hv.Overlay(items).opts(title="turbulent flame speed", show_legend=True)
    if view == "log-log":
        overlay = both_backends(overlay, logx=True, logy=True)
    return overlay.opts(responsive=True, min_height=320, legend_position="top_left", backend="bokeh")


def _growth_law(pts: Mapping[float, float], view: str) -> hv.Curve | None:
    """``c A/log A`` through the inviscid points with A > e (c their median ratio)."""
    A = np.array(sorted(a for a in pts if a > math.e and np.isfinite(pts[a])))
    if view == "s_T vs A" or len(A) == 0:
        return None
    c = float(np.median([pts[a] * math.log(a) / a for a in A]))
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
    phase = {"theta": float(ds.frame_phase.isel(frame=frame))} if "frame_phase" in ds else {}  # random flows
    psi = fl.streamfunction(X, Y, t, A, float(ds.B) if "B" in ds.coords else 1.0,
                            float(ds.omega) if "omega" in ds.coords else 1.0, **phase)
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
