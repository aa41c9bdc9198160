"""The random phase θ(t) of the stochastically oscillating cellular flow.

Liu, Xin & Yu (2013, "Turbulent flame speeds of G-equation models in
unsteady cellular flows", §5) replace the periodic lateral oscillation
``B sin ωt`` of the cells by a random one and find that frequency locking
disappears. The phase here is a stationary Ornstein–Uhlenbeck process

    dθ = −ω θ dt + √(2ω σ²) dW,   σ² = B²/2,   θ(0) ~ N(0, σ²),

chosen so that θ has the variance of ``B sin ωt`` (its time average of
``B² sin² ωt`` is ``B²/2``) and the correlation time ``1/ω`` of the
oscillation, so the two flows differ only in being periodic or random:
``E θ(s)θ(s+τ) = σ² e^{−ω|τ|}``. Sampled exactly on a time grid:
``θ_{n+1} = e^{−ωh} θ_n + σ √(1 − e^{−2ωh}) ξ_n`` with ξ_n ~ N(0, 1).

The level-set solver needs θ at any time (the Runge–Kutta stages). There θ
is ``θ(t) = σ Z(ωt)`` with Z the unit OU process (rate 1, variance 1) in the
scaled time s = ωt, sampled exactly at the nodes ``s_k = k·PHASE_STEP`` and
linearly interpolated between them (:class:`PhaseTable`). Realisation r of a
seed draws its normals from its own stream (``numpy`` ``default_rng([seed,
r])``, read in order), so its path does not depend on how long a horizon,
which B and ω, or which other realisations are asked for: common random
numbers across a batch, which therefore equals its elements one by one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.signal import lfilter

PHASE_STEP = 0.01  # node spacing of Z in units of the correlation time 1/ω
MAX_REALISATIONS = 1024
MAX_NODES = 10**7  # nodes × realisations of one table (80 MB in float64)


def ou_phase_step(theta: torch.Tensor, h: torch.Tensor | float, B: torch.Tensor, omega: torch.Tensor,
                  xi: torch.Tensor) -> torch.Tensor:
    """One exact OU step of length ``h`` with standard normal ``xi`` (shapes broadcast)."""
    decay = torch.exp(-omega * h)
    sigma = B.abs() / 2 ** 0.5
    return decay * theta + sigma * torch.sqrt(1 - decay * decay) * xi


def unit_phase_nodes(seed: int, realisations: Sequence[int], n_nodes: int) -> np.ndarray:
    """Z(s_k), k < n_nodes, of each realisation: shape (len(realisations), n_nodes), float64.

    ``Z_0 = ξ_0``, ``Z_k = e^{−c} Z_{k−1} + √(1 − e^{−2c}) ξ_k`` (c = :data:`PHASE_STEP`),
    the stationary unit OU process exactly at the nodes."""
    if len(realisations) * n_nodes > MAX_NODES:
        raise ValueError(f"realisations × phase nodes = {len(realisations) * n_nodes} exceeds {MAX_NODES}; "
                         "use fewer realisations or a shorter horizon")
    decay = math.exp(-PHASE_STEP)
    gain = math.sqrt(1 - decay * decay)
    out = np.empty((len(realisations), n_nodes))
    for i, r in enumerate(realisations):
        xi = np.random.default_rng([int(seed), int(r)]).standard_normal(n_nodes)
        out[i, 0] = xi[0]
        if n_nodes > 1:
            out[i, 1:] = lfilter([gain], [1.0, -decay], xi[1:], zi=[decay * xi[0]])[0]
    return out


@dataclass(frozen=True)
class PhaseTable:
    """θ_b(t) = (|B_b|/√2) Z_b(ω_b t) for each batch element b (module docstring).

    ``nodes`` (batch, K): Z of element b's realisation at s_k = k·PHASE_STEP; ``realisation``
    (batch,): which realisation that is. Times past the last node are refused when the
    table is built (:meth:`build`), not here: ``at`` runs inside the time loop.
    """

    nodes: torch.Tensor
    realisation: torch.Tensor

    @classmethod
    def build(cls, seed: int, realisation: Sequence[int], omega: np.ndarray, t_max: float,
              device: torch.device | str = "cpu") -> PhaseTable:
        """Nodes covering ``[0, t_max]`` for elements of realisations ``realisation`` and rates ``omega``."""
        n_nodes = int(math.ceil(float(np.max(omega)) * t_max / PHASE_STEP)) + 2
        distinct, inverse = np.unique(np.asarray(realisation, dtype=np.int64), return_inverse=True)
        z = unit_phase_nodes(seed, distinct.tolist(), n_nodes)[inverse]
        return cls(torch.as_tensor(z, device=device), torch.as_tensor(np.asarray(realisation), device=device))

    def at(self, t: torch.Tensor, B: torch.Tensor, omega: torch.Tensor) -> torch.Tensor:
        """θ_b(t_b) for 1-D ``t``, ``B``, ``omega`` over the batch (in their dtype)."""
        s = (omega.to(torch.float64) * t.to(torch.float64)).reshape(-1, 1) / PHASE_STEP
        k = torch.floor(s).clamp(0, self.nodes.shape[1] - 2)
        frac = s - k
        lo = self.nodes.gather(1, k.long())
        hi = self.nodes.gather(1, k.long() + 1)
        z = (lo + frac * (hi - lo)).reshape(-1)
        return (B.abs().to(torch.float64) / math.sqrt(2) * z).to(B.dtype)

    def subset(self, index: torch.Tensor) -> PhaseTable:
        return PhaseTable(self.nodes[index], self.realisation[index])
