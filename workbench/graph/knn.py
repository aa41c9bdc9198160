"""The k-nearest-neighbour graph of the points P, exact or approximate.

For every point x the ``k`` nearest other points N(x) and their distances
|x - y| are found by scikit-learn's :class:`~sklearn.neighbors.NearestNeighbors`
(exact) or, for large sets, by faiss's inverted-file search (IVF-Flat; Jégou,
Douze, Schmid, IEEE TPAMI 2011; Johnson, Douze, Jégou, IEEE Trans. Big Data
2019): k-means splits P into :func:`n_cells` = 4√n cells and each point is
compared, exactly, with the points of its :data:`PROBED_CELLS` nearest cells,
so the cost grows like n^1.5 instead of the exact search's n². The distances
of the neighbours found are then recomputed in float64 (faiss compares in
float32). ``method="auto"`` picks the exact search up to
:data:`EXACT_MAX_POINTS` points. Measured on the 2-core CPU (k = 20, the
benchmark's 32-D ``synthetic`` data, 2 threads, process CPU time, load 7):
exact / IVF 0.46 / 0.60 s at 10⁴ points, 1.64 / 1.01 s at 2·10⁴, 9.6 / 2.8 s
at 5·10⁴; IVF 8.0 s at 10⁵ (exact about 46 s, from 10⁴ queries against
the 10⁵ points). The recall of the exact neighbours is 0.9999 at 10⁴, 0.9994
at 5·10⁴, 0.9989 at 10⁵ and 0.9989 on digits. No compilation at run time
(``pynndescent``'s NN-descent, used before, compiled its numba kernels on the
first call of every process: 34 s of CPU time; its whole first call at 10⁵
points took 68 s of CPU time, 115 s of wall time at load 1-4). The search is
deterministic for a given ``seed`` (the k-means seed) and thread count.

:func:`check_points` validates the data first (2-D, finite, no two equal
points, ``k < n``): every check runs before any neighbour search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validate

EXACT_MAX_POINTS = 15_000  # measured crossover between 10⁴ and 2·10⁴ (module docstring)
PROBED_CELLS = 32  # cells each query searches (module docstring: the recall measured with it)
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
        idx, dist = _distances(X, _inverted_file_search(X, k + 1, seed=seed, n_jobs=n_jobs))
    return KNNGraph(*_drop_self(np.asarray(idx), np.asarray(dist, dtype=np.float64)), method=method)


def n_cells(n: int) -> int:
    """The inverted file's number of k-means cells: 4 √n, at most n / 39 (faiss's least points per cell)."""
    return int(max(1, min(round(4 * np.sqrt(n)), n // 39)))


def _inverted_file_search(X: np.ndarray, m: int, *, seed: int, n_jobs: int | None) -> np.ndarray:
    """Indices of the ``m`` nearest points of every point (itself included) by faiss's IVF-Flat search.

    The points are split into :func:`n_cells` k-means cells (seeded by ``seed``); each query is compared
    exactly (float32) with the points of its :data:`PROBED_CELLS` nearest cells.
    """
    import faiss

    threads = faiss.omp_get_max_threads()
    if n_jobs is not None and n_jobs > 0:
        faiss.omp_set_num_threads(n_jobs)
    try:
        Xf = np.ascontiguousarray(X, dtype=np.float32)
        quantizer = faiss.IndexFlatL2(X.shape[1])
        index = faiss.IndexIVFFlat(quantizer, X.shape[1], n_cells(len(X)))
        index.cp.seed = int(seed)
        index.train(Xf)
        index.add(Xf)
        index.nprobe = min(PROBED_CELLS, index.nlist)
        _, idx = index.search(Xf, m)
    finally:
        faiss.omp_set_num_threads(threads)
    short = np.flatnonzero((idx < 0).any(axis=1))  # probed cells held fewer than m points: search exactly
    if len(short):
        from sklearn.neighbors import NearestNeighbors

        idx[short] = NearestNeighbors(n_neighbors=m).fit(X).kneighbors(X[short], return_distance=False)
    return idx.astype(np.int64)


def _distances(X: np.ndarray, idx: np.ndarray, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """|x - y| in float64 for y = X[idx[x, j]], each row re-sorted ascending: (indices, distances)."""
    dist = np.empty(idx.shape)
    for s in range(0, len(X), chunk):
        diff = X[idx[s:s + chunk]] - X[s:s + chunk, None, :]
        dist[s:s + chunk] = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    order = np.argsort(dist, axis=1, kind="stable")
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(dist, order, axis=1)


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
