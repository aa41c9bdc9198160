"""Phase-retrieval throughput: reconstruction-iterations per second (runs x iterations / s).

Batched torch HIO / OSS / GPS over many runs against a straightforward NumPy HIO
(complex FFTs of the whole batch, float64, as one would write it from the
paper) in the same process, at 128^2, 256^2, 512^2. On a GPU it also times the
issue's target (100 OSS + 100 GPS runs x 2000 iterations at 256^2) and reports
the fraction of the device's memory bandwidth achieved under a traffic model.
A second table gives the cost of the measured-data options (masks, free pixels,
shrink-wrap, GPS's complex-FFT path and Poisson fidelity) against the plain runs.

    .venv/bin/python benchmarks/bench_phase.py [--quick] [--threads 2] [--device cpu|cuda] [--cpu-time]
        [--measured-only]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from workbench import runtime
from workbench.phase import algorithms as A
from workbench.phase import phantoms, physics, study
from workbench.phase.reconstruction import Reconstruction

# Arrays of N^2 float32 (a real image, or the N x (N/2+1) complex half plane: the same bytes) read or
# written per iteration, counted from the code: FFTs once in + once out, each elementwise op its operands
# and result; the R_F check and best-iterate update included. A lower bound on the real traffic.
TRAFFIC = {"hio": 26, "oss": 34, "gps": 40}


def numpy_hio(magnitude: np.ndarray, support: np.ndarray, u: np.ndarray, iterations: int, beta: float = 0.9):
    """The baseline: HIO written plainly with NumPy complex FFTs over the batch (float64)."""
    for _ in range(iterations):
        f = np.fft.fft2(u)
        v = np.fft.ifft2(magnitude * np.exp(1j * np.angle(f))).real
        keep = support & (v >= 0)
        u = np.where(keep, v, u - beta * v)
    return u


CLOCK = time.perf_counter


def best_rate(step, work: int, repeats: int, sync) -> float:
    """``work / seconds`` of the fastest of ``repeats`` calls of ``step`` (the machine may be shared)."""
    best = 0.0
    for _ in range(repeats):
        sync()
        t = CLOCK()
        step()
        sync()
        best = max(best, work / (CLOCK() - t))
    return best


def torch_rate(op_factory, measurement, runs: int, iterations: int, device, error_every: int,
               repeats: int, **physics_options) -> float:
    """Runs x iterations / s of a batched torch schedule (R_F checked every ``error_every`` iterations).

    The runs are computed in batches of :func:`study.default_chunk` (all at once on a GPU), as studies do.
    """
    p = physics.FourierMagnitude(measurement, device=device, **physics_options)
    block = study.default_chunk(runs, p)
    recs = [Reconstruction(p, len(r), seed=r.start, error_every=error_every, record_every=error_every * 10)
            for r in study.chunks(runs, block)]
    for rec in recs:
        op_factory(2) * rec  # warm-up: FFT plans, allocator
    op = op_factory(iterations)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step() -> None:
        for rec in recs:
            op * rec

    return best_rate(step, runs * iterations, repeats, sync)


def numpy_rate(measurement, runs: int, iterations: int, repeats: int) -> float:
    mag = np.sqrt(measurement.intensity)
    rng = np.random.default_rng(0)
    u = np.fft.ifft2(mag * np.exp(2j * np.pi * rng.random((runs,) + mag.shape))).real
    numpy_hio(mag, measurement.support, u, 1)
    return best_rate(lambda: numpy_hio(mag, measurement.support, u, iterations), runs * iterations, repeats,
                     lambda: None)


def peak_bandwidth(device: torch.device) -> tuple[float, str]:
    """Peak DRAM bandwidth in bytes/s: from the device properties when torch reports them, else a copy test."""
    props = torch.cuda.get_device_properties(device)
    clock = getattr(props, "memory_clock_rate", None)  # kHz
    bus = getattr(props, "memory_bus_width", None)     # bits
    if clock and bus:
        return 2 * clock * 1e3 * bus / 8, "nominal (2 x memory clock x bus width)"
    x = torch.empty(2**28, dtype=torch.float32, device=device)
    y = torch.empty_like(x)
    y.copy_(x)
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(10):
        y.copy_(x)
    torch.cuda.synchronize()
    return 10 * 2 * x.numel() * 4 / (time.perf_counter() - t), "measured device-to-device copy"


def measured_data_rows(sizes, device, quick: bool) -> None:
    """The cost of the measured-data options against the plain algorithm (same process, same batches).

    mask: a beamstop of radius 3 and detector gaps (two 2-pixel lines) are missing; free: 5 % free
    pixels; shrink-wrap: a support update every 20 iterations; GPS complex: full-plane complex FFTs on
    the raw magnitudes; Poisson: GPS's Poisson fidelity prox (on the complex path).
    """
    from workbench.phase.crossvalidation import free_pixel_mask
    from workbench.phase.support import ShrinkWrap, with_shrinkwrap

    gpu = device.type == "cuda"
    sw = ShrinkWrap(0.2, 2.0)
    hio = lambda k: A.HIO(0.9) ** k  # noqa: E731
    gps = lambda k: A.GPS(sigma=0.01, alpha=1.0, s=0.9) ** k  # noqa: E731
    gps_poisson = lambda k: A.GPS(sigma=0.01, alpha=1.0, s=0.9, likelihood="poisson") ** k  # noqa: E731
    print("\nmeasured-data options [runs x iterations / s] and their cost (rate of plain / rate with option)")
    print(f"{'N':>5} {'runs':>5} {'HIO':>9} {'+mask':>9} {'+free':>9} {'+shrink':>9} | {'GPS':>9} {'complex':>9}"
          f" {'Poisson':>9} | {'mask':>6} {'free':>6} {'shrink':>6} {'complex':>7} {'Poisson':>7}")
    for n in sizes:
        m = physics.simulate(phantoms.vesicle(n // 2), n, flux=1e8, seed=0, beamstop=3.0)
        gaps = m.missing.copy()
        gaps[:, n // 2 - 1: n // 2 + 1] = True
        gaps[n // 3: n // 3 + 2, :] = True
        masked = physics.Measurement(m.intensity, gaps, m.support, truth=m.truth, flux=m.flux)
        plain = physics.simulate(phantoms.vesicle(n // 2), n, flux=1e8, seed=0)
        runs = 100 if (gpu or not quick) else {128: 20, 256: 10}[n]
        its = 40 if gpu else 20  # a multiple of the shrink-wrap period
        rate = {
            "hio": torch_rate(hio, plain, runs, its, device, 1, 3),
            "mask": torch_rate(hio, masked, runs, its, device, 1, 3),
            "free": torch_rate(hio, plain, runs, its, device, 1, 3, free=free_pixel_mask(plain, 0.05)),
            "shrink": torch_rate(lambda k: with_shrinkwrap(hio(k), sw, 20), plain, runs, its, device, 1, 3),
            "gps": torch_rate(gps, plain, runs, its, device, 1, 3),
            "complex": torch_rate(gps, plain, runs, its, device, 1, 3, fft="complex"),
            "poisson": torch_rate(gps_poisson, plain, runs, its, device, 1, 3, fft="complex"),
        }
        print(f"{n:>5} {runs:>5} {rate['hio']:>9.1f} {rate['mask']:>9.1f} {rate['free']:>9.1f} {rate['shrink']:>9.1f}"
              f" | {rate['gps']:>9.1f} {rate['complex']:>9.1f} {rate['poisson']:>9.1f} |"
              f" {rate['hio'] / rate['mask']:>5.2f}x {rate['hio'] / rate['free']:>5.2f}x"
              f" {rate['hio'] / rate['shrink']:>5.2f}x {rate['gps'] / rate['complex']:>6.2f}x"
              f" {rate['complex'] / rate['poisson']:>6.2f}x", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and sizes (CPU smoke run)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--device", default=None, help="cpu, cuda (default: WORKBENCH_DEVICE or auto)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with the process CPU clock (with --threads 1: robust on a shared machine)")
    parser.add_argument("--measured-only", action="store_true",
                        help="only the table of the measured-data options (masks, shrink-wrap, Poisson ...)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.cpu_time:
        global CLOCK
        CLOCK = time.process_time
    device = runtime.resolve_device(args.device)
    print(f"torch {torch.__version__}, threads = {torch.get_num_threads()}, device = {runtime.describe(device)}, "
          f"clock = {'process CPU time' if args.cpu_time else 'wall'}")
    gpu = device.type == "cuda"
    sizes = [128, 256] if args.quick else [128, 256, 512]
    schedules = {
        "hio": lambda k: A.HIO(0.9) ** k,
        "oss": lambda k: A.OSS(alpha=1.0) ** k,
        "gps": lambda k: A.GPS(sigma=0.01, alpha=1.0, s=0.9) ** k,
    }
    print("torch runs are batched as studies batch them (CPU: at most 2^22 pixels per batch; GPU: all runs)")
    if args.measured_only:
        measured_data_rows(sizes, device, args.quick)
        return
    print(f"{'N':>5} {'runs':>5} {'numpy HIO':>10} | {'torch HIO':>10} {'(no R_F)':>10} {'OSS':>10} {'GPS':>10}"
          f" | {'ratio HIO':>9} {'(no R_F)':>9}   [runs x iterations / s]")
    for n in sizes:
        m = physics.simulate(phantoms.vesicle(n // 2), n, flux=1e8, seed=0)
        runs = 100 if (gpu or not args.quick) else {128: 20, 256: 10}[n]
        # the NumPy baseline runs at most 10 runs (its rate per run does not improve with batch size)
        its = 20 if gpu else 5
        repeats = 3
        base = numpy_rate(m, min(runs, 10), its, repeats)
        rates = {name: torch_rate(f, m, runs, its, device, 1, repeats) for name, f in schedules.items()}
        fast = torch_rate(schedules["hio"], m, runs, its, device, 10_000, repeats)
        print(f"{n:>5} {runs:>5} {base:>10.1f} | {rates['hio']:>10.1f} {fast:>10.1f} {rates['oss']:>10.1f} "
              f"{rates['gps']:>10.1f} | {rates['hio'] / base:>8.1f}x {fast / base:>8.1f}x", flush=True)
        if gpu:
            peak, how = peak_bandwidth(device)
            for name, rate in rates.items():
                achieved = rate * TRAFFIC[name] * n * n * 4
                print(f"      {name}: {achieved / 1e9:.0f} GB/s = {achieved / peak:.0%} of {peak / 1e9:.0f} GB/s ({how})")
    measured_data_rows(sizes, device, args.quick)
    if gpu:
        m = physics.simulate(phantoms.vesicle(128), 256, flux=1e8, seed=0)
        p = physics.FourierMagnitude(m, device=device)
        torch.cuda.synchronize()
        t = time.perf_counter()
        A.oss(2000) * Reconstruction(p, 100, seed=0)
        A.gps(2000) * Reconstruction(p, 100, seed=0)
        torch.cuda.synchronize()
        print(f"target: 100 OSS + 100 GPS runs x 2000 iterations at 256^2: {time.perf_counter() - t:.1f} s "
              "(goal < 10 s on an H100)")


if __name__ == "__main__":
    main()
