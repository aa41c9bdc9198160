"""The Dataset of a flame-speed run (one place builds it: :func:`speed_dataset`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import xarray as xr

from .. import results
from .horizon import Schedule
from .problem import Problem


def speed_dataset(problem: Problem, sched: Schedule, out: dict[str, Any], est, n_samples: int,
                call: dict[str, Any], elapsed: float, dim: str, dev) -> xr.Dataset:
    nb = len(problem.A)
    n = sched.n_steps
    failed = out["failed"]
    nan = torch.full((nb,), float("nan"), dtype=torch.float64, device=dev)
    s_t = torch.where(failed, nan, est.s_T)
    err = torch.where(failed, nan, est.error)
    # window average of the identity rate, per element
    id_k = torch.arange(out["identity"].shape[1], device=dev) * out["id_every"]
    inside = (id_k[None, :] >= (n - sched.window_steps)[:, None]) & (id_k[None, :] <= n[:, None])
    ident = torch.nan_to_num(out["identity"]) * inside
    s_id = ident.sum(1) / inside.sum(1).clamp_min(1)
    if problem.model.curvature:
        s_id = nan
    s_id = torch.where(failed | (inside.sum(1) == 0), nan, s_id)
    # history resampled on n_samples points per element
    j = torch.arange(n_samples, device=dev, dtype=torch.float64)
    idx = torch.round(j[None, :] * n[:, None].double() / (n_samples - 1)).long()
    mean_u = out["history"].gather(1, idx)
    time = idx * sched.dt[:, None]
    mean_u = torch.where(failed[:, None], torch.full_like(mean_u, float("nan")), mean_u)
    grid = problem.grid
    xs = np.arange(0, grid.n, out["stride"]) * grid.h
    unit = {"units": "1"}
    speed = {"units": "s_l units (length/time)"}
    data = {
        "s_T": ((dim,), s_t, {"long_name": "turbulent flame speed s_T", **speed}),
        "s_T_error": ((dim,), err, {"long_name": "uncertainty of s_T (drift over the window + horizon bias)",
                                    **speed}),
        "s_T_horizon_bias": ((dim,), torch.where(failed, nan, est.horizon_bias),
                             {"long_name": "estimated bias of s_T from the finite horizon", **speed}),
        "converged": ((dim,), (est.converged & ~failed).to(torch.int8),
                      {"long_name": "s_T_error <= rtol·max(s_T, s_l)", **unit}),
        "s_T_identity": ((dim,), s_id, {"long_name": "window mean of <V·q + s_l|q| (+strain)>", **speed}),
        "fit_intercept": ((dim,), est.intercept, {"long_name": "c in <u> ≈ c − s_T t", "units": "length"}),
        "mean_u": ((dim, "sample"), mean_u, {"long_name": "spatial mean <u>", "units": "length"}),
        "time": ((dim, "sample"), time, {"long_name": "time t", "units": "time"}),
        "front": ((dim, "frame", "y", "x"), out["frames"],
                  {"long_name": "u = G − P·x (front: G = 0)", "units": "length"}),
        "frame_time": ((dim, "frame"), out["frame_time"], {"long_name": "time of the front snapshot", "units": "time"}),
        "dt": ((dim,), sched.dt, {"long_name": "time step", "units": "time"}),
        "t_final": ((dim,), n * sched.dt, {"long_name": "final time", "units": "time"}),
        "n_steps": ((dim,), n, {"long_name": "time steps", **unit}),
        "reinit_count": ((dim,), out["reinit_count"], {"long_name": "reinitialisations", **unit}),
        "error": ((dim,), np.array(out["error"], dtype=str), {"long_name": "blow-up report ('' when fine)"}),
    }
    coords = {
        "A": ((dim,), problem.A, {"long_name": "flow amplitude A", "units": "s_l units"}),
        "d": ((dim,), problem.d, {"long_name": "model coefficient d", "units": "length"}),
        "omega": ((dim,), problem.omega, {"long_name": "flow frequency ω", "units": "1/time"}),
        "B": ((dim,), problem.B, {"long_name": "oscillation B", "units": "1"}),
        "x": (("x",), xs, {"long_name": "x", "units": "length"}),
        "y": (("y",), xs, {"long_name": "y", "units": "length"}),
    }
    ds = results.dataset(data, coords, params=call, kind="gequation.flame_speed", device=dev,
                         elapsed=elapsed, model=problem.model.name, flow=problem.flow.describe(),
                         grid=grid.n, direction=list(problem.P), s_l=problem.s_l)
    return ds
