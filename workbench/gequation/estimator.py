"""The turbulent flame speed from the history of the spatial mean ⟨u⟩(t).

``s_T(P) = −lim u/t`` (the limit exists and is the same at every point).
Over a late window ``[t_n − W, t_n]`` split into two halves,

    s_T = −(⟨u⟩(t_n) − ⟨u⟩(t_n − W))/W,
    s₁, s₂ = the same secant slopes over the first and second half,
    s_T_error = |s₂ − s₁| + 4 ε_dtype max(|s_T|, s_l),

so the uncertainty is the drift of the measured speed across the window
(zero for an exactly linear ⟨u⟩). For time-periodic flows W and its halves
are whole flow periods, so the secants are exact period averages. The run
counts as converged when ``s_T_error ≤ rtol · max(|s_T|, s_l)``.
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
    scale = torch.maximum(s_t.abs(), torch.full_like(s_t, s_l))
    err = (s2 - s1).abs() + 4 * eps * scale
    k = torch.arange(history.shape[1], device=history.device)
    inside = (k[None, :] >= (n - w)[:, None]) & (k[None, :] <= n[:, None])
    t = k[None, :] * dt[:, None]
    intercept = ((history + s_t[:, None] * t) * inside).sum(1) / inside.sum(1)
    return Estimate(s_t, err, s1, s2, intercept, err <= rtol * scale)
