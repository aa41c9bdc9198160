"""Many random starts of several algorithms on one measurement, as an xarray Dataset.

:func:`reconstruct` runs one algorithm's schedule on a batch of runs (seeds
``seed + run``) and measures each run: final (best) ``R_F``, the ``R_F``
history, the best reconstruction, and, when the truth is known, the
real-space error after alignment (translation + twin) and the FRC.
:func:`compare` does it for several algorithms in chunks of runs (results do
not depend on the chunking, since every run has its own seed) and
:func:`summary` reduces it to the per-algorithm statistics of the paper's
table (mean, std, min, max of ``R_F``, good fraction, expected cost).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import xarray as xr

from .. import budget, results, validate
from . import algorithms, fidelity, metrics
from .physics import FourierMagnitude, Measurement
from .crossvalidation import free_pixel_mask
from .reconstruction import Reconstruction
from .support import ShrinkWrap, with_shrinkwrap

MAX_RUNS = 100_000


def crop_box(support: np.ndarray, margin: int = 2) -> tuple[slice, slice]:
    """The bounding box of the support plus ``margin`` pixels (reconstructions are stored cropped)."""
    rows, cols = np.nonzero(support)
    n = support.shape[0]
    return (slice(max(rows.min() - margin, 0), min(rows.max() + margin + 1, n)),
            slice(max(cols.min() - margin, 0), min(cols.max() + margin + 1, n)))


def with_support_update(op: algorithms.Operator, shrinkwrap: dict[str, Any] | None) -> algorithms.Operator:
    """``op`` with shrink-wrap every ``shrinkwrap["every"]`` iterations (the other keys: :class:`ShrinkWrap`)."""
    if not shrinkwrap:
        return op
    options = dict(shrinkwrap)
    every = options.pop("every", 20)
    return with_shrinkwrap(op, ShrinkWrap(**options), every)


def reconstruct(physics: FourierMagnitude, algorithm: str | algorithms.Operator, runs: Sequence[int], *,
                iterations: int = 2000,
                seed: int = 0, record_every: int = 10, error_every: int = 1,
                cancel: threading.Event | None = None, shrinkwrap: dict[str, Any] | None = None,
                **params: Any) -> xr.Dataset:
    """Run ``algorithm`` (a schedule's name, or any operator) from the random starts ``seed + r``.

    ``shrinkwrap`` (keywords of :class:`~workbench.phase.support.ShrinkWrap` and ``every``)
    adds support updates. With free pixels in ``physics`` each run's free log-likelihood is
    reported (``free_llk``). Returns a Dataset over ``run`` (and ``iteration``, ``y``, ``x``,
    ``frequency``).
    """
    if isinstance(algorithm, algorithms.Operator):
        op, algorithm, iterations = algorithm, repr(algorithm), algorithm.iterations
    else:
        op = algorithms.schedule(algorithm, iterations, **params)
    op = with_support_update(op, shrinkwrap)
    runs = [int(r) for r in runs]
    validate.non_empty("runs", runs)
    rec = Reconstruction(physics, seeds=[seed + r for r in runs], record_every=record_every,
                         error_every=error_every, cancel=cancel)
    with results.timer() as clock:
        op * rec
        rec.check()
    if rec.stopped():
        raise InterruptedError("reconstruction cancelled")
    best = rec.best_estimate()
    err = rec.errors()
    if not np.isfinite(err).all():
        raise FloatingPointError(f"{algorithm}: R_F is not finite (the iteration diverged)")
    its, hist = rec.history()
    rows, cols = crop_box(physics.measurement.support)
    data: dict[str, tuple] = {
        "error": (("run",), err, {"long_name": "Fourier error R_F", "units": "1"}),
        "history": (("run", "iteration"), hist, {"long_name": "Fourier error R_F", "units": "1"}),
        "reconstruction": (("run", "y", "x"), best[:, rows, cols],
                           {"long_name": "reconstruction", "units": "sqrt(photons)"}),
        "seconds": (("run",), np.full(len(runs), clock["elapsed"] / len(runs)),
                    {"long_name": "time per run (chunk average)", "units": "s"}),
    }
    coords: dict[str, Any] = {
        "run": ("run", np.array(runs), {"long_name": "run"}),
        "iteration": ("iteration", its, {"long_name": "iteration"}),
        "y": ("y", np.arange(rows.start, rows.stop), {"long_name": "y", "units": "pixel"}),
        "x": ("x", np.arange(cols.start, cols.stop), {"long_name": "x", "units": "pixel"}),
    }
    if physics.free_count:
        data["free_llk"] = (("run",), physics.free_log_likelihood(physics.forward(best)),
                            {"long_name": "free log-likelihood (Poisson, per free pixel)", "units": "1"})
    data["support_size"] = (("run",), rec.best_support.expand_as(best).sum((-2, -1)),
                            {"long_name": "support size", "units": "pixel"})
    truth = physics.truth
    if truth is not None:
        aligned, shift, is_twin = metrics.align(best, truth)
        t = truth.to(aligned.dtype)
        rs = torch.linalg.vector_norm(aligned - t, dim=(-2, -1)) / torch.linalg.vector_norm(t)
        freq, ring = metrics.frc(aligned, truth)
        data["real_error"] = (("run",), rs, {"long_name": "real-space error (aligned)", "units": "1"})
        data["shift"] = (("run", "axis"), shift, {"long_name": "alignment shift", "units": "pixel"})
        data["twin"] = (("run",), is_twin.to(torch.int8), {"long_name": "twin image used"})
        data["frc"] = (("run", "frequency"), ring, {"long_name": "FRC", "units": "1"})
        data["reconstruction"] = (("run", "y", "x"), aligned[:, rows, cols],
                                  {"long_name": "reconstruction (aligned)", "units": "sqrt(photons)"})
        coords["frequency"] = ("frequency", freq, {"long_name": "spatial frequency", "units": "1/pixel"})
        coords["axis"] = ("axis", np.array(["y", "x"]))
    ds = results.dataset(data, coords, params={"algorithm": algorithm, "iterations": iterations, **params,
                                               "shrinkwrap": shrinkwrap or {}, "fft": physics.fft,
                                               "free_pixels": physics.free_count},
                         kind="phase.reconstruct", seed=seed, device=physics.device, elapsed=clock["elapsed"],
                         schedule=repr(op))
    return ds


def measurement_dataset(m: Measurement) -> xr.Dataset:
    """The data of a study (centred pattern, mask, support, truth) for saving beside the results."""
    n = m.size
    k = np.arange(n) - n // 2
    data = {
        "intensity": (("ky", "kx"), m.centred("intensity"), {"long_name": "intensity", "units": "photons"}),
        "missing": (("ky", "kx"), m.centred("missing").astype(np.int8), {"long_name": "missing pixel"}),
        "support": (("yy", "xx"), m.support.astype(np.int8), {"long_name": "support"}),
    }
    if m.truth is not None:
        data["truth"] = (("yy", "xx"), m.truth, {"long_name": "true object", "units": "sqrt(photons)"})
    coords = {"ky": ("ky", k, {"units": "pixel"}), "kx": ("kx", k, {"units": "pixel"}),
              "yy": ("yy", np.arange(n), {"units": "pixel"}), "xx": ("xx", np.arange(n), {"units": "pixel"})}
    return xr.Dataset({k: xr.Variable(*v) for k, v in data.items()},
                      coords={k: xr.Variable(*v) for k, v in coords.items()})


CPU_BATCH_ELEMENTS = 2**22


def default_chunk(runs: int, physics: FourierMagnitude) -> int:
    """All runs at once on a GPU; on a CPU at most ``2^22`` pixels per batch (16 runs at 512^2).

    Larger CPU batches stop fitting the caches and every temporary becomes a
    fresh ``mmap`` whose page faults cost more than the arithmetic (measured:
    100 runs at 512^2 are ~4x slower per run than 10).
    """
    if physics.device.type == "cuda":
        return runs
    return max(1, min(runs, CPU_BATCH_ELEMENTS // physics.size**2))


def chunks(runs: int, chunk: int) -> list[range]:
    """``range(runs)`` cut into consecutive pieces of at most ``chunk``."""
    return [range(a, min(a + chunk, runs)) for a in range(0, runs, chunk)]


FFT_CHOICES = ("auto", "real", "complex")


def fft_for(algorithm: str, measurement: Measurement, fft: str = "auto") -> str:
    """The FFT path of ``algorithm``: ``"auto"`` is complex (raw magnitudes) for GPS on noisy data,
    where the real path's Friedel average is not exact, and real (half the work) otherwise."""
    validate.choice("fft", fft, FFT_CHOICES)
    if fft != "auto":
        return fft
    return "complex" if algorithm.startswith("gps") and measurement.noise else "real"


def compare(measurement: Measurement, algorithms_: Sequence[str] = ("oss", "gps"), *, runs: int = 100,
            iterations: int = 2000, seed: int = 0, device: Any = None, dtype: Any = None, chunk: int | None = None,
            threshold: float | None = None, params: dict[str, dict[str, Any]] | None = None,
            record_every: int = 10, callback: Callable[[str, xr.Dataset, float], None] | None = None,
            cancel: threading.Event | None = None, fft: str = "auto", free_pixels: float | None = None,
            shrinkwrap: dict[str, Any] | None = None, likelihood: str = "gaussian") -> xr.Dataset:
    """Histogram study: every algorithm from the same ``runs`` random starts.

    ``callback(algorithm, chunk_dataset, fraction_done)`` is called after each
    chunk. With ``cancel`` set, finished chunks are kept and returned (``InterruptedError``
    when none had finished). ``fft`` picks
    the FFT path (:func:`fft_for`); ``free_pixels`` (a fraction in (0, 0.2]) leaves that
    share of the pixels out of the fit and reports each run's free log-likelihood;
    ``shrinkwrap`` adds support updates to every algorithm; ``likelihood`` is GPS's fidelity.
    """
    validate.non_empty("algorithms", algorithms_)
    for name in algorithms_:
        validate.choice("algorithm", name, algorithms.ALGORITHMS)
    runs = validate.integer("runs", runs, lo=1, hi=MAX_RUNS)
    iterations = validate.integer("iterations", iterations, lo=1, hi=10_000_000)
    record_every = validate.integer("record_every", record_every, lo=1, hi=max(1, iterations))
    validate.choice("likelihood", likelihood, fidelity.LIKELIHOODS)
    if shrinkwrap:
        with_support_update(algorithms.ER(), shrinkwrap)  # refuse bad options before any work
    free = None if free_pixels is None else free_pixel_mask(measurement, free_pixels, seed)
    params = {name: dict((params or {}).get(name, {})) for name in algorithms_}
    for name in algorithms_:
        if name.startswith("gps") and likelihood != "gaussian":
            params[name].setdefault("likelihood", likelihood)
    paths = {name: fft_for(name, measurement, fft) for name in algorithms_}
    operators = {path: FourierMagnitude(measurement, device=device, dtype=dtype, fft=path, free=free)
                 for path in dict.fromkeys(paths.values())}
    physics = next(iter(operators.values()))
    chunk = validate.integer("chunk", default_chunk(runs, physics) if chunk is None else chunk, lo=1, hi=MAX_RUNS)
    budget.work_fits("iterations", len(algorithms_) * runs * iterations * physics.size ** 2, budget.PHASE_RATE)
    threshold = metrics.default_threshold(physics) if threshold is None else validate.positive("threshold", threshold)
    pieces: dict[str, list[xr.Dataset]] = {a: [] for a in algorithms_}
    total = len(algorithms_) * runs
    done = 0
    with results.timer() as clock:
        for piece in chunks(runs, chunk):
            for name in algorithms_:
                if cancel is not None and cancel.is_set():
                    break
                try:
                    ds = reconstruct(operators[paths[name]], name, piece, iterations=iterations, seed=seed,
                                     record_every=record_every, cancel=cancel, shrinkwrap=shrinkwrap,
                                     **params[name])
                except InterruptedError:
                    break
                pieces[name].append(ds)
                done += len(piece)
                if callback is not None:
                    callback(name, ds, done / total)
    if not any(pieces.values()):
        raise InterruptedError("cancelled before any run finished")
    return assemble(pieces, measurement, physics, threshold=threshold, seed=seed, elapsed=clock["elapsed"],
                    params={"algorithms": list(algorithms_), "runs": runs, "iterations": iterations,
                            "seed": seed, "chunk": chunk, "threshold": threshold, "flux": measurement.flux,
                            "size": measurement.size, "record_every": record_every, "algorithm_params": params,
                            "fft": paths, "free_pixels": free_pixels, "shrinkwrap": shrinkwrap or {}})


def assemble(pieces: dict[str, list[xr.Dataset]], measurement: Measurement, physics: FourierMagnitude, *,
             threshold: float, seed: int, elapsed: float, params: dict[str, Any]) -> xr.Dataset:
    """Merge chunk results into one Dataset over (algorithm, run), plus the measurement."""
    per_alg = []
    names = []
    for name, parts in pieces.items():
        if parts:
            per_alg.append(xr.concat(parts, dim="run", data_vars="minimal", coords="minimal",
                                     compat="override", join="outer"))
            names.append(name)
    if not per_alg:
        raise InterruptedError("no run finished")
    ds = xr.concat(per_alg, dim=xr.Variable("algorithm", names), data_vars="all", coords="minimal",
                   compat="override", join="outer")
    ds = xr.merge([ds, measurement_dataset(measurement)], combine_attrs="override")
    ds["threshold"] = xr.DataArray(threshold, attrs={"long_name": "good-minimum threshold on R_F", "units": "1"})
    return results.stamp(ds, params, kind="phase.compare", seed=seed, device=physics.device, elapsed=elapsed)


def summary(ds: xr.Dataset) -> dict[str, dict[str, float]]:
    """Per algorithm: mean, std, min, max of final ``R_F``, good fraction, expected cost, runs."""
    threshold = float(ds["threshold"])
    out: dict[str, dict[str, float]] = {}
    for name in ds["algorithm"].values:
        err = ds["error"].sel(algorithm=name).values
        err = err[np.isfinite(err)]
        p = metrics.good_fraction(err, threshold)
        seconds = float(ds["seconds"].sel(algorithm=name).mean())
        row = {"mean": float(err.mean()), "std": float(err.std()), "min": float(err.min()),
               "max": float(err.max()), "good_fraction": p, "runs": int(err.size),
               "seconds_per_run": seconds}
        cost = metrics.expected_cost(p, seconds)
        row["expected_seconds_to_good"] = cost["seconds"]
        if "real_error" in ds:
            row["real_error_mean"] = float(np.nanmean(ds["real_error"].sel(algorithm=name).values))
        out[str(name)] = row
    return out


def simulated(phantom_name: str, size: int, flux: float, noise: bool = True, beamstop: float = 0.0,
              data_seed: int = 0, oversampling: float = 2.0, support: str = "object") -> Measurement:
    """The measurement of a named phantom (object ``size / oversampling``), as the CLI and sweeps build it."""
    from .phantoms import MIN_SIZE, phantom
    from .physics import simulate

    oversampling = validate.number("oversampling", oversampling, lo=2, hi=16)
    obj = phantom(phantom_name, max(int(size / oversampling), MIN_SIZE), seed=0)
    return simulate(obj, size, flux=flux, noise=noise, beamstop=beamstop, seed=data_seed, support=support)


def sweep_chunk(params: dict[str, np.ndarray], *, measurement: dict[str, Any], iterations: int, seed: int,
                record_every: int = 10, device: str | None = None, dtype: str | None = None,
                algorithm_params: dict[str, dict[str, Any]] | None = None) -> xr.Dataset:
    """Chunk function for :func:`workbench.sweep.run_sweep` over the grid ``{"algorithm", "run"}``.

    ``measurement`` holds JSON-able arguments: either ``{"data": path}`` (a measured pattern)
    or the keywords of :func:`simulated`. Every point is one run of one algorithm.
    """
    m = load_measurement(measurement)
    names, runs = np.asarray(params["algorithm"]), np.asarray(params["run"])
    parts = []
    for name in dict.fromkeys(names.tolist()):  # points are grouped by algorithm (C order of the grid)
        sel = names == name
        physics = FourierMagnitude(m, device=device, dtype=dtype, fft=fft_for(str(name), m))
        ds = reconstruct(physics, str(name), runs[sel].tolist(), iterations=iterations, seed=seed,
                         record_every=record_every, **(algorithm_params or {}).get(str(name), {}))
        parts.append(ds.drop_vars("run").rename({"run": "point"}))
    return xr.concat(parts, dim="point", data_vars="minimal", coords="minimal", compat="override", join="outer")


def compare_sweep(measurement: dict[str, Any], algorithms_: Sequence[str] = ("oss", "gps"), *, runs: int = 100,
                  iterations: int = 2000, seed: int = 0, device: str | None = None, dtype: str | None = None,
                  chunk: int = 10,
                  client: Any = None, checkpoint: str | None = None, record_every: int = 10,
                  algorithm_params: dict[str, dict[str, Any]] | None = None) -> xr.Dataset:
    """:func:`compare` through :func:`workbench.sweep.run_sweep`: resumable and scalable on dask.

    ``client="local"`` starts a LocalCluster, an address joins a running scheduler; ``checkpoint``
    keeps finished chunks so an interrupted study resumes. The result is over ``(algorithm, run)``.
    """
    from ..sweep import run_sweep

    for name in validate.non_empty("algorithms", list(algorithms_)):
        validate.choice("algorithm", name, algorithms.ALGORITHMS)
    runs = validate.integer("runs", runs, lo=1, hi=MAX_RUNS)
    fixed = {"measurement": dict(measurement), "iterations": int(iterations), "seed": int(seed),
             "record_every": int(record_every), "device": device, "dtype": dtype,
             "algorithm_params": algorithm_params or {}}
    ds = run_sweep(sweep_chunk, {"algorithm": list(algorithms_), "run": list(range(runs))}, fixed=fixed,
                   chunk_size=chunk, client=client, checkpoint=checkpoint, name="phase.compare")
    spec = dict(measurement)
    m = load_measurement(spec)
    threshold = metrics.default_threshold(FourierMagnitude(m, dtype=dtype))
    ds["threshold"] = xr.DataArray(threshold, attrs={"long_name": "good-minimum threshold on R_F", "units": "1"})
    return xr.merge([ds, measurement_dataset(m)], combine_attrs="override")


def load_measurement(spec: dict[str, Any]) -> Measurement:
    """A measurement from JSON-able arguments: ``{"data": path}`` or the keywords of :func:`simulated`."""
    from .physics import load

    spec = dict(spec)
    return load(spec.pop("data")) if "data" in spec else simulated(**spec)
