"""The phase-retrieval paper figure: final R_F over random starts per algorithm, and the convergence.

``R_F = sum_k | |F u(k)| - M(k) | / sum_k M(k)`` over the measured ``k`` (the Fourier-magnitude error of
:mod:`.metrics`). (a) histograms of the final R_F of every run, one per
algorithm on common bins (log-spaced when they span more than a decade), the
good-minimum threshold as a labelled dashed line; (b) the median R_F against
the iteration with the 10-90 % band of the runs (Chen, Miao et al. OSS 2007;
Pham et al. GPS 2019 compare algorithms this way).

:func:`figure_data` is the Dataset drawn (what the explorer's download holds);
it names the figure ``phase.study``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..export.paper import figure_dataset, register
from .plots import COLORS, bin_edges

FIGURE = "phase.study"


def figure_data(study: xr.Dataset) -> xr.Dataset:
    """The final errors, their histories and the threshold of a study (:func:`.study.compare`)."""
    keep = [v for v in ("error", "history", "threshold") if v in study]
    data = study[keep].drop_vars([c for c in study[keep].coords if c not in ("algorithm", "run", "iteration")])
    return figure_dataset(data, [study], FIGURE)


@register(FIGURE, aspect=lambda ds, w: 1.25 if w < 5 else 0.4)
def draw(ds: xr.Dataset, fig, *, width_in: float) -> list:
    """Histograms with the threshold (a) and median convergence with the 10-90 % band (b)."""
    axes = fig.subplots(2, 1) if width_in < 5 else fig.subplots(1, 2)
    hist, conv = axes
    edges = bin_edges(ds)
    log = edges[0] > 0 and edges[-1] / edges[0] > 10
    for name in ds.algorithm.values:
        err = ds.error.sel(algorithm=name).values
        hist.hist(err[np.isfinite(err)], bins=edges, histtype="stepfilled", alpha=0.45,
                  color=COLORS.get(str(name), "#444444"), edgecolor=COLORS.get(str(name), "#444444"),
                  label=str(name).upper())
    if log:
        hist.set_xscale("log")
    if "threshold" in ds:
        thr = float(ds.threshold)
        hist.axvline(thr, color="black", linestyle="--", linewidth=0.8,
                     label=f"good-minimum threshold\n$R_F$ = {thr:.3g}")
    hist.set_xlabel("final $R_F$ (dimensionless)")
    hist.set_ylabel("runs")
    hist.set_title(f"final error over {ds.sizes['run']} starts")
    hist.legend()
    it = ds.iteration.values
    for name in ds.algorithm.values:
        h = ds.history.sel(algorithm=name).values
        h = h[np.isfinite(h).all(axis=1)]
        if not h.size:
            continue
        lo, med, hi = np.percentile(h, [10, 50, 90], axis=0)
        color = COLORS.get(str(name), "#444444")
        conv.fill_between(it, np.maximum(lo, 1e-12), hi, color=color, alpha=0.2, linewidth=0)
        conv.plot(it, med, color=color, label=str(name).upper())
    conv.set_yscale("log")
    conv.set_xlabel("iteration")
    conv.set_ylabel("$R_F$ (median, 10-90 %)")
    conv.set_title("convergence")
    conv.legend()
    return [hist, conv]
