"""The G-equation models as Hamiltonians with their dissipation bounds.

With ``G = P·x + u`` and ``q = ∇G = P + ∇u`` every model reads

    u_t + H(x, t, q) = R[u]

=================== ============================================= ==========================
model               H(x, t, q)                                    R[u] (second order)
=================== ============================================= ==========================
inviscid            V·q + s_l|q|                                  0
viscous             V·q + s_l|q|                                  d Δu
curvature           V·q + s_l|q|                                  s_l d |q| div(q/|q|)
strain              V·q + s_l|q| + d q·(∇V)q/|q|                  0
curvature-strain    V·q + s_l|q| + d q·(∇V)q/|q|                  s_l d |q| div(q/|q|)
=================== ============================================= ==========================

(Liu, Xin & Yu, Physica D 243, 2013, eqs. (1.1)–(1.4); the strain term
makes the local front speed ``s_l + d n·∇V·n``; only the symmetric part
``S`` of ∇V enters since ``q·(∇V)q = q·Sq``.) The curvature term is
``s_l d (u_xx q_y² − 2 q_x q_y u_xy + u_yy q_x²)/|q|²``, a degenerate
diffusion with coefficient at most ``s_l d``.

Dissipation bounds (for Lax–Friedrichs and the CFL):
``|∂H/∂q_x| ≤ |V₁| + s_l + 3 d ‖S‖₂`` (likewise in y; the CFL uses
``max(|V₁| + |V₂|) + 2 s_l + 6 d max‖S‖₂``), because the strain
term ``f(q) = q·Sq/|q|`` has ``∇f = 2Sq̂ − (q̂·Sq̂)q̂`` with
``|∇f| ≤ 3‖S‖₂``. ``H`` is convex in q without the strain term (V·q is
linear, |q| convex), so Godunov fluxes apply there; the strain term is
neither convex nor coercive, so the strain models use Lax–Friedrichs only.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .flows import Bounds, FlowField


@dataclass(frozen=True)
class Model:
    """One G-equation model: which terms it has (see the module table)."""

    name: str
    viscous: bool = False
    curvature: bool = False
    strain: bool = False

    @property
    def convex(self) -> bool:
        """H convex in q (Godunov fluxes allowed)."""
        return not self.strain

    @property
    def uses_d(self) -> bool:
        return self.viscous or self.curvature or self.strain

    def strain_term(self, qx, qy, norm, field: FlowField, d) -> torch.Tensor:
        """``d q·Sq/|q|`` with ``S = [[a, b], [b, −a]]``."""
        qsq = field.a * (qx * qx - qy * qy) + 2 * field.b * qx * qy
        return d * qsq / norm.clamp_min(torch.finfo(qx.dtype).eps)

    def hamiltonian(self, qx, qy, field: FlowField, s_l: float, d) -> torch.Tensor:
        """``H(x, t, q)`` pointwise."""
        norm = torch.sqrt(qx * qx + qy * qy)
        h = field.vx * qx + field.vy * qy + s_l * norm
        if self.strain:
            h = h + self.strain_term(qx, qy, norm, field, d)
        return h

    def dissipation(self, field: FlowField, s_l: float, d) -> tuple[torch.Tensor, torch.Tensor]:
        """Local bounds ``(α_x, α_y)`` of ``|∂H/∂q_x|``, ``|∂H/∂q_y|``."""
        ax, ay = field.vx.abs() + s_l, field.vy.abs() + s_l
        if self.strain:
            extra = 3 * d * torch.sqrt(field.a * field.a + field.b * field.b)
            ax, ay = ax + extra, ay + extra
        return ax, ay

    def max_dissipation(self, bounds: Bounds, s_l: float, d: torch.Tensor) -> torch.Tensor:
        """``max(α_x) + max(α_y)`` over space and time, per batch element (for the CFL)."""
        total = bounds.transport + 2 * s_l
        if self.strain:
            total = total + 6 * d * bounds.sigma
        return total

    def parabolic_coefficient(self, s_l: float, d: torch.Tensor, implicit_viscous: bool) -> torch.Tensor:
        """Largest diffusion coefficient integrated explicitly (parabolic CFL)."""
        nu = torch.zeros_like(d)
        if self.viscous and not implicit_viscous:
            nu = nu + d
        if self.curvature:
            nu = nu + s_l * d
        return nu


MODELS = {
    "inviscid": Model("inviscid"),
    "viscous": Model("viscous", viscous=True),
    "curvature": Model("curvature", curvature=True),
    "strain": Model("strain", strain=True),
    "curvature-strain": Model("curvature-strain", curvature=True, strain=True),
}


def get_model(name: str) -> Model:
    from .. import validate

    validate.choice("model", name, MODELS)
    return MODELS[name]
