"""Divergence-free periodic flows at particle positions, as sums of stream-function waves.

Every flow of the transport computations is a finite sum of plane waves of the
stream function (the convention of :mod:`.flows`, ``V = (−ψ_y, ψ_x)``):

    ψ(x, t) = Σ_j c_j(t) cos(k_j·x + φ_j(t)),
    V(x, t) = Σ_j c_j(t) sin(k_j·x + φ_j(t)) (k_{j,y}, −k_{j,x}).

One wave moves a particle perpendicular to k_j, so ``k_j·x`` is constant
along its flow and the flow over a time h is exact and a shear (area
preserving):

    x ← x + h c_j sin(k_j·x + φ_j) (k_{j,y}, −k_{j,x}).

This is what the structure-preserving splitting of Wang, Xin & Zhang (2018)
composes (:mod:`.sde`). The flows (A the amplitude, B and ω the oscillation):

=========== ======================================================== ==============================
name        ψ                                                        waves
=========== ======================================================== ==============================
shear       A cos y                    (V = (A sin y, 0))            (A, (0, 1), 0)
cellular    A sin x sin y              (V = A(−sin x cos y, cos x sin y))  (±A/2, (1, ∓1), 0)
oscillating A sin(x + B sin ωt) sin y  (Liu, Xin & Yu 2013)          phase φ = B sin ωt
stochastic  A sin(x + θ(t)) sin y      θ an OU phase (:mod:`.random_phase`)  phase φ = θ(t)
chaotic     A (sin x − sin y + B cos ωt (cos y − cos x))                  four waves along x and y
=========== ======================================================== ==============================

``A sin(x + φ) sin y = (A/2) cos(x + φ − y) − (A/2) cos(x + φ + y)``. The
chaotic flow is the time-dependent cellular flow of Wang, Xin & Zhang (2018,
§5), ``V = A(cos y + B cos ωt sin y, cos x + B cos ωt sin x)`` (Biferale et
al. 1995), whose streamlines are chaotic for B ≠ 0: it shows residual
diffusion, D_eff bounded away from 0 as D₀ → 0.

Bounds: ``‖∇V‖ ≤ L = Σ_j |c_j| |k_j|²`` (each wave's gradient is
``c_j cos(·) (k_y, −k_x) k_jᵀ``), the rate an explicit step must resolve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch


class Wave(NamedTuple):
    """One term ``c cos(k·x + φ)`` of ψ (c, φ tensors broadcastable to the particles)."""

    c: torch.Tensor
    kx: int
    ky: int
    phi: torch.Tensor | float


@dataclass(frozen=True)
class ParticleFlow:
    """A flow given by its waves at time t; ``A``, ``B``, ``omega`` broadcast to (P, 1, 1)."""

    name: str = "flow"
    time_dependent: bool = False
    stochastic: bool = False

    def waves(self, t: torch.Tensor | float, A: torch.Tensor, B: torch.Tensor, omega: torch.Tensor,
              theta: torch.Tensor | None = None) -> list[Wave]:
        raise NotImplementedError

    def lipschitz(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        """``L = Σ_j |c_j||k_j|²`` maximised over time (per element of A, B)."""
        raise NotImplementedError

    def rate(self, A: torch.Tensor, B: torch.Tensor, omega: torch.Tensor) -> torch.Tensor:
        """The fastest rate of the flow: max(L, ω) for time-dependent flows, L for steady ones."""
        L = self.lipschitz(A, B)
        return torch.maximum(L, omega.abs()) if self.time_dependent else L


def velocity(waves: list[Wave], x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``V(x, y) = Σ_j c_j sin(k_j·x + φ_j) (k_{j,y}, −k_{j,x})``."""
    vx = torch.zeros_like(x)
    vy = torch.zeros_like(y)
    for w in waves:
        s = w.c * torch.sin(phase(w, x, y))
        if w.ky:
            vx = vx + w.ky * s
        if w.kx:
            vy = vy - w.kx * s
    return vx, vy


def stream_function(waves: list[Wave], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``ψ(x, y) = Σ_j c_j cos(k_j·x + φ_j)`` (for drawing streamlines)."""
    psi = torch.zeros_like(x)
    for w in waves:
        psi = psi + w.c * torch.cos(phase(w, x, y))
    return psi


def phase(w: Wave, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``k·x + φ`` (integer wave numbers, so the common ±1 and 0 cost no multiply)."""
    arg = None
    for k, z in ((w.kx, x), (w.ky, y)):
        if k == 0:
            continue
        term = z if k == 1 else (-z if k == -1 else k * z)
        arg = term if arg is None else arg + term
    return arg + w.phi if not (isinstance(w.phi, float) and w.phi == 0.0) else arg


def wave_flow(w: Wave, x: torch.Tensor, y: torch.Tensor, h: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact flow of one wave over time h (a shear along ``(k_y, −k_x)``)."""
    s = (h * w.c) * torch.sin(phase(w, x, y))
    if w.ky:
        x = x + w.ky * s
    if w.kx:
        y = y - w.kx * s
    return x, y


def _cells(A: torch.Tensor, xi: torch.Tensor | float) -> list[Wave]:
    """``A sin(x + ξ) sin y`` as two waves."""
    return [Wave(A / 2, 1, -1, xi), Wave(-A / 2, 1, 1, xi)]


@dataclass(frozen=True)
class ShearFlow(ParticleFlow):
    name: str = "shear"

    def waves(self, t, A, B, omega, theta=None):
        return [Wave(A, 0, 1, 0.0)]

    def lipschitz(self, A, B):
        return A.abs()


@dataclass(frozen=True)
class CellularFlow(ParticleFlow):
    name: str = "cellular"

    def waves(self, t, A, B, omega, theta=None):
        return _cells(A, 0.0)

    def lipschitz(self, A, B):
        return 2 * A.abs()


@dataclass(frozen=True)
class OscillatingFlow(CellularFlow):
    name: str = "oscillating"
    time_dependent: bool = True

    def waves(self, t, A, B, omega, theta=None):
        return _cells(A, B * torch.sin(omega * t))


@dataclass(frozen=True)
class StochasticFlow(CellularFlow):
    name: str = "stochastic"
    time_dependent: bool = True
    stochastic: bool = True

    def waves(self, t, A, B, omega, theta=None):
        return _cells(A, theta)


@dataclass(frozen=True)
class ChaoticFlow(ParticleFlow):
    name: str = "chaotic"
    time_dependent: bool = True

    def waves(self, t, A, B, omega, theta=None):
        beta = A * B * torch.cos(omega * t)
        half_pi = -math.pi / 2  # cos(z − π/2) = sin z
        return [Wave(A, 1, 0, half_pi), Wave(-beta, 1, 0, 0.0),
                Wave(-A, 0, 1, half_pi), Wave(beta, 0, 1, 0.0)]

    def lipschitz(self, A, B):
        return 2 * A.abs() * (1 + B.abs())


PARTICLE_FLOWS = {f.name: f for f in (ShearFlow(), CellularFlow(), OscillatingFlow(), StochasticFlow(),
                                      ChaoticFlow())}


def get_particle_flow(name: str) -> ParticleFlow:
    """The flow called ``name`` (one of :data:`PARTICLE_FLOWS`)."""
    from .. import validate

    validate.choice("flow", name, PARTICLE_FLOWS)
    return PARTICLE_FLOWS[name]
