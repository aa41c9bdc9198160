"""Integrators of the particle SDE ``dX = V(X, t) dt + √(2D₀) dW`` on the periodic plane.

* ``euler`` — Euler–Maruyama:
  ``X_{n+1} = X_n + h V(X_n, t_n) + √(2D₀h) ξ_n``. The deterministic part is
  explicit Euler, which does not preserve area (det ∂X_{n+1}/∂X_n =
  1 + O(h²) ≠ 1) and spirals particles out of the cells' closed streamlines,
  an artificial diffusion of order h that swamps a small D₀.
* ``splitting`` — the structure-preserving scheme of Wang, Xin & Zhang
  (SIAM J. Numer. Anal. 56, 2018, §3): the deterministic flow over h by a
  symmetric (Strang) composition of the exact flows of the stream function's
  waves (:mod:`.particle_flows`), each a shear, so the map is symplectic with
  Jacobian determinant exactly 1, followed by the exact Brownian step
  ``X ← X + √(2D₀h) ξ_n``. Time-dependent coefficients are taken at the
  midpoint ``t_n + h/2`` (second order for the deterministic flow).

For the stochastic flow the phase θ is frozen over a step at θ(t_n) (both
schemes). ``xi_x``, ``xi_y`` are the standard normals of the step.
"""

from __future__ import annotations

import torch

from .particle_flows import ParticleFlow, velocity, wave_flow

INTEGRATORS = ("euler", "splitting")


def flow_map(flow: ParticleFlow, x: torch.Tensor, y: torch.Tensor, t: float, h: float, A: torch.Tensor,
             B: torch.Tensor, omega: torch.Tensor, theta: torch.Tensor | None = None
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """The splitting's deterministic step: Strang composition of the exact wave flows over h."""
    waves = flow.waves(t + h / 2, A, B, omega, theta)
    if len(waves) == 1:
        return wave_flow(waves[0], x, y, h)
    *outer, middle = waves
    for w in outer:
        x, y = wave_flow(w, x, y, h / 2)
    x, y = wave_flow(middle, x, y, h)
    for w in reversed(outer):
        x, y = wave_flow(w, x, y, h / 2)
    return x, y


def euler_map(flow: ParticleFlow, x: torch.Tensor, y: torch.Tensor, t: float, h: float, A: torch.Tensor,
              B: torch.Tensor, omega: torch.Tensor, theta: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Euler–Maruyama's deterministic step ``X + h V(X, t)``."""
    vx, vy = velocity(flow.waves(t, A, B, omega, theta), x, y)
    return x + h * vx, y + h * vy


DETERMINISTIC = {"euler": euler_map, "splitting": flow_map}


def sde_step(integrator: str, flow: ParticleFlow, x: torch.Tensor, y: torch.Tensor, t: float, h: float,
             A: torch.Tensor, B: torch.Tensor, omega: torch.Tensor, theta: torch.Tensor | None,
             kick: torch.Tensor, xi_x: torch.Tensor, xi_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of ``integrator``: its deterministic map, then ``X ← X + kick·ξ``, kick = √(2D₀h)."""
    x, y = DETERMINISTIC[integrator](flow, x, y, t, h, A, B, omega, theta)
    return x + kick * xi_x, y + kick * xi_y
