"""Effective diffusivity: closed forms, invariants, batching and bad input."""

import json
import math

import numpy as np
import pytest
import torch

from workbench.cli import main
from workbench.gequation import diffusivity
from workbench.gequation.diffusivity import effective_diffusivity
from workbench.gequation.particle_flows import PARTICLE_FLOWS, get_particle_flow
from workbench.gequation.sde import euler_map, flow_map


def shear_secant(A: float, d0: float, ts: float, te: float) -> float:
    """Exact expected MSD secant / 2 along x in V = (A sin y, 0) (diffusivity module docstring)."""
    msd = lambda t: 2 * d0 * t + A**2 * (t / d0 - (1 - math.exp(-d0 * t)) / d0**2)  # noqa: E731
    return (msd(te) - msd(ts)) / (2 * (te - ts))


def test_shear_flow_closed_form_along_and_across():
    """D_xx = D0 + A²/(2D0), D_yy = D0 (the secant's transient bias included exactly)."""
    d0, t_final = 1.0, 16.0
    ds = effective_diffusivity("shear", [0.0, 1.0, 2.0], d0, integrator="euler", particles=40_000,
                               t_final=t_final, dt=0.02)
    ts = ds.attrs["window_start"]
    for i, A in enumerate([0.0, 1.0, 2.0]):
        exact_x = shear_secant(A, d0, ts, t_final)
        assert abs(exact_x - (d0 + A**2 / (2 * d0))) < 1e-3  # D0 t_s = 8: the transient is gone
        got = ds.D_eff.isel(run=i).values
        err = ds.D_eff_error.isel(run=i).values
        # 1.5 × the 95% half-width (≈ 3σ): six checks must all pass; the Euler bias of the
        # Riemann sum ∫ sin Y ds at h = 0.02 is O(h A²/D0) ≈ 1e-3 relative, far below err
        assert abs(got[0] - exact_x) <= 1.5 * err[0], (A, got, err)
        assert abs(got[1] - d0) <= 1.5 * err[1], (A, got, err)
        assert err[0] < 0.1 * exact_x  # the test can fail: the error bar is not vacuous


def test_zero_amplitude_gives_molecular_diffusivity_in_every_flow():
    d0 = 0.3
    for flow in PARTICLE_FLOWS:
        ds = effective_diffusivity(flow, 0.0, d0, particles=10_000, t_final=8.0, dt=0.05)
        assert np.all(np.abs(ds.D_eff.values - d0) <= 1.5 * ds.D_eff_error.values), (flow, ds.D_eff.values)
        # the reported error matches the Brownian theory: 1.96 (t-quantile ≈ 2.26) · √(6/N)·D0
        theory = diffusivity.brownian_relative_error(10_000, 0.5) * d0
        assert np.all(ds.D_eff_error.values < 4 * theory)


@pytest.mark.parametrize("flow", ["cellular", "oscillating", "stochastic", "chaotic"])
def test_splitting_step_preserves_area(flow):
    """det ∂Φ_h/∂X = 1 to rounding for the splitting; Euler's is 1 + O(h²) and is not."""
    f = get_particle_flow(flow)
    one = torch.ones(1, 1, 1, dtype=torch.float64)
    A, B, om = 3.0 * one, 0.7 * one, 2.0 * one
    theta = 0.4 * one if f.stochastic else None
    gen = torch.Generator().manual_seed(1)
    pts = torch.rand(20, 2, generator=gen, dtype=torch.float64) * 2 * math.pi
    for mapping, is_exact in ((flow_map, True), (euler_map, False)):
        def phi(p):
            x, y = mapping(f, p[0].reshape(1, 1, 1), p[1].reshape(1, 1, 1), 0.3, 0.1, A, B, om, theta)
            return torch.stack([x.reshape(()), y.reshape(())])
        dets = torch.stack([torch.linalg.det(torch.autograd.functional.jacobian(phi, p)) for p in pts])
        dev = float((dets - 1).abs().max())
        if is_exact:
            assert dev < 1e-13, dev
        else:
            assert dev > 1e-4, dev


def test_integrators_agree_as_dt_shrinks():
    """Same random numbers: |D_euler − D_split| shrinks with dt (Euler is first order)."""
    gaps = []
    for dt in (0.08, 0.04, 0.02):
        kw = dict(particles=4000, t_final=20.0, dt=dt, dtype="float64", seed=3)
        e = effective_diffusivity("cellular", 2.0, 0.05, integrator="euler", **kw).D_eff.values
        s = effective_diffusivity("cellular", 2.0, 0.05, integrator="splitting", **kw).D_eff.values
        gaps.append(float(np.abs(e - s).max() / s.mean()))
    # first order: each halving of dt about halves the gap (measured 0.61, 0.29, 0.16)
    for coarse, fine in zip(gaps, gaps[1:]):
        assert 0.3 < fine / coarse < 0.7, gaps


def test_batch_equals_one_by_one():
    kw = dict(particles=2000, t_final=4.0, dt=0.02, dtype="float64", B=1.0, omega=2.0)
    batch = effective_diffusivity("stochastic", [0.5, 1.0, 2.0], [0.1, 0.2, 0.3], **kw)
    for i, (A, d0) in enumerate([(0.5, 0.1), (1.0, 0.2), (2.0, 0.3)]):
        one = effective_diffusivity("stochastic", A, d0, **kw)
        np.testing.assert_allclose(batch.D_eff.isel(run=i).values, one.D_eff.values, rtol=1e-12)
        np.testing.assert_allclose(batch.msd.isel(run=i).values, one.msd.values, rtol=1e-12)


@pytest.mark.parametrize("kwargs, name", [
    (dict(d0=0.0), "d0"), (dict(d0=-1.0), "d0"), (dict(flow="vortex"), "flow"),
    (dict(integrator="rk4"), "integrator"), (dict(particles=1000, rtol=0.01), "particles"),
    (dict(A=8.0, dt=0.5), "dt"), (dict(batches=1), "batches"), (dict(A=-1.0), "A"),
    (dict(t_final=float("nan")), "t_final"), (dict(particles=10**9), "particles"),
])
def test_bad_input_is_refused_before_particles_exist(monkeypatch, kwargs, name):
    def never(*a, **k):
        raise AssertionError("particles allocated")
    monkeypatch.setattr(diffusivity, "_run", never)
    args = dict(flow="cellular", A=1.0, d0=0.1) | kwargs
    with pytest.raises(ValueError) as info:
        effective_diffusivity(**args)
    msg = str(info.value)
    assert msg.startswith(name) and "\n" not in msg, msg


def test_cli_prints_the_summary_and_refuses_bad_input(capsys):
    assert main(["gequation", "diffusivity", "--flow", "shear", "--amplitude", "1", "--d0", "1",
                 "--particles", "4000", "--t-final", "10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("D_eff", "D_eff_error", "flow", "amplitude", "d0", "integrator"):
        assert key in out
    assert set(out["D_eff"]) == {"x", "y"} and abs(out["D_eff"]["y"] - 1.0) < 0.2
    assert main(["gequation", "diffusivity", "--flow", "shear", "--d0", "-1", "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert "d0" in err and "\n" not in err


def test_cli_sweep_goes_through_the_runner(capsys, tmp_path):
    argv = ["gequation", "diffusivity", "--flow", "cellular", "--amplitude", "0,1", "--d0", "0.5",
            "--particles", "2000", "--t-final", "4", "--dt", "0.05", "--json", "--checkpoint", str(tmp_path)]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["D_eff"]["x"]) == 2 and out["failed"] == 0
    assert len(list(tmp_path.glob("chunk-*.nc"))) >= 1
