"""workbench graph: semi-supervised classification by GL / WNLL and the WNLL-activated network.

Examples::

    workbench graph classify --data digits --labels-per-class 1 --methods gl,wnll,knn,svm,softmax --draws 20 --json
    workbench graph classify --data digits --labels-per-class 1,2,5,10,20,50 --draws 20 --out study.nc
    workbench graph activation --train-sizes 50,100,200,500,1000 --seeds 3 --json
"""

from __future__ import annotations

import argparse

from .. import cliutil as wcli
from .. import validate


def _int_list(name: str, text: str) -> list[int]:
    values = wcli.parse_range(name, text)
    validate.non_empty(name, values)
    return [validate.integer(name, v, lo=1, hi=10**6) for v in values]


def _classify(args: argparse.Namespace) -> int:
    from . import classify, data, study

    labels = _int_list("labels-per-class", args.labels_per_class)
    if args.n is not None and args.data != "synthetic":
        raise ValueError("n (--n) is only for --data synthetic")
    X, y = data.load(args.data, n=args.n, seed=args.seed)
    common = dict(methods=args.methods, draws=args.draws, k=args.k, sigma_neighbor=args.sigma_neighbor,
                  seed=args.seed, search=args.search, data_name=args.data)
    if len(labels) == 1:
        ds = classify.classify(X, y, labels[0], **common)
        out = classify.summary(ds)
        out = {**out, "labels_per_class": labels[0], "draws": args.draws, "n_points": int(len(y)),
               "max_residual": float(ds.residual.max()) if ds.residual.notnull().any() else None,
               "elapsed_s": round(float(ds.attrs["elapsed_s"]), 3)}
        return wcli.emit(out, args, ds.drop_vars("prediction"))
    ds = study.accuracy_vs_labels(X, y, labels, **common)
    out = {**study.summary(ds), "draws": args.draws, "n_points": int(len(y)),
           "elapsed_s": round(float(ds.attrs["elapsed_s"]), 3)}
    return wcli.emit(out, args, ds)


def _activation(args: argparse.Namespace) -> int:
    from .activation import degradation_study, summary

    sizes = _int_list("train-sizes", args.train_sizes)
    ds = degradation_study(sizes, seeds=args.seeds, epochs=args.epochs, seed=args.seed, device=args.device)
    return wcli.emit(summary(ds), args, ds)


def register(subparsers) -> None:
    """Add ``workbench graph classify`` and ``workbench graph activation``."""
    from .classify import METHODS
    from .data import DATASETS
    from .knn import METHODS as SEARCHES

    sub = wcli.family_command(subparsers, "graph", "graph Laplacian / WNLL semi-supervised learning",
                              __doc__.split("\n\n")[0])

    p = sub.add_parser("classify", help="accuracy of GL, WNLL and baselines over random label draws")
    p.add_argument("--data", default="digits", choices=DATASETS, help="data set (default digits)")
    p.add_argument("--n", type=int, default=None, help="points of --data synthetic (default 10000)")
    p.add_argument("--labels-per-class", default="1",
                   help="labelled points per class: a value, a comma list or START:STOP:NUM (a study)")
    p.add_argument("--methods", default=",".join(METHODS), help=f"comma list of {', '.join(METHODS)}")
    p.add_argument("--draws", type=int, default=20, help="random label draws (default 20)")
    p.add_argument("--k", type=int, default=20, help="nearest neighbours of the graph (default 20)")
    p.add_argument("--sigma-neighbor", type=int, default=10,
                   help="sigma(x) = distance to this neighbour (default 10)")
    p.add_argument("--search", default="auto", choices=SEARCHES, help="kNN search (default auto)")
    wcli.add_common(p)
    p.set_defaults(func=_classify)

    p = sub.add_parser("activation", help="digits MLP with softmax vs WNLL output activation, by training size")
    p.add_argument("--train-sizes", default="50,100,200,500,1000", help="training-set sizes (comma list)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per size (default 3)")
    p.add_argument("--epochs", type=int, default=200, help="full-batch epochs of each training stage")
    wcli.add_common(p)
    p.set_defaults(func=_activation)
