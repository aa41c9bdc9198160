"""The fused CPU particle kernel: its normals, its sine, its flow maps, and the engine choice.

Tolerances: statistics at 5 standard errors (a false alarm about once in 3.5 million per
check); maps against the torch path (float64) after 50 float32 steps, where rounding of
positions of size ~10 with h·|V| ~ 0.04 accumulates to ~2e-5.
"""

import math

import numba
import numpy as np
import pytest
import torch
from scipy import stats

from workbench.gequation import fused_particles as fp
from workbench.gequation.diffusivity import effective_diffusivity
from workbench.gequation.particle_flows import PARTICLE_FLOWS, get_particle_flow
from workbench.gequation.sde import DETERMINISTIC

N = 2_000_000
Z = 5.0


def test_normals_are_standard_independent_and_gaussian():
    x, y = (v.astype(np.float64) for v in fp.normals(N, 0, 7))
    nxt = fp.normals(N, 1, 7)[0].astype(np.float64)  # the same particles one step later
    se = 1 / math.sqrt(N)
    for v in (x, y):
        assert abs(v.mean()) < Z * se
        assert abs(v.var() - 1) < Z * math.sqrt(2 / N)
        assert abs((v ** 4).mean() - 3) < Z * math.sqrt(96 / N)  # the fourth moment of a normal: 3, variance 96
        assert stats.kstest(v, "norm").pvalue > 1e-4
    for a, b in ((x, y), (x, nxt), (x[:-1], x[1:])):  # across directions, steps and neighbouring particles
        assert abs(np.corrcoef(a, b)[0, 1]) < Z * se
    assert np.abs(x).max() < 6.0  # u >= 2^-25 bounds |xi| by sqrt(2·25·ln 2) = 5.89


def test_normals_depend_on_the_seed():
    a, b = fp.normals(1000, 0, 1)[0], fp.normals(1000, 0, 2)[0]
    assert not np.array_equal(a, b) and np.array_equal(a, fp.normals(1000, 0, 1)[0])


@numba.njit
def _sines(z):
    out = np.empty_like(z)
    for i in range(z.size):
        out[i] = fp.fsin(z[i])
    return out


def test_polynomial_sine_is_accurate_to_float32_rounding():
    z = np.linspace(-1000, 1000, 2_000_001).astype(np.float32)
    err = np.abs(_sines(z).astype(np.float64) - np.sin(z.astype(np.float64)))
    # the reduction of |z| <= 1000 costs a few float32 ulps of 2π q; the polynomial 4e-8
    assert err.max() < 5e-7


def _setup(flow_name, integrator, P=2, R=3, n=1000, K=50, h=0.02, seed=0):
    flow = get_particle_flow(flow_name)
    A, B, om = (torch.tensor(v).reshape(-1, 1, 1) for v in ([1.0, 2.0], [0.5, 1.0], [1.0, 2.0]))
    gen = torch.Generator().manual_seed(seed)
    x0, y0 = torch.rand(R, n, generator=gen) * 6.28, torch.rand(R, n, generator=gen) * 6.28
    theta = torch.randn(K, P, R, 1, generator=gen) if flow.stochastic else None
    tables = fp.wave_tables(flow, fp.step_times(integrator, 0, K, h), A, B, om, theta, R)
    return flow, (A, B, om), x0, y0, theta, tables


@pytest.mark.parametrize("integrator", ["euler", "splitting"])
@pytest.mark.parametrize("flow_name", sorted(PARTICLE_FLOWS))
def test_deterministic_map_equals_the_torch_map(flow_name, integrator):
    """With no noise the kernel's 50 steps equal the torch path's (float64) to float32 rounding."""
    flow, (A, B, om), x0, y0, theta, (coef, phase, kx, ky) = _setup(flow_name, integrator)
    P, (R, n) = A.shape[0], x0.shape
    x, y = x0.expand(P, R, n).numpy().copy(), y0.expand(P, R, n).numpy().copy()
    fp.advance(x, y, 0, coef, phase, kx, ky, integrator, 0.02, np.zeros(P, np.float32), 0)
    xt, yt = x0.expand(P, R, n).double(), y0.expand(P, R, n).double()
    for k in range(coef.shape[0]):
        xt, yt = DETERMINISTIC[integrator](flow, xt, yt, k * 0.02, 0.02, A.double(), B.double(), om.double(),
                                           None if theta is None else theta[k].double())
    assert np.abs(x - xt.numpy()).max() < 1e-4 and np.abs(y - yt.numpy()).max() < 1e-4


def test_chunks_and_threads_do_not_change_the_result():
    """Counter-based normals: one call of 50 steps = calls of 17 + 33 steps, on 1 thread or all."""
    _flow, (A, _B, _om), x0, y0, _theta, (coef, phase, kx, ky) = _setup("chaotic", "splitting")
    P, (R, n) = A.shape[0], x0.shape
    kick = np.array([0.1, 0.2], np.float32)
    runs = []
    for cuts, threads in (((0, 50), numba.config.NUMBA_NUM_THREADS), ((0, 17, 50), 1)):
        numba.set_num_threads(threads)
        try:
            x, y = x0.expand(P, R, n).numpy().copy(), y0.expand(P, R, n).numpy().copy()
            for a, b in zip(cuts[:-1], cuts[1:]):
                fp.advance(x, y, a, coef[a:b], phase[a:b], kx, ky, "splitting", 0.02, kick, 5)
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        runs.append((x, y))
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])


def test_the_engine_is_chosen_and_recorded():
    kw = dict(particles=2000, t_final=2.0, dt=0.05)
    assert effective_diffusivity("cellular", 1.0, 0.1, **kw).attrs["engine"] == "fused"  # CPU, float32
    assert effective_diffusivity("cellular", 1.0, 0.1, dtype="float64", **kw).attrs["engine"] == "torch"
    assert effective_diffusivity("cellular", 1.0, 0.1, engine="torch", **kw).attrs["engine"] == "torch"
    with pytest.raises(ValueError, match="^engine='fused' runs on the CPU in float32"):
        effective_diffusivity("cellular", 1.0, 0.1, dtype="float64", engine="fused", **kw)
    with pytest.raises(ValueError, match="^engine must be one of"):
        effective_diffusivity("cellular", 1.0, 0.1, engine="gpu", **kw)


def test_fused_and_torch_engines_agree_within_their_errors():
    """Same flow and scheme, different random numbers: D_eff agrees within the combined statistical error."""
    kw = dict(particles=40_000, t_final=20.0, dt=0.02, seed=1)
    fused = effective_diffusivity("cellular", 2.0, 0.1, engine="fused", **kw)
    torch_ = effective_diffusivity("cellular", 2.0, 0.1, engine="torch", **kw)
    # each error is a 95% half-width (t with 9 dof: 2.26 σ); 4 σ of the difference
    bound = 4 / 2.26 * np.hypot(fused.D_eff_error.values, torch_.D_eff_error.values)
    assert np.all(np.abs(fused.D_eff.values - torch_.D_eff.values) <= bound), (fused.D_eff.values,
                                                                               torch_.D_eff.values, bound)
    assert np.all(bound < 0.2 * fused.D_eff.values)  # not a vacuous bound


def test_fused_batch_equals_one_by_one():
    kw = dict(particles=2000, t_final=4.0, dt=0.02, B=1.0, omega=2.0, engine="fused")
    batch = effective_diffusivity("stochastic", [0.5, 1.0, 2.0], [0.1, 0.2, 0.3], **kw)
    for i, (A, d0) in enumerate([(0.5, 0.1), (1.0, 0.2), (2.0, 0.3)]):
        one = effective_diffusivity("stochastic", A, d0, **kw)
        np.testing.assert_array_equal(batch.msd.isel(run=i).values, one.msd.values)
