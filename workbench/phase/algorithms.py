"""Phase-retrieval algorithms as composable operators over a batch of runs.

Operators act on a :class:`~workbench.phase.reconstruction.Reconstruction`
and compose like the papers write their schedules (the PyNX convention:
the right-most operator acts first, ``**`` repeats)::

    rec = (ER() ** 20 * HIO(beta=0.9) ** 100) ** 5 * rec    # 5 x (100 HIO then 20 ER)

With ``v = F^-1 P_M F u`` (the magnitude projection in real space) and
``C = {x in S, v(x) >= 0}`` (the object constraint):

* ``ER``    (error reduction, Fienup 1982):   ``u+ = P_S(v)``
* ``HIO``   (hybrid input-output, Fienup 1982): ``u+ = v`` on ``C``, ``u - beta v`` elsewhere
* ``RAAR``  (Luke 2005): ``u+ = beta/2 (R_S R_M + I) u + (1 - beta) P_M u``, i.e.
  ``v`` where ``2v - u`` satisfies the constraint, ``beta u + (1 - 2 beta) v`` elsewhere
* ``OSS``   (Rodriguez et al. 2013): HIO whose feedback is low-passed outside the
  support, ``F^-1[W F(u - beta v)]``, ``W(k) = exp(-|k|^2 / (2 alpha^2))``;
  :func:`oss` steps ``alpha`` over 10 stages from 2N to 0.2N (N the array size),
  restarting each stage from the best iterate.
* ``GPS``   (Pham, Yin, Rana, Osher, Miao 2019): primal-dual hybrid gradient with
  Moreau-Yosida smoothing of both constraints::

      z^ = z - t F y
      z+ = prox_{t g_sigma}(z^) = (t P_M(z^) + sigma z^) / (t + sigma)   (least squares;
           ``likelihood="poisson"``: the Poisson fidelity's prox, :mod:`~workbench.phase.fidelity`)
      y^ = y + s F^-1 (2 z+ - z)
      y+ = G [y^ - P_S(y^)]

  ``G`` multiplies the spectrum by a Gaussian of width ``alpha / sqrt(s)``
  (``GPS-R``, smoothing in real space), or the image by a Gaussian of width
  ``2 pi alpha / sqrt(s)`` pixels centred in the array (``GPS-F``, smoothing in
  Fourier space), or both (``GPS-RF``). The estimate is ``P_S(F^-1 z+)``. With
  ``t = s = 1``, ``sigma = 0`` and no smoothing, ``v = F^-1 z - y`` follows the
  Douglas-Rachford iteration ``v+ = v + P_S(2 P_M v - v) - P_M v``.

Widths ``alpha`` are given relative to the array size N (``alpha = 2`` means 2N).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from .. import validate
from . import fidelity
from .reconstruction import Reconstruction

SMOOTHING = ("R", "F", "RF", "none")


class Operator:
    """Something that acts on a :class:`Reconstruction`; ``A * B`` applies B then A, ``A ** n`` repeats."""

    iterations = 0

    def apply(self, rec: Reconstruction) -> Reconstruction:
        raise NotImplementedError

    def __call__(self, rec: Reconstruction) -> Reconstruction:
        return self.apply(rec)

    def __mul__(self, other: object) -> object:
        if isinstance(other, Reconstruction):
            return self.apply(other)
        if isinstance(other, Operator):
            return Chain(other, self)
        return NotImplemented

    def __pow__(self, n: int) -> "Operator":
        return Repeat(self, validate.integer("power", n, lo=0, hi=10_000_000))


class Chain(Operator):
    """Operators applied in order (``Chain(a, b)`` is ``b * a``)."""

    def __init__(self, *ops: Operator):
        flat: list[Operator] = []
        for op in ops:
            flat.extend(op.ops if isinstance(op, Chain) else [op])
        self.ops = flat

    @property
    def iterations(self) -> int:  # type: ignore[override]
        return sum(op.iterations for op in self.ops)

    def apply(self, rec: Reconstruction) -> Reconstruction:
        for op in self.ops:
            if rec.stopped():
                break
            op.apply(rec)
        return rec

    def __repr__(self) -> str:
        return " * ".join(repr(op) for op in reversed(self.ops))


class Repeat(Operator):
    """``op ** n``."""

    def __init__(self, op: Operator, n: int):
        self.op, self.n = op, n

    @property
    def iterations(self) -> int:  # type: ignore[override]
        return self.n * self.op.iterations

    def apply(self, rec: Reconstruction) -> Reconstruction:
        for _ in range(self.n):
            if rec.stopped():
                break
            self.op.apply(rec)
        return rec

    def __repr__(self) -> str:
        inner = repr(self.op)
        return f"({inner})**{self.n}" if isinstance(self.op, Chain) else f"{inner}**{self.n}"


class RestartFromBest(Operator):
    """Every run continues from its best iterate so far (OSS and GPS do this at each stage)."""

    def apply(self, rec: Reconstruction) -> Reconstruction:
        rec.restart_from_best()
        return rec

    def __repr__(self) -> str:
        return "RestartFromBest()"


class Iteration(Operator):
    """One iteration of an algorithm; subclasses implement :meth:`step`."""

    iterations = 1

    def apply(self, rec: Reconstruction) -> Reconstruction:
        if not rec.stopped():
            self.step(rec)
            rec.advance()
        return rec

    def step(self, rec: Reconstruction) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


def _real_space(rec: Reconstruction) -> torch.Tensor:
    """The real-space iterate ``u`` (leaving GPS's primal-dual form if needed)."""
    if len(rec.state) > 1:
        rec.convert(lambda st: {"u": st["u"].real.contiguous() if st["u"].is_complex() else st["u"]})
    return rec.u


def _projected(rec: Reconstruction, u: torch.Tensor) -> torch.Tensor:
    """``v = F^-1 P_M F u``."""
    p = rec.physics
    return p.inverse(p.project_magnitude(p.forward(u)))


def _beta(beta: float) -> float:
    return validate.number("beta", beta, lo=0, hi=1, lo_open=True)


class ER(Iteration):
    """Error reduction: ``u+ = P_S F^-1 P_M F u``."""

    def step(self, rec: Reconstruction) -> None:
        rec.set_state(u=rec.project_support(_projected(rec, _real_space(rec))))


class HIO(Iteration):
    """Hybrid input-output: ``u+ = v`` where ``v`` satisfies the constraint, ``u - beta v`` elsewhere."""

    def __init__(self, beta: float = 0.9):
        self.beta = _beta(beta)

    def update(self, rec: Reconstruction, u: torch.Tensor) -> torch.Tensor:
        v = _projected(rec, u)
        return torch.lerp(u - self.beta * v, v, rec.constraint_weight(v))

    def step(self, rec: Reconstruction) -> None:
        rec.set_state(u=self.update(rec, _real_space(rec)))


class RAAR(Iteration):
    """Relaxed averaged alternating reflections: ``beta/2 (R_S R_M + I) u + (1 - beta) P_M u``."""

    def __init__(self, beta: float = 0.87):
        self.beta = _beta(beta)

    def step(self, rec: Reconstruction) -> None:
        u = _real_space(rec)
        v = _projected(rec, u)
        keep = rec.constraint_weight(2 * v - u)
        rec.set_state(u=torch.lerp(self.beta * u + (1 - 2 * self.beta) * v, v, keep))


class OSS(HIO):
    """Oversampling smoothness: HIO, with the feedback ``u - beta v`` low-passed outside the support.

    As in the authors' sample code, the HIO feedback ``u - beta v`` is filtered
    over the whole array, ``F^-1[W_alpha F(u - beta v)]``, and used outside the
    support; inside, ``v`` where it is non-negative and ``u - beta v`` where not.
    """

    def __init__(self, alpha: float = 2.0, beta: float = 0.9):
        super().__init__(beta)
        self.alpha = validate.number("alpha", alpha, lo=0, hi=100, lo_open=True)

    def step(self, rec: Reconstruction) -> None:
        p = rec.physics
        u = _real_space(rec)
        v = _projected(rec, u)
        feedback = u - self.beta * v
        smooth = p.inverse(p.forward(feedback) * p.fourier_gaussian(self.alpha * p.size))
        inside = torch.lerp(feedback, v, rec.constraint_weight(v))
        rec.set_state(u=torch.lerp(smooth, inside, rec.support_weight.expand_as(v)))


def _primal_dual(rec: Reconstruction) -> dict[str, torch.Tensor]:
    """GPS's iterate: ``u = F^-1 z`` (kept to save an FFT), ``z = F u``, dual ``y`` (0 at start)."""
    p = rec.physics
    if "z" not in rec.state:
        def to_primal_dual(st: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
            z = p.forward(st["u"])
            u = p.inverse_field(z)  # complex on the complex path: GPS's y and F^-1 z are complex fields there
            return {"u": u, "z": z, "y": torch.zeros_like(u)}
        rec.convert(to_primal_dual)
    return rec.state


class GPS(Iteration):
    """One primal-dual step of generalized proximal smoothing (see the module docstring)."""

    def __init__(self, sigma: float = 0.0, alpha: float | None = 2.0, t: float = 1.0, s: float = 0.9,
                 smoothing: str = "R", likelihood: str = "gaussian"):
        self.sigma = validate.number("sigma", sigma, lo=0, hi=1e6)
        self.likelihood = validate.choice("likelihood", likelihood, fidelity.LIKELIHOODS)
        self.t = validate.number("t", t, lo=0, hi=100, lo_open=True)
        self.s = validate.number("s", s, lo=0, hi=100, lo_open=True)
        self.smoothing = validate.choice("smoothing", smoothing, SMOOTHING)
        if self.smoothing != "none":
            alpha = validate.number("alpha", alpha, lo=0, hi=100, lo_open=True)
        self.alpha = alpha

    def step(self, rec: Reconstruction) -> None:
        p = rec.physics
        st = _primal_dual(rec)
        z, y, a = st["z"], st["y"], st["u"]
        zh = z - self.t * p.forward(y)
        zp = p.prox_fidelity(zh, self.likelihood, self.t, self.sigma)
        b = p.inverse_field(zp)
        yh = y + self.s * (2 * b - a)
        r = yh - rec.project_support(yh)
        if "R" in self.smoothing:
            r = p.inverse_field(p.forward(r) * p.fourier_gaussian(self.alpha * p.size / math.sqrt(self.s)))
        if "F" in self.smoothing:
            r = r * p.real_gaussian(2 * math.pi * self.alpha * p.size / math.sqrt(self.s))
        rec.set_state(u=b, z=zp, y=r)


# -- schedules as in the papers ------------------------------------------------------------

def split(total: int, parts: int) -> list[int]:
    """``total`` iterations in ``parts`` nearly equal stages (earlier stages get the remainder)."""
    base, extra = divmod(total, parts)
    return [base + (i < extra) for i in range(parts)]


def _staged(blocks: Sequence[Operator]) -> Operator:
    """Stages run one after another, each but the first starting from the best iterate."""
    return Chain(*[b if i == 0 else b * RestartFromBest() for i, b in enumerate(blocks)])


def _stage_values(name: str, value: float | Sequence[float], stages: int, geometric: bool) -> np.ndarray:
    if isinstance(value, (int, float)):
        return np.full(stages, float(value))
    if len(value) != 2:
        raise ValueError(f"{name} must be a number or a (start, stop) pair, got {value!r}")
    a, b = (float(v) for v in value)
    if geometric and a > 0 and b > 0:
        return np.geomspace(a, b, stages)
    return np.linspace(a, b, stages)


def oss(iterations: int = 2000, beta: float = 0.9, stages: int = 10,
        alpha: float | Sequence[float] = (2.0, 0.2)) -> Operator:
    """OSS schedule: ``stages`` blocks of OSS with ``alpha`` stepped linearly (units of N)."""
    iterations = validate.integer("iterations", iterations, lo=1, hi=10_000_000)
    stages = validate.integer("stages", stages, lo=1, hi=max(1, iterations))
    alphas = _stage_values("alpha", alpha, stages, geometric=False)
    return _staged([OSS(alpha=a, beta=beta) ** n for a, n in zip(alphas, split(iterations, stages))])


def gps(iterations: int = 2000, t: float = 1.0, s: float = 0.9, sigma: float | Sequence[float] = (1e-3, 0.1),
        stages: int = 10, alpha: float | Sequence[float] = (2.0, 0.2), smoothing: str = "R",
        likelihood: str = "gaussian") -> Operator:
    """GPS schedule: ``stages`` blocks with ``sigma`` stepped geometrically upward and ``alpha``
    linearly down (units of N), restarting each stage from the best ``(z, y)``."""
    iterations = validate.integer("iterations", iterations, lo=1, hi=10_000_000)
    stages = validate.integer("stages", stages, lo=1, hi=max(1, iterations))
    sigmas = _stage_values("sigma", sigma, stages, geometric=True)
    alphas = _stage_values("alpha", alpha, stages, geometric=False)
    return _staged([GPS(sigma=sg, alpha=a, t=t, s=s, smoothing=smoothing, likelihood=likelihood) ** n
                    for sg, a, n in zip(sigmas, alphas, split(iterations, stages))])


ALGORITHMS: dict[str, Callable[..., Operator]] = {
    "er": lambda iterations, **kw: ER(**kw) ** iterations,
    "hio": lambda iterations, **kw: HIO(**kw) ** iterations,
    "raar": lambda iterations, **kw: RAAR(**kw) ** iterations,
    "oss": lambda iterations, **kw: oss(iterations, **kw),
    "gps": lambda iterations, **kw: gps(iterations, **{"smoothing": "R", **kw}),
    "gps-r": lambda iterations, **kw: gps(iterations, **{**kw, "smoothing": "R"}),
    "gps-f": lambda iterations, **kw: gps(iterations, **{**kw, "smoothing": "F"}),
    "gps-rf": lambda iterations, **kw: gps(iterations, **{**kw, "smoothing": "RF"}),
}


def schedule(name: str, iterations: int = 2000, **params: float) -> Operator:
    """The paper's schedule of algorithm ``name`` (``er``, ``hio``, ``raar``, ``oss``, ``gps[-r|-f|-rf]``)."""
    validate.choice("algorithm", name, ALGORITHMS)
    validate.integer("iterations", iterations, lo=1, hi=10_000_000)
    try:
        return ALGORITHMS[name](iterations, **params)
    except TypeError as exc:
        raise TypeError(f"parameters of algorithm {name!r}: {exc}") from None
