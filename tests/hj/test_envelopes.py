"""Moreau envelope and local entropy on grids: closed forms, invariants, brute force."""


import numpy as np
import pytest
import torch

from workbench.hj import local_entropy, moreau_envelope
from workbench.runtime import have_numba

METHODS = ["numba", "torch"] if have_numba() else ["torch"]


def brute_force(f, spacing, t):
    """min over all grid pairs, O(N^2): the definition of the discrete envelope."""
    coords = np.meshgrid(*[np.arange(n) * h for n, h in zip(f.shape, spacing)], indexing="ij")
    pts = np.stack([c.ravel() for c in coords], axis=1)
    d2 = ((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1)
    return (f.ravel()[None, :] + d2 / (2 * t)).min(axis=1).reshape(f.shape)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [(57,), (23, 31), (7, 9, 11)])
def test_linear_time_envelope_equals_brute_force_on_random_data(method, shape):
    rng = np.random.default_rng(sum(shape))
    f = rng.normal(size=shape) * 3
    spacing = [0.1, 0.07, 0.13][: len(shape)]
    ts = [0.01, 0.2, 5.0]
    u, idx = moreau_envelope(f, spacing, ts, return_argmin=True, method=method)
    assert u.shape == (3, *shape) and idx.shape == (3, *shape, len(shape))
    for k, t in enumerate(ts):
        # float64 throughout: only rounding separates the two (values are O(10))
        np.testing.assert_allclose(u[k], brute_force(f, spacing, t), rtol=0, atol=1e-12)
        # the returned argmin attains the minimum
        coords = np.meshgrid(*[np.arange(n) * h for n, h in zip(shape, spacing)], indexing="ij")
        fi = f[tuple(idx[k][..., a] for a in range(len(shape)))]
        dist2 = sum((c - idx[k][..., a] * spacing[a]) ** 2 for a, c in enumerate(coords))
        np.testing.assert_allclose(fi + dist2 / (2 * t), u[k], rtol=0, atol=1e-12)


def test_numba_and_torch_paths_agree_in_float32():
    rng = np.random.default_rng(1)
    f = torch.tensor(rng.normal(size=(64, 80)), dtype=torch.float32)
    a = moreau_envelope(f, 0.05, 0.3, method="torch")
    b = moreau_envelope(f, 0.05, 0.3, method=METHODS[0])
    assert isinstance(a, torch.Tensor) and a.dtype == torch.float32 and b.dtype == torch.float32
    torch.testing.assert_close(a, b, rtol=0, atol=2e-6)  # float32 rounding of O(1) values


def huber(x, t):
    return np.where(np.abs(x) <= t, x ** 2 / (2 * t), np.abs(x) - t / 2)


@pytest.mark.parametrize("n", [201, 801, 3201])
def test_moreau_of_abs_is_huber_with_grid_error_h2_over_8t(n):
    x = np.linspace(-2, 2, n)
    h = x[1] - x[0]
    t = 0.5
    u = moreau_envelope(np.abs(x), x, t)
    # the discrete minimum over y in the grid overestimates the continuous one by at most
    # h^2/(8t) (the nearest grid point to the continuous minimiser is within h/2)
    err = np.abs(u - huber(x, t)).max()
    assert err <= h ** 2 / (8 * t) + 1e-14


def test_moreau_convergence_under_refinement_is_second_order():
    # smooth f with an off-grid minimiser: u = a (x - c)^2 / (2 (1 + a t)); the discrete
    # minimum misses the continuous one by O(h^2). (A kink off the grid gives O(h).)
    a, c, t = 2.0, 0.123456, 0.37
    errs = []
    for n in (101, 201, 401, 801):
        x = np.linspace(-2, 2, n)
        u = moreau_envelope(0.5 * a * (x - c) ** 2, x, t)
        errs.append(np.abs(u - 0.5 * a * (x - c) ** 2 / (1 + a * t)).max())
    rates = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(rates > 1.7), rates  # h^2 -> rate 2 (up to where the grid falls)


def test_moreau_of_interval_indicator_is_half_squared_distance_over_t():
    x = np.linspace(-3, 3, 601)
    f = np.where(np.abs(x) <= 1, 0.0, np.inf)
    t = 0.25
    u = moreau_envelope(f, x, t)
    dist = np.maximum(np.abs(x) - 1, 0)
    # the interval's end points +-1 are grid points, so the formula is exact on the grid
    np.testing.assert_allclose(u, dist ** 2 / (2 * t), rtol=0, atol=1e-12)


def test_moreau_of_quadratic_and_prox_is_shrinkage_2d():
    n = 401
    x = np.linspace(-2, 2, n)
    h = x[1] - x[0]
    X, Y = np.meshgrid(x, x)  # rows are y
    a = 3.0
    f = 0.5 * a * (X ** 2 + Y ** 2)
    t = 0.2
    u, idx = moreau_envelope(f, (h, h), t, return_argmin=True)
    exact = 0.5 * a / (1 + a * t) * (X ** 2 + Y ** 2)
    # error of the discrete min: at most (1/t + a) h^2 / 8 per axis (curvature of the objective)
    assert np.abs(u - exact).max() <= 2 * (1 / t + a) * h ** 2 / 8 + 1e-12  # the bound is attained
    prox_x = x[idx[..., 1]]
    np.testing.assert_allclose(prox_x, X / (1 + a * t), rtol=0, atol=h / 2 + 1e-12)


def test_moreau_of_concave_functions_closed_forms():
    # REFERENCES: Moreau of -|x| is -|x| - t/2; of -x^2/2 is -x^2/(2(1-t)), t < 1. On a
    # bounded grid the minimiser must stay inside: check the central part only.
    x = np.linspace(-4, 4, 801)
    t = 0.3
    u = moreau_envelope(-np.abs(x), x, t)
    inner = np.abs(x) <= 3
    np.testing.assert_allclose(u[inner], -np.abs(x[inner]) - t / 2, rtol=0, atol=1e-12)
    u = moreau_envelope(-0.5 * x ** 2, x, t)
    inner = np.abs(x) <= 2.5  # minimiser x/(1-t) stays on the grid
    h = x[1] - x[0]
    assert np.abs(u[inner] + x[inner] ** 2 / (2 * (1 - t)))[...].max() <= (1 / t - 1) * h ** 2 / 8 + 1e-12


def test_invariants_below_f_monotone_in_t_same_minimum():
    rng = np.random.default_rng(3)
    f = rng.normal(size=(40, 50)).cumsum(axis=0)
    ts = np.geomspace(1e-3, 10, 12)
    u = moreau_envelope(f, 0.1, ts)
    assert np.all(u <= f[None] + 1e-12)
    assert np.all(np.diff(u, axis=0) <= 1e-12)
    np.testing.assert_allclose(u.reshape(len(ts), -1).min(axis=1), f.min(), rtol=0, atol=1e-12)
    # tiny t: every point is its own minimiser, u = f exactly
    np.testing.assert_allclose(moreau_envelope(f, 0.1, 1e-9), f, rtol=0, atol=0)


def test_local_entropy_of_quadratic_closed_form():
    # f = a x^2 / 2: the heat-kernel integral is Gaussian, so
    # u = a x^2 / (2 (1 + a t)) + log(1 + a t) / (2 beta) per axis
    x = np.linspace(-6, 6, 1201)
    a, t, beta = 2.0, 0.3, 4.0
    u = local_entropy(0.5 * a * x ** 2, x, t, beta)
    exact = 0.5 * a * x ** 2 / (1 + a * t) + np.log(1 + a * t) / (2 * beta)
    inner = np.abs(x) <= 3  # away from the truncation of the integral at the grid's end
    # the Riemann sum of a smooth Gaussian integrand is spectrally accurate
    np.testing.assert_allclose(u[inner], exact[inner], rtol=0, atol=1e-10)


def test_local_entropy_of_quadratic_2d_and_leading_t():
    x = np.linspace(-5, 5, 201)
    X, Y = np.meshgrid(x, x)
    f = 0.5 * (X ** 2 + Y ** 2)
    ts = [0.1, 0.5]
    u = local_entropy(torch.tensor(f), (x, x), ts, beta=2.0)
    assert isinstance(u, torch.Tensor) and u.shape == (2, 201, 201)
    inner = (np.abs(X) <= 2.5) & (np.abs(Y) <= 2.5)
    for k, t in enumerate(ts):
        exact = f / (1 + t) + 2 * np.log(1 + t) / (2 * 2.0)
        np.testing.assert_allclose(u[k].numpy()[inner], exact[inner], rtol=0, atol=1e-9)


def test_local_entropy_tends_to_moreau_as_beta_grows_and_survives_huge_beta_f():
    # On the grid u = m + K - (1/beta) log sum_q exp(-beta (E_q - m)) with m the Moreau envelope
    # (min_q E_q) and K = -(log h - log(2 pi t / beta) / 2) / beta; the sum lies in [1, N], so
    # m + K - log(N)/beta <= u <= m + K: a rigorous bracket that closes as beta -> infinity.
    x = np.linspace(-3, 3, 301)
    h, t, n = x[1] - x[0], 0.1, len(x)
    f = x ** 2 + 1.5 * np.sin(2 * np.pi * x)
    m = moreau_envelope(f, x, t)
    gaps = []
    for beta in (1e1, 1e2, 1e3, 1e4, 1e5):
        u = local_entropy(f.astype(np.float32), x, t, beta).astype(np.float64)  # beta f up to 1e6
        assert np.all(np.isfinite(u))
        k = -(np.log(h) - 0.5 * np.log(2 * np.pi * t / beta)) / beta
        tol = 1e-6 * max(1.0, np.abs(f).max())  # float32 rounding of O(10) values
        assert np.all(u <= m + k + tol) and np.all(u >= m + k - np.log(n) / beta - tol)
        gaps.append(np.abs(u - m).max())
    assert gaps[-1] < 2e-4 and gaps[-1] < gaps[0] / 100


def test_excluded_points_and_outside_grid_are_infinite():
    f = np.array([np.inf, 0.0, np.inf, np.inf])
    u = moreau_envelope(f, 1.0, 0.5)
    np.testing.assert_allclose(u, [1.0, 0.0, 1.0, 4.0])


@pytest.mark.parametrize("call, message", [
    (lambda: moreau_envelope(np.zeros(10), 0.1, 0.0), r"t must be in \(0, inf\]"),
    (lambda: moreau_envelope(np.zeros(10), 0.1, [0.1, -1]), r"t\[1\] must be in"),
    (lambda: moreau_envelope(np.zeros(10), -0.1, 0.1), "spacing must be in"),
    (lambda: moreau_envelope(np.zeros(2), 0.1, 0.1), "at least 3 grid points"),
    (lambda: moreau_envelope(np.array([0, np.nan, 1.0]), 0.1, 0.1), "NaN"),
    (lambda: moreau_envelope(np.full(4, np.inf), 0.1, 0.1), "at least one finite"),
    (lambda: moreau_envelope(np.zeros(4), [0, 1, 3, 3.5], 0.1), "uniform"),
    (lambda: moreau_envelope(np.zeros((4, 4)), [0.1], 0.1), "one entry per axis"),
    (lambda: moreau_envelope(np.zeros(4), 0.1, 0.1, method="fast"), "method must be one of"),
    (lambda: local_entropy(np.zeros(4), 0.1, 0.1, beta=0), r"beta must be in \(0, inf\]"),
    (lambda: local_entropy(np.zeros((3, 3, 3, 3)), 0.1, 0.1), "1 to 3 axes"),
])
def test_bad_input_names_the_parameter(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    rng = np.random.default_rng(0)
    f = torch.tensor(rng.normal(size=(128, 96)))
    cpu = moreau_envelope(f, 0.1, [0.1, 1.0])
    gpu = moreau_envelope(f.cuda(), 0.1, [0.1, 1.0])
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=0, atol=1e-12)
    le_cpu = local_entropy(f, 0.1, 0.5, beta=3.0)
    le_gpu = local_entropy(f.cuda(), 0.1, 0.5, beta=3.0)
    torch.testing.assert_close(le_gpu.cpu(), le_cpu, rtol=0, atol=1e-10)


@pytest.mark.parametrize("beta", [0.5, 50.0, 1e4])
def test_local_entropy_numba_and_torch_paths_agree(beta):
    """The min-plus-shifted CPU kernel and the torch logsumexp path are the same sum."""
    rng = np.random.default_rng(3)
    f = rng.normal(size=(40, 33)) + np.linspace(0, 3, 33)  # rough, anisotropic
    a = local_entropy(f, (0.05, 0.07), [0.05, 0.4], beta=beta, method="numba")
    b = local_entropy(f, (0.05, 0.07), [0.05, 0.4], beta=beta, method="torch")
    assert np.all(np.isfinite(a))
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9 * max(1.0, np.abs(b).max()))
