"""Independent realisations of a random flow as a batch dimension, and their mean with its spread.

For the stochastic flow (:class:`.flows.Stochastic`) every point (A, d, ω, B)
of a run is solved for R realisations of the phase θ at once: the solver's
batch is points × realisations, point-major (element ``b = p R + r``), and
element b follows realisation r's path (:mod:`.random_phase`). Realisation r
is the same path at every point (common random numbers), so a batch equals
its points computed one by one and differences between points are paired.

Per point, from the realisations' flame speeds ``s_r`` (each the secant of
its ⟨u⟩ over the window, :mod:`.estimator`):

    s_T        = (1/R) Σ_r s_r          (= the secant of the realisations' mean ⟨u⟩:
                                          they share the time grid)
    s_T_spread = std_r s_r (ddof 1),   s_T_sem = s_T_spread / √R,
    s_T_error  = t_{0.975, R−1} · s_T_sem + bias + 4 ε max(|s_T|, s_l),

a 95% interval for the realisation mean plus the horizon bias, a systematic
error that does not average away: the estimator's bias (:mod:`.estimator`)
of the realisations' mean ⟨u⟩(t), whose secants are the means of theirs. Taken
per realisation and averaged, |s_r − s_e,r| would add each realisation's
random difference between two windows instead. A realisation's window drift
is part of its s_r's randomness, so it is in the spread and not added again.
``converged`` is ``s_T_error ≤ rtol·max(|s_T|, s_l)``, which the re-run
policy (:mod:`.rerun`) then applies to the point. A point with any failed
realisation has NaN speeds and that realisation's error message.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch
import xarray as xr
from scipy import stats

from .horizon import Schedule
from .problem import Problem
from .random_phase import PhaseTable

REALISATION_DIM = "realisation"


def expand(problem: Problem, sched: Schedule) -> tuple[Problem, Schedule]:
    """The points × realisations problem (with each element's phase path) and its schedule."""
    R = problem.flow.realisations
    idx = torch.arange(len(problem.A), device=problem.A.device).repeat_interleave(R)
    rep = lambda v: v[idx.to(v.device)]  # noqa: E731
    t_max = float((sched.n_steps.double() * sched.dt).max())
    realisation = np.tile(np.arange(R), len(problem.A))
    table = PhaseTable.build(problem.flow.seed, realisation, rep(problem.omega).cpu().numpy(), t_max,
                             problem.grid.device)
    wide = replace(problem, flow=replace(problem.flow, phase=table), A=rep(problem.A), d=rep(problem.d),
                   omega=rep(problem.omega), B=rep(problem.B))
    return wide, Schedule(rep(sched.dt), rep(sched.n_steps), rep(sched.window_steps))


def _split(values: np.ndarray, R: int) -> np.ndarray:
    return values.reshape(-1, R, *values.shape[1:])


def realisation_mean(ds: xr.Dataset, problem: Problem, horizon_bias: torch.Tensor, *, dim: str, rtol: float,
                     eps: float) -> xr.Dataset:
    """Reduce the points × realisations Dataset of :func:`.speed_dataset.speed_dataset` to points.

    ``problem`` is the expanded one (its phase gives ``frame_phase``); ``horizon_bias`` per point is
    the estimator's bias estimate from the realisations' mean ⟨u⟩(t). Kept per realisation:
    ``s_T_realisation`` and ``mean_u_realisation``; ``front`` and ``frame_phase`` are
    realisation 0's."""
    R = problem.flow.realisations
    s = _split(ds.s_T.values, R)
    mean = s.mean(1)
    spread = s.std(1, ddof=1)
    sem = spread / math.sqrt(R)
    bias = horizon_bias.cpu().numpy()
    scale = np.maximum(np.abs(mean), problem.s_l)
    err = float(stats.t.ppf(0.975, R - 1)) * sem + bias + 4 * eps * scale
    first = {name: ((dim, *var.dims[1:]), _split(var.values, R)[:, 0], var.attrs)
             for name, var in ds.data_vars.items() if var.dims[:1] == (dim,)}
    out = dict(first)
    for name in ("s_T_identity", "fit_intercept", "mean_u"):
        var = ds[name]
        out[name] = (var.dims, _split(var.values, R).mean(1), var.attrs)
    errors = [sorted({e for e in row if e}) for row in _split(ds.error.values, R)]
    out["error"] = ((dim,), np.array(["; ".join(e) for e in errors], dtype=str), ds.error.attrs)
    out["reinit_count"] = ((dim,), _split(ds.reinit_count.values, R).sum(1), ds.reinit_count.attrs)
    speed = ds.s_T.attrs
    out.update({
        "s_T": ((dim,), mean, {**speed, "long_name": f"turbulent flame speed s_T (mean of {R} realisations)"}),
        "s_T_error": ((dim,), err, {**speed, "long_name": "uncertainty of s_T (95% of the realisation mean "
                                                          "+ horizon bias)"}),
        "s_T_horizon_bias": ((dim,), bias, {**ds.s_T_horizon_bias.attrs,
                                            "long_name": "estimated bias of s_T from the finite horizon "
                                                         "(of the realisations' mean <u>)"}),
        "s_T_spread": ((dim,), spread, {**speed, "long_name": "standard deviation of s_T over realisations"}),
        "s_T_sem": ((dim,), sem, {**speed, "long_name": "standard error of the realisation mean"}),
        "converged": ((dim,), (err <= rtol * scale).astype(np.int8), ds.converged.attrs),
        "s_T_realisation": ((dim, REALISATION_DIM), s, {**speed, "long_name": "s_T of each realisation"}),
        "mean_u_realisation": ((dim, REALISATION_DIM, "sample"), _split(ds.mean_u.values, R),
                               {**ds.mean_u.attrs, "long_name": "spatial mean <u> of each realisation"}),
    })
    dev = problem.A.device
    first = torch.arange(0, len(problem.A), R, device=dev)
    table = problem.flow.phase.subset(first)
    frame_time = torch.as_tensor(out["frame_time"][1], device=dev)
    theta = torch.stack([table.at(frame_time[:, j], problem.B[first], problem.omega[first])
                         for j in range(frame_time.shape[1])], 1)
    out["frame_phase"] = ((dim, "frame"), theta.cpu().numpy(), {"long_name": "phase θ of realisation 0 at the "
                                                                       "front snapshot", "units": "rad"})
    coords = {name: ((dim,), _split(c.values, R)[:, 0], c.attrs) for name, c in ds.coords.items()
              if c.dims == (dim,)}
    coords.update({name: c for name, c in ds.coords.items() if dim not in c.dims})
    coords[REALISATION_DIM] = ((REALISATION_DIM,), np.arange(R), {"long_name": "realisation of the phase θ",
                                                                  "units": "1"})
    return xr.Dataset(out, coords=coords, attrs={**ds.attrs, "realisations": R, "seed": problem.flow.seed})
