"""The integration loop of the batched G-equation solver.

:func:`make_step` builds one time step (SSP-RK3 of the explicit part, on the
CPU the fused numba kernel of :mod:`.compiled`, Strang-split with the exact
heat semigroup); :func:`integrate` runs every element of the batch to its
horizon in chunks of steps (:class:`.chunks.StepChunks`) and records ⟨u⟩(t),
samples of the mean identity, front snapshots, blow-ups (non-finite u) and
reinitialisations.
"""

from __future__ import annotations

from typing import Any

import torch

from .chunks import KMAX, StepChunks
from .compiled import CompiledStep
from .flows import FlowField
from .grid import X_DIM, Y_DIM, apply_heat, central_first, central_mixed, central_second, heat_factor
from .hamiltonians import numerical_hamiltonian
from .horizon import Schedule
from .problem import Problem
from .reinit import reinitialise
from .step_compile import compile_step
from .time_stepping import ssp_rk3
from .weno import weno5_gradient

CHECK_EVERY = 25


class BlowUpError(FloatingPointError):
    """The solution became non-finite; the message names the parameters."""


def rhs(problem: Problem, field: FlowField | None):
    """``L(u, t) = −Ĥ(∇⁻u, ∇⁺u) + R_explicit[u]`` (field fixed for steady flows)."""
    model, grid, P, s_l = problem.model, problem.grid, problem.P, problem.s_l
    h = grid.h
    d = problem.d.to(grid.dtype).reshape(-1, 1, 1)
    numerical = numerical_hamiltonian(problem.scheme)
    explicit_viscous = model.viscous and not problem.implicit_viscous

    def L(u: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        f = field if field is not None else problem.field(t)
        pxm, pxp, pym, pyp = weno5_gradient(u, h)
        out = -numerical(model, P, pxm, pxp, pym, pyp, f, s_l, d)
        if explicit_viscous or model.curvature:
            uxx, uyy = central_second(u, h, X_DIM), central_second(u, h, Y_DIM)
            if explicit_viscous:
                out = out + d * (uxx + uyy)
            if model.curvature:
                qx, qy = P[0] + central_first(u, h, X_DIM), P[1] + central_first(u, h, Y_DIM)
                q2 = (qx * qx + qy * qy).clamp_min(torch.finfo(u.dtype).eps)
                kappa = (uxx * qy * qy - 2 * qx * qy * central_mixed(u, h) + uyy * qx * qx) / q2
                out = out + s_l * d * kappa
        return out

    return L


def identity_rate(problem: Problem, u: torch.Tensor, field: FlowField) -> torch.Tensor:
    """``⟨V·q + s_l|q| (+ d q·Sq/|q|)⟩`` with central differences, per element."""
    h, P = problem.grid.h, problem.P
    qx, qy = P[0] + central_first(u, h, X_DIM), P[1] + central_first(u, h, Y_DIM)
    d = problem.d.to(u.dtype).reshape(-1, 1, 1)
    return problem.model.hamiltonian(qx, qy, field, problem.s_l, d).mean((-2, -1))


def make_step(problem: Problem, field: FlowField | None, dt: torch.Tensor, heat: torch.Tensor | None,
              fused: bool = False):
    """One time step: SSP-RK3 of the explicit part, Strang-split with the exact heat semigroup.

    ``fused``: the explicit part by the numba kernel of :mod:`.compiled` (CPU)."""
    if fused:
        model, d = problem.model, problem.d
        zero = torch.zeros_like(d)
        explicit = CompiledStep(
            problem, field, dt, strain=d if model.strain else zero,
            curvature=problem.s_l * d if model.curvature else zero,
            viscosity=d if model.viscous and not problem.implicit_viscous else zero,
            godunov=problem.scheme == "godunov")
    else:
        L = rhs(problem, field)
        explicit = lambda u, t: ssp_rk3(u, t, dt, L)  # noqa: E731

    def step(u: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if heat is not None:
            u = apply_heat(u, heat)
        u = explicit(u, t)
        if heat is not None:
            u = apply_heat(u, heat)
        return u

    return step


def integrate(problem: Problem, sched: Schedule, *, reinit: float | None = None, n_frames: int = 9,
              frame_grid: int = 64, compile_mode: str | None = None, fused: bool = False) -> dict[str, Any]:
    """Run every element to its horizon; returns history, identity samples, frames, errors.

    ``compile_mode``: ``torch.compile`` the step in this mode (``default``, ``reduce-overhead``); None: not.
    The shapes are marked dynamic after a first recompilation, so a rerun of a few points reuses it.
    The steps between two host-side events (identity sample, snapshot, check) run as one chunk of
    :class:`.chunks.StepChunks`, on a GPU one CUDA graph (except under ``reduce-overhead``)."""
    grid, nb = problem.grid, len(problem.A)
    dev, dtp = grid.device, grid.dtype
    n_list = sched.n_steps.tolist()
    n_max = max(n_list)
    dt = sched.dt
    u = torch.zeros(nb, grid.n, grid.n, dtype=dtp, device=dev)
    offset = torch.zeros(nb, dtype=torch.float64, device=dev)
    history = torch.zeros(nb, n_max + 1, dtype=torch.float64, device=dev)
    steady = problem.flow.steady
    field0 = problem.field(torch.zeros(nb, dtype=torch.float64, device=dev)) if steady else None
    heat = (heat_factor(grid, (problem.d * dt / 2).to(dtp)) if problem.implicit_viscous else None)
    step = make_step(problem, field0, dt, heat, fused=fused)
    if compile_mode is not None:
        step = compile_step(step, compile_mode)
    id_every = max(1, n_max // 400)
    id_steps = list(range(0, n_max + 1, id_every))
    identity = torch.full((nb, len(id_steps)), float("nan"), dtype=torch.float64, device=dev)
    stride = max(1, grid.n // frame_grid)
    fn = len(range(0, grid.n, stride))
    frames = torch.full((nb, n_frames, fn, fn), float("nan"), dtype=torch.float32, device=dev)
    frame_time = torch.zeros(nb, n_frames, dtype=torch.float64)
    want: dict[int, list[tuple[int, int]]] = {}
    for b, nsteps in enumerate(n_list):
        steps = [int(round(j * nsteps / max(n_frames - 1, 1))) for j in range(n_frames)]
        if n_frames == 1:
            steps = [nsteps]
        for j, k in enumerate(steps):
            want.setdefault(k, []).append((b, j))
            frame_time[b, j] = k * float(dt[b])
    errors = [""] * nb
    failed = torch.zeros(nb, dtype=torch.bool, device=dev)
    reinit_count = torch.zeros(nb, dtype=torch.long)
    n_t = torch.as_tensor(n_list, device=dev)
    n_min, any_failed = min(n_list), False  # on the host: no masking while every element runs
    # CUDA graphs of the step chunks: not under reduce-overhead, which graphs each step itself
    state = StepChunks(step, u, offset, dt, n_t, failed,
                       graphs=dev.type == "cuda" and compile_mode != "reduce-overhead")

    def record(k: int) -> None:
        u, offset = state.u, state.offset
        history[:, k] = offset  # frozen elements keep their final offset
        if k % id_every == 0:
            f = field0 if field0 is not None else problem.field(k * dt)
            rate = identity_rate(problem, u, f)
            identity[:, k // id_every] = torch.where(k <= n_t, rate.to(torch.float64),
                                                     torch.full_like(offset, float("nan")))
        for b, j in want.get(k, ()):
            frames[b, j] = (u[b, ::stride, ::stride] + offset[b]).float()

    def checked(k: int) -> bool:
        return k % CHECK_EVERY == 0 or k == n_max

    def event(k: int) -> bool:  # the host does something after step k
        return k % id_every == 0 or checked(k) or k in want

    record(0)
    k = 1
    while k <= n_max:
        K = 1
        while not event(k + K - 1) and K < KMAX:
            K += 1
        history[:, k:k + K] = state.advance(k, K, all_running=k + K - 1 <= n_min and not any_failed)
        k += K - 1  # the last step of the chunk: its checks and records
        if checked(k):
            u, offset = state.u, state.offset
            bad = ~torch.isfinite(u).flatten(1).all(1) | ~torch.isfinite(offset)
            bad = bad & ~failed
            if bool(bad.any()):
                for b in torch.nonzero(bad).flatten().tolist():
                    errors[b] = (f"blow-up: non-finite solution at t={min(k, n_list[b]) * float(dt[b]):.4g} "
                                 f"for {problem.label(b)} (grid={grid.n})")
                failed |= bad
                any_failed = True
                state.assign(torch.where(failed.reshape(-1, 1, 1), torch.zeros_like(u), u), offset)
            if reinit is not None:
                u, offset = state.u, state.offset
                h = grid.h
                qx = problem.P[0] + central_first(u, h, X_DIM)
                qy = problem.P[1] + central_first(u, h, Y_DIM)
                steep = (torch.sqrt(qx * qx + qy * qy).flatten(1).amax(1) > reinit) & (k <= n_t) & ~failed
                if bool(steep.any()):
                    level = -offset  # the front G = 0 in terms of the mean-free u
                    fixed = reinitialise(u, problem.P, level, grid)
                    shift = fixed.mean((-2, -1))
                    fixed = fixed - shift.reshape(-1, 1, 1)
                    # G = P·x + u + offset is what reinitialisation preserved at the front
                    state.assign(torch.where(steep.reshape(-1, 1, 1), fixed, u),
                                 torch.where(steep, offset + shift.to(torch.float64), offset))
                    reinit_count += steep.cpu().long()
        record(k)
        k += 1
    return {"history": history, "identity": identity, "id_every": id_every, "frames": frames,
            "frame_time": frame_time, "error": errors, "failed": failed, "reinit_count": reinit_count,
            "stride": stride}
