"""HJ-prox against exact proxes: soft thresholding, the quadratic, its n -> infinity limit."""

import math

import pytest
import torch

from workbench.hj.hj_prox import hj_prox, hj_prox_abs_exact, soft_threshold


def l1(y):
    return y.abs().sum(-1)


def test_closed_form_limit_of_l1_tends_to_soft_thresholding_like_sqrt_delta_t():
    x = torch.linspace(-1, 1, 401, dtype=torch.float64)
    t = 0.2
    biases = []
    for delta in (1.0, 0.1, 0.01, 0.001):
        lim = hj_prox_abs_exact(x, t, delta)
        bias = (lim - soft_threshold(x, t)).abs()
        # documented bound: the smoothing bias is at most sqrt(delta t) (largest at |x| ~ t)
        assert bias.max() <= math.sqrt(delta * t)
        sd = math.sqrt(delta * t)
        outside = x.abs() > t + 8 * sd  # beyond the kink: exponentially small bias
        if outside.any():
            assert bias[outside].max() <= 1e-9
        dead = x.abs() < t - 8 * sd  # inside the dead zone the bias is O(delta)
        if dead.any():
            assert bias[dead].max() <= 2 * delta
        biases.append(bias.max().item())
    assert all(b2 < b1 for b1, b2 in zip(biases, biases[1:]))


def test_closed_form_limit_matches_quadrature():
    # independent check of hj_prox_abs_exact by brute-force quadrature of the two integrals
    x, t, delta = torch.tensor([-0.7, 0.05, 0.3, 1.2], dtype=torch.float64), 0.4, 0.2
    s = math.sqrt(delta * t)
    y = x[:, None] + torch.linspace(-12 * s, 12 * s, 200001, dtype=torch.float64)[None]
    w = torch.exp(-((y - x[:, None]) ** 2) / (2 * s * s) - y.abs() / delta)
    quad = (w * y).sum(1) / w.sum(1)
    torch.testing.assert_close(hj_prox_abs_exact(x, t, delta), quad, rtol=0, atol=1e-9)


@pytest.mark.parametrize("d, delta", [(1, 1.0), (1, 0.1), (10, 1.0), (10, 0.3)])
def test_sampling_error_is_within_five_sigma_of_the_limit(d, delta):
    t = 0.1
    x = torch.linspace(-1, 1, 21, dtype=torch.float64)[:, None].repeat(1, d)
    res = hj_prox(l1, x, t, delta, n_samples=20_000, seed=3)
    lim = hj_prox_abs_exact(x, t, delta)
    assert res.ess.min() > 100  # regime where the estimate is reliable (d t / delta <= ~3)
    # self-normalised importance sampling: per-coordinate std about sqrt(delta t / ESS);
    # 5 sigma over 21 x d coordinates keeps the false-failure rate negligible
    sigma = torch.sqrt(delta * t / res.ess)[:, None]
    assert ((res.prox - lim).abs() <= 5 * sigma).all()
    # and hence close to the true prox: bias bound + sampling bound
    assert ((res.prox - soft_threshold(x, t)).abs() <= math.sqrt(delta * t) + 5 * sigma).all()


def test_collapse_of_importance_sampling_is_visible_in_ess():
    # d t / delta = 100: the prox is 10 sd away per coordinate in 10-D; ESS ~ 1
    x = torch.full((8, 10), 2.0, dtype=torch.float64)
    res = hj_prox(l1, x, 1.0, 0.1, n_samples=2000, seed=0)
    assert res.ess.max() < 5 and res.ess.mean() < 2
    assert (res.prox - soft_threshold(x, 1.0)).abs().max() > 0.3  # far from the prox


def test_quadratic_is_unbiased_prox_and_envelope_exact_in_expectation():
    # f = |y|^2/2: prox = x/(1+t) exactly for every delta, and
    # u_delta = |x|^2/(2(1+t)) + (delta d / 2) log(1 + t)
    d, t, delta = 3, 0.5, 0.2
    x = torch.randn(50, d, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    res = hj_prox(lambda y: 0.5 * (y ** 2).sum(-1), x, t, delta, n_samples=20_000, seed=2)
    sigma = torch.sqrt(delta * t / res.ess)[:, None]
    assert ((res.prox - x / (1 + t)).abs() <= 5 * sigma).all()
    env = (x ** 2).sum(-1) / (2 * (1 + t)) + delta * d / 2 * math.log(1 + t)
    # log-mean-exp of 2e4 samples: relative sd of the mean about sqrt(n/ESS - 1)/sqrt(n)
    tol = 5 * delta * torch.sqrt(1 / res.ess)
    assert ((res.envelope - env).abs() <= tol + 1e-12).all()


def test_stabilised_weights_survive_where_the_literal_formula_underflows():
    # f / delta ~ 1e4 >> 88: exp underflows to 0/0 in float32 in the literal formula
    x = torch.full((6, 2), 0.7)
    f = lambda y: 1000.0 + 0.5 * (y ** 2).sum(-1)  # noqa: E731
    naive = hj_prox(f, x, 0.5, 0.1, n_samples=4000, seed=0, stabilised=False)
    assert torch.isnan(naive.prox).all()
    res = hj_prox(f, x, 0.5, 0.1, n_samples=4000, seed=0)
    assert res.prox.dtype == torch.float32 and torch.isfinite(res.prox).all()
    sigma = torch.sqrt(0.1 * 0.5 / res.ess)[:, None]
    assert ((res.prox - x / 1.5).abs() <= 5 * sigma).all()
    assert (res.alpha == 1).all()


def test_alpha_halves_when_weights_are_not_finite():
    calls = []

    def f(y):  # infinite until the sampling variance delta t / alpha exceeds 0.4
        calls.append(1)
        far = (y.abs() > 1.5).any(-1)
        return torch.where(far, torch.zeros(()), torch.full((), float("inf"))).to(y.dtype)

    res = hj_prox(f, torch.zeros(1, 2, dtype=torch.float64), 0.1, 0.1, n_samples=50, seed=0)
    assert torch.isfinite(res.prox).all() and res.alpha.item() < 1
    assert len(calls) >= 2


def test_batch_shape_seed_reproducible_and_single_point():
    x = torch.zeros(4, 5)
    a = hj_prox(l1, x, 0.1, 0.1, 64, seed=7)
    b = hj_prox(l1, x, 0.1, 0.1, 64, seed=7)
    assert a.prox.shape == (4, 5) and a.envelope.shape == (4,)
    torch.testing.assert_close(a.prox, b.prox, rtol=0, atol=0)
    single = hj_prox(l1, torch.zeros(5), 0.1, 0.1, 64, seed=7)
    assert single.prox.shape == (5,)


@pytest.mark.parametrize("kwargs, message", [
    (dict(t=0), r"t must be in \(0, inf\]"),
    (dict(delta=-1), r"delta must be in"),
    (dict(n_samples=0), r"n_samples must be in \[1"),
    (dict(x=torch.zeros(2, 2, 2)), "x must have shape"),
    (dict(x=torch.tensor([[float("nan")]])), "x must hold only finite"),
])
def test_bad_input(kwargs, message):
    args = dict(f=l1, x=torch.zeros(2, 3), t=0.1, delta=0.1, n_samples=10)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        hj_prox(**args)
