"""Support update by shrink-wrap (Marchesini et al., Phys. Rev. B 68, 140101(R), 2003).

Every time it is applied, :class:`ShrinkWrap` replaces each run's support by the
region where the object estimate, blurred by a Gaussian of width ``sigma_k``
pixels, exceeds ``threshold`` times its maximum::

    S_k = { x : (g_{sigma_k} * |P_S u|)(x) > threshold * max_x (g_{sigma_k} * |P_S u|) }
    sigma_k = max(sigma_min, sigma * decay^k)          (k = updates so far)

so the support tightens as the blur shrinks. It is an operator of the schedule
algebra: ``(ShrinkWrap() * HIO() ** 20) ** 50`` updates after every 20 HIO
iterations, and :func:`with_shrinkwrap` inserts it into any schedule (OSS and GPS
stages included) every ``every`` iterations.
"""

from __future__ import annotations

import math

import torch

from .. import validate
from .algorithms import Chain, Iteration, Operator, Repeat
from .reconstruction import Reconstruction


class ShrinkWrap(Operator):
    """Shrink-wrap support update (see the module docstring); ``sigma`` in pixels."""

    def __init__(self, threshold: float = 0.2, sigma: float = 3.0, sigma_min: float = 1.0, decay: float = 0.95):
        self.threshold = validate.number("threshold", threshold, lo=0, hi=1, lo_open=True, hi_open=True)
        self.sigma = validate.number("sigma", sigma, lo=0.1, hi=100)
        self.sigma_min = validate.number("sigma_min", sigma_min, lo=0.1, hi=self.sigma)
        self.decay = validate.number("decay", decay, lo=0, hi=1, lo_open=True)

    def width(self, updates: int) -> float:
        """``sigma_k`` of the ``k``-th update."""
        return max(self.sigma_min, self.sigma * self.decay**updates)

    def apply(self, rec: Reconstruction) -> Reconstruction:
        p = rec.physics
        estimate = rec.estimate().abs()
        # a real-space Gaussian of width s pixels is the spectral Gaussian of width N / (2 pi s)
        blurred = p.inverse(p.forward(estimate) * p.fourier_gaussian(p.size / (2 * math.pi * self.width(
            rec.support_updates))))
        peak = blurred.flatten(-2).amax(-1)[..., None, None]
        rec.set_support((blurred > self.threshold * peak).to(p.dtype))
        return rec

    def __repr__(self) -> str:
        return (f"ShrinkWrap(threshold={self.threshold:g}, sigma={self.sigma:g}, sigma_min={self.sigma_min:g}, "
                f"decay={self.decay:g})")


def with_shrinkwrap(op: Operator, update: Operator, every: int) -> Operator:
    """``op`` with ``update`` applied after every ``every`` iterations of each of its blocks."""
    every = validate.integer("every", every, lo=1, hi=1_000_000)
    if isinstance(op, Chain):
        return Chain(*[with_shrinkwrap(o, update, every) for o in op.ops])
    if isinstance(op, Repeat) and isinstance(op.op, Iteration):
        blocks, rest = divmod(op.n, every)
        parts: list[Operator] = [(update * op.op ** every) ** blocks] if blocks else []
        return Chain(*parts, op.op ** rest) if rest else Chain(*parts)
    if isinstance(op, Repeat):
        return Repeat(with_shrinkwrap(op.op, update, every), op.n)
    return op
