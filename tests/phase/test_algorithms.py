"""ER, HIO, RAAR, OSS and GPS over a batch of random starts; the operator algebra."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.phase import algorithms as A
from workbench.phase import physics
from workbench.phase.reconstruction import Reconstruction

from .helpers import noiseless


@pytest.fixture(scope="module")
def clean32():
    return physics.FourierMagnitude(noiseless(), dtype="float64")


DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def _clean(device: str) -> physics.FourierMagnitude:
    return physics.FourierMagnitude(noiseless(), device=device, dtype="float64")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["er", "hio", "raar", "oss", "gps"])
def test_each_algorithm_reaches_the_noiseless_solution_from_some_start(name, device):
    # 16 x 16 vesicle in a 32 x 32 array with its exact support: the global minimum is R_F = 0;
    # "reached" means R_F < 1e-3 (the criterion) for at least one of 8 starts in 500 iterations
    clean = _clean(device)
    rec = A.schedule(name, 500) * Reconstruction(clean, 8, seed=0)
    assert rec.iteration == 500
    assert rec.errors().min() < 1e-3
    # the best iterate is what is reported: its error equals R_F of the returned estimate
    np.testing.assert_allclose(clean.error_of(rec.best_estimate()).cpu().numpy(), rec.errors(), rtol=1e-12)


@pytest.mark.parametrize("op", [A.ER(), A.HIO(0.9), A.RAAR(0.87), A.GPS(sigma=0.0, smoothing="none"),
                                A.GPS(sigma=0.1, alpha=0.5, smoothing="RF")])
def test_the_true_object_is_a_fixed_point(clean32, op):
    rec = Reconstruction(clean32, 1)
    rec.set_state(u=clean32.truth[None].clone())
    rec.best = {"u": rec.u.clone()}
    (op ** 5) * rec
    # an exact solution satisfies both constraints, so every projection leaves it in place
    torch.testing.assert_close(rec.estimate()[0], clean32.truth, rtol=0, atol=1e-9 * clean32.truth.max().item())


def douglas_rachford_numpy(v: np.ndarray, magnitude: np.ndarray, support: np.ndarray, steps: int) -> np.ndarray:
    """v <- v + P_S(2 P_M v - v) - P_M v with complex full-plane FFTs (independent of the torch code)."""
    def p_m(w):
        f = np.fft.fft2(w, norm="ortho")
        return np.fft.ifft2(magnitude * np.exp(1j * np.angle(f)), norm="ortho")

    def p_s(w):
        return np.where(support & (w.real >= 0), w.real, 0.0)

    for _ in range(steps):
        pm = p_m(v)
        v = v + p_s(2 * pm - v) - pm
    return v


def test_gps_reduces_to_douglas_rachford_at_t_s_1_without_smoothing(clean32):
    m = clean32.measurement
    rec = Reconstruction(clean32, 2, seed=4)
    v0 = rec.u.numpy().copy()
    (A.GPS(sigma=0.0, t=1.0, s=1.0, smoothing="none") ** 25) * rec
    v_gps = (rec.state["u"] - rec.state["y"]).numpy()   # v = F^-1 z - y
    v_dr = np.stack([douglas_rachford_numpy(v, np.sqrt(m.intensity), m.support, 25) for v in v0])
    assert np.abs(v_dr.imag).max() < 1e-9 * np.abs(v_dr).max()  # real object, Friedel-symmetric data
    np.testing.assert_allclose(v_gps, v_dr.real, rtol=0, atol=1e-9 * np.abs(v_dr).max())
    # with smoothing or sigma > 0 it is a different iteration
    other = Reconstruction(clean32, 2, seed=4)
    (A.GPS(sigma=0.5, t=1.0, s=1.0, smoothing="none") ** 25) * other
    assert np.abs((other.state["u"] - other.state["y"]).numpy() - v_dr.real).max() > 1e-3 * np.abs(v_dr).max()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["hio", "oss", "gps"])
def test_a_batch_equals_the_same_runs_one_by_one(name, device):
    clean = _clean(device)
    op = A.schedule(name, 40)
    batch = op * Reconstruction(clean, seeds=[7, 8, 9], record_every=10)
    for i, seed in enumerate([7, 8, 9]):
        single = op * Reconstruction(clean, seeds=[seed], record_every=10)
        # the same arithmetic per run; batched FFTs may round differently, so allow float64 noise
        np.testing.assert_allclose(single.errors()[0], batch.errors()[i], rtol=1e-9)
        torch.testing.assert_close(single.best_estimate()[0], batch.best_estimate()[i], rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(single.history()[1][0], batch.history()[1][i], rtol=1e-9)


def test_schedule_algebra_reads_like_the_paper(clean32):
    op = (A.ER() ** 20 * A.HIO(beta=0.9) ** 100) ** 5
    assert op.iterations == 600
    assert repr(op) == "(ER()**20 * HIO(beta=0.9)**100)**5"
    # right-most acts first: (ER * HIO) * rec == ER * (HIO * rec)
    a = (A.ER() * A.HIO(0.9)) * Reconstruction(clean32, 2, seed=1)
    b = A.ER() * (A.HIO(0.9) * Reconstruction(clean32, 2, seed=1))
    c = A.HIO(0.9) * (A.ER() * Reconstruction(clean32, 2, seed=1))
    torch.testing.assert_close(a.u, b.u)
    assert not torch.allclose(a.u, c.u)
    assert A.oss(2000).iterations == 2000 and A.gps(1000, stages=7).iterations == 1000
    oss = A.oss(100, stages=10)
    restarts = [o for o in oss.ops if isinstance(o, A.RestartFromBest)]
    assert len(restarts) == 9  # one restart at each of the 9 stage changes
    alphas = [o.op.alpha for o in oss.ops if isinstance(o, A.Repeat)]
    np.testing.assert_allclose(alphas, np.linspace(2.0, 0.2, 10))


def test_restart_from_best_and_history(clean32):
    rec = Reconstruction(clean32, 3, seed=0, record_every=5)
    (A.HIO() ** 20) * rec
    its, hist = rec.history()
    np.testing.assert_array_equal(its, [0, 5, 10, 15, 20])
    assert hist.shape == (3, 5)
    assert np.all(rec.errors() <= hist.min(axis=1) + 1e-15)  # the best is at least as good as any record
    A.RestartFromBest() * rec
    np.testing.assert_allclose(clean32.error_of(rec.estimate()).numpy(), rec.errors(), rtol=1e-12)


def test_bad_parameters_are_refused(clean32):
    with pytest.raises(ValueError, match="beta"):
        A.HIO(beta=1.5)
    with pytest.raises(ValueError, match="smoothing"):
        A.GPS(smoothing="X")
    with pytest.raises(ValueError, match="algorithm must be one of"):
        A.schedule("fienup", 10)
    with pytest.raises(ValueError, match="runs"):
        Reconstruction(clean32, 0)
