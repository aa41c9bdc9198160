"""Accuracy against the number of labels per class (the seed's label-rate study), as one Dataset.

For every labels-per-class value N the same ``draws`` random label sets
(seeds ``seed + r``) are classified by every method (:func:`.classify.classify`)
on one kNN graph built once; the result has dims ``labels_per_class``,
``classifier``, ``draw`` and the per-N mean ± std (ddof = 1) over the draws.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from .. import results, validate
from . import classify as cl
from .knn import knn_graph

MAX_LABEL_VALUES = 64


def check_labels_list(labels_per_class: Sequence[int]) -> list[int]:
    values = sorted({validate.integer("labels_per_class", v, lo=1, hi=100_000) for v in labels_per_class})
    validate.non_empty("labels_per_class", values)
    if len(values) > MAX_LABEL_VALUES:
        raise ValueError(f"labels_per_class must hold at most {MAX_LABEL_VALUES} values, got {len(values)}")
    return values


def accuracy_vs_labels(X, y, labels_per_class: Sequence[int] = (1, 2, 3, 5, 10, 20, 30, 50), *,
                       methods: Sequence[str] | str = cl.METHODS, draws: int = 20, k: int = 20,
                       sigma_neighbor: int = 10, seed: int = 0, search: str = "auto", data_name: str = "",
                       callback: Callable[[int, xr.Dataset, float], None] | None = None,
                       cancel: threading.Event | None = None) -> xr.Dataset:
    """The label-rate study (module docstring); ``callback(N, dataset_of_N, fraction_done)`` after each N.

    With ``cancel`` set the finished values of N are returned.
    """
    values = check_labels_list(labels_per_class)
    X, y, _, methods, draws = cl.check_run(X, y, values[-1], draws, k, sigma_neighbor, methods)
    parts = []
    with results.timer() as clock:
        graph = knn_graph(X, k, method=search, seed=seed)
        for i, n_labels in enumerate(values):
            if cancel is not None and cancel.is_set():
                break
            ds = cl.classify(X, y, n_labels, methods=methods, draws=draws, k=k, sigma_neighbor=sigma_neighbor,
                             seed=seed, graph=graph, data_name=data_name)
            parts.append(ds[["accuracy", "residual", "iterations", "seconds"]]
                         .expand_dims(labels_per_class=[n_labels]))
            if callback is not None:
                callback(n_labels, ds, (i + 1) / len(values))
    if not parts:
        raise InterruptedError("study cancelled before its first value of labels_per_class")
    out = xr.concat(parts, dim="labels_per_class")
    ddof = 1 if draws > 1 else 0
    out["accuracy_mean"] = out.accuracy.mean("draw")
    out["accuracy_std"] = out.accuracy.std("draw", ddof=ddof)
    out["accuracy_mean"].attrs = {"long_name": "mean accuracy over draws", "units": "1"}
    out["accuracy_std"].attrs = {"long_name": "std of accuracy over draws (ddof=1)", "units": "1"}
    out.labels_per_class.attrs = {"long_name": "labels per class"}
    params = {"data": data_name, "labels_per_class": values, "methods": methods, "draws": draws, "k": k,
              "sigma_neighbor": sigma_neighbor, "search": search, "n_points": int(X.shape[0])}
    return results.stamp(out, params, kind="graph.accuracy_vs_labels", seed=seed, elapsed=clock["elapsed"],
                         graph_search=graph.method, complete=int(len(parts) == len(values)))


def table(ds: xr.Dataset) -> Any:
    """A pandas table: rows labels per class, columns ``method`` as 'mean ± std' percentages."""
    import pandas as pd

    rows = {}
    for n in ds.labels_per_class.values:
        rows[int(n)] = {str(m): f"{100 * float(ds.accuracy_mean.sel(labels_per_class=n, classifier=m)):.2f} ± "
                                f"{100 * float(ds.accuracy_std.sel(labels_per_class=n, classifier=m)):.2f}"
                        for m in ds.classifier.values}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("labels per class")


def summary(ds: xr.Dataset) -> dict[str, Any]:
    """``{method: {"labels_per_class": [...], "mean": [...], "std": [...]}}``."""
    lpc = [int(v) for v in ds.labels_per_class.values]
    return {str(m): {"labels_per_class": lpc,
                     "mean": [float(v) for v in ds.accuracy_mean.sel(classifier=m).values],
                     "std": [float(v) for v in ds.accuracy_std.sel(classifier=m).values]}
            for m in ds.classifier.values}
