"""``workbench phase ...``: phase-retrieval studies from the shell.

``workbench phase compare --phantom vesicle --flux 1e8 --runs 100 --algorithms oss,gps --size 128``
runs every algorithm from the same random starts and prints (``--json``) one
object keyed by algorithm with ``mean``, ``std``, ``min``, ``max`` of the
final ``R_F`` and ``good_fraction``; ``--out`` writes every run's final
errors, the convergence histories and the best reconstructions (netCDF).
``--data FILE`` reconstructs a measured pattern (.npy/.npz/HDF5) instead.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from .. import validate
from ..cliutil import add_common, emit


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


def _compare(args: argparse.Namespace) -> int:
    from . import study

    names = _algorithms(args.algorithms)
    runs = validate.integer("runs", args.runs, lo=1, hi=study.MAX_RUNS)
    iterations = validate.integer("iterations", args.iterations, lo=1, hi=10_000_000)
    validate.number("flux", args.flux, lo=0, hi=1e15, lo_open=True)
    if args.chunk is not None:
        validate.integer("chunk", args.chunk, lo=1)
    spec = measurement_spec(args)
    if args.client or args.checkpoint:
        ds = study.compare_sweep(spec, names, runs=runs, iterations=iterations, seed=args.seed, device=args.device,
                                 chunk=args.chunk or 10, client=args.client, checkpoint=args.checkpoint)
        if args.threshold is not None:
            ds["threshold"] = validate.positive("threshold", args.threshold)
    else:
        ds = study.compare(study.load_measurement(spec), names, runs=runs, iterations=iterations, seed=args.seed,
                           device=args.device, chunk=args.chunk, threshold=args.threshold)
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


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``workbench phase`` with its actions."""
    parser = subparsers.add_parser("phase", help="phase retrieval: reconstruction histograms over random starts",
                                   description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
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
    add_common(p)
    p.set_defaults(func=_compare)
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
