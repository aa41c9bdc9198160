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
"""

from __future__ import annotations

import torch


def ou_phase_step(theta: torch.Tensor, h: torch.Tensor | float, B: torch.Tensor, omega: torch.Tensor,
                  xi: torch.Tensor) -> torch.Tensor:
    """One exact OU step of length ``h`` with standard normal ``xi`` (shapes broadcast)."""
    decay = torch.exp(-omega * h)
    sigma = B.abs() / 2 ** 0.5
    return decay * theta + sigma * torch.sqrt(1 - decay * decay) * xi


def ou_phase_path(n_steps: int, h: torch.Tensor, B: torch.Tensor, omega: torch.Tensor,
                  realisations: int, generator: torch.Generator, dtype=torch.float64) -> torch.Tensor:
    """θ at ``t_k = k h`` for k = 0..n_steps: shape (batch, realisations, n_steps + 1).

    ``h``, ``B``, ``omega``: 1-D tensors over the batch of flows; every flow of the batch
    draws the same standard normals (common random numbers), so a batch equals its
    elements computed one by one.
    """
    dev = B.device
    xi = torch.randn(realisations, n_steps + 1, generator=generator, dtype=torch.float64,
                     device=generator.device).to(dev)
    Bc, wc, hc = (v.to(torch.float64).reshape(-1, 1) for v in (B, omega, h))
    theta = torch.empty(len(Bc), realisations, n_steps + 1, dtype=torch.float64, device=dev)
    theta[:, :, 0] = Bc.abs() / 2 ** 0.5 * xi[:, 0]
    for k in range(n_steps):
        theta[:, :, k + 1] = ou_phase_step(theta[:, :, k], hc, Bc, wc, xi[:, k + 1])
    return theta.to(dtype)
