"""Flame speeds with closed forms.

Derivations (G = P·x + u, u(·, 0) = 0, s_T = −lim u/t):

* A flow that is constant in space, V ≡ A e₁ (shear profile f = 1): u stays
  spatially constant, so ∇u = 0 and u_t = −(A P₁ + s_l|P|) for every model
  (the second-order terms vanish, ∇V = 0): s_T = s_l + A P₁ exactly.
* Zero flow (A = 0): likewise s_T = s_l for every model.
* Shear V = (A f(y), 0) with P = (0, 1): V·P = 0 and u = −s_l t solves every
  model (for the strain term q = (0, 1) gives q·Sq = 2 S₁₂ q₁q₂ = 0): s_T = s_l.
* Shear with P = (1, 0), inviscid: u = u(y, t) solves the 1-D problem
  u_t + H(y, u_y) = 0, H(y, p) = A f(y) + s_l√(1 + p²), convex and coercive
  in p; the effective Hamiltonian at zero mean slope is
  H̄(0) = max_y min_p H(y, p) = s_l + A max f (the front's leading point rides
  the fastest streamline, where u_y = 0), so s_T = s_l + A max f.
  The corrector w' = ±√(((s_l + A max f − A f)/s_l)² − 1) is Lipschitz, so
  the slope is reached in finite time and only the scheme's error remains.
* Viscous model in the same shear: −(s_l + A)t is a subsolution
  (its residual A(f − 1) ≤ 0), so s_T ≤ s_l + A; the mean identity
  d⟨u⟩/dt = −s_l⟨√(1 + u_y²)⟩ ≤ −s_l gives s_T ≥ s_l.
"""

import math

import numpy as np
import pytest

from workbench.gequation import MODELS, flame_speed
from workbench.gequation.flows import Shear

FAST = dict(grid=16, crossings=2, dtype="float64", n_frames=2)


@pytest.mark.parametrize("model", list(MODELS))
def test_zero_flow_gives_laminar_speed(model):
    ds = flame_speed(model, "cellular", 0.0, d=0.3, s_l=1.5, **FAST)
    # u = −s_l t exactly; the only error is float64 rounding of the mean
    assert float(ds.s_T) == pytest.approx(1.5, abs=1e-10)
    assert float(ds.s_T_error) < 1e-10


@pytest.mark.parametrize("model", list(MODELS))
def test_uniform_flow_adds_its_component_along_P(model):
    theta = 0.6
    ds = flame_speed(model, "shear", [0.5, 2.0], profile="1", d=0.2,
                     direction=(math.cos(theta), math.sin(theta)), **FAST)
    # s_T = s_l + A cos θ, exact for every model (u spatially constant)
    np.testing.assert_allclose(ds.s_T.values, 1 + np.array([0.5, 2.0]) * math.cos(theta), atol=1e-10)


@pytest.mark.parametrize("model", list(MODELS))
def test_shear_across_P_gives_laminar_speed(model):
    ds = flame_speed(model, "shear", 3.0, d=0.2, direction=(0, 1), **FAST)
    assert float(ds.s_T) == pytest.approx(1.0, abs=1e-10)


@pytest.mark.parametrize("scheme", ["lax-friedrichs", "godunov"])
def test_inviscid_shear_along_P_is_sl_plus_A(scheme):
    A = np.array([0.5, 2.0, 4.0])
    ds = flame_speed("inviscid", "shear", A, grid=24, crossings=6, dtype="float64", scheme=scheme, n_frames=2)
    # observed error ~1e-6 once the corrector has settled (the leading point y = π/2
    # is smooth); 2e-3 allows for the O(h) smearing of the trailing kink
    np.testing.assert_allclose(ds.s_T.values, 1 + A, atol=2e-3)
    assert ds.converged.values.all()


def test_user_profile_front_rides_the_fastest_streamline():
    profile = "sin(y) + 0.5*cos(2*y)"
    fmax = Shear(profile).max_along((1.0, 0.0))
    y = np.linspace(0, 2 * np.pi, 100001)
    assert fmax == pytest.approx(np.max(np.sin(y) + 0.5 * np.cos(2 * y)), abs=1e-6)
    ds = flame_speed("inviscid", "shear", 2.0, profile=profile, grid=32, crossings=4, dtype="float64")
    # s_T = s_l + A max f; the maximum lies between grid points, so allow 1e-2
    assert float(ds.s_T) == pytest.approx(1 + 2.0 * fmax, abs=1e-2)


def test_viscous_shear_between_rigorous_bounds():
    d = np.array([0.05, 0.5])
    ds = flame_speed("viscous", "shear", 2.0, d=d, grid=24, crossings=4, dtype="float64")
    s = ds.s_T.values
    assert np.all(s >= 1 - 1e-6) and np.all(s <= 3 + 1e-6)
    # more diffusion flattens the leading tip: slower front, strictly
    assert s[0] > s[1] + 0.05
