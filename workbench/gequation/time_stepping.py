"""SSP-RK3 time stepping and the CFL condition.

Third-order strong-stability-preserving Runge–Kutta (Shu & Osher, J. Comput.
Phys. 77, 1988):

    u¹ = uⁿ + Δt L(uⁿ, tⁿ)
    u² = ¾uⁿ + ¼(u¹ + Δt L(u¹, tⁿ + Δt))
    uⁿ⁺¹ = ⅓uⁿ + ⅔(u² + Δt L(u², tⁿ + Δt/2))

Its SSP coefficient is 1, so it is monotone whenever forward Euler is:

    Δt (max α_x + max α_y)/h + Δt · 4ν/h² ≤ CFL ≤ 1,

with α the dissipation bounds of the Hamiltonian and ν the largest
explicitly integrated diffusion coefficient (5-point Laplacian:
``Δt ≤ h²/(4ν)``). Stiff linear diffusion ``dΔu`` is taken out of the
explicit part and applied exactly by FFT (Strang splitting,
:func:`.grid.apply_heat`), so it does not limit Δt.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def cfl_time_step(h: float, alpha_sum: torch.Tensor, nu: torch.Tensor, cfl: float) -> torch.Tensor:
    """Largest stable Δt per batch element: ``cfl / (Σα/h + 4ν/h²)``."""
    rate = alpha_sum / h + 4 * nu / (h * h)
    return cfl / rate.clamp_min(torch.finfo(rate.dtype).tiny)


def ssp_rk3(u: torch.Tensor, t: torch.Tensor, dt: torch.Tensor,
            rhs: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """One SSP-RK3 step of ``u_t = rhs(u, t)``; ``t``, ``dt`` have shape (B,)."""
    dtc = dt.reshape(-1, 1, 1).to(u.dtype)
    u1 = u + dtc * rhs(u, t)
    u2 = 0.75 * u + 0.25 * (u1 + dtc * rhs(u1, t + dt))
    return u / 3 + (2.0 / 3.0) * (u2 + dtc * rhs(u2, t + 0.5 * dt))
