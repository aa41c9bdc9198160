"""workbench hj: grid envelopes and optimizer comparisons from the shell.

Examples::

    workbench hj envelope --landscape rastrigin --dim 2 --n 512 --t 0.05,0.5 --beta 5 --json
    workbench hj envelope --formula "x**2 + 1.5*sin(2*pi*x)" --dim 1 --t 0:0.5:6 --out env.nc
    workbench hj optimize --landscape deep_relaxation --dim 1 --t 0.05,0.3 --n-starts 10000 --json
    workbench hj quantize --network mlp --bits 1 --quantizer binary --seeds 10 --json
"""

from __future__ import annotations

import argparse

from .. import cliutil as wcli
from .. import results, validate
from .landscapes import LANDSCAPES

MAX_TIMES = 256  # HJ times per command: each is a full envelope of the grid


def _landscape(args: argparse.Namespace):
    from .landscapes import from_formula, get

    if args.formula:
        return from_formula(args.formula, args.dim,
                            -3.0 if args.lo is None else args.lo, 3.0 if args.hi is None else args.hi)
    return get(args.landscape)


def _add_landscape(p: argparse.ArgumentParser) -> None:
    p.add_argument("--landscape", default="rastrigin", help=f"one of {', '.join(LANDSCAPES)} (default rastrigin)")
    p.add_argument("--formula", default=None, help="a formula in x (dim 1) or x, y (dim 2) instead of --landscape")
    p.add_argument("--dim", type=int, default=2, help="dimension (envelope: 1 or 2; optimize: any for separable)")
    p.add_argument("--t", default="0.1", help="HJ time(s): a value, a comma list or START:STOP:NUM")


def _times(text: str) -> list[float]:
    ts = wcli.parse_range("t", text, cap=MAX_TIMES)
    validate.non_empty("t", ts)
    return [float(validate.positive("t", v)) for v in ts]


def _envelope(args: argparse.Namespace) -> int:
    from .smoothing import smooth_landscape, summary

    ds = smooth_landscape(_landscape(args), args.dim, args.n, _times(args.t), args.beta,
                          args.lo, args.hi, device=args.device)
    return wcli.emit(summary(ds), args, ds)


def _optimize(args: argparse.Namespace) -> int:
    from .compare import compare_optimizers
    from .optimizers import Settings

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    settings = Settings(lr=args.lr, beta=args.beta, delta=args.delta, n_samples=args.n_samples)
    ds = compare_optimizers(_landscape(args), args.dim, methods, _times(args.t), args.n_starts, args.n_steps,
                            seed=args.seed, settings=settings, device=args.device)
    frac = ds.basin_fraction.to_pandas()
    mean = ds.final_value.mean("run").to_pandas()
    div = ds.diverged_fraction.to_pandas()
    out = {"landscape": results.parameters(ds)["landscape"], "dim": args.dim,
           "n_starts": args.n_starts, "n_steps": args.n_steps, "t": ds.t.values.tolist(),
           "basin_fraction": {m: frac.loc[m].tolist() for m in frac.index},
           "mean_final_value": {m: mean.loc[m].tolist() for m in mean.index},
           "diverged_fraction": {m: div.loc[m].tolist() for m in div.index},
           "elapsed_s": round(float(ds.attrs["elapsed_s"]), 3), "device": ds.attrs["device"]}
    return wcli.emit(out, args, ds)


def register(subparsers) -> None:
    """Add ``workbench hj envelope``, ``workbench hj optimize`` and ``workbench hj quantize``."""
    sub = wcli.family_command(subparsers, "hj", "Hamilton-Jacobi / local-entropy smoothing and optimizers",
                              __doc__.split("\n\n")[0])

    p = sub.add_parser("envelope", help="Moreau envelope (and local entropy with --beta) on a grid")
    _add_landscape(p)
    p.add_argument("--n", type=int, default=256, help="grid points per axis (default 256)")
    p.add_argument("--beta", type=float, default=None, help="also the viscous solution at this beta")
    p.add_argument("--lo", type=float, default=None, help="box lower end (default: the landscape's)")
    p.add_argument("--hi", type=float, default=None, help="box upper end (default: the landscape's)")
    wcli.add_common(p, seed=False)
    p.set_defaults(func=_envelope)

    p = sub.add_parser("optimize", help="compare GD, proximal point, Entropy-SGD and HJ-prox descent")
    _add_landscape(p)
    p.add_argument("--methods", default="gd,prox,entropy_sgd,hj_prox", help="comma list of methods")
    p.add_argument("--n-starts", type=int, default=1000, help="random starts (default 1000)")
    p.add_argument("--n-steps", type=int, default=50, help="steps per run (default 50)")
    p.add_argument("--lr", type=float, default=3e-3, help="gradient-descent step (default 3e-3)")
    p.add_argument("--beta", type=float, default=10.0, help="Entropy-SGD inverse temperature (default 10)")
    p.add_argument("--delta", type=float, default=0.1, help="HJ-prox smoothing delta (default 0.1)")
    p.add_argument("--n-samples", type=int, default=64, help="HJ-prox samples per point (default 64)")
    p.add_argument("--lo", type=float, default=None, help=argparse.SUPPRESS)
    p.add_argument("--hi", type=float, default=None, help=argparse.SUPPRESS)
    wcli.add_common(p)
    p.set_defaults(func=_optimize)

    from .quantize.cli import add_parser as add_quantize

    add_quantize(sub)
