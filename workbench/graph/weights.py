"""Sparse graph weights on the kNN graph (Shi, Osher, Zhu 2017, sec. 2; Wang et al. 2018, sec. 2).

    w(x, y) = exp(-|x - y|² / σ(x)²)   for y among the k nearest neighbours N(x) of x, else 0,

with σ(x) the distance from x to its ``sigma_neighbor``-th nearest neighbour
(the papers use the 10th), so the kernel width adapts to the local density.
``w`` is not symmetric (y ∈ N(x) does not imply x ∈ N(y), and σ(x) ≠ σ(y));
the papers' equations only ever use it through ``w(x, y) + w(y, x)``, the
symmetrised weight matrix ``W + Wᵀ`` (:func:`symmetrised`), and, in the WNLL
term, through the column sums ``Σ_{y∈S} w(y, x)`` (``Wᵀ`` restricted to S).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .. import validate
from .knn import KNNGraph


def sigma(graph: KNNGraph, sigma_neighbor: int = 10) -> np.ndarray:
    """σ(x): the distance from x to its ``sigma_neighbor``-th nearest neighbour (1-based)."""
    validate.integer("sigma_neighbor", sigma_neighbor, lo=1, hi=graph.k)
    return graph.distances[:, sigma_neighbor - 1].copy()


def weight_matrix(graph: KNNGraph, sigma_neighbor: int = 10) -> sp.csr_matrix:
    """``W[x, y] = w(x, y) = exp(-|x - y|²/σ(x)²)`` for y ∈ N(x), as an (n, n) CSR matrix (not symmetric)."""
    s = sigma(graph, sigma_neighbor)
    if not (s > 0).all():  # excluded by the distinct-points check; kept as the invariant's guard
        raise ValueError("sigma_neighbor: a point has zero distance to that neighbour (duplicate points)")
    w = np.exp(-(graph.distances / s[:, None]) ** 2)
    n, k = graph.indices.shape
    indptr = np.arange(0, n * k + 1, k)
    W = sp.csr_matrix((w.ravel(), graph.indices.ravel(), indptr), shape=(n, n))
    W.sort_indices()
    return W


def symmetrised(W: sp.spmatrix) -> sp.csr_matrix:
    """``W + Wᵀ``: the weight ``w(x, y) + w(y, x)`` of the graph-Laplacian equation."""
    S = (W + W.T).tocsr()
    S.sort_indices()
    return S


def laplacian(W: sp.spmatrix) -> sp.csr_matrix:
    """``L = D - (W + Wᵀ)``, ``D`` the row sums: ``(L u)(x) = Σ_y (w(x,y) + w(y,x))(u(x) - u(y))``."""
    S = symmetrised(W)
    return (sp.diags(np.asarray(S.sum(axis=1)).ravel()) - S).tocsr()
