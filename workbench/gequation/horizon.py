"""The time grid of a run: the step (CFL), the horizon (cell crossings or t_final) and the window.

The default horizon is ``crossings`` times the time ``2π/(s_l + max|V|)`` to
cross a cell, so every element of a batch takes about the same number of
steps; time-periodic flows run whole periods (at least 4) and the
estimator's window is whole periods too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .problem import Problem


@dataclass
class Schedule:
    """Per-element time grid: step ``dt``, ``n_steps``, window steps (even)."""

    dt: torch.Tensor
    n_steps: torch.Tensor
    window_steps: torch.Tensor


def schedule(problem: Problem, *, t_final: float | None, crossings: float, dt: float | None,
             cfl: float, window: float) -> Schedule:
    """Choose Δt ≤ CFL limit and the horizon per element (see the module docstring)."""
    limit = problem.cfl_dt(cfl).to(torch.float64)
    if dt is not None:
        bad = torch.nonzero(dt > limit * (1 + 1e-12)).flatten()
        if len(bad):
            b = int(bad[0])
            raise ValueError(f"dt={dt:g} exceeds the CFL-stable limit {float(limit[b]):.4g} for "
                             f"{problem.label(b)} (cfl={cfl:g}, grid={problem.grid.n}); use dt <= "
                             f"{float(limit.min()):.4g} or leave dt unset")
        limit = torch.full_like(limit, dt)
    period = problem.flow.period(problem.omega.to(torch.float64))
    crossing = 2 * math.pi / (problem.s_l + problem.max_speed().to(torch.float64))
    horizon = crossings * crossing if t_final is None else torch.full_like(limit, t_final)
    if period is None:
        n = torch.ceil(horizon / limit)
        n = n + (n % 2)
        w = 2 * torch.floor(window * n / 2).clamp_min(1)
        return Schedule(horizon / n, n.long(), w.long())
    per = torch.ceil(period / limit)  # steps per period
    n_per = torch.ceil(horizon / period)
    if t_final is not None:
        n_per = torch.floor(horizon / period + 1e-9)
        if (n_per < 2).any():
            b = int(torch.nonzero(n_per < 2).flatten()[0])
            raise ValueError(f"t_final={t_final:g} must cover at least 2 flow periods "
                             f"(2π/omega = {float(period[b]):.4g}) for {problem.label(b)}")
    n_per = torch.maximum(n_per, torch.full_like(n_per, 4.0))
    half_periods = torch.floor(window * n_per / 2).clamp_min(1)
    return Schedule(period / per, (n_per * per).long(), (2 * half_periods * per).long())
