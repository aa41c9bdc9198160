"""Optimizers on landscapes with known iterates, scoping, basins, and the comparison Dataset."""

import math

import numpy as np
import pytest
import torch

from workbench.hj import compare_optimizers, from_formula, get_landscape
from workbench.hj.basins import global_basin_mask
from workbench.hj.landscapes import STYBLINSKI_TANG_MIN, sample
from workbench.hj.optimizers import (GridProx, Settings, entropy_sgd, gradient_descent, hj_prox_descent,
                                     proximal_point)

QUAD = get_landscape("quadratic")  # |x|^2 / 2: prox_{tf}(x) = x / (1 + t)


def test_gradient_descent_on_quadratic_is_geometric():
    x0 = torch.tensor([[1.5, -0.5], [0.2, 0.3]], dtype=torch.float64)
    tr = gradient_descent(QUAD, x0, n_steps=7, lr=0.1, track=2)
    torch.testing.assert_close(tr.final, x0 * 0.9 ** 7, rtol=1e-14, atol=0)
    torch.testing.assert_close(tr.trajectory[:, 3], x0 * 0.9 ** 3, rtol=1e-14, atol=0)


def test_grid_proximal_point_is_backward_euler_on_quadratic():
    prox = GridProx(QUAD, 1, t=0.25, n=4001, dtype=torch.float64)
    h = float(prox.coords[1] - prox.coords[0])
    x0 = torch.tensor([[1.7], [-0.9]], dtype=torch.float64)
    tr = proximal_point(prox, x0, n_steps=10, track=2)
    exact = x0[:, None, :] / 1.25 ** torch.arange(11, dtype=torch.float64)[None, :, None]
    # each step: exact contraction by 1/(1+t) then at most h/2 snapping; errors contract,
    # so the total stays below (h/2) sum_j (1+t)^-j = (h/2)(1+t)/t (plus the snapped start)
    bound = h / 2 * (1.25 / 0.25) + h / 2
    assert (tr.trajectory - exact).abs().max() <= bound


def test_separable_prox_equals_the_full_2d_grid_prox():
    rastrigin = get_landscape("rastrigin")
    same = from_formula("x**2 - 10*cos(2*pi*x) + y**2 - 10*cos(2*pi*y) + 20", 2, -5.12, 5.12)
    a = GridProx(rastrigin, 2, t=0.2, n=257)
    b = GridProx(same, 2, t=0.2, n=257)
    x = torch.rand(500, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 10.24 - 5.12
    # same grid, separable objective: the 2-D discrete argmin is the product of 1-D ones
    torch.testing.assert_close(a(x), b(x), rtol=0, atol=1e-12)


def test_entropy_sgd_without_noise_takes_the_prox_step_and_scoping_increments():
    t, x0 = 0.3, torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    s = Settings(inner_steps=400, inner_lr=0.01, beta=1e14, scoping=0.0)
    tr = entropy_sgd(QUAD, x0, 1, t, s, torch.Generator().manual_seed(0))
    # inner loop converges to argmin f(y) + |y - x|^2/(2t) = x/(1+t); the running mean lags by
    # O(rho^L) with rho = 1 - eta (1 + 1/t) (< 1e-6 here)
    torch.testing.assert_close(tr.final, x0 / (1 + t), rtol=0, atol=1e-6)
    scoped = entropy_sgd(QUAD, x0, 5, t, Settings(scoping=0.1, inner_steps=2),
                         torch.Generator().manual_seed(0))
    expected = (1 / t) * 1.1 ** torch.arange(5, dtype=torch.float64)
    torch.testing.assert_close(scoped.gamma, expected, rtol=1e-14, atol=0)
    assert torch.all(torch.diff(scoped.gamma) > 0)


def test_hj_prox_descent_on_quadratic_is_unbiased():
    x0 = torch.full((200, 2), 1.5, dtype=torch.float64)
    tr = hj_prox_descent(QUAD, x0, 1, 0.5, Settings(delta=0.2, n_samples=4000), seed=0)
    # the quadratic's HJ-prox is exact in expectation; mean of 200 runs, sd sqrt(delta t / n)/sqrt(200)
    sd = math.sqrt(0.2 * 0.5 / 4000) / math.sqrt(200)
    assert (tr.final.mean(0) - 1.5 / 1.5).abs().max() < 5 * sd * 3  # ESS ~ n/3 for this tilt


def test_basin_of_rastrigin_and_styblinski_tang():
    inside = global_basin_mask(get_landscape("rastrigin"), 1, n=20001)
    x = torch.tensor([[0.0], [0.49], [-0.49], [0.51], [-0.51], [3.0]], dtype=torch.float64)
    # the term x^2 - 10 cos(2 pi x) has its first local maxima at |x| = 0.4975
    assert inside(x).tolist() == [True, True, True, False, False, False]
    st = get_landscape("styblinski_tang")
    grid = sample(st, 20001, 1)
    # the published -39.16599 per dimension is rounded from -39.166166 (at x = -2.903534)
    assert abs(float(grid.values.min()) - STYBLINSKI_TANG_MIN) < 2e-4
    x_star = torch.tensor([[-2.903534]], dtype=torch.float64)
    assert abs(float(st(x_star)) - float(grid.values.min())) < 1e-7
    inside = global_basin_mask(st, 3)
    assert inside(torch.tensor([[-2.9, -2.9, -2.9], [-2.9, 2.7, -2.9]], dtype=torch.float64)).tolist() == [True, False]


def test_large_t_proximal_point_reaches_the_global_basin_from_everywhere():
    dr = get_landscape("deep_relaxation")
    ds = compare_optimizers(dr, 1, methods=["gd", "prox"], t=[0.01, 5.0], n_starts=400, n_steps=15, seed=0)
    frac = ds.basin_fraction
    assert float(frac.sel(optimizer="prox", t=5.0)) == 1.0  # t large: prox maps onto the global minimiser
    assert float(frac.sel(optimizer="gd", t=5.0)) < 0.1  # gradient descent stays in the local basins
    assert float(frac.sel(optimizer="prox", t=0.01)) < 0.5
    # the final value of the large-t prox iterates is the grid minimum
    assert float(ds.final_value.sel(optimizer="prox", t=5.0).max()) <= float(sample(dr, 1025, 1).values.min()) + 1e-6


def test_comparison_dataset_layout_and_tracked_start():
    ds = compare_optimizers(get_landscape("rastrigin"), 2, t=[0.05, 0.2], n_starts=64, n_steps=5,
                            starts=[[0.3, -0.2]], track=4, seed=1)
    assert ds.final_x.dims == ("optimizer", "t", "run", "dim") and ds.final_x.shape == (4, 2, 64, 2)
    assert ds.trajectory.shape == (4, 2, 4, 6, 2)
    np.testing.assert_allclose(ds.trajectory.isel(step=0, track=0).sel(optimizer="gd", t=0.05), [0.3, -0.2],
                               rtol=0, atol=1e-6)
    assert np.all((ds.basin_fraction >= 0) & (ds.basin_fraction <= 1))
    np.testing.assert_allclose(ds.basin_fraction, ds.in_basin.mean("run"))
    assert ds.attrs["kind"] == "hj.compare_optimizers" and ds.attrs["seed"] == 1
    gamma = ds.gamma.values
    assert np.all(np.diff(gamma, axis=1) > 0)  # scoping increments


def test_diverging_gradient_descent_is_reported_not_hidden():
    ds = compare_optimizers(QUAD, 1, methods=["gd"], t=[0.1], n_starts=8, n_steps=2000,
                            settings=Settings(lr=3.0))
    assert float(ds.diverged_fraction.sel(optimizer="gd", t=0.1)) == 1.0
    assert np.isnan(ds.final_value.values).all()


@pytest.mark.parametrize("kwargs, message", [
    (dict(methods=["adam"]), "methods must be one of"),
    (dict(t=[0.1, -1]), r"t must be in \(0, inf\]"),
    (dict(n_starts=0), r"n_starts must be in \[1"),
    (dict(dim=3, methods=["prox"], landscape="ackley"), "needs dim <= 2 or a separable"),
    (dict(settings=Settings(beta=0)), "beta must be in"),
])
def test_bad_input(kwargs, message):
    name = kwargs.pop("landscape", "rastrigin")
    with pytest.raises(ValueError, match=message):
        compare_optimizers(get_landscape(name), **{"dim": 2, **kwargs})
