"""The re-run policy: elements that have not converged run again with twice the horizon.

Without an explicit ``t_final``, the points whose ``s_T_error`` exceeds
``rtol·max(|s_T|, s_l)`` (and that did not blow up) are run again with
twice the crossings, up to ``max_crossings``; their results replace the
first ones. The estimate's error falls like 1/horizon (:mod:`.estimator`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch
import xarray as xr

from .problem import Problem


def until_converged(run: Callable[[Problem, float], xr.Dataset], problem: Problem, crossings: float,
                    max_crossings: float, dim: str) -> xr.Dataset:
    """``run(problem, crossings)``, then the unconverged points again with doubled crossings."""
    ds = run(problem, crossings)
    while crossings < max_crossings:
        todo = np.flatnonzero((ds.converged.values == 0) & (ds.error.values == ""))
        if not len(todo):
            break
        crossings = min(2 * crossings, max_crossings)
        pick = torch.as_tensor(todo, device=problem.A.device)
        longer = run(replace(problem, A=problem.A[pick], d=problem.d[pick], omega=problem.omega[pick],
                             B=problem.B[pick]), crossings)
        ds = replace_points(ds, longer, todo, dim)
    return ds


def replace_points(ds: xr.Dataset, part: xr.Dataset, index: np.ndarray, dim: str) -> xr.Dataset:
    """``ds`` with the points ``index`` along ``dim`` taken from ``part`` (same variables)."""
    ds = ds.copy(deep=True)
    for name, var in part.data_vars.items():
        if dim not in var.dims:
            continue
        if var.dtype.kind == "U":  # fixed-width strings: rebuild, a longer message must not be cut
            values = ds[name].values.astype(object)
            values[index] = var.values
            ds[name] = (ds[name].dims, values.astype(str), ds[name].attrs)
        else:
            ds[name][{dim: index}] = var.values
    ds.attrs["elapsed_s"] = ds.attrs.get("elapsed_s", 0.0) + part.attrs.get("elapsed_s", 0.0)
    return ds
