"""Throughput of the particle integrators in particle-steps per second.

    .venv/bin/python benchmarks/bench_transport.py [--quick] [--threads N] [--particles N]

One particle-step = one particle through one time step of
``dX = V dt + √(2D₀) dW`` (the normals drawn, the flow evaluated, the position
updated). Flow: the steady cellular flow A = 2, D₀ = 0.1, h = 0.02. Rows:
Euler–Maruyama and the Wang–Xin–Zhang splitting (:mod:`workbench.gequation.sde`)
in torch, float32 and float64, on the CPU and on CUDA when present, and in the fused
CPU kernel (:mod:`workbench.gequation.fused_particles`, float32, what
``effective_diffusivity`` runs on the CPU in float32). Baseline in
the same process: a vectorised NumPy Euler–Maruyama of the same flow (float64,
``numpy.random.default_rng().standard_normal``). On CUDA the run also times a
D_eff of the cellular flow to a requested 1% (95%) with the splitting; the full run also
times the same D_eff on the CPU (the fused kernel).
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numba
import numpy as np
import torch

from workbench.gequation import fused_particles
from workbench.gequation.diffusivity import effective_diffusivity
from workbench.gequation.particle_flows import get_particle_flow
from workbench.gequation.sde import sde_step

A, D0, H = 2.0, 0.1, 0.02


def numpy_rate(n: int, steps: int) -> float:
    """Vectorised NumPy Euler–Maruyama of the cellular flow (the baseline)."""
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 2 * math.pi, n), rng.uniform(0, 2 * math.pi, n)
    kick = math.sqrt(2 * D0 * H)
    t0 = time.perf_counter()
    for _ in range(steps):
        sx, cx, sy, cy = np.sin(x), np.cos(x), np.sin(y), np.cos(y)
        x, y = (x - H * A * sx * cy + kick * rng.standard_normal(n),
                y + H * A * cx * sy + kick * rng.standard_normal(n))
    return n * steps / (time.perf_counter() - t0)


def torch_rate(integrator: str, n: int, steps: int, dtype: torch.dtype, device: str) -> float:
    flow = get_particle_flow("cellular")
    gen = torch.Generator(device=device).manual_seed(0)
    x = torch.rand(1, 1, n, generator=gen, dtype=dtype, device=device) * 2 * math.pi
    y = torch.rand(1, 1, n, generator=gen, dtype=dtype, device=device) * 2 * math.pi
    one = torch.ones(1, 1, 1, dtype=dtype, device=device)
    kick = torch.sqrt(2 * D0 * H * one)
    for k in range(steps + 2):  # two warm-up steps
        if k == 2:
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
        xi = torch.randn(2, 1, n, generator=gen, dtype=dtype, device=device)
        x, y = sde_step(integrator, flow, x, y, k * H, H, A * one, one, one, None, kick, xi[0], xi[1])
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return n * steps / (time.perf_counter() - t0)


def fused_rate(integrator: str, n: int, steps: int) -> float:
    """The fused CPU kernel on the same flow (float32), after a compiling warm-up call."""
    flow = get_particle_flow("cellular")
    one = torch.ones(1, 1, 1)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 2 * math.pi, (1, 1, n)).astype(np.float32)
    y = rng.uniform(0, 2 * math.pi, (1, 1, n)).astype(np.float32)
    coef, phase, kx, ky = fused_particles.wave_tables(flow, fused_particles.step_times(integrator, 0, steps, H),
                                                      A * one, one, one, None, 1)
    kick = np.array([math.sqrt(2 * D0 * H)], np.float32)
    fused_particles.advance(x, y, 0, coef[:2], phase[:2], kx, ky, integrator, H, kick, 0)
    t0 = time.perf_counter()
    fused_particles.advance(x, y, 2, coef, phase, kx, ky, integrator, H, kick, 0)
    return n * steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10⁵ particles, a few steps (seconds)")
    ap.add_argument("--threads", type=int, default=1, help="torch and NumPy threads (default 1)")
    ap.add_argument("--particles", type=int, default=None, help="particles (default 10⁶, quick 10⁵)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    n = args.particles or (10**5 if args.quick else 10**6)
    steps = 10 if args.quick else 50
    base = numpy_rate(n, steps)
    rows = [{"integrator": "euler (numpy baseline)", "device": "cpu", "dtype": "float64",
             "particle_steps_per_s": base, "ratio": 1.0}]
    devices = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
    for device in devices:
        for dtype in (torch.float32, torch.float64):
            for integrator in ("euler", "splitting"):
                steps_here = steps * (20 if device == "cuda" else 1)
                rate = torch_rate(integrator, n, steps_here, dtype, device)
                rows.append({"integrator": integrator, "device": device, "dtype": str(dtype).split(".")[-1],
                             "particle_steps_per_s": rate, "ratio": rate / base})
    for integrator in ("euler", "splitting"):
        rate = fused_rate(integrator, n, steps)
        rows.append({"integrator": f"{integrator} (fused)", "device": "cpu", "dtype": "float32",
                     "particle_steps_per_s": rate, "ratio": rate / base})
    print(f"particles = {n}, threads = {args.threads} (torch {torch.get_num_threads()}, numba "
          f"{numba.get_num_threads()}), cellular flow A = {A}, D0 = {D0}, h = {H}")
    print(f"{'integrator':<24}{'device':<8}{'dtype':<9}{'particle-steps/s':>18}{'vs numpy':>10}")
    for r in rows:
        print(f"{r['integrator']:<24}{r['device']:<8}{r['dtype']:<9}{r['particle_steps_per_s']:>18.3e}"
              f"{r['ratio']:>9.1f}x")
    if not args.quick:  # the whole estimate on the CPU, through the fused kernel
        t0 = time.perf_counter()
        ds = effective_diffusivity("cellular", A, D0, particles=10**6, batches=10, t_final=100.0, device="cpu")
        wall = time.perf_counter() - t0
        rel = float((ds.D_eff_error / ds.D_eff).max())
        print(f"cpu D_eff (cellular A={A}, D0={D0}, 10^6 particles, T=100, engine {ds.attrs['engine']}): "
              f"{ds.D_eff.values} ± {ds.D_eff_error.values} (relative {rel:.3%}) in {wall:.2f} s")
        rows.append({"d_eff_cpu_s": wall, "relative_error": rel})
    if torch.cuda.is_available() and not args.quick:
        t0 = time.perf_counter()
        ds = effective_diffusivity("cellular", A, D0, particles=10**6, batches=10, t_final=100.0, rtol=0.01,
                                   device="cuda")
        wall = time.perf_counter() - t0
        rel = float((ds.D_eff_error / ds.D_eff).max())
        print(f"cuda D_eff (cellular A={A}, D0={D0}, 10^6 particles, T=100): {ds.D_eff.values} "
              f"± {ds.D_eff_error.values} (relative {rel:.3%}) in {wall:.2f} s")
        rows.append({"d_eff_cuda_s": wall, "relative_error": rel})
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
