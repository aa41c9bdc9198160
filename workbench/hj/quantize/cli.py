"""``workbench hj quantize``: float / BinaryConnect / BinaryRelax on the digits networks.

Example::

    workbench hj quantize --network mlp --bits 1 --quantizer binary --methods float,binaryconnect,binaryrelax \\
        --seeds 10 --epochs 30 --json --out binary.nc

``--json`` prints one object keyed by method, each with ``mean`` and ``std`` (over
seeds) of the final test accuracy and ``on_grid_fraction`` (share of the iterate's
quantized weights exactly on Q at the end).
"""

from __future__ import annotations

import argparse

from ... import cli as wcli
from .nets import NETWORKS
from .sets import BITS, QUANTIZERS
from .train import METHODS, check


def _quantize(args: argparse.Namespace) -> int:
    from .train import train

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    kw = dict(network=args.network, quantizer=args.quantizer, bits=args.bits, methods=methods, seeds=args.seeds,
              epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, lambda0=args.lambda0, rho=args.rho,
              phase_switch=args.phase_switch)
    check(**kw)  # every bound, before any training
    ds = train(**kw, device=args.device)
    last = ds.isel(epoch=-1)
    out = {}
    for m in ds.method.values:
        acc = last.test_accuracy.sel({"method": m})
        out[str(m)] = {"mean": float(acc.mean()), "std": float(acc.std(ddof=1)) if acc.size > 1 else 0.0,
                       "on_grid_fraction": float(last.on_grid_fraction.sel({"method": m}).mean())}
    return wcli.emit(out, args, ds)


def add_parser(sub) -> None:
    """Add ``quantize`` to the ``workbench hj`` actions."""
    p = sub.add_parser("quantize", help="train quantized networks: float, BinaryConnect, BinaryRelax over seeds",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("--network", default="mlp", help=f"one of {', '.join(NETWORKS)} (default mlp)")
    p.add_argument("--bits", type=int, default=1, help=f"bits per weight: {', '.join(map(str, BITS))} (default 1)")
    p.add_argument("--quantizer", default="binary", help=f"one of {', '.join(QUANTIZERS)} (default binary)")
    p.add_argument("--methods", default=",".join(METHODS), help="comma list (default float,binaryconnect,binaryrelax)")
    p.add_argument("--seeds", type=int, default=4, help="number of seeds trained together, 1-256 (default 4)")
    p.add_argument("--epochs", type=int, default=30, help="epochs, 1-1000 (default 30)")
    p.add_argument("--lambda0", type=float, default=1.0, help="initial lambda > 0 (default 1)")
    p.add_argument("--rho", type=float, default=1.02, help="lambda growth per step, 1-10 (default 1.02)")
    p.add_argument("--phase-switch", type=int, default=None,
                   help="first Phase-II epoch, 0..epochs (default 2/3 of the epochs)")
    p.add_argument("--lr", type=float, default=0.01, help="Adam learning rate in (0, 1] (default 0.01)")
    p.add_argument("--batch-size", type=int, default=64, help="mini-batch size, 1-1024 (default 64)")
    wcli.add_common(p, seed=False)
    p.set_defaults(func=_quantize)
