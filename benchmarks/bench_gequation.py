"""Throughput of the G-equation solver in grid-point updates per second.

    .venv/bin/python benchmarks/bench_gequation.py [--quick] [--threads N]

One update = one grid point of one batch element through one RK stage
(points × batch × 3 stages × steps / s). Problem: the inviscid model in the
cellular flow, WENO5 + Lax-Friedrichs + SSP-RK3 at CFL 0.5, P = (1, 0).
Rows: the fused numba kernel (the CPU default), torch eager and
torch.compile'd, float32 and float64, batch 1 and 16; GPU rows when CUDA is
present: eager, compiled (one launch per kernel), compiled under reduce-overhead (one
CUDA graph per step) and compiled in the solver's 32-step chunks (one CUDA graph each). Baseline in the same process: hj_reachability
(JAX; WENO5 + global Lax-Friedrichs + TVD-RK3, the same scheme order) on the
same problem and grid, one amplitude at a time (its API has no batch
dimension), on the CPU for the CPU rows and on the GPU (when JAX has one) for
the CUDA rows. The full run also times a 16-value A sweep at 128² to 1%
(on CUDA twice per compile mode: the first call compiles, the second reuses it).
``--device cuda`` keeps, of the CPU rows, only the baseline and the fused kernel.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import time

import numba
import numpy as np
import torch

from workbench.gequation.flows import get_flow
from workbench.gequation.grid import Grid
from workbench.gequation.models import get_model
from workbench.gequation.chunks import KMAX, StepChunks
from workbench.gequation.solver import Problem, make_step
from workbench.gequation.step_compile import compile_step


def torch_rate(n: int, batch: int, steps: int, dtype: torch.dtype, device: str, compiled: bool | str,
               fused: bool = False) -> float:
    """``compiled``: False, True (inductor), a torch.compile mode such as ``reduce-overhead``, or
    ``chunks``: inductor and the solver's chunks of 32 steps, each one CUDA graph (with the mean
    removal, as the solver runs them)."""
    dev = torch.device(device)
    A = torch.linspace(1.0, 8.0, batch, dtype=torch.float64, device=dev)
    problem = Problem(get_model("inviscid"), get_flow("cellular"), Grid(n, dtype, dev), (1.0, 0.0), 1.0,
                      A, A * 0 + 0.1, A * 0 + 1, A * 0 + 1)
    field = problem.field(torch.zeros(batch, dtype=torch.float64, device=dev))
    dt = problem.cfl_dt(0.5)
    step = make_step(problem, field, dt, None, fused=fused)
    u = torch.zeros(batch, n, n, dtype=dtype, device=dev)
    points = n * n * batch
    if compiled == "chunks":
        offset = torch.zeros(batch, dtype=torch.float64, device=dev)
        n_steps = torch.full((batch,), 10**9, device=dev)
        state = StepChunks(compile_step(step, dynamic=False), u, offset, dt, n_steps,
                           torch.zeros(batch, dtype=torch.bool, device=dev), graphs=True)
        chunk = itertools.count()  # chunk c advances steps 1 + c·KMAX ..

        def advance() -> torch.Tensor:
            state.advance(1 + next(chunk) * KMAX, KMAX, all_running=True)
            return state.u

        return timed_rate(advance, max(1, steps // KMAX), KMAX, points, dev)
    if compiled:
        mode = compiled if isinstance(compiled, str) else "default"
        step = compile_step(step, mode, dynamic=False)
    t = torch.zeros(batch, dtype=torch.float64, device=dev)

    def advance() -> torch.Tensor:
        nonlocal u
        u = step(u, t).clone() if compiled == "reduce-overhead" else step(u, t)  # a replay overwrites its output
        return u

    return timed_rate(advance, steps, 1, points, dev)


def timed_rate(advance, calls: int, steps_per_call: int, points: int, dev: torch.device) -> float:
    """Updates/s of ``calls`` calls of ``advance`` (each ``steps_per_call`` steps of ``points`` grid
    points, 3 RK stages) after three warm-up calls (compilation, graph capture); CUDA synchronised."""
    for _ in range(3):
        advance()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(calls):
        u = advance()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    assert torch.isfinite(u).all()
    return points * 3 * steps_per_call * calls / elapsed


def hj_rate(n: int, A: float, t_final: float, dtype: str, platform: str = "cpu") -> float | None:
    """hj_reachability on u_t + V·(P+∇u) + s_l|P+∇u| = 0 on JAX's ``platform`` (cpu/gpu);
    None when it is not installed or JAX has no such device."""
    try:
        import jax
        import jax.numpy as jnp
        import hj_reachability as hj
    except ImportError:
        return None
    try:
        device = jax.devices(platform)[0]
    except RuntimeError:
        return None
    jax.config.update("jax_enable_x64", dtype == "float64")
    with jax.default_device(device):
        return _hj_rate(jax, jnp, hj, n, A, t_final)


def _hj_rate(jax, jnp, hj, n: int, A: float, t_final: float) -> float:

    class GEquation(hj.dynamics.Dynamics):
        def __init__(self, amplitude: float):
            self.A = amplitude

        def __call__(self, state, control, disturbance, time):  # not used by the solver
            return jnp.zeros(2)

        def optimal_control_and_disturbance(self, state, time, grad_value):
            return jnp.zeros(1), jnp.zeros(1)

        def hamiltonian(self, state, time, value, grad_value):
            x, y = state[0], state[1]
            vx, vy = -self.A * jnp.sin(x) * jnp.cos(y), self.A * jnp.cos(x) * jnp.sin(y)
            qx, qy = 1.0 + grad_value[0], grad_value[1]
            return vx * qx + vy * qy + jnp.sqrt(qx * qx + qy * qy)

        def partial_max_magnitudes(self, state, time, value, grad_value_box):
            x, y = state[0], state[1]
            return jnp.array([self.A * jnp.abs(jnp.sin(x) * jnp.cos(y)) + 1.0,
                              self.A * jnp.abs(jnp.cos(x) * jnp.sin(y)) + 1.0])

    grid = hj.Grid.from_lattice_parameters_and_boundary_conditions(
        hj.sets.Box(np.array([0.0, 0.0]), np.array([2 * math.pi, 2 * math.pi])), (n, n), periodic_dims=(0, 1))
    settings = hj.SolverSettings.with_accuracy("very_high", CFL_number=0.5)
    dyn = GEquation(A)
    v0 = jnp.zeros((n, n))
    hj.step(settings, dyn, grid, 0.0, v0, 0.05, progress_bar=False).block_until_ready()  # compile
    start = time.perf_counter()
    v = hj.step(settings, dyn, grid, 0.0, v0, t_final, progress_bar=False).block_until_ready()
    elapsed = time.perf_counter() - start
    assert bool(jnp.isfinite(v).all())
    # global LF: dt = CFL / max(Σ α_i / h) = 0.5 h / (2 (A + 1)) on this grid
    h = 2 * math.pi / n
    steps = math.ceil(t_final / (0.5 * h / (2 * (A + 1))))
    return n * n * 3 * steps / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    ap.add_argument("--device", choices=["all", "cpu", "cuda"], default="all",
                    help="rows to run (cuda: the GPU rows, the CPU baseline and the fused CPU kernel)")
    ap.add_argument("--no-sweep", action="store_true", help="throughput rows only (no 16-value sweeps)")
    args = ap.parse_args()
    if args.threads == 1:  # the JAX baseline on one core too (XLA's Eigen pool otherwise uses all)
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1").strip()
    torch.set_num_threads(args.threads)
    numba.set_num_threads(args.threads)
    n = 64 if args.quick else 128
    steps = 10 if args.quick else 40
    print(f"torch {torch.__version__}, numba {numba.__version__}, threads {torch.get_num_threads()}, "
          f"grid {n}², inviscid cellular, WENO5-LF-SSPRK3")
    print(f"{'implementation':44s} {'updates/s':>12s} {'vs hj_reachability':>20s}")
    A_hj = 4.0
    t_hj = steps * 0.5 * (2 * math.pi / n) / (2 * (A_hj + 1))
    base = {"cpu": hj_rate(n, A_hj, t_hj, "float32")}
    if base["cpu"] is None:
        print("hj_reachability (JAX) not installed: no baseline (pip install jax hj_reachability)")
    else:
        print(f"{'hj_reachability (JAX, CPU, float32, 1 problem)':44s} {base['cpu']:12.3e} {'1.00':>20s}")
    cuda = torch.cuda.is_available() and args.device != "cpu"
    if cuda:  # the CUDA rows are compared with JAX on the same GPU
        base["cuda"] = hj_rate(n, A_hj, t_hj, "float32", "gpu")
        if base["cuda"] is not None:
            print(f"{'hj_reachability (JAX, GPU, float32, 1 problem)':44s} {base['cuda']:12.3e} "
                  f"{'1.00 (GPU rows)':>20s}")
    rows = [("fused numba float32, batch 1", 1, torch.float32, "cpu", False, True),
            ("fused numba float32, batch 16", 16, torch.float32, "cpu", False, True),
            ("fused numba float64, batch 16", 16, torch.float64, "cpu", False, True),
            ("torch eager float32, batch 1", 1, torch.float32, "cpu", False, False),
            ("torch eager float32, batch 16", 16, torch.float32, "cpu", False, False),
            ("torch eager float64, batch 16", 16, torch.float64, "cpu", False, False),
            ("torch.compile float32, batch 16", 16, torch.float32, "cpu", True, False)]
    if not args.quick:
        rows += [("torch.compile float32, batch 1", 1, torch.float32, "cpu", True, False)]
    if args.device == "cuda":
        rows = [r for r in rows if r[5] and r[1] == 16 and r[2] == torch.float32]
    if cuda:
        rows += [("CUDA compile float32, batch 1", 1, torch.float32, "cuda", True, False),
                 ("CUDA graphs (reduce-overhead) f32, batch 1", 1, torch.float32, "cuda", "reduce-overhead", False),
                 ("CUDA compile + 32-step graphs f32, batch 1", 1, torch.float32, "cuda", "chunks", False),
                 ("CUDA compile + 32-step graphs f32, batch 16", 16, torch.float32, "cuda", "chunks", False),
                 ("CUDA eager float32, batch 16", 16, torch.float32, "cuda", False, False),
                 ("CUDA compile float32, batch 16", 16, torch.float32, "cuda", True, False),
                 ("CUDA compile float32, batch 256", 256, torch.float32, "cuda", True, False),
                 ("CUDA graphs (reduce-overhead) f32, batch 16", 16, torch.float32, "cuda", "reduce-overhead",
                  False)]
    for label, batch, dtype, device, compiled, fused in rows:
        try:
            rate = torch_rate(n, batch, steps, dtype, device, compiled, fused)
        except Exception as exc:  # noqa: BLE001  (one failing row must not hide the others)
            print(f"{label:44s} failed: {type(exc).__name__}: {str(exc)[:300]}", flush=True)
            continue
        ref = base.get(device)
        ratio = f"{rate / ref:.2f}" if ref else "-"
        print(f"{label:44s} {rate:12.3e} {ratio:>20s}", flush=True)
    if not (args.quick or args.no_sweep):
        runs = [] if args.device == "cuda" else [("cpu", "auto", 1)]
        runs += [("cuda", mode, 2) for mode in (True, "reduce-overhead")] if cuda else []
        for device, mode, repeats in runs:
            for attempt in range(repeats):
                sweep(device, mode, "first call" if attempt == 0 else "again")


def sweep(device: str, mode, when: str) -> None:
    """Time the 16-value inviscid sweep at 128² (adaptive reruns to 1% included) and print it."""
    from workbench.gequation import flame_speed

    label = f"16-value A sweep, inviscid cellular 128², float32, {device}, compile={mode}, {when}"
    start = time.perf_counter()
    try:
        ds = flame_speed("inviscid", "cellular", np.linspace(0.5, 8.0, 16), grid=128, device=device,
                         compile=mode)
    except Exception as exc:  # noqa: BLE001
        print(f"{label}: failed: {type(exc).__name__}: {str(exc)[:300]}", flush=True)
        return
    el = time.perf_counter() - start
    steps = int(ds.n_steps.max())
    print(f"{label} ({json.loads(ds.attrs['parameters'])['method']}): {el:.1f} s, "
          f"{int(ds.converged.sum())}/16 converged to 1%, longest run {steps} steps, "
          f"s_T(A=8) = {float(ds.s_T[-1]):.4f}", flush=True)


if __name__ == "__main__":
    main()
