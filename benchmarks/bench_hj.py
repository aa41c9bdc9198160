"""Benchmarks of the HJ family: grid envelopes, HJ-prox, optimizers.

    .venv/bin/python benchmarks/bench_hj.py [--quick] [--threads N]

Prints, with the thread count fixed for torch and numba:

* Moreau envelope time at 512^2, 1024^2, 2048^2 (quick: 256^2..1024^2) for the
  linear-time Felzenszwalb-Huttenlocher path, the scaling exponent in the number of
  grid points (1 = linear), and ratios against two NumPy baselines run in the same
  process: the O(N^2) brute-force minimum over all pairs (at 64^2) and the separable
  O(N n) brute force per axis (at 512^2); the vectorised torch path for comparison;
* local entropy (log-domain, O(N n)) at 256^2, and the ratio against the torch
  ``logsumexp`` path run in the same process;
* HJ-prox samples/s (d = 2 and d = 1000);
* optimizer start-steps/s on Rastrigin 2-D for each method;
* the same envelope rows on CUDA when a GPU is present.

Times are the minimum over repeats (the machine may be shared); quote ratios.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from workbench.hj import compare_optimizers, get_landscape, hj_prox, local_entropy, moreau_envelope
from workbench.runtime import have_numba


def best_time(fn, repeats: int = 5) -> float:
    fn()  # warm-up (numba loads its compiled cache on the first call)
    times = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def brute_force_numpy(f: np.ndarray, h: float, t: float) -> np.ndarray:
    """O(N^2): min over all pairs of grid points."""
    ny, nx = f.shape
    yy, xx = np.meshgrid(np.arange(ny) * h, np.arange(nx) * h, indexing="ij")
    pts = np.stack([yy.ravel(), xx.ravel()], 1)
    out = np.empty(f.size)
    for start in range(0, f.size, 256):
        d2 = ((pts[start:start + 256, None, :] - pts[None]) ** 2).sum(-1)
        out[start:start + 256] = (f.ravel()[None] + d2 / (2 * t)).min(1)
    return out.reshape(f.shape)


def separable_numpy(f: np.ndarray, h: float, t: float) -> np.ndarray:
    """O(N n): brute-force min per axis (the separable structure, no lower envelope)."""
    n = f.shape[1]
    d2 = (np.arange(n)[:, None] - np.arange(n)[None]) ** 2 * h * h / (2 * t)
    g = np.empty_like(f)
    for r in range(f.shape[0]):
        g[r] = (f[r][None, :] + d2).min(1)
    out = np.empty_like(f)
    for c in range(f.shape[1]):
        out[:, c] = (g[:, c][None, :] + d2).min(1)
    return out


def envelope_rows(sizes: list[int], device: str, method: str) -> list[tuple[int, float]]:
    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        f = torch.tensor(rng.normal(size=(n, n)), dtype=torch.float32, device=device)
        rows.append((n, best_time(lambda: moreau_envelope(f, 1.0 / n, 0.01, method=method), 3)))
    return rows


def report_envelopes(rows, label: str) -> None:
    for n, sec in rows:
        print(f"  {label:<22} {n:>5}^2  {sec * 1e3:9.2f} ms   {n * n / sec / 1e6:8.1f} Mpoints/s")
    if len(rows) > 1:
        pts = np.array([n * n for n, _ in rows], dtype=float)
        secs = np.array([s for _, s in rows])
        slope = np.polyfit(np.log(pts), np.log(secs), 1)[0]
        print(f"  {label:<22} scaling exponent in grid points: {slope:.2f} (1 = linear)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for torch and numba (default 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    try:
        import numba

        numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
        nb = f"numba {numba.__version__}, {numba.get_num_threads()} threads"
    except ImportError:
        nb = "numba missing (torch path only)"
    print(f"threads: torch {torch.get_num_threads()}; {nb}; torch {torch.__version__}")

    sizes = [256, 512, 1024] if args.quick else [512, 1024, 2048]
    print("\nMoreau envelope, float32 input, one t (CPU)")
    fh = envelope_rows(sizes, "cpu", "auto")
    report_envelopes(fh, "linear-time FH")

    rng = np.random.default_rng(1)
    f64 = rng.normal(size=(64, 64))
    t_brute = best_time(lambda: brute_force_numpy(f64, 1 / 64, 0.01), 1)
    t_fh64 = best_time(lambda: moreau_envelope(f64, 1 / 64, 0.01), 20)
    assert np.allclose(brute_force_numpy(f64, 1 / 64, 0.01), moreau_envelope(f64, 1 / 64, 0.01))
    print(f"  vs NumPy brute force O(N^2) at 64^2: {t_brute * 1e3:.1f} ms vs {t_fh64 * 1e3:.2f} ms, "
          f"ratio {t_brute / t_fh64:.0f}x")
    ns = 256 if args.quick else 512
    f512 = rng.normal(size=(ns, ns))
    t_sep = best_time(lambda: separable_numpy(f512, 1 / ns, 0.01), 1)
    t_fh = best_time(lambda: moreau_envelope(f512, 1 / ns, 0.01), 10)
    assert np.allclose(separable_numpy(f512, 1 / ns, 0.01), moreau_envelope(f512, 1 / ns, 0.01))
    t_torch = best_time(lambda: moreau_envelope(torch.tensor(f512), 1 / ns, 0.01, method="torch"), 1)
    print(f"  vs NumPy separable brute force O(N n) at {ns}^2: {t_sep * 1e3:.1f} ms vs {t_fh * 1e3:.2f} ms, "
          f"ratio {t_sep / t_fh:.0f}x; vectorised torch path {t_torch * 1e3:.1f} ms "
          f"(FH {t_torch / t_fh:.0f}x faster)")

    f256 = torch.tensor(rng.normal(size=(256, 256)), dtype=torch.float32)
    t_le = best_time(lambda: local_entropy(f256, 1 / 256, 0.01, beta=10.0), 2)
    t_le_torch = best_time(lambda: local_entropy(f256, 1 / 256, 0.01, beta=10.0, method="torch"), 2)
    print(f"\nlocal entropy (log domain, O(N n)) 256^2: {t_le * 1e3:.1f} ms (auto: "
          f"{'numba, min-plus shifted' if have_numba() else 'torch'}); torch logsumexp path "
          f"{t_le_torch * 1e3:.1f} ms, ratio {t_le_torch / t_le:.1f}x")

    print("\nHJ-prox (f = ||x||_1)")
    l1 = lambda y: y.abs().sum(-1)  # noqa: E731
    for d, b, n in [(2, 10_000, 100), (1000, 10 if args.quick else 50, 1000)]:
        x = torch.zeros(b, d)
        sec = best_time(lambda: hj_prox(l1, x, 0.1, 0.1, n, seed=0), 2)
        print(f"  d = {d:>4}, {b} points x {n} samples: {b * n / sec:,.0f} samples/s "
              f"({b * n * d / sec / 1e6:.1f} M coordinates/s)")

    print("\nOptimizers on Rastrigin 2-D (start-steps/s)")
    land = get_landscape("rastrigin")
    starts, steps = (2000, 10) if args.quick else (10_000, 20)
    for method in ("gd", "prox", "entropy_sgd", "hj_prox"):
        sec = best_time(lambda: compare_optimizers(land, 2, [method], [0.1], starts, steps, track=0), 1)
        print(f"  {method:<12} {starts} starts x {steps} steps: {starts * steps / sec:,.0f} start-steps/s")

    if torch.cuda.is_available():
        print(f"\nCUDA: {torch.cuda.get_device_name()}")
        report_envelopes(envelope_rows(sizes, "cuda", "torch"), "vectorised torch (GPU)")
    goal = dict(fh).get(1024)
    if goal is not None:
        print(f"\ngoal 1024^2 envelope < 0.1 s on the CPU: {goal:.3f} s ({'met' if goal < 0.1 else 'not met'})")


if __name__ == "__main__":
    main()
