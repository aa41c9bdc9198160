"""Monotone numerical Hamiltonians ``Ĥ(p⁻_x, p⁺_x, p⁻_y, p⁺_y)``.

Both are consistent (``Ĥ(p, p, p, p) = H(P + p)``) and monotone under the
CFL condition of :mod:`.time_stepping` (Crandall & Lions 1984; Osher & Shu,
SIAM J. Numer. Anal. 28, 1991).

* Local Lax–Friedrichs:
  ``Ĥ = H(P + p̄) − α_x (p⁺_x − p⁻_x)/2 − α_y (p⁺_y − p⁻_y)/2``,
  ``p̄ = (p⁻ + p⁺)/2``, ``α`` the model's local bounds of |∂H/∂q|
  (as hj_reachability's ``artificial_dissipation``).
* Godunov, for the convex ``H = V·q + s_l|q|`` with ``s_l > 0``: the exact
  Godunov flux of each term (Osher & Fedkiw 2003, §6.2 and §6.4): upwind
  for the transport ``V·q`` (``q_x⁻`` where V₁ > 0, ``q_x⁺`` otherwise) and
  Rouy–Tourin for the normal motion,
  ``|q|² ≈ max(max(q_x⁻, 0)², min(q_x⁺, 0)²) + (same in y)``.
"""

from __future__ import annotations

import torch

from .flows import FlowField
from .models import Model

SCHEMES = ("lax-friedrichs", "godunov")


def lax_friedrichs(model: Model, P, pxm, pxp, pym, pyp, field: FlowField, s_l: float, d) -> torch.Tensor:
    qx = P[0] + 0.5 * (pxm + pxp)
    qy = P[1] + 0.5 * (pym + pyp)
    ax, ay = model.dissipation(field, s_l, d)
    return model.hamiltonian(qx, qy, field, s_l, d) - 0.5 * (ax * (pxp - pxm) + ay * (pyp - pym))


def godunov(model: Model, P, pxm, pxp, pym, pyp, field: FlowField, s_l: float, d) -> torch.Tensor:
    if not model.convex:
        raise ValueError(f"scheme 'godunov' needs a convex Hamiltonian; model {model.name!r} "
                         "has the strain term, use scheme='lax-friedrichs'")
    qxm, qxp, qym, qyp = P[0] + pxm, P[0] + pxp, P[1] + pym, P[1] + pyp
    transport = (torch.where(field.vx > 0, field.vx * qxm, field.vx * qxp)
                 + torch.where(field.vy > 0, field.vy * qym, field.vy * qyp))
    gx = torch.maximum(qxm.clamp_min(0) ** 2, qxp.clamp_max(0) ** 2)
    gy = torch.maximum(qym.clamp_min(0) ** 2, qyp.clamp_max(0) ** 2)
    return transport + s_l * torch.sqrt(gx + gy)


def numerical_hamiltonian(scheme: str):
    from .. import validate

    validate.choice("scheme", scheme, SCHEMES)
    return lax_friedrichs if scheme == "lax-friedrichs" else godunov
