"""The kNN graph: self excluded, sorted distances, exact against NN-descent (opt-in: it compiles for minutes)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from workbench.graph.knn import EXACT_MAX_POINTS, knn_graph


def test_exact_graph_excludes_self_and_sorts(digits_graph, digits):
    graph, _ = digits_graph
    X, _ = digits
    n = len(X)
    assert graph.method == "exact" and graph.indices.shape == (n, 20) and n <= EXACT_MAX_POINTS
    assert (graph.indices != np.arange(n)[:, None]).all()
    assert (np.diff(graph.distances, axis=1) >= 0).all()
    i = 17  # brute force for one point
    d = np.linalg.norm(X - X[i], axis=1)
    d[i] = np.inf
    np.testing.assert_allclose(graph.distances[i], np.sort(d)[:20], rtol=1e-12)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("WORKBENCH_SLOW"), reason="NN-descent compiles its numba kernels "
                    "(34 s CPU, minutes on a loaded machine); set WORKBENCH_SLOW=1")
def test_nn_descent_recovers_the_exact_neighbours(digits_graph, digits):
    exact, _ = digits_graph
    X, _ = digits
    approx = knn_graph(X, 20, method="approximate")
    assert approx.method == "approximate" and (approx.indices != np.arange(len(X))[:, None]).all()
    recall = np.mean([len(np.intersect1d(a, e)) / 20 for a, e in zip(approx.indices, exact.indices)])
    assert recall > 0.98  # measured 0.998 on digits
