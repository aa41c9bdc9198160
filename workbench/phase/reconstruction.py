"""A batch of independent reconstructions (leading dimension = run).

:class:`Reconstruction` is what the algorithm operators act on (like PyNX's
``CDI`` object). It holds, for ``R`` runs at once:

* ``state`` -- the iterate of the current algorithm: ``u`` (real space, always
  present) and, for the primal-dual GPS, ``z`` (Fourier space) and ``y``
  (real-space dual); all with leading dim ``R``;
* the best iterate of each run by the Fourier error ``R_F`` of its estimate
  ``P_S(u)``, checked every ``error_every`` iterations;
* the history of ``R_F`` recorded every ``record_every`` iterations;
* the support ``S``: the measurement's (shared by all runs) until a support
  update (:class:`~workbench.phase.support.ShrinkWrap`) gives each run its own;
  the best iterate keeps the support it was found with.

Run ``r`` starts from random phases drawn with seed ``seeds[r]``:
``u_0 = F^-1[M exp(i phi)]``, ``phi ~ U[0, 2 pi)``, so a run's result does not
depend on which batch it is computed in.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence

import numpy as np
import torch

from .. import runtime, validate
from .physics import FourierMagnitude
from .projections import constraint_weight, support_projection


def _choose(weight: torch.Tensor, new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    """``new`` where ``weight`` is 1, ``old`` where 0 (``lerp``: one vectorised pass, unlike ``where``)."""
    if new.is_complex():
        return torch.view_as_complex(torch.lerp(torch.view_as_real(old), torch.view_as_real(new), weight[..., None]))
    return torch.lerp(old, new, weight)


class Reconstruction:
    """Independent runs of phase retrieval on one measurement (see the module docstring)."""

    def __init__(self, physics: FourierMagnitude, runs: int | None = None, *, seed: int = 0,
                 seeds: Sequence[int] | None = None, error_every: int = 1, record_every: int = 10,
                 cancel: threading.Event | None = None):
        if seeds is None:
            runs = validate.integer("runs", 1 if runs is None else runs, lo=1, hi=100_000)
            seeds = [int(seed) + r for r in range(runs)]
        validate.non_empty("seeds", seeds)
        self.error_every = validate.integer("error_every", error_every, lo=1, hi=10_000)
        self.record_every = validate.integer("record_every", record_every, lo=1, hi=100_000)
        if self.record_every % self.error_every:
            raise ValueError(f"record_every ({record_every}) must be a multiple of error_every ({error_every})")
        self.physics = physics
        self.seeds = [int(s) for s in seeds]
        self.cancel = cancel
        per_run = 8 * physics.size**2 * (4 if physics.dtype == torch.float32 else 8)
        validate.memory_fits("runs", per_run * len(self.seeds), physics.device)
        self.support_weight = physics.support_weight          # [N, N], or [R, N, N] after a support update
        self.best_support = physics.support_weight
        self.support_updates = 0
        u0 = self.random_start()
        self.state: dict[str, torch.Tensor] = {"u": u0}
        self.best: dict[str, torch.Tensor] = {"u": u0.clone()}
        self.best_error = torch.full((len(self.seeds),), math.inf, dtype=physics.dtype, device=physics.device)
        self.iteration = 0
        self._records: list[tuple[int, torch.Tensor]] = []
        self.check(force=True)

    @property
    def runs(self) -> int:
        return len(self.seeds)

    def random_start(self) -> torch.Tensor:
        """``u_0 = F^-1[M exp(i phi)]`` with per-run random phases (seeded per run)."""
        p = self.physics
        phases = torch.stack([
            torch.rand(p.magnitude.shape, generator=runtime.generator(s, p.device), device=p.device,
                       dtype=p.dtype) for s in self.seeds])
        z = torch.polar(torch.where(p.measured, p.magnitude, 0.0).expand_as(phases), 2 * math.pi * phases)
        return p.inverse(z)

    # -- state shared by the algorithms -------------------------------------------------
    @property
    def u(self) -> torch.Tensor:
        return self.state["u"]

    def set_state(self, **tensors: torch.Tensor) -> None:
        """Replace the iterate (``u`` and, for GPS, ``z`` and ``y``)."""
        self.state = tensors

    def convert(self, fn: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]]) -> None:
        """Change the iterate's representation (e.g. to GPS's ``z, y``) for the state and the best."""
        self.state, self.best = fn(self.state), fn(self.best)

    def project_support(self, u: torch.Tensor) -> torch.Tensor:
        """``P_S`` with each run's current support."""
        return support_projection(u, self.support_weight, self.physics.positivity)

    def constraint_weight(self, u: torch.Tensor) -> torch.Tensor:
        """1 where ``u`` is in each run's support (and >= 0 with positivity), 0 elsewhere."""
        return constraint_weight(u, self.support_weight, self.physics.positivity)

    def set_support(self, support_weight: torch.Tensor) -> None:
        """Give each run a new support (0/1 floats ``[R, N, N]``)."""
        self.support_weight = support_weight.to(self.physics.dtype)
        self.support_updates += 1

    def estimate(self) -> torch.Tensor:
        """The object estimate of the current iterate, ``P_S(u)``."""
        return self.project_support(self.state["u"])

    def stopped(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def advance(self) -> None:
        """Count one iteration; check the error and keep the best iterate when due."""
        self.iteration += 1
        if self.iteration % self.error_every == 0:
            self.check()

    def check(self, force: bool = False) -> torch.Tensor:
        """``R_F`` of the current estimate per run; update the best iterate where it improved."""
        err = self.physics.error_of(self.estimate())
        better = err < self.best_error
        self.best_error = torch.where(better, err, self.best_error)
        weight = better.to(self.physics.dtype).view((-1,) + (1,) * (self.state["u"].ndim - 1))
        self.best = {k: _choose(weight, v, self.best[k]) for k, v in self.state.items()}
        if self.support_weight is not self.best_support:
            self.best_support = torch.lerp(self.best_support.expand_as(self.support_weight), self.support_weight,
                                           weight)
        if force or self.iteration % self.record_every == 0:
            if not self._records or self._records[-1][0] != self.iteration:
                self._records.append((self.iteration, err))
        return err

    def restart_from_best(self) -> None:
        """Continue every run from its best iterate so far."""
        self.state = {k: v.clone() for k, v in self.best.items()}
        self.support_weight = self.best_support

    # -- outputs --------------------------------------------------------------------------
    def best_estimate(self) -> torch.Tensor:
        """``P_S`` of each run's best iterate (the reconstruction)."""
        return support_projection(self.best["u"], self.best_support, self.physics.positivity)

    def history(self) -> tuple[np.ndarray, np.ndarray]:
        """(iterations, errors[run, check]) as NumPy arrays."""
        its = np.array([i for i, _ in self._records])
        errs = torch.stack([e for _, e in self._records], dim=-1)
        return its, errs.detach().cpu().numpy()

    def errors(self) -> np.ndarray:
        """Best ``R_F`` per run."""
        return self.best_error.detach().cpu().numpy()
