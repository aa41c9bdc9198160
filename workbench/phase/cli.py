"""``workbench phase ...``: phase-retrieval studies from the shell.

``workbench phase compare --phantom vesicle --flux 1e8 --runs 100 --algorithms oss,gps --size 128``
runs every algorithm from the same random starts and prints (``--json``) one
object keyed by algorithm with ``mean``, ``std``, ``min``, ``max`` of the
final ``R_F`` and ``good_fraction``; ``--out`` writes every run's final
errors, the convergence histories and the best reconstructions (netCDF).
``--data FILE`` reconstructs a measured pattern (.cxi/.npy/.npz/HDF5) instead; ``--shrinkwrap``,
``--likelihood poisson`` (GPS), ``--free-pixels FRACTION`` (cross-validation) apply to every run.

``workbench phase reconstruct --data FILE.cxi --algorithm "(ER()**20 * HIO()**80)**5" --out rec.cxi``
runs one schedule (parsed safely, see :mod:`~workbench.phase.expression`) and writes the data,
mask, support and every run's reconstruction with its errors in the CXIDB layout.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from .. import validate
from ..cliutil import add_common, emit, family_command


def _algorithms(text: str) -> list[str]:
    from .algorithms import ALGORITHMS

    names = [a.strip().lower() for a in text.split(",") if a.strip()]
    validate.non_empty("algorithms", names)
    for name in names:
        validate.choice("algorithms", name, ALGORITHMS)
    if len(set(names)) != len(names):
        raise ValueError(f"algorithms must not repeat, got {text!r}")
    return names


def measurement_spec(args: argparse.Namespace) -> dict[str, Any]:
    """JSON-able description of the measurement: ``--data`` (loaded) or ``--phantom`` (simulated)."""
    if args.data is not None:
        return {"data": str(args.data)}
    return {"phantom_name": args.phantom, "size": args.size, "flux": args.flux, "noise": not args.noiseless,
            "beamstop": args.beamstop, "data_seed": args.seed + 1_000_003, "oversampling": args.oversampling,
            "support": args.support}


def _measured_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--shrinkwrap``, ``--likelihood``, ``--free-pixels``, ``--fft`` as keywords of ``study.compare``."""
    from .crossvalidation import MAX_FRACTION

    out: dict[str, Any] = {"fft": validate.choice("fft", args.fft, ("auto", "real", "complex"))}
    if args.free_pixels is not None:
        out["free_pixels"] = validate.number("free-pixels", args.free_pixels, lo=0, hi=MAX_FRACTION, lo_open=True)
    if args.shrinkwrap:
        out["shrinkwrap"] = {
            "threshold": validate.number("shrinkwrap-threshold", args.shrinkwrap_threshold, lo=0, hi=1,
                                         lo_open=True, hi_open=True),
            "every": validate.integer("shrinkwrap-every", args.shrinkwrap_every, lo=1, hi=1_000_000)}
    return out


def _compare(args: argparse.Namespace) -> int:
    from . import study

    names = _algorithms(args.algorithms)
    measured = _measured_options(args)
    measured["likelihood"] = validate.choice("likelihood", args.likelihood, ("gaussian", "poisson"))
    runs = validate.integer("runs", args.runs, lo=1, hi=study.MAX_RUNS)
    iterations = validate.integer("iterations", args.iterations, lo=1, hi=10_000_000)
    validate.number("flux", args.flux, lo=0, hi=1e15, lo_open=True)
    if args.chunk is not None:
        validate.integer("chunk", args.chunk, lo=1)
    spec = measurement_spec(args)
    if (args.client or args.checkpoint) and (len(measured) > 2 or measured["fft"] != "auto"
                                             or measured["likelihood"] != "gaussian"):
        raise ValueError("--client/--checkpoint runs the plain study; --shrinkwrap, --likelihood, "
                         "--free-pixels and --fft need the in-process compare")
    if args.client or args.checkpoint:
        ds = study.compare_sweep(spec, names, runs=runs, iterations=iterations, seed=args.seed, device=args.device,
                                 chunk=args.chunk or 10, client=args.client, checkpoint=args.checkpoint)
        if args.threshold is not None:
            ds["threshold"] = validate.positive("threshold", args.threshold)
    else:
        ds = study.compare(study.load_measurement(spec), names, runs=runs, iterations=iterations, seed=args.seed,
                           device=args.device, chunk=args.chunk, threshold=args.threshold, **measured)
    table = study.summary(ds)
    if not args.json:
        for name, row in table.items():
            print(f"{name:>7}: R_F {row['mean']:.4f} +- {row['std']:.4f} (min {row['min']:.4f}, "
                  f"max {row['max']:.4f}), good {row['good_fraction']:.2f}, {row['seconds_per_run']:.3g} s/run")
        return emit({"threshold": float(ds["threshold"])}, args, ds) if args.out else 0
    # strict JSON: an infinite expected cost (no good run) is written as null
    table = {k: {f: (v if not isinstance(v, float) or math.isfinite(v) else None) for f, v in row.items()}
             for k, row in table.items()}
    return emit(table, args, ds)


def _reconstruct(args: argparse.Namespace) -> int:
    """``workbench phase reconstruct``: one schedule on a measured pattern; CXI or netCDF out."""
    import numpy as np

    from . import crossvalidation, cxi, resolution, study
    from .expression import parse_schedule
    from .physics import FourierMagnitude, load

    op = parse_schedule(args.algorithm)
    runs = validate.integer("runs", args.runs, lo=1, hi=study.MAX_RUNS)
    select = validate.integer("select", args.select if args.select is not None else max(1, runs // 2), lo=1, hi=runs)
    measured = _measured_options(args)
    m = load(args.data)
    free = (crossvalidation.free_pixel_mask(m, measured["free_pixels"], args.seed)
            if "free_pixels" in measured else None)
    fft = measured["fft"] if measured["fft"] != "auto" else ("complex" if "GPS" in repr(op) else "real")
    physics = FourierMagnitude(m, device=args.device, fft=fft, free=free)
    ds = study.reconstruct(physics, op, range(runs), seed=args.seed, shrinkwrap=measured.get("shrinkwrap"))
    err = ds["error"].values
    summary: dict[str, Any] = {"schedule": ds.attrs.get("schedule", repr(op)), "runs": runs,
                               "iterations": op.iterations, "fft": fft, "best_error": float(err.min()),
                               "mean_error": float(err.mean())}
    score = ds["free_llk"].values if "free_llk" in ds else err
    chosen = crossvalidation.select(score, select)
    full = np.zeros((runs, m.size, m.size))
    full[:, ds["y"].values[0]:ds["y"].values[-1] + 1, ds["x"].values[0]:ds["x"].values[-1] + 1] = \
        ds["reconstruction"].values
    import torch

    freq, curve = resolution.prtf(torch.as_tensor(full[chosen]))
    summary["selected_runs"] = [int(r) for r in chosen]
    summary["prtf_mean"] = float(curve.mean())
    if "free_llk" in ds:
        summary["best_free_llk"] = float(score.min())
    if args.out is not None and args.out.suffix.lower() == ".cxi":
        errors = {"fourier_error": err, **({"free_llk": score} if "free_llk" in ds else {})}
        cxi.write(args.out, m, full, errors, attrs={"schedule": summary["schedule"]})
        summary["out"] = str(args.out)
        args.out = None
    return emit(summary, args, ds)


def _measured_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--shrinkwrap", action="store_true", help="update the support by shrink-wrap")
    p.add_argument("--shrinkwrap-threshold", type=float, default=0.2,
                   help="shrink-wrap threshold, a fraction in (0, 1) of the blurred maximum (default 0.2)")
    p.add_argument("--shrinkwrap-every", type=int, default=20, help="iterations between support updates (default 20)")
    p.add_argument("--free-pixels", type=float, default=None,
                   help="fraction in (0, 0.2] of the pixels left out of the fit; runs get a free log-likelihood")
    p.add_argument("--fft", default="auto", choices=["auto", "real", "complex"],
                   help="FFT path: auto = complex for GPS on noisy data, real otherwise (default auto)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``workbench phase`` with its actions."""
    sub = family_command(subparsers, "phase", "phase retrieval: reconstruction histograms over random starts",
                              __doc__.split("\n\n")[0])
    p = sub.add_parser("compare", help="run several algorithms from the same random starts and compare R_F")
    p.add_argument("--phantom", default="vesicle",
                   help="vesicle, nanorice, shepp-logan, or an image file (default vesicle)")
    p.add_argument("--data", default=None, help="measured pattern (.npy/.npz/HDF5, centred) instead of a phantom")
    p.add_argument("--flux", type=float, default=1e9, help="total photons (default 1e9)")
    p.add_argument("--noiseless", action="store_true", help="no Poisson noise")
    p.add_argument("--runs", type=int, default=100, help="random starts per algorithm (default 100)")
    p.add_argument("--algorithms", default="oss,gps", help="comma list of er,hio,raar,oss,gps,gps-r,gps-f,gps-rf")
    p.add_argument("--size", type=int, default=128, help="array size N (default 128)")
    p.add_argument("--oversampling", type=float, default=2.0, help="linear oversampling N/n >= 2 (default 2)")
    p.add_argument("--support", default="object", choices=["object", "box"],
                   help="known support: the object's footprint or its bounding rectangle (default object)")
    p.add_argument("--beamstop", type=float, default=0.0, help="radius of the missing centre in pixels (default 0)")
    p.add_argument("--iterations", type=int, default=2000, help="iterations per run (default 2000)")
    p.add_argument("--chunk", type=int, default=None, help="runs computed together (default: all)")
    p.add_argument("--threshold", type=float, default=None,
                   help="good-minimum R_F threshold (default 1.1 R_F(truth) + 0.005)")
    p.add_argument("--client", default=None,
                   help="run chunks on dask: 'local' (LocalCluster) or a scheduler address")
    p.add_argument("--checkpoint", default=None, help="folder keeping finished chunks (a rerun resumes)")
    p.add_argument("--likelihood", default="gaussian", choices=["gaussian", "poisson"],
                   help="GPS's data fidelity: least squares or Poisson (default gaussian)")
    _measured_arguments(p)
    add_common(p)
    p.set_defaults(func=_compare)
    r = sub.add_parser("reconstruct", help="run one schedule on a measured pattern (.cxi/.npz/.npy/HDF5)")
    r.add_argument("--data", required=True, help="measured pattern (centred): .cxi, .npz, .npy or HDF5")
    r.add_argument("--algorithm", default="(ER()**20 * HIO(beta=0.9)**80)**5",
                   help="schedule, e.g. \"ER()**20 * ShrinkWrap(threshold=0.2) * HIO()**100\" or \"gps(2000)\"")
    r.add_argument("--runs", type=int, default=10, help="random starts (default 10)")
    r.add_argument("--select", type=int, default=None,
                   help="runs kept for the PRTF, lowest free log-likelihood (or R_F) first (default half)")
    _measured_arguments(r)
    add_common(r)
    r.set_defaults(func=_reconstruct)
