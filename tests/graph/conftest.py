"""Shared digits graph for the graph-family tests (built once per session: about a second)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def digits():
    from workbench.graph import data

    return data.load("digits")


@pytest.fixture(scope="session")
def digits_graph(digits):
    from workbench.graph.knn import knn_graph
    from workbench.graph.weights import weight_matrix

    X, _ = digits
    graph = knn_graph(X, 20, method="exact")
    return graph, weight_matrix(graph, 10)
