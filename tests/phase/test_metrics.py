"""Alignment (translation + twin), real-space error, FRC, good minima and expected cost."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from workbench.phase import metrics

from .helpers import blobs


def test_alignment_recovers_a_known_subpixel_shift_and_the_twin():
    truth = torch.as_tensor(blobs(32))
    d = torch.tensor([[3.3, -2.6], [-1.25, 4.5], [0.0, 0.0]], dtype=torch.float64)
    moved = metrics.shift_image(truth.expand(3, -1, -1), d)
    recon = torch.stack([moved[0], metrics.twin(moved[1]), moved[2]])
    aligned, shift, is_twin = metrics.align(recon, truth, upsample=20)
    assert is_twin.tolist() == [False, True, False]
    # the shift taking run 0 back is -d to the 1/20-pixel grid of the upsampled DFT (+- 1/40)
    np.testing.assert_allclose(shift[0].numpy(), [-3.3, 2.6], atol=0.5 / 20 + 1e-12)
    np.testing.assert_allclose(shift[2].numpy(), [0.0, 0.0], atol=1e-12)
    # band-limited object: the residual error comes only from the 1/40-pixel shift quantisation
    err = metrics.real_space_error(recon, truth)
    assert err.max() < 0.01
    assert err[2] < 1e-12
    # the twin itself is far from the truth before alignment
    assert torch.linalg.vector_norm(metrics.twin(truth) - truth) > 0.3 * torch.linalg.vector_norm(truth)


def test_frc_is_one_for_identical_images_and_low_for_noise():
    truth = torch.as_tensor(blobs(32))
    freq, same = metrics.frc(truth[None], truth)
    assert freq.shape == (16,) and freq[1] == pytest.approx(1 / 32)
    torch.testing.assert_close(same, torch.ones_like(same))
    noise = torch.as_tensor(np.random.default_rng(0).normal(size=(1, 32, 32)))
    _, low = metrics.frc(noise, truth)
    # independent noise: FRC in ring r is ~ N(0, 1/n_r); the outer rings hold > 40 pixels each
    assert low[0, 8:].abs().max() < 0.6


def test_good_fraction_and_expected_cost_closed_forms():
    errors = np.array([0.01, 0.02, 0.2, 0.3])
    assert metrics.good_fraction(errors, 0.05) == 0.5
    cost = metrics.expected_cost(0.25, 2.0)
    assert cost["runs"] == 4.0 and cost["seconds"] == 8.0
    # smallest n with 1 - 0.75^n >= 0.95: 0.75^10 = 0.056, 0.75^11 = 0.042
    assert cost["runs_95"] == 11
    assert math.isinf(metrics.expected_cost(0.0, 1.0)["seconds"])
    with pytest.raises(ValueError, match="threshold"):
        metrics.good_fraction(errors, -1)
