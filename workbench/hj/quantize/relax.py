"""The relaxed projection of BinaryRelax and its continuation in lambda.

BinaryRelax (Yin, Zhang, Lyu, Osher, Qi, Xin, SIAM J. Imaging Sci. 2018) replaces
the indicator of the quantization set Q in ``min f(x) + chi_Q(x)`` by its Moreau
envelope ``(lambda/2) dist(x, Q)^2``, which tends to ``chi_Q`` as ``lambda -> inf``.
Its proximal map is, for any closed Q::

    prox(y) = argmin_x  1/2 |x - y|^2 + (lambda/2) dist(x, Q)^2
            = (lambda proj_Q(y) + y) / (lambda + 1)

(minimise jointly over x and the point q of Q: for fixed q the minimiser is
``(y + lambda q)/(1 + lambda)`` with value ``lambda/(2(1 + lambda)) |y - q|^2``, least at
``q = proj_Q(y)``). The envelope value at y is ``lambda/(2(1+lambda)) dist(y, Q)^2``.

Phase I iterates ``y <- y - gamma grad f(x)``, ``x <- prox(y)``, ``lambda <- rho lambda``
(rho slightly above 1); Phase II sets ``x = proj_Q(y)``, which is BinaryConnect
(Courbariaux, Bengio, David 2015).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ... import validate


def relaxed_prox(y: torch.Tensor, proj: torch.Tensor, lam: float | torch.Tensor) -> torch.Tensor:
    """``(lambda proj_Q(y) + y)/(lambda + 1)``, the prox of ``(lambda/2) dist(., Q)^2`` at ``y``."""
    return (lam * proj + y) / (lam + 1)


def penalty(x: torch.Tensor, proj: torch.Tensor, lam: float) -> torch.Tensor:
    """``(lambda/2) dist(x, Q)^2`` given ``proj = proj_Q(x)``, summed over the last axis."""
    return 0.5 * lam * ((x - proj) ** 2).sum(-1)


@dataclass(frozen=True)
class Continuation:
    """``lambda_k = lambda0 rho^k`` for step ``k`` of Phase I; Phase II from epoch ``switch`` on.

    ``switch`` counts epochs (0-based: epochs ``switch, switch+1, ...`` run Phase II).
    """

    lambda0: float = 1.0
    rho: float = 1.02
    switch: int = 20

    @classmethod
    def checked(cls, lambda0: float, rho: float, switch: int, epochs: int) -> "Continuation":
        """Validate against the run: ``lambda0 > 0``, ``1 <= rho <= 10``, ``0 <= switch <= epochs``."""
        lambda0 = float(validate.number("lambda0", lambda0, lo=0, lo_open=True, hi=1e12))
        rho = float(validate.number("rho", rho, lo=1.0, hi=10.0))
        switch = validate.integer("phase_switch", switch, lo=0, hi=epochs)
        return cls(lambda0, rho, switch)

    def lam(self, step: int) -> float:
        """lambda at Phase-I step ``step`` (capped at 1e30 so that it stays finite)."""
        return self.lambda0 * math.exp(min(step * math.log(self.rho), math.log(1e30 / self.lambda0)))

    def phase_two(self, epoch: int) -> bool:
        return epoch >= self.switch
