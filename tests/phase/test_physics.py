"""Forward model, noise, data loading and bad input of the phase-retrieval physics."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch

from workbench.phase import phantoms, physics

from .helpers import noiseless


def full_plane_rf(u: np.ndarray, intensity: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """R_F from its definition with complex NumPy FFTs over the whole plane (independent of rfft)."""
    mag = np.abs(np.fft.fft2(u, norm="ortho"))
    m = np.sqrt(intensity)
    keep = ~missing
    return np.abs(mag - m)[..., keep].sum(-1) / m[keep].sum()


def test_fourier_error_matches_full_plane_formula():
    # noisy data (M(k) != M(-k)) and an off-centre beamstop-like mask, so the Friedel bookkeeping matters
    m = physics.simulate(phantoms.nanorice(16), 32, flux=1e5, beamstop=2.0, seed=3)
    m.missing[5, 7] = True
    m = physics.Measurement(m.intensity, m.missing, m.support, m.truth, m.flux)
    op = physics.FourierMagnitude(m, dtype="float64")
    u = np.random.default_rng(0).normal(size=(3, 32, 32))
    got = op.error_of(torch.as_tensor(u)).numpy()
    want = full_plane_rf(u, m.intensity, m.missing)
    np.testing.assert_allclose(got, want, rtol=1e-12)  # same sums in float64: only rounding differs
    # the true object of noise-free data has R_F = 0 (to float64 rounding)
    clean = noiseless()
    assert physics.FourierMagnitude(clean, dtype="float64").error_of(torch.as_tensor(clean.truth)[None]) < 1e-12


def test_poisson_noise_has_requested_flux_mean_and_variance():
    m = physics.simulate(phantoms.vesicle(16), 32, flux=2e5, noise=False)
    expected = torch.as_tensor(m.intensity)
    assert expected.sum().item() == pytest.approx(2e5, rel=1e-12)  # the flux is the expected total count
    k = 400
    draws = physics.poisson_intensity(expected.expand(k, -1, -1).contiguous(), torch.Generator().manual_seed(1))
    # total counts: mean flux, std sqrt(flux); the sample mean of k totals is within 4 sigma / sqrt(k)
    totals = draws.sum((-2, -1))
    assert abs(totals.mean().item() - 2e5) < 4 * np.sqrt(2e5 / k)
    # per pixel (expected >= 20 counts): standardised mean and variance/mean ratio (Poisson: 1)
    bright = expected > 20
    mean = draws.mean(0)[bright]
    z = (mean - expected[bright]) / torch.sqrt(expected[bright] / k)
    assert z.abs().max() < 5.0  # 5 sigma over a few hundred pixels
    ratio = (draws.var(0)[bright] / expected[bright]).mean().item()
    assert ratio == pytest.approx(1.0, abs=0.03)  # pooled over pixels: std of the mean ratio ~ 0.005
    # simulate() with noise: one pattern's total is flux +- a few sqrt(flux)
    noisy = physics.simulate(phantoms.vesicle(16), 32, flux=2e5, seed=5)
    assert abs(noisy.intensity.sum() - 2e5) < 5 * np.sqrt(2e5)
    assert np.all(noisy.intensity == np.round(noisy.intensity))


def test_truth_is_scaled_to_the_flux_and_support_contains_it():
    m = noiseless(margin=1)
    assert (np.abs(np.fft.fft2(m.truth, norm="ortho")) ** 2).sum() == pytest.approx(1e9, rel=1e-9)
    assert m.support[m.truth > 0].all()
    box = physics.simulate(phantoms.vesicle(16), 32, 1e9, support="box", support_margin=0)
    rows, cols = np.nonzero(box.truth > 0)
    assert box.support.sum() == (np.ptp(rows) + 1) * (np.ptp(cols) + 1)  # exactly the bounding rectangle
    assert box.support[box.truth > 0].all()


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_load_measured_data_with_mask(tmp_path, suffix):
    m = physics.simulate(phantoms.vesicle(16), 32, flux=1e6, beamstop=1.5, seed=2)
    centred = np.fft.fftshift(m.intensity)
    mask = np.fft.fftshift(m.missing).astype(np.uint8)
    path = tmp_path / f"data{suffix}"
    if suffix == ".npz":
        np.savez(path, data=centred, mask=mask, support=m.support)
    else:
        with h5py.File(path, "w") as f:
            f["entry/intensity"] = centred
            f["entry/mask"] = mask
    got = physics.load(path)
    np.testing.assert_array_equal(got.intensity, m.intensity)
    np.testing.assert_array_equal(got.missing, m.missing)
    if suffix == ".npz":
        np.testing.assert_array_equal(got.support, m.support)
    else:  # estimated from the autocorrelation: must contain the object and respect oversampling 2
        assert got.support[m.truth > 0].mean() > 0.95
        assert 2 * physics.support_extent(got.support) <= 32


def test_bad_input_is_refused_with_the_parameter_named(tmp_path):
    obj = phantoms.vesicle(20)
    with pytest.raises(ValueError, match="oversampling must be >= 2"):
        physics.simulate(obj, 32)
    with pytest.raises(ValueError, match="flux"):
        physics.simulate(phantoms.vesicle(16), 32, flux=0)
    m = noiseless()
    bad = m.intensity.copy()
    bad[3, 3] = -1.0
    with pytest.raises(ValueError, match="intensity must be >= 0"):
        physics.Measurement(bad, m.missing, m.support)
    bad[3, 3] = np.nan
    with pytest.raises(ValueError, match="intensity must be finite"):
        physics.Measurement(bad, m.missing, m.support)
    with pytest.raises(ValueError, match="mask shape"):
        physics.Measurement(m.intensity, m.missing[:16], m.support)
    with pytest.raises(ValueError, match="support shape"):
        physics.Measurement(m.intensity, m.missing, np.ones((64, 64), bool))
    with pytest.raises(ValueError, match="oversampling"):
        physics.Measurement(m.intensity, m.missing, np.ones((32, 32), bool))
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="could not be read"):
        physics.load(junk)
    with pytest.raises(FileNotFoundError):
        physics.load(tmp_path / "missing.npy")
    with pytest.raises(ValueError, match="phantom must be one of"):
        phantoms.phantom("cat", 16)
