"""The batched G-equation solver and :func:`flame_speed`.

Solves the transformed periodic problem (Liu, Xin & Yu, Physica D 2013, §2)

    G = P·x + u,   u periodic on [0, 2π)²,   u(x, 0) = 0,
    u_t + H(x, t, P + ∇u) = R[u]                      (see :mod:`.models`)

and returns ``s_T(P) = −lim u/t`` (:mod:`.estimator`). Space: WENO5
one-sided derivatives (:mod:`.weno`) in a monotone numerical Hamiltonian
(:mod:`.hamiltonians`), central differences for the curvature term; time:
SSP-RK3 (:mod:`.time_stepping`) with ``dΔu`` applied exactly by FFT in a
Strang splitting. On the CPU each RK stage is one fused numba kernel
(:mod:`.compiled`, the same arithmetic); elsewhere the torch step, optionally
``torch.compile``'d. The spatial mean is removed after every step and carried
in float64, so float32 keeps the corrector's resolution however far u has
drifted.

Batching: the parameters ``A, d, ω, B`` are 1-D tensors of one length B and
the state is (B, N, N). Each element has its own CFL time step and horizon
(default: ``crossings`` times the time ``2π/(s_l + max|V|)`` to cross a cell,
so all elements take about the same number of steps), and an element whose
horizon is reached is frozen while the others finish, so a batched run equals
the one-by-one runs exactly.

Identity check: for divergence-free V, ``d⟨u⟩/dt = −⟨V⟩·P − s_l⟨|P+∇u|⟩``
(plus ``−d⟨q·Sq/|q|⟩`` for the strain model), because ``⟨V·∇u⟩ = 0`` and
``⟨Δu⟩ = 0``; its window average is returned as ``s_T_identity`` (NaN for
the curvature models, whose term does not average out).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
import xarray as xr

from .. import budget, results, runtime, validate
from .chunks import KMAX, StepChunks
from .compiled import CompiledStep
from .estimator import estimate_speed
from .flows import FLOWS, Flow, FlowField, get_flow
from .grid import X_DIM, Y_DIM, Grid, apply_heat, central_first, central_mixed, central_second, heat_factor
from .hamiltonians import SCHEMES, numerical_hamiltonian
from .models import MODELS, Model, get_model
from .reinit import check_direction, reinitialise
from .time_stepping import cfl_time_step, ssp_rk3
from .weno import weno5_gradient

BYTES_PER_POINT = 64  # live (B, N, N) temporaries of one RK stage, in units of the dtype size
CHECK_EVERY = 25
COMPILE_ABOVE = 5e7  # point-steps: about a minute of eager CPU time, against ~20-40 s to compile
COMPILE_CHOICES = (True, False, "auto", "reduce-overhead")
DIFFUSION = ("implicit", "explicit")


class BlowUpError(FloatingPointError):
    """The solution became non-finite; the message names the parameters."""


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
        if self.flow.time_periodic:
            parts += [f"omega={float(self.omega[b]):g}", f"B={float(self.B[b]):g}"]
        return f"model={self.model.name}, flow={self.flow.name}, " + ", ".join(parts)


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


@dataclass
class Schedule:
    """Per-element time grid: step ``dt``, ``n_steps``, window steps (even)."""

    dt: torch.Tensor
    n_steps: torch.Tensor
    window_steps: torch.Tensor


def schedule(problem: Problem, *, t_final: float | None, crossings: float, dt: float | None,
             cfl: float, window: float) -> Schedule:
    """Choose Δt ≤ CFL limit and the horizon per element (see the module docstring)."""
    limit = problem.cfl_dt(cfl).to(torch.float64)
    if dt is not None:
        bad = torch.nonzero(dt > limit * (1 + 1e-12)).flatten()
        if len(bad):
            b = int(bad[0])
            raise ValueError(f"dt={dt:g} exceeds the CFL-stable limit {float(limit[b]):.4g} for "
                             f"{problem.label(b)} (cfl={cfl:g}, grid={problem.grid.n}); use dt <= "
                             f"{float(limit.min()):.4g} or leave dt unset")
        limit = torch.full_like(limit, dt)
    period = problem.flow.period(problem.omega.to(torch.float64))
    crossing = 2 * math.pi / (problem.s_l + problem.max_speed().to(torch.float64))
    horizon = crossings * crossing if t_final is None else torch.full_like(limit, t_final)
    if period is None:
        n = torch.ceil(horizon / limit)
        n = n + (n % 2)
        w = 2 * torch.floor(window * n / 2).clamp_min(1)
        return Schedule(horizon / n, n.long(), w.long())
    per = torch.ceil(period / limit)  # steps per period
    n_per = torch.ceil(horizon / period)
    if t_final is not None:
        n_per = torch.floor(horizon / period + 1e-9)
        if (n_per < 2).any():
            b = int(torch.nonzero(n_per < 2).flatten()[0])
            raise ValueError(f"t_final={t_final:g} must cover at least 2 flow periods "
                             f"(2π/omega = {float(period[b]):.4g}) for {problem.label(b)}")
    n_per = torch.maximum(n_per, torch.full_like(n_per, 4.0))
    half_periods = torch.floor(window * n_per / 2).clamp_min(1)
    return Schedule(period / per, (n_per * per).long(), (2 * half_periods * per).long())


def _broadcast(**values: Any) -> dict[str, np.ndarray]:
    arrays = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in values.items()}
    for k, v in arrays.items():
        if v.ndim != 1:
            raise ValueError(f"{k} must be a number or a 1-D sequence, got shape {v.shape}")
        validate.non_empty(k, v)
        validate.finite_array(k, v)
    n = max(len(v) for v in arrays.values())
    for k, v in arrays.items():
        if len(v) not in (1, n):
            raise ValueError(f"{k} has {len(v)} values but other parameters have {n}; "
                             "give scalars or sequences of one common length")
    return {k: np.broadcast_to(v, (n,)).copy() for k, v in arrays.items()}


def flame_speed(model: str = "inviscid", flow: str = "cellular", amplitude: Any = 1.0, *,
                d: Any = 0.1, omega: Any = 1.0, B: Any = 1.0, s_l: float = 1.0,
                direction: tuple[float, float] = (1.0, 0.0), grid: int = 64,
                t_final: float | None = None, crossings: float = 8.0, max_crossings: float = 32.0,
                dt: float | None = None,
                cfl: float = 0.5, scheme: str = "lax-friedrichs", diffusion: str = "implicit",
                window: float = 0.5, rtol: float = 0.01, profile: str | None = None,
                reinit: float | None = None, n_frames: int = 9, frame_grid: int = 64,
                n_samples: int = 201, dtype: str | torch.dtype | None = None, device: Any = None,
                method: str = "auto", compile: bool | str = "auto", on_blowup: str = "raise", dim: str = "run") -> xr.Dataset:
    """Turbulent flame speed ``s_T`` of a G-equation model in a periodic flow.

    Parameters
    ----------
    model : ``inviscid``, ``viscous``, ``curvature``, ``strain`` or ``curvature-strain``.
    flow : ``cellular``, ``shear``, ``oscillating`` or ``modulated`` (:mod:`.flows`).
    amplitude, d, omega, B : flow amplitude A ≥ 0, model coefficient d ≥ 0
        (diffusivity / Markstein length), flow frequency ω > 0 and oscillation
        B of the time-periodic flows. Scalars or 1-D sequences of one length:
        a sequence is a batch, computed at once on one device.
    s_l : laminar speed > 0. direction : the mean front normal P (normalised).
    grid : N, the cell is sampled at N×N points.
    t_final : horizon (default: ``crossings`` cell-crossing times
        ``2π/(s_l + max|V|)``, at least 4 flow periods for time-periodic flows).
    max_crossings : without ``t_final``, elements that have not converged to ``rtol`` are
        run again with twice the crossings, up to this many (``crossings`` turns it off):
        the estimate's drift falls like 1/horizon for a front that oscillates as it crosses cells.
    dt : time step (default: the CFL limit; a larger one is refused).
    cfl, scheme, diffusion : CFL number in (0, 1]; ``lax-friedrichs`` or
        ``godunov`` (convex models only); ``implicit`` (FFT) or ``explicit`` dΔu.
    window : late fraction of the run used by the estimator; rtol: convergence test.
    profile : shear profile f(y) as an expression (``flow='shear'`` only).
    reinit : reinitialise an element when max|∇G| exceeds this (None: never).
    n_frames, frame_grid : front snapshots kept (evenly in time, the last at t_final)
        and their resolution. n_samples : points of the ⟨u⟩(t) history kept.
    on_blowup : ``raise`` a :class:`BlowUpError` naming the parameters, or
        ``record`` it in the ``error`` variable (NaN speeds) and go on.
    method : ``auto`` (the fused numba kernel on the CPU, torch elsewhere), ``numba``
        (CPU only) or ``torch``.
    compile : for the torch step: ``torch.compile`` it (True/False); ``auto`` does when the
        run has more than ``COMPILE_ABOVE`` point-steps, where the one-off compilation pays;
        ``reduce-overhead`` compiles and replays each step as a CUDA graph (GPU: no per-kernel
        launch cost, which dominates small grids).
    dim : name of the batch dimension (``run``; the sweep uses ``point``).

    Returns
    -------
    Dataset with ``s_T``, ``s_T_error``, ``converged``, ``s_T_identity``,
    ``mean_u``/``time`` (history), ``front`` (G − P·x snapshots with
    ``frame_time``), ``dt``, ``t_final``, ``n_steps``, ``error``; the batch
    dimension is dropped when every parameter was a scalar.
    """
    mdl = get_model(model)
    flw = get_flow(flow, profile)
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
    scalar = all(np.ndim(v) == 0 for v in (amplitude, d, omega, B))
    params = _broadcast(A=amplitude, d=d, omega=omega, B=B)
    for k, v in params.items():
        lo = {"A": 0.0, "d": 0.0, "omega": 0.0, "B": None}[k]
        for value in v:
            validate.number({"A": "amplitude"}.get(k, k), value, lo=lo,
                            lo_open=(k == "omega" and flw.time_periodic))
    dev = runtime.resolve_device(device)
    dtp = runtime.resolve_dtype(dtype)
    nb = len(params["A"])
    itemsize = torch.finfo(dtp).bits // 8
    validate.memory_fits("grid² × batch", BYTES_PER_POINT * itemsize * nb * n * n, dev)

    as_t = lambda v: torch.as_tensor(v, dtype=torch.float64, device=dev)  # noqa: E731
    problem = Problem(mdl, flw, Grid(n, dtp, dev), P, s_l, as_t(params["A"]), as_t(params["d"]),
                      as_t(params["omega"]), as_t(params["B"]), scheme, diffusion)
    call = dict(model=model, flow=flow, amplitude=params["A"], d=params["d"], omega=params["omega"],
                B=params["B"], s_l=s_l, direction=P, grid=n, t_final=t_final, crossings=crossings,
                max_crossings=max_crossings, dt=dt, cfl=cfl, scheme=scheme, diffusion=diffusion, window=window, rtol=rtol,
                profile=getattr(flw, "profile", None), reinit=reinit, dtype=str(dtp).replace("torch.", ""))
    validate.choice("compile", compile, COMPILE_CHOICES)
    use_numba = runtime.uses_numba(method, dev)
    call["method"] = "numba" if use_numba else "torch"

    def run(prob: Problem, crossings: float) -> xr.Dataset:
        sched = schedule(prob, t_final=t_final, crossings=crossings, dt=dt, cfl=cfl, window=window)
        work = len(prob.A) * n * n * int(sched.n_steps.max())
        budget.fits("t_final", 16 * len(prob.A) * (int(sched.n_steps.max()) + 1), work, budget.GEQUATION_RATE, dev)
        wanted = compile in (True, "reduce-overhead") or (compile == "auto" and work > COMPILE_ABOVE)
        mode = None
        if wanted and not use_numba:
            mode = "reduce-overhead" if compile == "reduce-overhead" else "default"
        with results.timer() as clock:
            out = integrate(prob, sched, reinit=reinit, n_frames=n_frames, frame_grid=frame_grid,
                            compile_mode=mode, fused=use_numba)
        errors = out["error"]
        if on_blowup == "raise" and any(errors):
            raise BlowUpError("; ".join(e for e in errors if e))
        est = estimate_speed(out["history"], sched.n_steps, sched.window_steps, sched.dt, s_l, rtol,
                             float(torch.finfo(dtp).eps))
        return _to_dataset(prob, sched, out, est, n_samples, call, clock["elapsed"], dim, dev)

    ds = run(problem, crossings)
    while t_final is None and crossings < max_crossings:
        todo = np.flatnonzero((ds.converged.values == 0) & (ds.error.values == ""))
        if not len(todo):
            break
        crossings = min(2 * crossings, max_crossings)
        pick = torch.as_tensor(todo, device=dev)
        longer = run(replace(problem, A=problem.A[pick], d=problem.d[pick], omega=problem.omega[pick],
                             B=problem.B[pick]), crossings)
        ds = _replace_points(ds, longer, todo, dim)
    return ds.isel({dim: 0}) if scalar else ds


def _replace_points(ds: xr.Dataset, part: xr.Dataset, index: np.ndarray, dim: str) -> xr.Dataset:
    """``ds`` with the points ``index`` along ``dim`` taken from ``part`` (same variables)."""
    ds = ds.copy(deep=True)
    for name, var in part.data_vars.items():
        if dim not in var.dims:
            continue
        if var.dtype.kind == "U":  # fixed-width strings: rebuild, a longer message must not be cut
            values = ds[name].values.astype(object)
            values[index] = var.values
            ds[name] = (ds[name].dims, values.astype(str), ds[name].attrs)
        else:
            ds[name][{dim: index}] = var.values
    ds.attrs["elapsed_s"] = ds.attrs.get("elapsed_s", 0.0) + part.attrs.get("elapsed_s", 0.0)
    return ds


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


def compiled(step, mode: str = "default", dynamic: bool | None = None):
    """``torch.compile(step, mode=mode)``. Under ``reduce-overhead`` (one CUDA graph per call) each
    call first marks a new iteration (:func:`torch.compiler.cudagraph_mark_step_begin`), so the
    graph may reuse its output buffers: the caller consumes a step's output before the next call."""
    step = torch.compile(step, mode=mode, dynamic=dynamic)
    if mode != "reduce-overhead":
        return step

    def marked(u: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        torch.compiler.cudagraph_mark_step_begin()
        return step(u, t)

    return marked


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
    steady = problem.flow.period(problem.omega) is None
    field0 = problem.field(torch.zeros(nb, dtype=torch.float64, device=dev)) if steady else None
    heat = (heat_factor(grid, (problem.d * dt / 2).to(dtp)) if problem.implicit_viscous else None)
    step = make_step(problem, field0, dt, heat, fused=fused)
    if compile_mode is not None:
        step = compiled(step, compile_mode)
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


def _to_dataset(problem: Problem, sched: Schedule, out: dict[str, Any], est, n_samples: int,
                call: dict[str, Any], elapsed: float, dim: str, dev) -> xr.Dataset:
    nb = len(problem.A)
    n = sched.n_steps
    failed = out["failed"]
    nan = torch.full((nb,), float("nan"), dtype=torch.float64, device=dev)
    s_t = torch.where(failed, nan, est.s_T)
    err = torch.where(failed, nan, est.error)
    # window average of the identity rate, per element
    id_k = torch.arange(out["identity"].shape[1], device=dev) * out["id_every"]
    inside = (id_k[None, :] >= (n - sched.window_steps)[:, None]) & (id_k[None, :] <= n[:, None])
    ident = torch.nan_to_num(out["identity"]) * inside
    s_id = ident.sum(1) / inside.sum(1).clamp_min(1)
    if problem.model.curvature:
        s_id = nan
    s_id = torch.where(failed | (inside.sum(1) == 0), nan, s_id)
    # history resampled on n_samples points per element
    j = torch.arange(n_samples, device=dev, dtype=torch.float64)
    idx = torch.round(j[None, :] * n[:, None].double() / (n_samples - 1)).long()
    mean_u = out["history"].gather(1, idx)
    time = idx * sched.dt[:, None]
    mean_u = torch.where(failed[:, None], torch.full_like(mean_u, float("nan")), mean_u)
    grid = problem.grid
    xs = np.arange(0, grid.n, out["stride"]) * grid.h
    unit = {"units": "1"}
    speed = {"units": "s_l units (length/time)"}
    data = {
        "s_T": ((dim,), s_t, {"long_name": "turbulent flame speed s_T", **speed}),
        "s_T_error": ((dim,), err, {"long_name": "uncertainty of s_T (slope drift over the window)", **speed}),
        "converged": ((dim,), (est.converged & ~failed).to(torch.int8),
                      {"long_name": "s_T_error <= rtol·max(s_T, s_l)", **unit}),
        "s_T_identity": ((dim,), s_id, {"long_name": "window mean of <V·q + s_l|q| (+strain)>", **speed}),
        "fit_intercept": ((dim,), est.intercept, {"long_name": "c in <u> ≈ c − s_T t", "units": "length"}),
        "mean_u": ((dim, "sample"), mean_u, {"long_name": "spatial mean <u>", "units": "length"}),
        "time": ((dim, "sample"), time, {"long_name": "time t", "units": "time"}),
        "front": ((dim, "frame", "y", "x"), out["frames"],
                  {"long_name": "u = G − P·x (front: G = 0)", "units": "length"}),
        "frame_time": ((dim, "frame"), out["frame_time"], {"long_name": "time of the front snapshot", "units": "time"}),
        "dt": ((dim,), sched.dt, {"long_name": "time step", "units": "time"}),
        "t_final": ((dim,), n * sched.dt, {"long_name": "final time", "units": "time"}),
        "n_steps": ((dim,), n, {"long_name": "time steps", **unit}),
        "reinit_count": ((dim,), out["reinit_count"], {"long_name": "reinitialisations", **unit}),
        "error": ((dim,), np.array(out["error"], dtype=str), {"long_name": "blow-up report ('' when fine)"}),
    }
    coords = {
        "A": ((dim,), problem.A, {"long_name": "flow amplitude A", "units": "s_l units"}),
        "d": ((dim,), problem.d, {"long_name": "model coefficient d", "units": "length"}),
        "omega": ((dim,), problem.omega, {"long_name": "flow frequency ω", "units": "1/time"}),
        "B": ((dim,), problem.B, {"long_name": "oscillation B", "units": "1"}),
        "x": (("x",), xs, {"long_name": "x", "units": "length"}),
        "y": (("y",), xs, {"long_name": "y", "units": "length"}),
    }
    ds = results.dataset(data, coords, params=call, kind="gequation.flame_speed", device=dev,
                         elapsed=elapsed, model=problem.model.name, flow=problem.flow.describe(),
                         grid=grid.n, direction=list(problem.P), s_l=problem.s_l)
    return ds


__all__ = ["BlowUpError", "FLOWS", "MODELS", "Problem", "flame_speed", "integrate", "schedule"]
