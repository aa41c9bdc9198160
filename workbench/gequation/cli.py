"""``workbench gequation speed|sweep|diffusivity``: flame speeds and effective diffusivities from the shell.

    workbench gequation speed --model inviscid --flow cellular --amplitude 4 --grid 64 --json
    workbench gequation speed --flow stochastic --amplitude 1.4 --realisations 16 --seed 0 --json
    workbench gequation sweep --model strain --flow cellular --amplitude 0.5:4:8 --d 1 --out s.nc
    workbench gequation diffusivity --flow shear --amplitude 1 --d0 1 --json
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from ..cliutil import add_common, emit, family_command, parse_range
from .flows import FLOWS
from .hamiltonians import SCHEMES
from .models import MODELS
from .particle_flows import PARTICLE_FLOWS
from .sde import INTEGRATORS

MAX_AXIS = 1024  # values per sweep axis (amplitudes, d, omega, B)


def _solver_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="inviscid", choices=list(MODELS), help="G-equation model")
    p.add_argument("--flow", default="cellular", choices=list(FLOWS), help="periodic flow")
    p.add_argument("--d", default="0.1", help="model coefficient d (diffusivity / Markstein length)")
    p.add_argument("--omega", default="1.0", help="frequency of the time-periodic flows")
    p.add_argument("--B", default="1.0", help="oscillation / modulation depth of the time-periodic flows")
    p.add_argument("--s-l", type=float, default=1.0, help="laminar flame speed (default 1)")
    p.add_argument("--direction", default="1,0", help="front normal P as 'px,py' (default 1,0)")
    p.add_argument("--grid", type=int, default=64, help="grid points per side (default 64)")
    p.add_argument("--t-final", type=float, default=None, help="horizon (default: --crossings cell crossings)")
    p.add_argument("--crossings", type=float, default=8.0, help="horizon in cell-crossing times (default 8)")
    p.add_argument("--max-crossings", type=float, default=None,
                   help="rerun unconverged points with doubled crossings up to this many "
                        "(default: 32, or --crossings when that is larger)")
    p.add_argument("--dt", type=float, default=None, help="time step (default: CFL limit)")
    p.add_argument("--cfl", type=float, default=0.5, help="CFL number (default 0.5)")
    p.add_argument("--scheme", default="lax-friedrichs", choices=list(SCHEMES))
    p.add_argument("--profile", default=None, help="shear profile f(y), e.g. 'sin(y)+0.5*cos(2*y)'")
    p.add_argument("--realisations", type=int, default=None,
                   help="stochastic flow: realisations of the random phase per point (2-1024, default 16)")
    p.add_argument("--dtype", default=None, choices=["float32", "float64"])
    p.add_argument("--method", default="auto", choices=["auto", "numba", "torch"],
                   help="time step: fused numba kernel (CPU) or torch (default auto: numba on the CPU)")
    p.add_argument("--compile", default="auto", choices=["auto", "yes", "no", "reduce-overhead"],
                   help="torch.compile the torch step (reduce-overhead: as CUDA graphs on a GPU)")


def _direction(text: str) -> tuple[float, float]:
    try:
        px, py = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"direction must be 'px,py', got {text!r}") from None
    return px, py


def _number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None


def _solver_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    max_crossings = max(32.0, args.crossings) if args.max_crossings is None else args.max_crossings
    return dict(s_l=args.s_l, direction=_direction(args.direction), grid=args.grid, t_final=args.t_final,
                crossings=args.crossings, max_crossings=max_crossings, dt=args.dt,
                cfl=args.cfl, scheme=args.scheme, profile=args.profile,
                dtype=args.dtype, device=args.device, method=args.method,
                compile={"yes": True, "no": False}.get(args.compile, args.compile),
                realisations=args.realisations, seed=args.seed)


def _speed(args: argparse.Namespace) -> int:
    from .solver import flame_speed

    ds = flame_speed(args.model, args.flow, args.amplitude, d=_number("d", args.d),
                     omega=_number("omega", args.omega), B=_number("B", args.B), **_solver_kwargs(args))
    summary = {"s_T": float(ds.s_T), "s_T_error": float(ds.s_T_error), "converged": bool(ds.converged),
               "s_T_identity": None if math.isnan(float(ds.s_T_identity)) else float(ds.s_T_identity),
               "model": args.model, "flow": args.flow, "amplitude": args.amplitude,
               "d": float(ds.d), "omega": float(ds.omega), "B": float(ds.B), "grid": args.grid,
               "t_final": float(ds.t_final), "dt": float(ds.dt), "n_steps": int(ds.n_steps),
               "s_T_horizon_bias": float(ds.s_T_horizon_bias), "s_T_resolution": _finite(ds, "s_T_resolution"),
               "flag": str(ds.flag.values) if "flag" in ds else "",
               "suggested_grid": int(ds.suggested_grid) if "suggested_grid" in ds else 0,
               "device": ds.attrs["device"], "elapsed_s": round(float(ds.attrs["elapsed_s"]), 3)}
    if "s_T_spread" in ds:
        summary.update(realisations=int(ds.attrs["realisations"]), seed=args.seed,
                       s_T_spread=float(ds.s_T_spread), s_T_sem=float(ds.s_T_sem))
    return emit(summary, args, ds)


def _finite(ds, name: str) -> float | None:
    value = float(ds[name]) if name in ds else float("nan")
    return value if math.isfinite(value) else None


def _axis(name: str, text: str) -> float | list[float]:
    values = parse_range(name, text, cap=MAX_AXIS)
    if not values:
        raise ValueError(f"{name} must not be empty")
    return values[0] if len(values) == 1 and ":" not in text and "," not in text else values


def _sweep(args: argparse.Namespace) -> int:
    from .sweep import quenching_amplitude, sweep

    A = parse_range("amplitude", args.amplitude, cap=MAX_AXIS)
    if not A:
        raise ValueError("amplitude must not be empty")
    ds = sweep(args.model, args.flow, A=A, d=_axis("d", args.d), omega=_axis("omega", args.omega),
               B=_axis("B", args.B), chunk_size=args.chunk_size, checkpoint=args.checkpoint,
               client=args.client, progress=not args.json, **_solver_kwargs(args))
    s = ds.s_T
    summary: dict[str, Any] = {"model": args.model, "flow": args.flow, "points": int(s.size),
                               "failed": int(((ds.failed != "") | (ds.error != "")).sum()),
                               "grid": args.grid, "amplitude": A}
    if s.ndim == 1:
        summary["s_T"] = [None if not np.isfinite(v) else float(v) for v in s.values]
        summary["s_T_error"] = [None if not np.isfinite(v) else float(v) for v in ds.s_T_error.values]
        if "flag" in ds:
            summary["flag"] = [str(f) for f in ds.flag.values]
        if args.model in ("strain", "curvature-strain"):
            a_star = quenching_amplitude(ds.A.values, s.values, tol=0.05 * args.s_l)
            summary["A_star"] = None if math.isnan(a_star) else a_star
    summary["elapsed_s"] = round(float(ds.attrs["sweep_elapsed_s"]), 3)
    return emit(summary, args, ds)


def _diffusivity(args: argparse.Namespace) -> int:
    from .diffusivity import DIRECTIONS, effective_diffusivity
    from .sweep import diffusivity_sweep

    A, d0 = parse_range("amplitude", args.amplitude), parse_range("d0", args.d0)
    if not A or not d0:
        raise ValueError("amplitude and d0 must not be empty")
    options = dict(B=_number("B", args.B), omega=_number("omega", args.omega), integrator=args.integrator,
                   particles=args.particles, batches=args.batches, t_final=args.t_final, dt=args.dt,
                   rtol=args.rtol, seed=args.seed, dtype=args.dtype, device=args.device)
    if len(A) == 1 and len(d0) == 1:
        ds = effective_diffusivity(args.flow, A[0], d0[0], **options)
        pick = lambda name: dict(zip(DIRECTIONS, (float(v) for v in ds[name].values)))  # noqa: E731
        summary: dict[str, Any] = {"D_eff": pick("D_eff"), "D_eff_error": pick("D_eff_error"),
                                   "converged": {k: bool(v) for k, v in pick("converged").items()},
                                   "flow": args.flow, "amplitude": A[0], "d0": d0[0],
                                   "integrator": args.integrator, "particles": args.particles,
                                   "t_final": float(ds.attrs["t_final"]), "dt": float(ds.attrs["dt"]),
                                   "elapsed_s": round(float(ds.attrs["elapsed_s"]), 3)}
        return emit(summary, args, ds)
    ds = diffusivity_sweep(args.flow, A=A, d0=d0, chunk_size=args.chunk_size, checkpoint=args.checkpoint,
                           client=args.client, progress=not args.json, **options)
    flat = lambda name, i: [None if not np.isfinite(v) else float(v)  # noqa: E731
                            for v in ds[name].isel(direction=i).values.ravel()]
    summary = {"flow": args.flow, "amplitude": A, "d0": d0, "integrator": args.integrator,
               "D_eff": {k: flat("D_eff", i) for i, k in enumerate(DIRECTIONS)},
               "D_eff_error": {k: flat("D_eff_error", i) for i, k in enumerate(DIRECTIONS)},
               "failed": int((ds.failed != "").sum()),
               "elapsed_s": round(float(ds.attrs["sweep_elapsed_s"]), 3)}
    return emit(summary, args, ds)


def register(subparsers: argparse._SubParsersAction) -> None:
    sub = family_command(subparsers, "gequation", "turbulent flame speeds of G-equation models",
                              __doc__.split("\n\n")[0])

    p = sub.add_parser("speed", help="s_T of one model, flow and amplitude (one JSON object with --json)")
    p.add_argument("--amplitude", type=float, default=1.0, help="flow amplitude A (default 1)")
    _solver_args(p)
    add_common(p)
    p.set_defaults(func=_speed)

    p = sub.add_parser("sweep", help="s_T over A (and d, omega, B lists) through the sweep runner")
    p.add_argument("--amplitude", required=True, help="START:STOP:NUM or a comma list of A")
    _solver_args(p)
    p.add_argument("--chunk-size", type=int, default=None, help="points per batch (default: a tenth)")
    p.add_argument("--checkpoint", default=None, help="folder for finished chunks (resumable)")
    p.add_argument("--client", default=None, help="dask: 'local' or a scheduler address")
    add_common(p)
    p.set_defaults(func=_sweep)

    p = sub.add_parser("diffusivity", help="effective diffusivity D_eff of particles in a periodic flow "
                                           "(a sweep when --amplitude or --d0 is a range)")
    p.add_argument("--flow", default="cellular", choices=list(PARTICLE_FLOWS), help="periodic flow")
    p.add_argument("--amplitude", default="1", help="flow amplitude A, or START:STOP:NUM / a comma list")
    p.add_argument("--d0", default="0.1", help="molecular diffusivity D0 > 0, or a range / comma list")
    p.add_argument("--B", default="1.0", help="oscillation depth of the time-dependent flows")
    p.add_argument("--omega", default="1.0", help="frequency of the time-dependent flows")
    p.add_argument("--integrator", default="splitting", choices=list(INTEGRATORS),
                   help="splitting (structure preserving, default) or euler (Euler-Maruyama)")
    p.add_argument("--particles", type=int, default=20000, help="particles in all (default 20000)")
    p.add_argument("--batches", type=int, default=10, help="independent batches for the error (default 10)")
    p.add_argument("--t-final", type=float, default=100.0, help="horizon (default 100)")
    p.add_argument("--dt", type=float, default=None, help="time step (default min(0.05, limit/4))")
    p.add_argument("--rtol", type=float, default=None, help="requested relative 95%% error (checks --particles)")
    p.add_argument("--dtype", default=None, choices=["float32", "float64"])
    p.add_argument("--chunk-size", type=int, default=None, help="sweep: points per batch")
    p.add_argument("--checkpoint", default=None, help="sweep: folder for finished chunks (resumable)")
    p.add_argument("--client", default=None, help="sweep: dask 'local' or a scheduler address")
    add_common(p)
    p.set_defaults(func=_diffusivity)
