"""The G-equation paper figure: turbulent flame speed s_T(A) per model, the quenching amplitude labelled.

``s_T`` is the front's mean speed in units of the laminar speed ``s_l``, from
the long-time slope of the mean of ``u`` (:mod:`.estimator`), with its
standard error as error bars. For the strain models the quenching amplitude
A* (the first A where s_T falls below ``tol``, :func:`.sweep.quenching_amplitude`)
is a dashed line labelled "A* = ... (s_T < tol)". ``loglog`` draws both axes on log scales
(the inviscid growth law s_T ~ A/log A, Liu, Xin & Yu 2013, is then near a line).

:func:`figure_data` is the Dataset drawn (what the explorer's download holds);
it names the figure ``gequation.speeds``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from ..export.paper import figure_dataset, register
from .plots import COLORS
from .sweep import quenching_amplitude

FIGURE = "gequation.speeds"
STRAIN = ("strain", "curvature-strain")
KEEP = ("s_T", "s_T_error", "converged", "flag")


def figure_data(sweeps: Mapping[str, xr.Dataset], *, tol: float = 0.05, loglog: bool = False) -> xr.Dataset:
    """s_T(A) of each model's sweep (dim ``model``) and A* of the strain models (NaN for the others)."""
    if not sweeps:
        raise ValueError("sweeps must hold at least one model's sweep")
    parts = [ds[[v for v in KEEP if v in ds]].expand_dims(model=[m]) for m, ds in sweeps.items()]
    data = xr.concat(parts, dim="model", join="outer")
    a_star = [quenching_amplitude(ds.A.values, ds.s_T.values, tol=tol) if m in STRAIN else np.nan
              for m, ds in sweeps.items()]
    data["A_star"] = xr.DataArray(np.asarray(a_star, dtype=float), dims=("model",),
                                  attrs={"long_name": "quenching amplitude A*", "tolerance": tol})
    data["s_T"].attrs.update(long_name="turbulent flame speed s_T", units="s_l")
    data["A"].attrs.update(long_name="flow amplitude A", units="s_l")
    return figure_dataset(data, list(sweeps.values()), FIGURE, loglog=bool(loglog))


@register(FIGURE, aspect=lambda ds, w: 0.75 if w < 5 else 0.45)
def draw(ds: xr.Dataset, fig, *, width_in: float, loglog: bool = False) -> list:
    """s_T against A per model with error bars, A* dashed and labelled; a flagged value (outside its
    proven bounds or under-resolved, see the ``flag`` variable) is a hollow marker off the curve."""
    ax = fig.subplots()
    hollow = False
    for m in ds.model.values:
        sub = ds.sel(model=m)
        ok = np.isfinite(sub.s_T.values)
        if loglog:
            ok &= (sub.s_T.values > 0) & (sub.A.values > 0)
        flagged = np.array([bool(f) for f in sub.flag.values]) if "flag" in sub else np.zeros(ok.shape, bool)
        color = COLORS.get(str(m), "black")
        plain = ok & ~flagged
        ax.errorbar(sub.A.values[plain], sub.s_T.values[plain], yerr=sub.s_T_error.values[plain], color=color,
                    marker="o", markersize=3, capsize=1.5, elinewidth=0.6, label=str(m))
        if (ok & flagged).any():
            hollow = True
            ax.plot(sub.A.values[ok & flagged], sub.s_T.values[ok & flagged], linestyle="none", marker="o",
                    markersize=3.5, markerfacecolor="none", markeredgecolor=color, markeredgewidth=0.7)
    if hollow:
        ax.plot([], [], linestyle="none", marker="o", markersize=3.5, markerfacecolor="none",
                markeredgecolor="0.3", label="flagged: not a result")
    if loglog:
        ax.set_xscale("log")
        ax.set_yscale("log")
    tol = float(ds.A_star.attrs.get("tolerance", 0.05))
    for m, a in zip(ds.model.values, ds.A_star.values):
        if np.isfinite(a):
            color = COLORS.get(str(m), "black")
            ax.axvline(a, color=color, linestyle="--", linewidth=0.8,
                       label=f"$A^*$ = {a:.3g} ({m}: $s_T$ < {tol:g})")
    ax.set_xlabel("flow amplitude $A$ ($s_l$)")
    ax.set_ylabel(r"flame speed $s_T$ ($s_l$)")
    ax.set_title("turbulent flame speed")
    ax.legend(title="model")
    return [ax]
