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

from typing import Any

import torch
import xarray as xr

from .. import budget, results
from .diagnostics import diagnose
from .estimator import estimate_speed
from .flows import FLOWS
from .horizon import Schedule, schedule
from .integration import BlowUpError, identity_rate, integrate, make_step, rhs
from .models import MODELS
from .problem import BYTES_PER_POINT, COMPILE_CHOICES, DIFFUSION, Problem, prepare
from .realisations import expand, realisation_mean
from .rerun import until_converged
from .speed_dataset import speed_dataset

COMPILE_ABOVE = 5e7  # point-steps: about a minute of eager CPU time, against ~20-40 s to compile


def flame_speed(model: str = "inviscid", flow: str = "cellular", A: Any = 1.0, *,
                d: Any = 0.1, omega: Any = 1.0, B: Any = 1.0, s_l: float = 1.0,
                direction: tuple[float, float] = (1.0, 0.0), grid: int = 64,
                t_final: float | None = None, crossings: float = 8.0, max_crossings: float = 32.0,
                dt: float | None = None,
                cfl: float = 0.5, scheme: str = "lax-friedrichs", diffusion: str = "implicit",
                window: float = 0.5, rtol: float = 0.01, profile: str | None = None,
                reinit: float | None = None, n_frames: int = 9, frame_grid: int = 64,
                n_samples: int = 201, dtype: str | torch.dtype | None = None, device: Any = None,
                method: str = "auto", compile: bool | str = "auto", on_blowup: str = "raise", dim: str = "run",
                resolution_check: bool = True, realisations: int | None = None, seed: int = 0) -> xr.Dataset:
    """Turbulent flame speed ``s_T`` of a G-equation model in a periodic flow.

    Parameters
    ----------
    model : ``inviscid``, ``viscous``, ``curvature``, ``strain`` or ``curvature-strain``.
    flow : ``cellular``, ``shear``, ``oscillating``, ``modulated`` or ``stochastic`` (:mod:`.flows`).
    A, d, omega, B : flow amplitude A ≥ 0, model coefficient d ≥ 0
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
    resolution_check : also run on the grid half as fine (about 1/8 of the cost) for the
        resolution diagnostic, and flag points outside their proven bounds (:mod:`.diagnostics`).
    realisations, seed : ``flow='stochastic'`` only: independent realisations of the phase θ
        per point (2 to 1024, default 16), run as one batch, and the seed of their paths.
        s_T is the realisation mean, with ``s_T_spread``, ``s_T_sem`` and ``s_T_realisation``
        (:mod:`.realisations`).

    Returns
    -------
    Dataset with ``s_T``, ``s_T_error``, ``converged``, ``s_T_identity``,
    ``mean_u``/``time`` (history), ``front`` (G − P·x snapshots with
    ``frame_time``), ``dt``, ``t_final``, ``n_steps``, ``error``, ``s_T_horizon_bias``
    and (with ``resolution_check``) ``s_T_coarse``, ``s_T_resolution``, ``flag`` and
    ``suggested_grid``; the batch
    dimension is dropped when every parameter was a scalar.
    """
    arguments = dict(locals())
    setup = prepare(model, flow, A, d=d, omega=omega, B=B, s_l=s_l, direction=direction, grid=grid,
                    t_final=t_final, crossings=crossings, max_crossings=max_crossings, dt=dt, cfl=cfl,
                    scheme=scheme, diffusion=diffusion, window=window, rtol=rtol, profile=profile,
                    reinit=reinit, n_frames=n_frames, frame_grid=frame_grid, n_samples=n_samples,
                    dtype=dtype, device=device, method=method, compile=compile, on_blowup=on_blowup,
                    realisations=realisations, seed=seed)
    opt, call = setup.settings, setup.call
    n, dtp, dev = setup.problem.grid.n, setup.problem.grid.dtype, setup.problem.grid.device

    def run(prob: Problem, crossings: float) -> xr.Dataset:
        sched = schedule(prob, t_final=opt.t_final, crossings=crossings, dt=opt.dt, cfl=opt.cfl,
                         window=opt.window)
        if prob.flow.random:  # points × realisations, each with its phase path
            prob, sched = expand(prob, sched)
        work = len(prob.A) * n * n * int(sched.n_steps.max())
        budget.fits("t_final", 16 * len(prob.A) * (int(sched.n_steps.max()) + 1), work, budget.GEQUATION_RATE, dev)
        wanted = opt.compile in (True, "reduce-overhead") or (opt.compile == "auto" and work > COMPILE_ABOVE)
        mode = None
        if wanted and not opt.use_numba:
            mode = "reduce-overhead" if opt.compile == "reduce-overhead" else "default"
        with results.timer() as clock:
            out = integrate(prob, sched, reinit=opt.reinit, n_frames=opt.n_frames, frame_grid=opt.frame_grid,
                            compile_mode=mode, fused=opt.use_numba)
        errors = out["error"]
        if opt.on_blowup == "raise" and any(errors):
            raise BlowUpError("; ".join(e for e in errors if e))
        eps = float(torch.finfo(dtp).eps)
        est = estimate_speed(out["history"], sched.n_steps, sched.window_steps, sched.dt, prob.s_l, opt.rtol, eps)
        ds = speed_dataset(prob, sched, out, est, opt.n_samples, call, clock["elapsed"], dim, dev)
        if not prob.flow.random:
            return ds
        R = prob.flow.realisations  # the horizon bias of the mean, from the realisations' mean <u>(t)
        mean = estimate_speed(out["history"].reshape(-1, R, out["history"].shape[1]).mean(1), sched.n_steps[::R],
                              sched.window_steps[::R], sched.dt[::R], prob.s_l, opt.rtol, eps)
        return realisation_mean(ds, prob, mean.horizon_bias, dim=dim, rtol=opt.rtol, eps=eps)

    if opt.t_final is None:
        ds = until_converged(run, setup.problem, opt.crossings, opt.max_crossings, dim)
    else:
        ds = run(setup.problem, opt.crossings)
    coarse = None
    if resolution_check and n // 2 >= 8:
        coarse = flame_speed(**{**arguments, "A": setup.problem.A.cpu().numpy(), "d": setup.problem.d.cpu().numpy(),
                                "omega": setup.problem.omega.cpu().numpy(), "B": setup.problem.B.cpu().numpy(),
                                "grid": n // 2, "n_frames": 1, "frame_grid": 4, "n_samples": 3,
                                "on_blowup": "record", "resolution_check": False, "compile": False})
    if resolution_check:
        ds = diagnose(ds, coarse, model=setup.problem.model.name, s_l=setup.problem.s_l,
                      max_speed=setup.problem.max_speed().cpu().numpy(), grid=n, dim=dim)
    return ds.isel({dim: 0}) if setup.scalar else ds


__all__ = ["BYTES_PER_POINT", "BlowUpError", "COMPILE_CHOICES", "DIFFUSION", "FLOWS", "MODELS", "Problem",
           "Schedule", "flame_speed", "identity_rate", "integrate", "make_step", "rhs", "schedule"]
