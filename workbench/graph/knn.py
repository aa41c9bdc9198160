"""The k-nearest-neighbour graph of the points P, exact or approximate.

For every point x the ``k`` nearest other points N(x) and their distances
|x - y| are found by scikit-learn's :class:`~sklearn.neighbors.NearestNeighbors`
(exact) or, for large sets, by ``pynndescent``'s NN-descent (Dong, Charikar, Li,
WWW 2011), an approximate search whose cost grows like n^1.14 instead of the
exact search's n^2 in high dimension. ``method="auto"`` picks the exact search
up to :data:`EXACT_MAX_POINTS` points. Measured on the 2-core CPU (k = 20,
64-D Gaussian blobs, 2 threads, both searches on the same points): exact / NN-descent 0.34 / 0.19 s at 10⁴ points, 1.15 / 1.28 s at
2·10⁴, 10.6 / 3.3 s at 5·10⁴, 94 / 14.5 s at 10⁵. NN-descent's recall of the
exact neighbours falls with the size on such high-dimensional noise (0.95 at
2·10⁴, 0.82 at 10⁵); on data of low intrinsic dimension it stays near 1. Those
NN-descent times exclude its first call in a process, which compiles its numba
kernels: 34 s of CPU time (measured; 2.5 min of wall time on the loaded
machine), every process. Counting that cost once, the exact search stays the
cheaper up to about 6·10⁴ points, hence the switch at 5·10⁴.

:func:`check_points` validates the data first (2-D, finite, no two equal
points, ``k < n``): every check runs before any neighbour search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validate

EXACT_MAX_POINTS = 50_000  # measured crossover, NN-descent compile included (module docstring)
MAX_POINTS = 2_000_000
METHODS = ("auto", "exact", "approximate")


@dataclass(frozen=True)
class KNNGraph:
    """``indices[x, j]`` is x's (j+1)-th nearest other point, ``distances[x, j]`` its distance."""

    indices: np.ndarray  # (n, k) int64
    distances: np.ndarray  # (n, k) float64, ascending along each row
    method: str  # "exact" or "approximate"

    @property
    def n(self) -> int:
        return self.indices.shape[0]

    @property
    def k(self) -> int:
        return self.indices.shape[1]


def check_points(X, k: int) -> np.ndarray:
    """``X`` as a C-contiguous float64 (n, d) array after the checks; ``k`` must be in [1, n - 1]."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(f"points must be a 2-D array (n, d) with n >= 2 and d >= 1, got shape {X.shape}")
    if X.dtype.kind not in "iuf":
        raise TypeError(f"points must be numeric, got dtype {X.dtype}")
    n = X.shape[0]
    validate.integer("points (number)", n, lo=2, hi=MAX_POINTS)
    validate.integer("k", k, lo=1, hi=n - 1)
    validate.finite_array("points", X)
    X = np.ascontiguousarray(X, dtype=np.float64)
    first = duplicate_pair(X)
    if first is not None:
        raise ValueError(f"points must be distinct (zero distances make the weights undefined); "
                         f"points {first[0]} and {first[1]} are equal")
    return X


def duplicate_pair(X: np.ndarray) -> tuple[int, int] | None:
    """The first pair of equal rows of ``X`` (by index), or None; O(n log n) by sorting the rows."""
    order = np.lexsort(X.T[::-1])
    s = X[order]
    same = np.flatnonzero((s[1:] == s[:-1]).all(axis=1))
    if len(same) == 0:
        return None
    i, j = sorted((int(order[same[0]]), int(order[same[0] + 1])))
    return i, j


def knn_graph(X, k: int = 20, *, method: str = "auto", seed: int = 0, n_jobs: int | None = None) -> KNNGraph:
    """The ``k`` nearest other points of every point of ``X`` (self excluded)."""
    validate.choice("method", method, METHODS)
    X = check_points(X, k)
    n = X.shape[0]
    if method == "auto":
        method = "exact" if n <= EXACT_MAX_POINTS else "approximate"
    if method == "exact":
        from sklearn.neighbors import NearestNeighbors

        nn = NearestNeighbors(n_neighbors=k + 1, n_jobs=n_jobs).fit(X)
        dist, idx = nn.kneighbors(X)
    else:
        from pynndescent import NNDescent

        index = NNDescent(X, n_neighbors=k + 1, random_state=seed, n_jobs=n_jobs or -1,
                          compressed=True, verbose=False)
        idx, dist = index.neighbor_graph
    return KNNGraph(*_drop_self(np.asarray(idx), np.asarray(dist, dtype=np.float64)), method=method)


def _drop_self(idx: np.ndarray, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Remove each point from its own neighbour list (k + 1 found -> k kept)."""
    n = idx.shape[0]
    is_self = idx == np.arange(n)[:, None]
    # a point whose own index was not returned (approximate search) loses its farthest neighbour instead
    no_self = ~is_self.any(axis=1)
    is_self[no_self, -1] = True
    keep = ~is_self
    k = idx.shape[1] - 1
    return idx[keep].reshape(n, k).astype(np.int64), dist[keep].reshape(n, k)
