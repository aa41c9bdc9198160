"""A flame-speed problem: the validated parameters of a batched run (:class:`Problem`, :func:`prepare`).

:func:`prepare` checks every argument of :func:`.solver.flame_speed` at the
boundary (one-line ``ValueError``/``TypeError`` naming the parameter and its
range, a ``MemoryError`` before a batch too large for the device) and returns
the :class:`Problem` (model, flow, grid, P, s_l and the batched A, d, ω, B as
float64 tensors), the run's :class:`Settings` and the provenance ``call``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from .. import runtime, validate
from .flows import Flow, FlowField, get_flow
from .grid import Grid
from .hamiltonians import SCHEMES
from .models import Model, get_model
from .parameters import broadcast
from .random_phase import MAX_REALISATIONS
from .reinit import check_direction
from .time_stepping import cfl_time_step

BYTES_PER_POINT = 64  # live (B, N, N) temporaries of one RK stage, in units of the dtype size
COMPILE_CHOICES = (True, False, "auto", "reduce-overhead")
DIFFUSION = ("implicit", "explicit")


@dataclass
class Problem:
    """Everything a batched run needs (parameters already validated)."""

    model: Model
    flow: Flow
    grid: Grid
    P: tuple[float, float]
    s_l: float
    A: torch.Tensor
    d: torch.Tensor
    omega: torch.Tensor
    B: torch.Tensor
    scheme: str = "lax-friedrichs"
    diffusion: str = "implicit"

    @property
    def implicit_viscous(self) -> bool:
        return self.model.viscous and self.diffusion == "implicit"

    def field(self, t: torch.Tensor) -> FlowField:
        dt = self.grid.dtype
        return self.flow.field(self.grid, t.to(dt), self.A.to(dt), self.B.to(dt), self.omega.to(dt))

    def cfl_dt(self, cfl: float) -> torch.Tensor:
        bounds = self.flow.bounds(self.A, self.B)
        alpha = self.model.max_dissipation(bounds, self.s_l, self.d)
        nu = self.model.parabolic_coefficient(self.s_l, self.d, self.implicit_viscous)
        return cfl_time_step(self.grid.h, alpha, nu, cfl)

    def max_speed(self) -> torch.Tensor:
        return self.flow.bounds(self.A, self.B).speed

    def label(self, b: int) -> str:
        parts = [f"A={float(self.A[b]):g}"]
        if self.model.uses_d:
            parts.append(f"d={float(self.d[b]):g}")
        if not self.flow.steady:
            parts += [f"omega={float(self.omega[b]):g}", f"B={float(self.B[b]):g}"]
        return f"model={self.model.name}, flow={self.flow.name}, " + ", ".join(parts)


@dataclass(frozen=True)
class Settings:
    """The run's options (validated): horizon, stepping, estimator, recording, kernels."""

    t_final: float | None
    crossings: float
    max_crossings: float
    dt: float | None
    cfl: float
    window: float
    rtol: float
    reinit: float | None
    n_frames: int
    frame_grid: int
    n_samples: int
    on_blowup: str
    compile: bool | str
    use_numba: bool


@dataclass(frozen=True)
class Setup:
    problem: Problem
    call: dict[str, Any]
    scalar: bool
    settings: Settings


def prepare(model: str, flow: str, A: Any, *, d: Any, omega: Any, B: Any, s_l: float,
            direction: tuple[float, float], grid: int, t_final: float | None, crossings: float,
            max_crossings: float, dt: float | None, cfl: float, scheme: str, diffusion: str, window: float,
            rtol: float, profile: str | None, reinit: float | None, n_frames: int, frame_grid: int,
            n_samples: int, dtype: Any, device: Any, method: str, compile: bool | str,
            on_blowup: str, realisations: int | None = None, seed: int = 0) -> Setup:
    """Validate the arguments of :func:`.solver.flame_speed` (see there) before any work."""
    mdl = get_model(model)
    flw = get_flow(flow, profile)
    if flw.random:
        flw = replace(flw, seed=validate.integer("seed", seed, lo=0, hi=2**63 - 1),
                      realisations=flw.realisations if realisations is None else
                      validate.integer("realisations", realisations, lo=2, hi=MAX_REALISATIONS))
    elif realisations is not None:
        raise ValueError(f"realisations is only used with flow='stochastic', not flow={flow!r}")
    s_l = validate.positive("s_l", s_l)
    n = validate.integer("grid", grid, lo=8, hi=4096)
    validate.choice("scheme", scheme, SCHEMES)
    validate.choice("diffusion", diffusion, DIFFUSION)
    validate.choice("on_blowup", on_blowup, ("raise", "record"))
    if scheme == "godunov" and not mdl.convex:
        raise ValueError(f"scheme 'godunov' needs a convex Hamiltonian; model {model!r} "
                         "has the strain term, use scheme='lax-friedrichs'")
    cfl = validate.number("cfl", cfl, lo=0, hi=1, lo_open=True)
    window = validate.number("window", window, lo=0, hi=1, lo_open=True, hi_open=True)
    rtol = validate.positive("rtol", rtol)
    crossings = validate.positive("crossings", crossings)
    max_crossings = validate.number("max_crossings", max_crossings, lo=crossings)
    if t_final is not None:
        t_final = validate.positive("t_final", t_final)
    if dt is not None:
        dt = validate.positive("dt", dt)
    if reinit is not None:
        reinit = validate.number("reinit", reinit, lo=1, lo_open=True)
    n_frames = validate.integer("n_frames", n_frames, lo=1, hi=1000)
    frame_grid = validate.integer("frame_grid", frame_grid, lo=4, hi=4096)
    n_samples = validate.integer("n_samples", n_samples, lo=3, hi=100000)
    try:
        P = tuple(float(c) for c in direction)
    except (TypeError, ValueError):
        raise TypeError(f"direction must be two numbers, got {direction!r}") from None
    if len(P) != 2 or not all(math.isfinite(c) for c in P) or math.hypot(*P) == 0:
        raise ValueError(f"direction must be a finite non-zero 2-vector, got {direction!r}")
    norm = math.hypot(*P)
    P = (P[0] / norm, P[1] / norm)
    if reinit is not None:
        check_direction(P)
    scalar = all(np.ndim(v) == 0 for v in (A, d, omega, B))
    params = broadcast(A=A, d=d, omega=omega, B=B)
    for k, v in params.items():
        lo = {"A": 0.0, "d": 0.0, "omega": 0.0, "B": None}[k]
        for value in v:
            validate.number(k, value, lo=lo,
                            lo_open=(k == "omega" and not flw.steady))
    dev = runtime.resolve_device(device)
    dtp = runtime.resolve_dtype(dtype)
    nb = len(params["A"]) * (flw.realisations if flw.random else 1)
    itemsize = torch.finfo(dtp).bits // 8
    validate.memory_fits("grid² × batch", BYTES_PER_POINT * itemsize * nb * n * n, dev)

    as_t = lambda v: torch.as_tensor(v, dtype=torch.float64, device=dev)  # noqa: E731
    problem = Problem(mdl, flw, Grid(n, dtp, dev), P, s_l, as_t(params["A"]), as_t(params["d"]),
                      as_t(params["omega"]), as_t(params["B"]), scheme, diffusion)
    call = dict(model=model, flow=flow, A=params["A"], d=params["d"], omega=params["omega"],
                B=params["B"], s_l=s_l, direction=P, grid=n, t_final=t_final, crossings=crossings,
                max_crossings=max_crossings, dt=dt, cfl=cfl, scheme=scheme, diffusion=diffusion, window=window, rtol=rtol,
                profile=getattr(flw, "profile", None), reinit=reinit, dtype=str(dtp).replace("torch.", ""))
    if flw.random:
        call.update(realisations=flw.realisations, seed=flw.seed)
    validate.choice("compile", compile, COMPILE_CHOICES)
    use_numba = runtime.uses_numba(method, dev)
    call["method"] = "numba" if use_numba else "torch"
    return Setup(problem, call, scalar, Settings(t_final, crossings, max_crossings, dt, cfl, window, rtol, reinit,
                                                  n_frames, frame_grid, n_samples, on_blowup, compile, use_numba))

