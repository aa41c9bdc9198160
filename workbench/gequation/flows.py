"""Divergence-free periodic flows on the cell [0, 2π)².

Every flow gives, batched over the amplitude ``A`` (and ``B``, ``ω``),
the velocity ``V = (V₁, V₂)`` and the symmetric part of its gradient,
``S = (∇V + ∇Vᵀ)/2 = [[a, b], [b, −a]]`` (trace-free since div V = 0), which
is all the strain term ``∇G·(∇V)∇G = ∇G·S∇G`` needs.

=========== ===================================================================
name        V(x, y, t)
=========== ===================================================================
cellular    A (−sin x cos y, cos x sin y)                                  (steady)
oscillating A (−sin(x + B sin ωt) cos y, cos(x + B sin ωt) sin y)      (period 2π/ω)
modulated   A (1 + B sin ωt) (−sin x cos y, cos x sin y)              (period 2π/ω)
stochastic  A (−sin(x + θ(t)) cos y, cos(x + θ(t)) sin y)               (random)
shear       (A f(y), 0), f = sin by default or a user profile            (steady)
=========== ===================================================================

Cellular: ∂V₁/∂x = −A cos x cos y, ∂V₁/∂y = A sin x sin y = −∂V₂/∂x, so
``a = −A cos x cos y``, ``b = 0`` and ``∇G·(∇V)∇G = A cos x cos y (G_y² − G_x²)``.
Shear: ``a = 0``, ``b = A f'(y)/2`` (f' spectrally from the sampled profile).
The oscillating flow is the one of Liu, Xin & Yu (2013, unsteady cellular
flows); the modulated one is this package's choice of an amplitude-modulated
cellular flow (B = 0 gives back the steady flow). The stochastic one replaces
the phase ``B sin ωt`` of the oscillating flow by the Ornstein–Uhlenbeck phase
θ(t) of :mod:`.random_phase` (same variance B²/2, correlation time 1/ω), as in
Liu, Xin & Yu (2013, §5); each batch element carries its realisation's path
(:mod:`.realisations` makes the batch points × realisations).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from .grid import Grid
from .profile import parse_profile
from .random_phase import PhaseTable


class FlowField(NamedTuple):
    """Velocity and strain on the grid (each broadcastable to (B, N, N))."""

    vx: torch.Tensor
    vy: torch.Tensor
    a: torch.Tensor  # S11 = −S22
    b: torch.Tensor  # S12 = S21


class Bounds(NamedTuple):
    """Upper bounds over space and time, per batch element.

    ``transport = max(|V₁| + |V₂|)`` (what the CFL needs), ``sigma = max‖S‖₂``,
    ``speed = max|V|``.
    """

    transport: torch.Tensor
    sigma: torch.Tensor
    speed: torch.Tensor


@dataclass(frozen=True)
class Flow:
    """Base class: subclasses define :meth:`field` and :meth:`bounds`."""

    name = "flow"
    time_periodic = False
    random = False  # a random flow runs as a batch of realisations (:mod:`.realisations`)

    @property
    def steady(self) -> bool:
        """The field does not change in time (computed once per run)."""
        return not (self.time_periodic or self.random)

    def field(self, grid: Grid, t: torch.Tensor, A: torch.Tensor, B: torch.Tensor,
              omega: torch.Tensor) -> FlowField:
        raise NotImplementedError

    def bounds(self, A: torch.Tensor, B: torch.Tensor) -> Bounds:
        raise NotImplementedError

    def period(self, omega: torch.Tensor) -> torch.Tensor | None:
        """Time period ``2π/ω`` of a time-periodic flow, ``None`` when steady."""
        return 2 * math.pi / omega if self.time_periodic else None

    def describe(self) -> str:
        return self.name

    def streamfunction(self, x: np.ndarray, y: np.ndarray, t: float, A: float, B: float,
                       omega: float) -> np.ndarray:
        """ψ with ``V = (−ψ_y, ψ_x)`` on a mesh (for drawing streamlines)."""
        raise NotImplementedError


def _col(v: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, 1, 1)


def _shifted_cells(grid: Grid, A: torch.Tensor, shift: torch.Tensor) -> FlowField:
    """``A(−sin ξ cos y, cos ξ sin y)``, ξ = x + shift (shift per batch element); a = −A cos ξ cos y."""
    x, y = grid.xy
    xi = x + _col(shift)
    A = _col(A)
    sx, cx, sy, cy = torch.sin(xi), torch.cos(xi), torch.sin(y), torch.cos(y)
    return FlowField(-A * sx * cy, A * cx * sy, -A * cx * cy, torch.zeros_like(A))


@dataclass(frozen=True)
class Cellular(Flow):
    """Steady cellular flow ``V = A(−sin x cos y, cos x sin y)``; max|V| = A."""

    name = "cellular"

    def field(self, grid, t, A, B, omega):
        x, y = grid.xy
        A = _col(A)
        sx, cx, sy, cy = torch.sin(x), torch.cos(x), torch.sin(y), torch.cos(y)
        return FlowField(-A * sx * cy, A * cx * sy, -A * cx * cy, torch.zeros_like(A))

    def streamfunction(self, x, y, t, A, B, omega):
        return A * np.sin(x) * np.sin(y)

    def bounds(self, A, B):
        # |sin x cos y| + |cos x sin y| = max|sin(x ± y)| ≤ 1, |V| ≤ A
        A = A.abs()
        return Bounds(A, A, A)


@dataclass(frozen=True)
class Oscillating(Flow):
    """Laterally oscillating cells ``V = A(−sin ξ cos y, cos ξ sin y)``, ``ξ = x + B sin ωt``."""

    name = "oscillating"
    time_periodic = True

    def field(self, grid, t, A, B, omega):
        return _shifted_cells(grid, A, B * torch.sin(omega * t))

    def streamfunction(self, x, y, t, A, B, omega):
        return A * np.sin(x + B * np.sin(omega * t)) * np.sin(y)

    def bounds(self, A, B):
        return Cellular().bounds(A, B)


@dataclass(frozen=True)
class Modulated(Flow):
    """Amplitude-modulated cells ``V = A(1 + B sin ωt)(−sin x cos y, cos x sin y)``."""

    name = "modulated"
    time_periodic = True

    def field(self, grid, t, A, B, omega):
        amp = A * (1 + B * torch.sin(omega * t))
        return Cellular().field(grid, t, amp, B, omega)

    def streamfunction(self, x, y, t, A, B, omega):
        return A * (1 + B * np.sin(omega * t)) * np.sin(x) * np.sin(y)

    def bounds(self, A, B):
        return Cellular().bounds(A.abs() * (1 + B.abs()), B)


@dataclass(frozen=True)
class Stochastic(Flow):
    """Randomly oscillating cells ``V = A(−sin ξ cos y, cos ξ sin y)``, ``ξ = x + θ(t)``.

    θ is the OU phase of :mod:`.random_phase`; ``phase`` holds each batch element's path
    (set by :func:`.realisations.expand`), ``realisations`` and ``seed`` say which paths."""

    realisations: int = 16
    seed: int = 0
    phase: PhaseTable | None = None
    name = "stochastic"
    random = True

    def field(self, grid, t, A, B, omega):
        if self.phase is None:
            raise RuntimeError("the stochastic flow needs its phase paths (realisations.expand)")
        return _shifted_cells(grid, A, self.phase.at(t.reshape(-1), B.reshape(-1), omega.reshape(-1)))

    def period(self, omega):
        """``2π/ω``, the periodic flow's: horizons and windows are whole multiples of it, so the
        stochastic and the periodic flow are compared on the same time grid."""
        return 2 * math.pi / omega

    def streamfunction(self, x, y, t, A, B, omega, theta: float = 0.0):
        """ψ at the phase ``theta`` (the realisation's θ(t), e.g. a Dataset's ``frame_phase``)."""
        return A * np.sin(x + theta) * np.sin(y)

    def bounds(self, A, B):
        return Cellular().bounds(A, B)


@dataclass(frozen=True)
class Shear(Flow):
    """Shear flow ``V = (A f(y), 0)``; ``f = sin`` unless a profile expression is given."""

    profile: str = "sin(y)"
    name = "shear"

    def function(self) -> Callable[[torch.Tensor], torch.Tensor]:
        return parse_profile(self.profile)

    def samples(self, grid: Grid) -> tuple[torch.Tensor, torch.Tensor]:
        """``f`` and its spectral derivative ``f'`` on the grid's y coordinates."""
        f = self.function()(grid.coords.to(torch.float64))
        if not torch.isfinite(f).all():
            raise ValueError(f"profile {self.profile!r} is not finite on [0, 2π)")
        probe = torch.linspace(0, 2 * math.pi, 7, dtype=torch.float64)
        fp = self.function()
        scale = max(1.0, float(f.abs().max()))
        if not torch.allclose(fp(probe), fp(probe + 2 * math.pi), atol=1e-9 * scale, rtol=1e-9):
            raise ValueError(f"profile {self.profile!r} must be 2π-periodic in y")
        k = torch.fft.rfftfreq(grid.n, d=1.0 / grid.n, dtype=torch.float64)
        df = torch.fft.irfft(1j * k * torch.fft.rfft(f), n=grid.n)
        return f.to(grid.dtype).to(grid.device), df.to(grid.dtype).to(grid.device)

    def field(self, grid, t, A, B, omega):
        f, df = self.samples(grid)
        A = _col(A)
        zero = torch.zeros_like(A)
        return FlowField(A * f[:, None], zero, zero, 0.5 * A * df[:, None])

    def bounds(self, A, B):
        probe = Grid(512, torch.float64)
        f, df = self.samples(probe)
        fmax, dfmax = float(f.abs().max()), float(df.abs().max())
        A = A.abs()
        return Bounds(A * fmax, 0.5 * A * dfmax, A * fmax)

    def streamfunction(self, x, y, t, A, B, omega):
        # ψ = −A ∫f dy: the periodic part spectrally, the mean part as −A f̄ y
        n = 256
        f = self.function()(torch.arange(n, dtype=torch.float64) * (2 * math.pi / n)).numpy()
        k = np.fft.rfftfreq(n, d=1.0 / n)
        fh = np.fft.rfft(f - f.mean())
        fh[1:] = fh[1:] / (1j * k[1:])
        fh[0] = 0
        F = np.fft.irfft(fh, n=n)
        yy = np.mod(y, 2 * math.pi)
        Fy = np.interp(yy, np.arange(n + 1) * (2 * math.pi / n), np.append(F, F[0]))
        return -A * (Fy + f.mean() * y)

    def max_along(self, direction: tuple[float, float]) -> float:
        """``max_y f(y)·P₁``: the exact inviscid front speed excess for P along x."""
        f, _ = self.samples(Grid(4096, torch.float64))
        return float((f * direction[0]).max())

    def describe(self) -> str:
        return f"shear f(y)={self.profile}"


FLOWS = ("cellular", "shear", "oscillating", "modulated", "stochastic")


def get_flow(name: str, profile: str | None = None) -> Flow:
    """The flow called ``name`` (``profile`` only for ``shear``)."""
    from .. import validate

    validate.choice("flow", name, FLOWS)
    if name == "shear":
        flow = Shear(profile or "sin(y)")
        flow.samples(Grid(16, torch.float64))  # parse and check periodicity now
        return flow
    if profile:
        raise ValueError("profile is only used with flow='shear'")
    return {"cellular": Cellular, "oscillating": Oscillating, "modulated": Modulated,
            "stochastic": Stochastic}[name]()
