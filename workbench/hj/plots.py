"""HoloViews views of smoothing and optimizer results (render in bokeh and matplotlib).

Every function takes a Dataset from :func:`.smooth_landscape` or
:func:`.compare_optimizers` and returns plain HoloViews elements with labelled
dimensions; bokeh-only options are set with ``backend="bokeh"``.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  registers bokeh (dashboards), the current backend
import holoviews.plotting.mpl  # noqa: F401  registers matplotlib (export); bokeh stays current
import numpy as np
import xarray as xr

COLORS = {"f": "#444444", "u": "#1f77b4", "u_beta": "#d62728",
          "gd": "#7f7f7f", "prox": "#1f77b4", "entropy_sgd": "#2ca02c", "hj_prox": "#d62728"}
LABELS = {"gd": "gradient descent", "prox": "proximal point", "entropy_sgd": "Entropy-SGD",
          "hj_prox": "HJ-prox descent"}
X, Y = hv.Dimension("x"), hv.Dimension("y")


def _bokeh(obj, **opts):
    return obj.opts(backend="bokeh", **opts)


def envelopes(ds: xr.Dataset, t: float | None = None) -> hv.Overlay | hv.Layout:
    """1-D: f, u and u_beta as curves; 2-D: f, u (and u_beta) side by side with contours."""
    sel = ds.sel(t=t, method="nearest") if t is not None else ds.isel(t=-1)
    tval = float(sel.t)
    if ds.f.ndim == 1:
        x = ds.x.values
        items = [hv.Curve((x, sel.f.values), X, "f", label="landscape f").opts(color=COLORS["f"]),
                 hv.Curve((x, sel.u.values), X, "f", label=f"u, Moreau (t={tval:.3g})").opts(color=COLORS["u"])]
        if "u_beta" in sel:
            items.append(hv.Curve((x, sel.u_beta.values), X, "f", label="u, local entropy")
                         .opts(color=COLORS["u_beta"]))
        overlay = hv.Overlay(items).opts(title="landscape and HJ envelopes")
        return _bokeh(overlay, legend_position="top_left", responsive=True, height=320)
    panels = [_image(ds, sel.f.values, "f", "f"), _image(ds, sel.u.values, "u", f"u, Moreau (t={tval:.3g})")]
    if "u_beta" in sel:
        panels.append(_image(ds, sel.u_beta.values, "u_beta", "u, local entropy"))
    return hv.Layout(panels).cols(len(panels))


def _image(ds: xr.Dataset, values: np.ndarray, name: str, title: str) -> hv.Overlay:
    x, y = ds.x.values, ds.y.values
    img = hv.Image((x, y, values), [X, Y], hv.Dimension(name, label=name)).opts(cmap="viridis", title=title)
    img = _bokeh(img, colorbar=True, tools=["hover", "tap"], width=330, height=300)
    levels = hv.operation.contours(img, levels=8, filled=False).opts(color="white", alpha=0.5)
    return img * levels


def prox_map(ds: xr.Dataset, t: float | None = None) -> hv.Element:
    """1-D: prox_tf(x) against x; 2-D: the displacement |prox_tf(x) - x|."""
    sel = ds.sel(t=t, method="nearest") if t is not None else ds.isel(t=-1)
    tval = float(sel.t)
    if ds.f.ndim == 1:
        x = ds.x.values
        curve = hv.Curve((x, sel.prox_x.values), X, hv.Dimension("prox", label="prox_tf(x)"),
                         label=f"prox (t={tval:.3g})").opts(color=COLORS["u"])
        ident = hv.Curve((x, x), X, "prox", label="identity").opts(color="#aaaaaa")
        return _bokeh((curve * ident).opts(title="prox map"), responsive=True, height=260,
                      legend_position="top_left")
    xx, yy = np.meshgrid(ds.x.values, ds.y.values)
    disp = np.hypot(sel.prox_x.values - xx, sel.prox_y.values - yy)
    img = hv.Image((ds.x.values, ds.y.values, disp), [X, Y], hv.Dimension("displacement", label="|prox(x) - x|"))
    return _bokeh(img.opts(cmap="magma", title=f"prox displacement (t={tval:.3g})"), colorbar=True,
                  width=330, height=300)


def trajectories(env: xr.Dataset, opt: xr.Dataset | None, t: float | None = None) -> hv.Overlay:
    """Tracked optimizer paths over the landscape (1-D: over the curve of f)."""
    one_d = env.f.ndim == 1
    if one_d:
        base = hv.Curve((env.x.values, env.f.values), X, "f", label="landscape f").opts(color=COLORS["f"])
    else:
        base = hv.Image((env.x.values, env.y.values, env.f.values), [X, Y], "f").opts(cmap="Greys_r")
        base = _bokeh(base, tools=["tap"])
    items = [base]
    if opt is not None:
        sel = opt.sel(t=t, method="nearest") if t is not None else opt.isel(t=-1)
        for m in sel.optimizer.values:
            paths = sel.trajectory.sel(optimizer=m).values  # (track, step, dim)
            color = COLORS.get(str(m), "black")
            label = LABELS.get(str(m), str(m))
            if one_d:
                data = [np.column_stack([p[:, 0], np.interp(p[:, 0], env.x.values, env.f.values)]) for p in paths]
                items.append(hv.Path(data, [X, "f"], label=label).opts(color=color))
                ends = np.array([d[-1] for d in data])
                items.append(hv.Scatter((ends[:, 0], ends[:, 1]), X, "f").opts(color=color))
            else:
                items.append(hv.Path([p for p in paths], [X, Y], label=label).opts(color=color))
                items.append(hv.Scatter((paths[:, -1, 0], paths[:, -1, 1]), X, Y).opts(color=color))
    overlay = hv.Overlay(items).opts(title="optimizer trajectories (click to set a start)")
    return _bokeh(overlay, legend_position="top_left", responsive=True, height=320)


def final_value_histograms(opt: xr.Dataset, t: float | None = None, bins: int = 30) -> hv.Overlay:
    """Histogram of the final values over all starts, one per optimizer, on common bins."""
    sel = opt.sel(t=t, method="nearest") if t is not None else opt.isel(t=-1)
    vals = sel.final_value.values
    finite = vals[np.isfinite(vals)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
    items = []
    for m in sel.optimizer.values:
        v = sel.final_value.sel(optimizer=m).values
        counts, _ = np.histogram(v[np.isfinite(v)], edges)
        frac = float(sel.basin_fraction.sel(optimizer=m))
        label = f"{LABELS.get(str(m), str(m))} ({frac:.0%} in global basin)"
        items.append(hv.Histogram((edges, counts), kdims=[hv.Dimension("final", label="final value f")], vdims=["count"],
                                  label=label).opts(color=COLORS.get(str(m), "black"), alpha=0.45))
    overlay = hv.Overlay(items).opts(title=f"final values over {sel.sizes['run']} starts (t={float(sel.t):.3g})")
    return _bokeh(overlay, legend_position="top_right", responsive=True, height=300)


def basin_fractions(opt: xr.Dataset) -> hv.Overlay:
    """Fraction of starts that reach the global basin against t, per optimizer."""
    items = []
    for m in opt.optimizer.values:
        frac = opt.basin_fraction.sel(optimizer=m).values
        items.append(hv.Curve((opt.t.values, frac), hv.Dimension("t", label="HJ time t"),
                              hv.Dimension("basin", label="fraction in global basin", range=(0, 1)),
                              label=LABELS.get(str(m), str(m))).opts(color=COLORS.get(str(m), "black")))
    return _bokeh(hv.Overlay(items).opts(title="basin reach"), legend_position="top_left", responsive=True,
                  height=280)


def summary_table(opt: xr.Dataset) -> str:
    """A Markdown table per optimizer: share of runs ending in the global basin, mean final f and
    share diverged, at the first t of the study."""
    frac = opt.basin_fraction.isel(t=0)
    rows = ["| optimizer | in global basin | mean final f | diverged |", "|---|---|---|---|"]
    for m in opt.optimizer.values:
        rows.append(f"| {LABELS.get(str(m), m)} | {float(frac.sel(optimizer=m)):.1%} | "
                    f"{float(opt.final_value.sel(optimizer=m).mean()):.4g} | "
                    f"{float(opt.diverged_fraction.sel(optimizer=m).isel(t=0)):.0%} |")
    return "\n".join(rows)
