"""The HJ paper figure: a landscape, its Moreau envelope and local entropy, and the optimizers' final values.

Moreau envelope (inviscid HJ, Hopf-Lax): ``u(x, t) = min_y f(y) + |x - y|^2 / (2t)``;
local entropy (viscous HJ, Cole-Hopf): ``u_beta(x, t) = -(1/beta) log (G_{t/beta} * exp(-beta f))(x)``
(Chaudhari et al., "Deep Relaxation", 2018). 1-D: the three as curves; 2-D:
three maps on one colour scale, each with its labelled colour bar and a title
naming it. With an optimizer study: the histogram of final values per
optimizer (the fraction of starts in the global basin in the legend).

:func:`figure_data` is the Dataset drawn (what the explorer's download holds);
it names the figure ``hj.envelopes``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import results
from ..export import panels
from ..export.paper import figure_dataset, register
from .plots import COLORS, LABELS

FIGURE = "hj.envelopes"
UNIT = "(a.u.)"  # the test landscapes are dimensionless


def figure_data(smoothing: xr.Dataset, optimization: xr.Dataset | None = None,
                t: float | None = None) -> xr.Dataset:
    """The envelopes at time ``t`` (default: the last) and, when given, the optimizers' final values there."""
    sel = smoothing.sel(t=t, method="nearest") if t is not None else smoothing.isel(t=-1)
    keep = [v for v in ("f", "u", "u_beta") if v in sel]
    data = sel[keep].reset_coords(drop=False)
    data = data.assign(t_value=xr.DataArray(float(sel.t), attrs={"long_name": "HJ time t"})).drop_vars("t")
    beta = results.parameters(smoothing).get("beta")
    sources = [smoothing]
    if optimization is not None and optimization.sizes.get("dim") == smoothing.f.ndim:
        o = optimization.sel(t=float(sel.t), method="nearest")
        data["final_value"] = o.final_value.drop_vars("t")
        data["basin_fraction"] = o.basin_fraction.drop_vars("t")
        sources.append(optimization)
    return figure_dataset(data, sources, FIGURE, beta=beta)


def _aspect(ds: xr.Dataset, width_in: float) -> float:
    hist = "final_value" in ds
    if ds.f.ndim == 1:
        return 1.3 if hist and width_in < 5 else (0.42 if hist else 0.62)
    n_maps = 3 if "u_beta" in ds else 2
    if width_in >= 5:
        return (0.36 + (0.3 if hist else 0.0)) * 3 / n_maps
    return 0.48 * -(-n_maps // 2) + (0.55 if hist else 0.0)


def _curves(ax, ds: xr.Dataset, beta) -> None:
    x = ds.x.values
    t = float(ds.t_value)
    ax.plot(x, ds.f.values, color=COLORS["f"], label="landscape $f$")
    ax.plot(x, ds.u.values, color=COLORS["u"], label="Moreau envelope")
    if "u_beta" in ds:
        ax.plot(x, ds.u_beta.values, color=COLORS["u_beta"], linestyle="--",
                label=rf"local entropy ($\beta$ = {beta:g})")
    ax.set_xlabel("$x$")
    ax.set_ylabel(f"$f$, $u$ {UNIT}")
    ax.set_title(f"envelopes at $t$ = {t:.3g}")
    ax.legend()


def _histogram(ax, ds: xr.Dataset) -> None:
    vals = ds.final_value.values
    finite = vals[np.isfinite(vals)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, 21)
    for m in ds.optimizer.values:
        v = ds.final_value.sel(optimizer=m).values
        frac = float(ds.basin_fraction.sel(optimizer=m))
        ax.hist(v[np.isfinite(v)], bins=edges, histtype="step", color=COLORS.get(str(m), "black"),
                linewidth=1.0, label=f"{LABELS.get(str(m), str(m))} ({frac:.0%})")
    ax.set_xlabel(f"final value $f$ {UNIT}")
    ax.set_ylabel("starts")
    ax.set_title(f"final values, {ds.sizes['run']} starts")
    ax.legend(title="in global basin")


def _maps(fig, axes: dict, ds: xr.Dataset, beta) -> list:
    t = float(ds.t_value)
    names = [v for v in ("f", "u", "u_beta") if v in ds]
    lo = min(float(np.nanmin(ds[v].values)) for v in names)
    hi = max(float(np.nanmax(ds[v].values)) for v in names)
    spec = {"f": ("landscape $f$\n", f"$f$ {UNIT}"),
            "u": (f"Moreau envelope\n$t$ = {t:.3g}", f"$u(x, t)$ {UNIT}"),
            "u_beta": (f"local entropy\n$t$ = {t:.3g}, $\\beta$ = {beta:g}", rf"$u_\beta(x, t)$ {UNIT}")}
    out = []
    for v in names:
        ax = axes[v]
        im = panels.image(fig, ax, ds.x.values, ds.y.values, ds[v].values, spec[v][1])
        im.set_clim(lo, hi)  # one colour scale: the envelopes lie below f
        ax.set_title(spec[v][0])
        ax.set_xlabel("$x$")
        ax.set_ylabel("$y$")
        out.append(ax)
    return out


@register(FIGURE, aspect=_aspect)
def draw(ds: xr.Dataset, fig, *, width_in: float, beta: float | None = None) -> list:
    """Envelopes (curves or maps) and, when present, the final-value histogram."""
    hist = "final_value" in ds
    if ds.f.ndim == 1:
        if not hist:
            ax = fig.subplots()
            _curves(ax, ds, beta)
            return [ax]
        axes = fig.subplots(2, 1) if width_in < 5 else fig.subplots(1, 2)
        _curves(axes[0], ds, beta)
        _histogram(axes[1], ds)
        return list(axes)
    names = [v for v in ("f", "u", "u_beta") if v in ds]
    if width_in >= 5:
        mosaic = [names] + ([["h"] * len(names)] if hist else [])
    else:
        cells = names + ["."] * (len(names) % 2)
        mosaic = [cells[i:i + 2] for i in range(0, len(cells), 2)] + ([["h", "h"]] if hist else [])
    axes = fig.subplot_mosaic(mosaic, empty_sentinel=".")
    out = _maps(fig, axes, ds, beta)
    if hist:
        _histogram(axes["h"], ds)
        out.append(axes["h"])
    return out
