"""GL and WNLL against closed-form solutions and invariants."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from workbench.graph.classify import label_draws, one_hot
from workbench.graph.laplace import harmonic_extension, wnll_factor
from workbench.graph.weights import laplacian, symmetrised


def path_weights(n: int) -> sp.csr_matrix:
    i = np.arange(n - 1)
    return sp.csr_matrix((np.ones(2 * (n - 1)), (np.r_[i, i + 1], np.r_[i + 1, i])), shape=(n, n))


def test_gl_on_a_path_with_labelled_ends_is_linear():
    n = 41
    labelled = np.zeros(n, bool)
    labelled[[0, -1]] = True
    g = np.zeros(n)
    g[0], g[-1] = -1.0, 3.0
    ext = harmonic_extension(path_weights(n), labelled, g, "gl", tol=1e-13)
    exact = -1.0 + 4.0 * np.arange(n) / (n - 1)
    # condition number of the path Laplacian ~ n² = 1.6e3: error <= cond * tol * |u| ~ 1e-9
    np.testing.assert_allclose(ext.u[0, :, 0], exact, atol=1e-9)
    assert ext.residual.max() <= 1e-13


@pytest.mark.parametrize("method", ["gl", "wnll"])
def test_complete_graph_equal_weights_gives_the_mean_of_the_labels(method):
    n = 12
    W = sp.csr_matrix(np.ones((n, n)) - np.eye(n))
    labelled = np.zeros(n, bool)
    labelled[[1, 4, 7]] = True
    g = np.zeros((n, 2))
    g[[1, 4, 7], 0] = [0.0, 1.0, 5.0]
    g[[1, 4, 7], 1] = [2.0, -2.0, 3.0]
    ext = harmonic_extension(W, labelled, g, method, tol=1e-13)
    free = ~labelled
    # well-conditioned (all eigenvalues of L_UU in [3·2, 12·2]): 1e-13 relative residual -> 1e-12 error
    np.testing.assert_allclose(ext.u[0, free], np.broadcast_to([2.0, 1.0], (free.sum(), 2)), atol=1e-12)
    np.testing.assert_array_equal(ext.u[0, labelled], g[labelled])


def test_wnll_with_every_point_labelled_returns_g(digits_graph, digits):
    _, W = digits_graph
    X, y = digits
    g = one_hot(y, np.unique(y))
    ext = harmonic_extension(W, np.ones(len(y), bool), g, "wnll")
    assert wnll_factor(len(y), len(y)) == 0.0
    np.testing.assert_array_equal(ext.u[0], g)
    assert ext.iterations.max() == 0


def test_graph_is_symmetric_and_laplacian_psd(digits):
    from workbench.graph.knn import knn_graph
    from workbench.graph.weights import weight_matrix

    X, _ = digits
    W = weight_matrix(knn_graph(X[:600], 20), 10)  # 600 points: a dense eigendecomposition in 0.1 s
    Ws = symmetrised(W)
    assert abs(Ws - Ws.T).max() == 0.0
    assert W.min() >= 0 and W.max() <= 1.0
    L = laplacian(W)
    np.testing.assert_allclose(L @ np.ones(L.shape[0]), 0.0, atol=1e-12)  # constants in the kernel
    eig = np.linalg.eigvalsh(L.toarray())
    # PSD up to rounding: eigvalsh errors are ~ n eps |L| ≈ 600 * 2e-16 * 60 ≈ 1e-11
    assert eig.min() > -1e-9 * eig.max()
    assert eig[1] > 1e-8  # this kNN graph is connected: one zero eigenvalue


@pytest.mark.parametrize("method", ["gl", "wnll"])
def test_residuals_below_tolerance_and_solution_matches_a_direct_solve(method, digits_graph, digits):
    _, W = digits_graph
    X, y = digits
    classes = np.unique(y)
    mask = label_draws(y, 2, 3, seed=5)
    tol = 1e-8
    ext = harmonic_extension(W, mask, one_hot(y, classes), method, tol=tol)
    assert ext.residual.max() <= tol
    # an independent solve of draw 0 (sparse LU), straight from the papers' equation
    s, u = mask[0], ~mask[0]
    Ws = symmetrised(W)
    L = (sp.diags(np.asarray(Ws.sum(1)).ravel()) - Ws).tocsr()
    A = L[u][:, u]
    G = one_hot(y, classes)[s]
    b = Ws[u][:, s] @ G
    if method == "wnll":
        mu = len(y) / s.sum() - 1
        A = A + sp.diags(mu * np.asarray(W[s][:, u].sum(0)).ravel())
        b = b + mu * (W[s][:, u].T @ G)
    direct = spla.splu(A.tocsc()).solve(np.asarray(b))
    # |error| <= cond(A) * tol * |u|; cond of the Jacobi-scaled system ~1e3 here, |u| <= 1
    np.testing.assert_allclose(ext.u[0, u], direct, atol=1e-4)


@pytest.mark.parametrize("method", ["gl", "wnll"])
def test_batch_of_draws_equals_draws_one_by_one(method, digits_graph, digits):
    _, W = digits_graph
    X, y = digits
    g = one_hot(y, np.unique(y))
    mask = label_draws(y, 1, 4, seed=11)
    batch = harmonic_extension(W, mask, g, method)
    for r in range(4):
        alone = harmonic_extension(W, mask[r], g, method)
        # same operations in the same order per (draw, class): equal to rounding
        np.testing.assert_allclose(batch.u[r], alone.u[0], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(batch.iterations[r], alone.iterations[0])


def test_default_tolerance_does_not_change_predictions(digits_graph, digits):
    _, W = digits_graph
    X, y = digits
    mask = label_draws(y, 1, 2, seed=0)
    g = one_hot(y, np.unique(y))
    for method in ("gl", "wnll"):
        tight = harmonic_extension(W, mask, g, method, tol=1e-10).u.argmax(2)
        default = harmonic_extension(W, mask, g, method).u.argmax(2)
        np.testing.assert_array_equal(default, tight)
