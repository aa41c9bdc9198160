"""Semi-supervised classification by harmonic extension of one-hot labels, beside the baselines.

For a draw r the labelled set S_r holds ``labels_per_class`` random points of
every class; the labels are one-hot, g_c(x) = 1 if x is of class c, and the
GL or WNLL extension u_c (:mod:`.laplace`) is computed for all classes c and
all draws in one batched solve; the prediction is argmax_c u_c(x) (Shi, Osher,
Zhu 2017, sec. 5; Wang et al. 2018, sec. 2). Accuracy is measured on the
unlabelled points P∖S_r. The graph (kNN, weights) does not depend on the
labels: it is built once for every draw and method.

All checks (methods, labels per class against the class sizes, draws, k
against n, finite and distinct points) run before the graph is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from .. import results, validate
from . import baselines, laplace
from .knn import METHODS as SEARCHES
from .knn import check_points, knn_graph
from .weights import weight_matrix

METHODS = (*laplace.METHODS, *baselines.BASELINES)
MAX_DRAWS = 1000


def check_methods(methods: Sequence[str] | str) -> list[str]:
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    methods = list(dict.fromkeys(methods))
    validate.non_empty("methods", methods)
    for m in methods:
        validate.choice("methods", m, METHODS)
    return methods


def check_labels(y, labels_per_class: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer labels of the n points and their classes; every class must have ``labels_per_class`` + 1 points."""
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"labels must have one entry per point, shape ({n},); got {y.shape}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got dtype {y.dtype}")
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"labels must hold at least 2 classes, got {len(classes)}")
    labels_per_class = validate.integer("labels_per_class", labels_per_class, lo=1, hi=n)
    smallest = int(counts.min())
    if labels_per_class >= smallest:
        raise ValueError(f"labels_per_class must be in [1, {smallest - 1}] (class {classes[counts.argmin()]} has "
                         f"{smallest} points and one must stay unlabelled); got {labels_per_class}")
    return y, classes


def label_draws(y: np.ndarray, labels_per_class: int, draws: int, seed: int = 0) -> np.ndarray:
    """(draws, n) boolean masks: draw r labels ``labels_per_class`` random points of each class (seed + r)."""
    masks = np.zeros((draws, len(y)), dtype=bool)
    classes = np.unique(y)
    for r in range(draws):
        rng = np.random.default_rng(seed + r)
        for c in classes:
            members = np.flatnonzero(y == c)
            masks[r, rng.choice(members, labels_per_class, replace=False)] = True
    return masks


def one_hot(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """g_c(x) = 1 if y(x) is class c else 0, shape (n, C)."""
    return (y[:, None] == classes[None, :]).astype(np.float64)


def check_run(X, y, labels_per_class: int, draws: int, k: int, sigma_neighbor: int, methods) -> tuple:
    """Every check of :func:`classify`, before any neighbour search."""
    methods = check_methods(methods)
    draws = validate.integer("draws", draws, lo=1, hi=MAX_DRAWS)
    X = check_points(X, k)
    validate.integer("sigma_neighbor", sigma_neighbor, lo=1, hi=k)
    y, classes = check_labels(y, labels_per_class, X.shape[0])
    return X, y, classes, methods, draws


def classify(X, y, labels_per_class: int = 1, *, methods: Sequence[str] | str = METHODS, draws: int = 20,
             k: int = 20, sigma_neighbor: int = 10, seed: int = 0, tol: float = laplace.DEFAULT_TOL,
             search: str = "auto", graph: Any = None, data_name: str = "") -> xr.Dataset:
    """Accuracy on P∖S of every method for ``draws`` label draws (module docstring).

    Returns a Dataset over ``classifier`` and ``draw`` (``accuracy``; ``residual`` and ``iterations`` of the
    Laplacian solves, NaN for the baselines), with ``prediction`` over ``classifier, draw, point`` and the
    ``labelled`` masks. ``graph``: a prebuilt :class:`~.knn.KNNGraph` of X (k neighbours) to reuse.
    """
    validate.choice("search", search, SEARCHES)
    X, y, classes, methods, draws = check_run(X, y, labels_per_class, draws, k, sigma_neighbor, methods)
    n = X.shape[0]
    with results.timer() as clock:
        masks = label_draws(y, labels_per_class, draws, seed)
        pred = np.zeros((len(methods), draws, n), dtype=np.int64)
        residual = np.full((len(methods), draws), np.nan)
        iterations = np.full((len(methods), draws), -1, dtype=np.int64)
        timing = {}
        W = None
        if any(m in laplace.METHODS for m in methods):
            with results.timer() as t_graph:
                if graph is None or graph.k != k or graph.n != n:
                    graph = knn_graph(X, k, method=search, seed=seed)
                W = weight_matrix(graph, sigma_neighbor)
            timing["graph"] = t_graph["elapsed"]
        g = one_hot(y, classes)
        for i, m in enumerate(methods):
            with results.timer() as t_m:
                if m in laplace.METHODS:
                    ext = laplace.harmonic_extension(W, masks, g, m, tol=tol)
                    pred[i] = classes[ext.u.argmax(axis=2)]
                    residual[i] = ext.residual.max(axis=1)
                    iterations[i] = ext.iterations.max(axis=1)
                else:
                    fit = baselines.predictor(m)
                    for r in range(draws):
                        s = masks[r]
                        pred[i, r] = y
                        pred[i, r, ~s] = fit(X[s], y[s], X[~s], seed=seed + r)
            timing[m] = t_m["elapsed"]
        correct = (pred == y[None, None]) & ~masks[None]
        accuracy = correct.sum(axis=2) / (~masks).sum(axis=1)[None]
    params = {"data": data_name, "labels_per_class": labels_per_class, "methods": methods, "draws": draws,
              "k": k, "sigma_neighbor": sigma_neighbor, "tol": tol, "search": search, "n_points": n}
    return results.dataset(
        {"accuracy": (("classifier", "draw"), accuracy, {"long_name": "accuracy on unlabelled points", "units": "1"}),
         "residual": (("classifier", "draw"), residual,
                      {"long_name": "largest relative residual of the draw's solves", "units": "1"}),
         "iterations": (("classifier", "draw"), iterations, {"long_name": "CG iterations (largest over classes)"}),
         "seconds": (("classifier",), np.array([timing[m] for m in methods]),
                     {"long_name": "time for all draws (graph excluded)", "units": "s"}),
         "prediction": (("classifier", "draw", "point"), pred, {"long_name": "predicted class"}),
         "labelled": (("draw", "point"), masks.astype(np.int8), {"long_name": "labelled point (in S)"}),
         "label": (("point",), y, {"long_name": "true class"})},
        {"classifier": ("classifier", np.array(methods)), "draw": ("draw", np.arange(draws)),
         "point": ("point", np.arange(n))},
        params=params, kind="graph.classify", seed=seed, elapsed=clock["elapsed"],
        graph_seconds=timing.get("graph", 0.0), graph_search=getattr(graph, "method", ""))


def summary(ds: xr.Dataset) -> dict[str, Any]:
    """``{method: {"mean": ..., "std": ...}}`` accuracy over draws (std with ddof = 1 when draws > 1)."""
    ddof = 1 if ds.sizes["draw"] > 1 else 0
    out = {}
    for m in ds.classifier.values:
        acc = ds.accuracy.sel(classifier=m).values
        out[str(m)] = {"mean": float(acc.mean()), "std": float(acc.std(ddof=ddof))}
    return out
