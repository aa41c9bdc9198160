"""Optimizers that follow from HJ smoothing, batched over many starts at once.

All methods move a batch of starts ``x`` of shape ``(runs, d)`` for ``n_steps``
steps; ``t`` is the HJ time (the smoothing scale) where a method has one.

* ``gd`` -- gradient descent ``x <- x - lr grad f(x)`` (forward Euler of the gradient
  flow; ``t`` plays no role).
* ``prox`` -- proximal point ``x <- prox_{t f}(x)`` (backward Euler of the gradient
  flow, Deep Relaxation sec. 2), exact on a grid: the prox map is the argmin of the
  discrete Moreau envelope (:func:`.moreau_envelope`), computed once; starts are
  snapped to the nearest grid point. 1-D and 2-D landscapes, and separable ones in any
  dimension (the prox of ``sum_i g(x_i)`` acts coordinate-wise).
* ``entropy_sgd`` -- Entropy-SGD (Chaudhari et al. 2017; Deep Relaxation sec. 4): an
  inner Langevin loop samples ``rho(y) ~ exp(-beta (f(y) + gamma |y - x|^2 / 2))``,
  ``y <- y - eta (grad f(y) + gamma (y - x)) + sqrt(2 eta / beta) xi``, with running
  mean ``mu <- 0.75 mu + 0.25 y``; the outer step is ``x <- x - lr_outer (x - mu)``
  (``gamma (x - mu)`` estimates the local-entropy gradient). The coupling starts at
  ``gamma_0 = 1/t`` and is scoped, ``gamma_k = gamma_0 (1 + scoping)^k`` with ``k`` the
  outer step, which this implementation increments (the record ``gamma`` shows it).
* ``hj_prox`` -- HJ-prox descent ``x <- HJ-prox_{t f}(x)`` with :func:`.hj_prox`.

Every method records the trajectories of the first ``track`` runs and returns the
final points; a run whose iterate stops being finite is reported as diverged.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .. import validate
from .hj_prox import hj_prox
from .landscapes import Landscape, sample
from .moreau import moreau_envelope

METHODS = ("gd", "prox", "entropy_sgd", "hj_prox")


@dataclass
class Settings:
    """Step sizes and method parameters (defaults suit the built-in landscapes)."""

    lr: float = 3e-3
    inner_steps: int = 10
    inner_lr: float = 3e-3
    beta: float = 10.0
    scoping: float = 1e-3
    lr_outer: float = 1.0
    delta: float = 0.1
    n_samples: int = 64
    grid_n: int = 1025

    def check(self) -> Settings:
        validate.positive("lr", self.lr)
        validate.integer("inner_steps", self.inner_steps, lo=1, hi=1000)
        validate.positive("inner_lr", self.inner_lr)
        validate.positive("beta", self.beta)
        validate.number("scoping", self.scoping, lo=0, hi=1)
        validate.number("lr_outer", self.lr_outer, lo=0, hi=2, lo_open=True)
        validate.positive("delta", self.delta)
        validate.integer("n_samples", self.n_samples, lo=1, hi=100_000)
        validate.integer("grid_n", self.grid_n, lo=3, hi=8193)
        return self


@dataclass
class Trace:
    """Final points ``(runs, d)``, tracked trajectories ``(track, n_steps + 1, d)``, extras."""

    final: torch.Tensor
    trajectory: torch.Tensor
    gamma: torch.Tensor | None = None


def gradient(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``grad f`` at every row of ``x`` by autograd (f maps (runs, d) to (runs,))."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(f(x).sum(), x)
    return g


class _Recorder:
    def __init__(self, x0: torch.Tensor, n_steps: int, track: int):
        self.track = min(track, x0.shape[0])
        self.traj = torch.empty(self.track, n_steps + 1, x0.shape[1], dtype=x0.dtype, device=x0.device)
        self.traj[:, 0] = x0[: self.track]

    def __call__(self, k: int, x: torch.Tensor) -> None:
        self.traj[:, k] = x[: self.track]


def _loop(x0, n_steps, track, step, cancel):
    rec = _Recorder(x0, n_steps, track)
    x = x0.clone()
    for k in range(1, n_steps + 1):
        if cancel is not None and cancel.is_set():
            rec.traj[:, k:] = x[: rec.track, None]
            break
        x = step(k - 1, x)
        rec(k, x)
    return x, rec.traj


def gradient_descent(f, x0: torch.Tensor, n_steps: int, lr: float, track: int = 16,
                     cancel: threading.Event | None = None) -> Trace:
    """``x <- x - lr grad f(x)``."""
    final, traj = _loop(x0, n_steps, track, lambda k, x: x - lr * gradient(f, x), cancel)
    return Trace(final, traj)


class GridProx:
    """The exact grid prox map of a landscape, as a lookup: ``x -> prox_{t f}(x)``.

    Separable landscapes use the 1-D prox map of their term on every coordinate;
    other landscapes a 1-D or 2-D grid of ``n`` points per axis on the default box.
    """

    def __init__(self, landscape: Landscape, dim: int, t: float, n: int, device=None,
                 dtype=torch.float64):
        self.separable = landscape.separable
        n = min(n, landscape.max_grid)
        if not self.separable and dim > 2:
            raise ValueError(f"the grid prox needs dim <= 2 or a separable landscape; "
                             f"{landscape.name!r} in dim {dim} is neither")
        if self.separable:
            term = landscape.term
            one_d = Landscape(landscape.name, lambda x: term(x[..., 0]), landscape.lo, landscape.hi, term)
            grid = sample(one_d, n, 1, device=device, dtype=dtype)
        else:
            grid = sample(landscape, n, dim, device=device, dtype=dtype)
        _, idx = moreau_envelope(grid.values, grid.spacing, t, return_argmin=True)
        self.coords = grid.coords[0]
        self.idx = idx  # (n,) + (1,) or (n, n, 2) in (iy, ix)
        self.dim = dim

    def snap(self, x: torch.Tensor) -> torch.Tensor:
        h = self.coords[1] - self.coords[0]
        return ((x - self.coords[0]) / h).round().clamp(0, len(self.coords) - 1).long()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        i = self.snap(x)
        if self.separable or self.dim == 1:
            j = self.idx[..., 0][i]
        else:  # x is (x, y); the map is indexed [iy, ix] and returns (iy, ix)
            pair = self.idx[i[..., 1], i[..., 0]]
            j = torch.stack([pair[..., 1], pair[..., 0]], dim=-1)
        return self.coords[j].to(x.dtype)


def proximal_point(prox: GridProx, x0: torch.Tensor, n_steps: int, track: int = 16,
                   cancel: threading.Event | None = None) -> Trace:
    """``x <- prox_{t f}(x)`` by the exact grid prox map (starts snapped to the grid)."""
    start = prox.coords[prox.snap(x0)].to(x0.dtype)
    final, traj = _loop(start, n_steps, track, lambda k, x: prox(x), cancel)
    return Trace(final, traj)


def entropy_sgd(f, x0: torch.Tensor, n_steps: int, t: float, settings: Settings,
                generator: torch.Generator, track: int = 16,
                cancel: threading.Event | None = None) -> Trace:
    """Entropy-SGD with scoped coupling ``gamma_k = (1/t)(1 + scoping)^k`` (see module docstring)."""
    s = settings
    gammas = torch.full((n_steps,), float("nan"), dtype=torch.float64)
    noise = math.sqrt(2 * s.inner_lr / s.beta)

    def step(k, x):
        gamma = (1.0 / t) * (1.0 + s.scoping) ** k
        gammas[k] = gamma
        y, mu = x.clone(), x.clone()
        for _ in range(s.inner_steps):
            g = gradient(f, y) + gamma * (y - x)
            y = y - s.inner_lr * g + noise * torch.randn(y.shape, generator=generator,
                                                         device=y.device, dtype=y.dtype)
            mu = 0.75 * mu + 0.25 * y
        return x - s.lr_outer * (x - mu)

    final, traj = _loop(x0, n_steps, track, step, cancel)
    return Trace(final, traj, gammas)


def hj_prox_descent(f, x0: torch.Tensor, n_steps: int, t: float, settings: Settings, seed: int,
                    track: int = 16, cancel: threading.Event | None = None) -> Trace:
    """``x <- HJ-prox_{t f}(x)``, a fresh sample set each step (seed + step)."""
    def step(k, x):
        with torch.no_grad():
            return hj_prox(f, x, t, settings.delta, settings.n_samples, seed=seed + 7919 * (k + 1)).prox

    final, traj = _loop(x0, n_steps, track, step, cancel)
    return Trace(final, traj)
