"""The turbulent flame speed from the history of the spatial mean ⟨u⟩(t).

``s_T(P) = −lim u/t`` (the limit exists and is the same at every point).
Over a late window ``[t_n − W, t_n]`` split into two halves,

    s_T = −(⟨u⟩(t_n) − ⟨u⟩(t_n − W))/W,
    s₁, s₂ = the same secant slopes over the first and second half,
    s_e = the same secant over the window moved back by W/2, [t_n − 3W/2, t_n − W/2],
    bias = |s_T − s_e| · 2(t_n − W)/W,
    s_T_error = |s₂ − s₁| + bias + 4 ε_dtype max(|s_T|, s_l).

``|s₂ − s₁|`` is the drift of the measured speed across the window (zero for
an exactly linear ⟨u⟩). ``bias`` is the horizon's bias: the front's
corrugation keeps growing slowly after the cells are crossed (⟨u⟩ + s_T t
grows like c·log t), so the secant over a window centred at t_c is low by
about c/t_c; from the two windows centred at t_c1 = t_n − W/2 and
t_c0 = t_n − W, ``c/t_c1 = (s_T − s_e) t_c0/(t_c1 − t_c0)``, the formula above.
Measured at A = 4 (inviscid, cellular): without it the error bar of the
8-crossing default was 3× smaller than its bias. For time-periodic flows W
and its halves are whole flow periods, so every secant is an exact period
average. The run counts as converged when ``s_T_error ≤ rtol · max(|s_T|, s_l)``.
The fitted line ``⟨u⟩ ≈ c − s_T t`` (c the window mean of ⟨u⟩ + s_T t) is
returned for plots.
"""

from __future__ import annotations

from typing import NamedTuple

import torch


class Estimate(NamedTuple):
    s_T: torch.Tensor
    error: torch.Tensor
    first_half: torch.Tensor
    second_half: torch.Tensor
    intercept: torch.Tensor
    converged: torch.Tensor
    horizon_bias: torch.Tensor


def _take(history: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    return history.gather(1, idx.reshape(-1, 1)).squeeze(1)


def estimate_speed(history: torch.Tensor, n_steps: torch.Tensor, window_steps: torch.Tensor,
                   dt: torch.Tensor, s_l: float, rtol: float, eps: float) -> Estimate:
    """``history[b, k] = ⟨u⟩`` after k steps of size ``dt[b]`` (k ≤ n_steps[b]); window even."""
    n, w = n_steps.long(), window_steps.long()
    half = w // 2
    end, mid, start = _take(history, n), _take(history, n - half), _take(history, n - w)
    s_t = -(end - start) / (w * dt)
    s1 = -(mid - start) / (half * dt)
    s2 = -(end - mid) / (half * dt)
    early_end, early_start = _take(history, n - half), _take(history, (n - w - half).clamp_min(0))
    span = (n - half - (n - w - half).clamp_min(0)) * dt
    s_e = -(early_end - early_start) / span
    bias = (s_t - s_e).abs() * 2 * (n - w).clamp_min(1) / w
    scale = torch.maximum(s_t.abs(), torch.full_like(s_t, s_l))
    err = (s2 - s1).abs() + bias + 4 * eps * scale
    k = torch.arange(history.shape[1], device=history.device)
    inside = (k[None, :] >= (n - w)[:, None]) & (k[None, :] <= n[:, None])
    t = k[None, :] * dt[:, None]
    intercept = ((history + s_t[:, None] * t) * inside).sum(1) / inside.sum(1)
    return Estimate(s_t, err, s1, s2, intercept, err <= rtol * scale, bias)
