"""Reinitialisation of the level-set function in the periodic formulation.

When level sets of ``G = P·x + u`` pile up (|∇G| large) the function is
relaxed towards |∇G| = 1 by the pseudo-time equation (Sussman, Smereka &
Osher, J. Comput. Phys. 114, 1994)

    u_τ + S (|P + ∇u| − 1) = 0,    S = w/√(w² + h²),  w = ((G − c + π) mod 2π) − π,

with the Godunov discretisation of Osher & Fedkiw §7.4 (Rouy–Tourin
selection by the sign of S). ``w`` is G − c wrapped to [−π, π): S is the
smoothed sign of the distance to the *nearest* periodic copy ``G = c + 2πk``
of the front, so every copy stays put, G grows at unit slope away from
each, and the two sides meet at the midway level (a kink, as at any medial
axis). ``G ↦ G + 2π`` (a shift by one cell along P) leaves S unchanged,
which needs ``P·(2π e_i) ∈ 2πℤ``, i.e. P along a grid axis.

Subcell fix (Russo & Smereka, J. Comput. Phys. 163, 2000): at the nodes next
to the front (w changes sign towards a neighbour) the upwind scheme would move
the front by O(h) per call, which biases a flame speed measured over many
reinitialisations. There the equation is replaced by

    w_τ = −(sgn(w₀)|w| − D)/h,   D = h w₀/Δw₀,
    Δw₀ = √(δ_x² + δ_y²),  δ_x = max(|w₀,i+1 − w₀,i−1|/2, |w₀,i+1 − w₀,i|, |w₀,i − w₀,i−1|, ε),

which relaxes w to D, the signed distance to the front estimated from the
initial data, so the front stays where it was to second order.
"""

from __future__ import annotations

import math

import torch

from .grid import Grid, shift
from .time_stepping import ssp_rk3
from .weno import weno5_gradient


def _godunov_norm(qm: torch.Tensor, qp: torch.Tensor, positive: torch.Tensor) -> torch.Tensor:
    up = torch.maximum(qm.clamp_min(0) ** 2, qp.clamp_max(0) ** 2)
    down = torch.maximum(qm.clamp_max(0) ** 2, qp.clamp_min(0) ** 2)
    return torch.where(positive, up, down)


def check_direction(P: tuple[float, float]) -> None:
    """Reinitialisation keeps periodicity only for P along a grid axis."""
    if not any(abs(abs(P[i]) - 1.0) < 1e-12 and abs(P[1 - i]) < 1e-12 for i in (0, 1)):
        raise ValueError(f"reinit needs the direction P along a grid axis, e.g. (1, 0); got {P}")


def _near_front(w0: torch.Tensor, h: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes with a sign change of ``w₀`` towards a 4-neighbour (not across the wrap at ±π),
    and the subcell distance ``D = h w₀/Δw₀`` there (see the module docstring)."""
    near = torch.zeros_like(w0, dtype=torch.bool)
    spread = []
    for dim in (-1, -2):
        ahead, behind = shift(w0, -1, dim), shift(w0, 1, dim)
        for other in (ahead, behind):
            near |= (w0 * other <= 0) & ((w0 - other).abs() < math.pi)
        spread.append(torch.maximum(torch.maximum((ahead - behind).abs() / 2, (ahead - w0).abs()),
                                    (w0 - behind).abs()).clamp_min(1e-3 * h))
    delta = torch.sqrt(spread[0] ** 2 + spread[1] ** 2)
    return near, h * w0 / delta


def reinitialise(u: torch.Tensor, P: tuple[float, float], level: torch.Tensor, grid: Grid,
                 steps: int = 10, cfl: float = 0.5) -> torch.Tensor:
    """Relax ``u`` (B, N, N) towards |P + ∇u| = 1 keeping ``G = level`` (B,) fixed."""
    x, y = grid.xy
    base = P[0] * x + P[1] * y
    h = grid.h
    dtau = torch.full((u.shape[0],), cfl * h / 2, dtype=torch.float64, device=u.device)

    def wrapped(v: torch.Tensor) -> torch.Tensor:
        return torch.remainder(base + v - level.reshape(-1, 1, 1).to(v.dtype) + math.pi, 2 * math.pi) - math.pi

    w0 = wrapped(u)
    near, distance = _near_front(w0, h)

    def rhs(v: torch.Tensor, _t: torch.Tensor) -> torch.Tensor:
        w = wrapped(v)
        s = w / torch.sqrt(w * w + h * h)
        pos = s > 0
        pxm, pxp, pym, pyp = weno5_gradient(v, h)
        norm = torch.sqrt(_godunov_norm(P[0] + pxm, P[0] + pxp, pos) + _godunov_norm(P[1] + pym, P[1] + pyp, pos))
        subcell = -(torch.sign(w0) * w.abs() - distance) / h
        return torch.where(near, subcell, -s * (norm - 1))

    t = torch.zeros_like(dtau)
    for _ in range(steps):
        u = ssp_rk3(u, t, dtau, rhs)
    return u
