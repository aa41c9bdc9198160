"""Phase retrieval on CUDA (skipped without it)."""

import numpy as np
import pytest
import torch

from workbench.phase import algorithms as A
from workbench.phase import physics
from workbench.phase.reconstruction import Reconstruction

from .helpers import noiseless

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def clean_cuda():
    return physics.FourierMagnitude(noiseless(), device="cuda", dtype="float64")


@pytest.mark.parametrize("name", ["er", "hio", "raar", "oss", "gps"])
def test_each_algorithm_reaches_the_noiseless_solution_on_cuda(clean_cuda, name):
    rec = A.schedule(name, 500) * Reconstruction(clean_cuda, 8, seed=0)
    assert rec.errors().min() < 1e-3
    np.testing.assert_allclose(clean_cuda.error_of(rec.best_estimate()).cpu().numpy(), rec.errors(), rtol=1e-12)


@pytest.mark.parametrize("name", ["hio", "gps"])
def test_a_cuda_batch_equals_the_same_runs_one_by_one(clean_cuda, name):
    op = A.schedule(name, 40)
    batch = op * Reconstruction(clean_cuda, seeds=[7, 8, 9], record_every=10)
    for i, seed in enumerate([7, 8, 9]):
        single = op * Reconstruction(clean_cuda, seeds=[seed], record_every=10)
        np.testing.assert_allclose(single.errors()[0], batch.errors()[i], rtol=1e-9)
        torch.testing.assert_close(single.best_estimate()[0], batch.best_estimate()[i], rtol=1e-8, atol=1e-8)
