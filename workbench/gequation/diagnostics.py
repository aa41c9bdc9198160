"""What every flame speed says about itself: resolution, proven bounds, and a flag with the reason.

Resolution. The same run on a grid half as fine (N/2 points per side, the
same horizon in crossings) gives ``δ = |s_T(N) − s_T(N/2)|``
(``s_T_resolution``). In the resolved regime the error of s_T(N) is about
δ/(2^p − 1) ≤ δ for a scheme of order p ≥ 1; WENO5 falls to first order at
the front's kinks, so δ is taken as the error scale and halves per
refinement. A point is *under-resolved* when ``δ > RESOLUTION_RTOL ·
max(|s_T|, s_l)`` (2%); the suggested grid is the smallest ``N·2^k`` with
``δ/2^k`` below that tolerance. (At A = 8, d = 0.5 the strain model gives
−1.15 on 64²; at A = 64 the inviscid s_T on 128² is 17% below the grid-free
bound: both show up as large δ.)

Proven bounds (Liu, Xin & Yu 2013; the mean identity of :mod:`.solver`):

* lower: ``s_T ≥ s_l`` for the inviscid and viscous models, since
  ``d⟨u⟩/dt = −s_l⟨|P + ∇u|⟩ ≤ −s_l|⟨P + ∇u⟩| = −s_l`` (⟨V·∇u⟩ = ⟨Δu⟩ = 0,
  Jensen); ``s_T ≥ 0`` for the curvature and strain models (a quenched
  front stands still; a negative speed is a numerical artefact);
* upper: ``s_T ≤ s_l + max|V|`` for the inviscid model (the front moves at
  most at s_l + |V| along its characteristics).

A value further than ``s_T_error`` outside its bounds is flagged. ``flag``
holds the reasons ('' for a plain result); ``suggested_grid`` the grid that
would resolve an under-resolved point (0 otherwise).
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

RESOLUTION_RTOL = 0.02
MAX_GRID = 4096


def lower_bound(model: str, s_l: float) -> float:
    return s_l if model in ("inviscid", "viscous") else 0.0


def upper_bound(model: str, s_l: float, max_speed: np.ndarray) -> np.ndarray:
    return s_l + max_speed if model == "inviscid" else np.full_like(max_speed, np.inf)


def suggested_grid(n: int, delta: float, tol: float) -> int:
    """Smallest ``n·2^k`` with ``delta/2^k ≤ tol`` (first order), at most :data:`MAX_GRID`."""
    if not np.isfinite(delta) or delta <= tol:
        return 0
    k = math.ceil(math.log2(delta / tol))
    return int(min(n * 2**k, MAX_GRID))


def diagnose(ds: xr.Dataset, coarse: xr.Dataset | None, *, model: str, s_l: float, max_speed: np.ndarray,
             grid: int, dim: str) -> xr.Dataset:
    """``ds`` with ``s_T_coarse``, ``s_T_resolution``, ``flag`` and ``suggested_grid`` (per point)."""
    s, err = ds.s_T.values.astype(float), ds.s_T_error.values.astype(float)
    coarse_s = coarse.s_T.values.astype(float) if coarse is not None else np.full_like(s, np.nan)
    delta = np.abs(s - coarse_s)
    lo, hi = lower_bound(model, s_l), upper_bound(model, s_l, np.asarray(max_speed, dtype=float))
    flags, grids = [], []
    for i in range(len(s)):
        why = []
        scale = max(abs(s[i]), s_l) if np.isfinite(s[i]) else s_l
        tol = RESOLUTION_RTOL * scale
        if np.isfinite(s[i]) and s[i] + err[i] < lo:
            why.append(f"below the proven bound s_T >= {lo:g}")
        if np.isfinite(s[i]) and s[i] - err[i] > hi[i]:
            why.append(f"above the proven bound s_T <= {hi[i]:g}")
        g = suggested_grid(grid, delta[i], tol)
        if g:
            why.append(f"under-resolved: s_T changes by {delta[i]:.3g} from grid {grid // 2}; try grid {g}")
        flags.append("; ".join(why))
        grids.append(g)
    speed = {"units": "s_l units (length/time)"}
    return ds.assign({
        "s_T_coarse": ((dim,), coarse_s, {"long_name": f"s_T on the grid half as fine ({grid // 2})", **speed}),
        "s_T_resolution": ((dim,), delta, {"long_name": "|s_T − s_T on the grid half as fine|", **speed}),
        "flag": ((dim,), np.array(flags, dtype=str), {"long_name": "why s_T is not a plain result ('' if it is)"}),
        "suggested_grid": ((dim,), np.array(grids, dtype=np.int64),
                           {"long_name": "grid that would resolve s_T (0: resolved)", "units": "1"}),
    })
