"""Effective diffusivity of particles in periodic flows (Wang, Xin & Zhang 2018).

Particles solve ``dX = V(X, t) dt + √(2D₀) dW`` in the plane (positions are
not wrapped; V is 2π-periodic), started uniformly on the cell [0, 2π)², and

    D_eff,i = lim_{t→∞} E[(X_i(t) − X_i(0))²] / (2t)     (i = x, y).

Estimator. The particles are split into R independent batches (for the
stochastic flow each batch has its own phase path θ, so the spread includes
the flow's randomness). For batch r the mean-square displacement M_r(t) gives
the secant slope over the late window ``[t_s, t_e] = [(1 − w) T, T]``:

    D_r = (M_r(t_e) − M_r(t_s)) / (2 (t_e − t_s)),

which removes the constant offset a transient leaves in M. ``D_eff`` is the
mean of D_r, ``D_eff_error = t_{0.975, R−1} · std(D_r)/√R`` (a 95% interval
for the statistical error). Convergence: the same secants over the window's
two halves, ``drift = D_second − D_first``; ``converged`` says the drift is
not significant at 95% (|mean drift| ≤ t · its standard error). A
significant drift means the horizon is still in the transient.

Closed form (the shear flow V = (A sin y, 0), for the tests). Y is a Brownian
motion, so D_yy = D₀. ``X(t) − X(0) = A ∫₀ᵗ sin Y(s) ds + √(2D₀) W_x(t)`` with
Y(0) uniform, hence stationary; ``C(τ) = E sin Y(s) sin Y(s+τ) = ½ E cos(Y(s+τ) − Y(s))
= ½ e^{−D₀τ}`` and

    E(X(t) − X(0))² = 2D₀t + 2A² ∫₀ᵗ (t − τ) C(τ) dτ = 2D₀t + A² [t/D₀ − (1 − e^{−D₀t})/D₀²],

so ``D_xx = D₀ + A²/(2D₀)`` and the secant over [t_s, t_e] is biased by
``−A² (e^{−D₀t_s} − e^{−D₀t_e}) / (2D₀²(t_e − t_s))``, negligible once D₀t_s ≫ 1.

Particle count. For pure molecular diffusion (A = 0) the secant of N
particles has relative standard error ``√((2 + 4(1 − w)/w)/N)`` (with
a = X(t_s) − X(0), b = X(t_e) − X(t_s) independent Gaussians,
Var(b² + 2ab)/E(b²)² = 2 + 4 Var a/Var b); a requested relative error
``rtol`` (95%) below 1.96 times that is refused before anything is allocated.

A batch of points (amplitudes A, D₀, B, ω) shares one time step and the same
random numbers (common random numbers): it equals its points computed one by
one with that time step.

Engines. On the CPU in float32 the steps run in the fused kernel of
:mod:`.fused_particles` (its own counter-based normals); elsewhere (CUDA,
float64) in torch, one operation at a time (:func:`particle_steps`). Both
integrate the same flow with the same scheme; their random numbers differ, so
their D_eff agree within the statistical error. ``engine`` in the result says
which ran.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np
import torch
import xarray as xr
from scipy import stats

from .. import results, runtime, validate
from . import fused_particles
from .parameters import broadcast
from .particle_flows import PARTICLE_FLOWS, ParticleFlow, get_particle_flow
from .random_phase import ou_phase_step
from .sde import INTEGRATORS, sde_step

DIRECTIONS = ("x", "y")
MAX_PARTICLES = 10**8
MAX_STEPS = 10**7
BYTES_PER_PARTICLE = 8  # x, y, x0, y0, noise and temporaries, in units of the dtype size
DEFAULT_DT = 0.05
FUSED_CHUNK = 256  # steps per call of the fused kernel at most (its per-step flow tables stay small)
ENGINES = ("auto", "fused", "torch")


def brownian_relative_error(particles: int, window: float) -> float:
    """Relative standard error of the MSD secant for pure Brownian motion (module docstring)."""
    return math.sqrt((2 + 4 * (1 - window) / window) / particles)


def stability_limit(flow: ParticleFlow, A: torch.Tensor, B: torch.Tensor, omega: torch.Tensor) -> float:
    """Largest time step allowed: ``1 / max(L, ω)`` over the batch (inf for a zero flow).

    L bounds ‖∇V‖: beyond h·L = 1 explicit Euler amplifies a rotation by more
    than √2 per step, and no scheme resolves the flow's fastest rate."""
    rate = float(flow.rate(A, B, omega).max())
    return math.inf if rate == 0 else 1.0 / rate


class ParticleRun(NamedTuple):
    """A validated particle computation: the flow, the batched parameters (arrays and (P, 1, 1)
    tensors), the step and the layout of the particles."""

    flow: ParticleFlow
    params: dict[str, np.ndarray]
    A: torch.Tensor
    d0: torch.Tensor
    B: torch.Tensor
    omega: torch.Tensor
    integrator: str
    batches: int
    per_batch: int
    dt: float
    n_steps: int
    seed: int
    dtype: torch.dtype
    device: torch.device


def prepare_particles(flow: str, A: Any, d0: Any, *, B: Any, omega: Any, integrator: str, particles: int,
                      batches: int, t_final: float, dt: float | None, window: float, rtol: float | None,
                      seed: int, dtype: Any, device: Any) -> ParticleRun:
    """Check every argument of a particle computation (see :func:`effective_diffusivity`) before any
    particle is allocated: one-line errors naming the parameter and its range."""
    flw = get_particle_flow(flow)
    validate.choice("integrator", integrator, INTEGRATORS)
    params = broadcast(A=A, d0=d0, B=B, omega=omega)
    for value in params["A"]:
        validate.number("A", value, lo=0.0)
    for value in params["d0"]:
        validate.positive("d0", value)
    for value in params["B"]:
        validate.number("B", value, lo=-100.0, hi=100.0)
    for value in params["omega"]:
        validate.number("omega", value, lo=0.0, hi=1e4, lo_open=True)
    batches = validate.integer("batches", batches, lo=2, hi=1024)
    particles = validate.integer("particles", particles, lo=2 * batches, hi=MAX_PARTICLES)
    per_batch = particles // batches
    t_final = validate.number("t_final", t_final, lo=0.0, hi=1e6, lo_open=True)
    window = validate.number("window", window, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    seed = validate.integer("seed", seed, lo=0, hi=2**63 - 1)
    if rtol is not None:
        rtol = validate.positive("rtol", rtol)
        floor = 1.96 * brownian_relative_error(per_batch * batches, window)
        if floor > rtol:
            need = math.ceil((1.96 / rtol) ** 2 * (2 + 4 * (1 - window) / window))
            raise ValueError(f"particles={particles} is too few for rtol={rtol:g}: molecular diffusion alone "
                             f"gives a relative 95% error of {floor:.3g}; use particles >= {need}")
    dev = runtime.resolve_device(device)
    dtp = runtime.resolve_dtype(dtype)
    as_t = lambda v: torch.as_tensor(v, dtype=dtp, device=dev).reshape(-1, 1, 1)  # noqa: E731
    At, D0, Bt, om = (as_t(params[k]) for k in ("A", "d0", "B", "omega"))
    limit = stability_limit(flw, At, Bt, om)
    if dt is None:
        dt = min(DEFAULT_DT, 0.25 * limit)
    dt = validate.positive("dt", dt)
    if dt > limit * (1 + 1e-12):
        raise ValueError(f"dt={dt:g} exceeds the stability limit {limit:.4g} = 1/max(L, omega) of the "
                         f"{flow} flow at A = {float(At.max()):g}; use dt <= {limit:.4g}")
    n_steps = max(2, round(t_final / dt))
    if n_steps > MAX_STEPS:
        raise ValueError(f"t_final/dt = {n_steps} steps exceeds {MAX_STEPS}; raise dt or lower t_final")
    n_points = len(params["A"])
    itemsize = torch.finfo(dtp).bits // 8
    validate.memory_fits("particles × points", BYTES_PER_PARTICLE * itemsize * n_points * particles, dev)

    return ParticleRun(flw, params, At, D0, Bt, om, integrator, batches, per_batch, dt, n_steps, seed, dtp, dev)


def effective_diffusivity(flow: str = "cellular", A: Any = 1.0, d0: Any = 0.1, *,
                          B: Any = 1.0, omega: Any = 1.0, integrator: str = "splitting",
                          particles: int = 20_000, batches: int = 10, t_final: float = 100.0,
                          dt: float | None = None, window: float = 0.5, rtol: float | None = None,
                          n_samples: int = 101, seed: int = 0, dtype: str | torch.dtype | None = None,
                          device: Any = None, dim: str = "run", engine: str = "auto") -> xr.Dataset:
    """D_eff per direction of particles in ``flow`` (see the module docstring).

    Parameters
    ----------
    flow : ``shear``, ``cellular``, ``oscillating``, ``stochastic`` or ``chaotic`` (:mod:`.particle_flows`).
    A, d0, B, omega : flow amplitude A ≥ 0, molecular diffusivity D₀ > 0, oscillation B
        and frequency ω > 0 of the time-dependent flows; scalars or 1-D sequences of one length
        (a sequence is a batch, computed at once).
    integrator : ``splitting`` (Wang–Xin–Zhang, structure preserving) or ``euler`` (Euler–Maruyama).
    dtype : of the positions (default float32, :func:`workbench.runtime.resolve_dtype`); the
        displacements' squares are averaged in float64.
    particles, batches : particles in all, split into ``batches`` independent batches (≥ 2).
    t_final, dt : horizon and time step (default ``min(0.05, 0.25 / max(L, ω))``; a step above
        :func:`stability_limit` is refused).
    window : late fraction of the horizon used by the estimator. rtol : requested relative
        95% error; too few particles for it is refused. n_samples : MSD samples kept.
    engine : ``auto`` (the fused kernel on the CPU in float32, torch otherwise), ``fused`` or
        ``torch`` (module docstring).
    """
    run = prepare_particles(flow, A, d0, B=B, omega=omega, integrator=integrator, particles=particles,
                            batches=batches, t_final=t_final, dt=dt, window=window, rtol=rtol, seed=seed,
                            dtype=dtype, device=device)
    n_samples = validate.integer("n_samples", n_samples, lo=3, hi=10_001)
    fused = uses_fused(run, engine)
    flw, params, dt, n_steps, dev = run.flow, run.params, run.dt, run.n_steps, run.device
    call = dict(flow=flow, A=params["A"], d0=params["d0"], B=params["B"], omega=params["omega"],
                integrator=integrator, particles=particles, batches=batches, t_final=t_final, dt=dt,
                window=window, rtol=rtol, n_samples=n_samples, seed=seed, engine=engine)
    with results.timer() as clock:
        msd, times = (_run_fused if fused else _run)(run, n_samples)
    est = _estimate(msd, times, window)
    ds = _to_dataset(est, msd, times, params, call, dim, dev, clock["elapsed"], seed, n_steps * dt)
    ds.attrs["engine"] = "fused" if fused else "torch"
    scalar = all(np.ndim(v) == 0 for v in (A, d0, B, omega))
    return ds.isel({dim: 0}) if scalar else ds


def uses_fused(run: ParticleRun, engine: str = "auto") -> bool:
    """Whether ``run`` goes through the fused CPU kernel (``engine`` auto: on the CPU in float32)."""
    validate.choice("engine", engine, ENGINES)
    fits = run.device.type == "cpu" and run.dtype == torch.float32
    if engine == "fused" and not fits:
        raise ValueError(f"engine='fused' runs on the CPU in float32, not {run.device.type} {run.dtype}; "
                         "use engine='torch' or 'auto'")
    return fits if engine == "auto" else engine == "fused"


def start(run: ParticleRun, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Start positions ``(x0, y0)`` (batches, per_batch), uniform on the cell, and the stochastic flow's
    stationary phase θ (points, batches, 1) (None for other flows), drawn from ``gen``."""
    shape, dtype, dev = (run.batches, run.per_batch), run.dtype, run.device
    x0 = torch.rand(shape, generator=gen, dtype=dtype, device=dev) * (2 * math.pi)
    y0 = torch.rand(shape, generator=gen, dtype=dtype, device=dev) * (2 * math.pi)
    theta = None
    if run.flow.stochastic:
        xi = torch.randn(run.batches, 1, generator=gen, dtype=dtype, device=dev)
        theta = (run.B.abs() / math.sqrt(2)) * xi
    return x0, y0, theta


def next_phase(run: ParticleRun, theta: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """The stochastic flow's phase θ one step later (an exact OU step, one normal per batch from ``gen``)."""
    xi = torch.randn(run.batches, 1, generator=gen, dtype=run.dtype, device=run.device)
    return ou_phase_step(theta, run.dt, run.B, run.omega, xi)


def check_finite(run: ParticleRun, x: torch.Tensor, y: torch.Tensor, k: int) -> None:
    """Raise ``FloatingPointError`` (naming the step to lower) if a position is not finite after step k."""
    if not bool(torch.isfinite(x).all() and torch.isfinite(y).all()):
        raise FloatingPointError(f"particles left the finite numbers at t={k * run.dt:.4g} "
                                 f"({run.integrator}, {run.flow.name} flow); lower dt")


def particle_steps(run: ParticleRun) -> Iterator[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor | None]]:
    """Integrate ``run``: yields ``(k, x, y, θ)`` after every step k = 0..n_steps (k = 0: the start).

    Positions have shape (points, batches, per_batch), start uniformly on the cell (the same
    for every point) and are not wrapped; θ (points, batches, 1) is the stochastic flow's phase
    (None otherwise), one stationary path per (point, batch), common normals across points."""
    flow, A, B, omega, dt, dtype, dev = run.flow, run.A, run.B, run.omega, run.dt, run.dtype, run.device
    gen = runtime.generator(run.seed, dev)
    shape = (run.batches, run.per_batch)
    x0, y0, theta = start(run, gen)
    P = A.shape[0]
    x, y = x0.expand(P, *shape).clone(), y0.expand(P, *shape).clone()
    kick = torch.sqrt(2 * run.d0 * dt)
    yield 0, x, y, theta
    for k in range(1, run.n_steps + 1):
        xi = torch.randn((2, *shape), generator=gen, dtype=dtype, device=dev)
        x, y = sde_step(run.integrator, flow, x, y, (k - 1) * dt, dt, A, B, omega, theta, kick, xi[0], xi[1])
        if theta is not None:
            theta = next_phase(run, theta, gen)
        if k % 200 == 0:
            check_finite(run, x, y, k)
        yield k, x, y, theta


def sample_steps(n_steps: int, n_samples: int) -> np.ndarray:
    """The steps at which ``n_samples`` evenly spaced samples of a run fall (0 and n_steps included)."""
    return np.unique(np.round(np.linspace(0, n_steps, n_samples)).astype(int))


def _run(run: ParticleRun, n_samples: int) -> tuple[torch.Tensor, np.ndarray]:
    """Integrate; returns MSD (points, batches, samples, 2) per batch and the sample times."""
    steps = sample_steps(run.n_steps, n_samples)
    want = set(steps.tolist())
    msd = torch.zeros(run.A.shape[0], run.batches, len(steps), 2, dtype=torch.float64, device=run.device)
    j = 0
    for k, x, y, _theta in particle_steps(run):
        if k == 0:
            x0, y0 = x[0], y[0]
        if k in want:
            _record(msd, j, x - x0, y - y0)
            j += 1
    return msd, steps * run.dt


def _record(msd: torch.Tensor, j: int, dx: torch.Tensor, dy: torch.Tensor) -> None:
    """Sample j of the MSD per (point, batch), averaged in float64."""
    msd[:, :, j, 0] = (dx ** 2).mean(-1, dtype=torch.float64)
    msd[:, :, j, 1] = (dy ** 2).mean(-1, dtype=torch.float64)


def _run_fused(run: ParticleRun, n_samples: int) -> tuple[torch.Tensor, np.ndarray]:
    """:func:`_run` through the fused CPU kernel: chunks of steps between samples (at most
    :data:`FUSED_CHUNK`), the flow's coefficients tabulated per step (θ advanced in torch as in
    :func:`particle_steps`), the normals the kernel's own (module docstring)."""
    flow, dt = run.flow, run.dt
    steps = sample_steps(run.n_steps, n_samples)
    gen = runtime.generator(run.seed, run.device)
    x0, y0, theta = start(run, gen)
    P = run.A.shape[0]
    x = x0.expand(P, *x0.shape).numpy().copy()  # a copy of its own: the kernel moves it in place
    y = y0.expand(P, *y0.shape).numpy().copy()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)  # torch views of the moving positions
    kick = torch.sqrt(2 * run.d0 * dt).reshape(P).numpy()
    msd = torch.zeros(P, run.batches, len(steps), 2, dtype=torch.float64)
    done = 0
    for j, target in enumerate(steps):
        while done < target:
            K = min(FUSED_CHUNK, target - done)
            thetas = None
            if theta is not None:
                path = []
                for _ in range(K):
                    path.append(theta)
                    theta = next_phase(run, theta, gen)
                thetas = torch.stack(path)
            coef, phase, kx, ky = fused_particles.wave_tables(
                flow, fused_particles.step_times(run.integrator, done, K, dt), run.A, run.B, run.omega, thetas,
                run.batches)
            fused_particles.advance(x, y, done, coef, phase, kx, ky, run.integrator, dt, kick, run.seed)
            done += K
            check_finite(run, xt, yt, done)
        _record(msd, j, xt - x0, yt - y0)
    return msd, steps * dt


def _secant(msd: torch.Tensor, times: np.ndarray, i: int, j: int) -> torch.Tensor:
    return (msd[:, :, j] - msd[:, :, i]) / (2 * (times[j] - times[i]))


def _estimate(msd: torch.Tensor, times: np.ndarray, window: float) -> dict[str, np.ndarray]:
    """Per-batch secants over the window and its halves; mean, 95% error, drift test."""
    T = times[-1]
    e = len(times) - 1
    s = int(np.argmin(np.abs(times - (1 - window) * T)))
    s = min(s, e - 2)
    m = int(np.argmin(np.abs(times - 0.5 * (times[s] + T))))
    m = min(max(m, s + 1), e - 1)
    d = results.to_numpy(_secant(msd, times, s, e))  # (P, R, 2)
    d1 = results.to_numpy(_secant(msd, times, s, m))
    d2 = results.to_numpy(_secant(msd, times, m, e))
    R = d.shape[1]
    tq = float(stats.t.ppf(0.975, R - 1))
    mean = d.mean(1)
    err = tq * d.std(1, ddof=1) / math.sqrt(R)
    drift = (d2 - d1).mean(1)
    drift_err = tq * (d2 - d1).std(1, ddof=1) / math.sqrt(R)
    return dict(D_eff=mean, D_eff_error=err, D_batch=d, first=d1.mean(1), second=d2.mean(1),
                drift=drift, converged=np.abs(drift) <= drift_err, window=(times[s], T))


def _to_dataset(est: dict, msd: torch.Tensor, times: np.ndarray, params: dict[str, np.ndarray],
                call: dict, dim: str, dev, elapsed: float, seed: int, t_final: float) -> xr.Dataset:
    per = (dim, "direction")
    D = {"units": "length²/time"}
    data = {
        "D_eff": (per, est["D_eff"], {"long_name": "effective diffusivity D_eff", **D}),
        "D_eff_error": (per, est["D_eff_error"],
                        {"long_name": "95% statistical error of D_eff (independent batches)", **D}),
        "D_eff_batch": ((dim, "batch", "direction"), est["D_batch"],
                        {"long_name": "MSD secant slope / 2 of each batch", **D}),
        "D_eff_first_half": (per, est["first"], {"long_name": "D_eff over the window's first half", **D}),
        "D_eff_second_half": (per, est["second"], {"long_name": "D_eff over the window's second half", **D}),
        "converged": (per, est["converged"].astype(np.int8),
                      {"long_name": "no significant drift between the window's halves (95%)", "units": "1"}),
        "msd": ((dim, "sample", "direction"), msd.mean(1),
                {"long_name": "mean-square displacement E(X_i(t) − X_i(0))²", "units": "length²"}),
        "time": (("sample",), times, {"long_name": "time t", "units": "time"}),
    }
    coords = {
        "A": ((dim,), params["A"], {"long_name": "flow amplitude A", "units": "length/time"}),
        "d0": ((dim,), params["d0"], {"long_name": "molecular diffusivity D₀", **D}),
        "B": ((dim,), params["B"], {"long_name": "oscillation B", "units": "1"}),
        "omega": ((dim,), params["omega"], {"long_name": "flow frequency ω", "units": "1/time"}),
        "direction": (("direction",), list(DIRECTIONS), {"long_name": "direction of displacement"}),
    }
    return results.dataset(data, coords, params=call, kind="gequation.effective_diffusivity", device=dev,
                           elapsed=elapsed, seed=seed, flow=call["flow"], integrator=call["integrator"],
                           window_start=float(est["window"][0]), t_final=float(t_final),
                           dt=float(call["dt"]))


__all__ = ["INTEGRATORS", "PARTICLE_FLOWS", "brownian_relative_error", "effective_diffusivity",
           "stability_limit"]
