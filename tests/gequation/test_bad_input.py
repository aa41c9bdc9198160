"""Bad input is refused before any work with a message naming the parameter;
numerical blow-up is reported with the offending parameters."""

import numpy as np
import pytest

from workbench.gequation import BlowUpError, flame_speed, sweep
from workbench.gequation.profile import parse_profile


@pytest.mark.parametrize("kwargs,match", [
    (dict(grid=0), r"grid must be in \[8, 4096\]"),
    (dict(grid=12.5), "grid must be an integer"),
    (dict(s_l=0.0), r"s_l must be in \(0"),
    (dict(s_l=-1.0), r"s_l must be in \(0"),
    (dict(model="laminar"), "model must be one of 'inviscid'"),
    (dict(flow="vortex"), "flow must be one of 'cellular'"),
    (dict(A=-1.0), r"A must be in \[0"),
    (dict(d=-0.1), r"d must be in \[0"),
    (dict(flow="oscillating", omega=0.0), r"omega must be in \(0"),
    (dict(cfl=1.5), r"cfl must be in \(0, 1\]"),
    (dict(A=[1.0, 2.0], d=[0.1, 0.2, 0.3]), "common length"),
    (dict(A=[1.0, float("nan")]), "finite"),
    (dict(model="strain", scheme="godunov"), "convex Hamiltonian"),
    (dict(direction=(0, 0)), "direction must be a finite non-zero"),
    (dict(profile="sin(y)"), "only used with flow='shear'"),
    (dict(reinit=2.0, direction=(0.6, 0.8)), "reinit needs the direction P along a grid axis"),
])
def test_refused_with_a_named_parameter(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        flame_speed(**kwargs)


def test_memory_checked_before_allocating():
    with pytest.raises(MemoryError, match="grid² × batch needs about"):
        flame_speed(A=np.ones(4000), grid=4096)


def test_cfl_unstable_time_step_refused():
    with pytest.raises(ValueError, match=r"dt=0.02 exceeds the CFL-stable limit .* for model=inviscid, flow=cellular, A=4"):
        flame_speed(A=[1.0, 4.0], grid=32, dt=0.02)
    ok = flame_speed(A=0.0, grid=16, dt=0.01, t_final=0.5, dtype="float64")
    assert float(ok.dt) <= 0.01 and float(ok.t_final) == pytest.approx(0.5)


def test_time_periodic_horizon_too_short():
    with pytest.raises(ValueError, match="at least 2 flow periods"):
        flame_speed(flow="oscillating", omega=1.0, t_final=5.0, grid=16)


@pytest.mark.parametrize("text", ["__import__('os')", "y.real", "open('x')", "sin(y, 2)", "1 if y else 2",
                                  "exp", "[y]", "lambda: 1"])
def test_profile_parser_refuses_anything_but_arithmetic(text):
    with pytest.raises(ValueError, match="profile"):
        parse_profile(text)


def test_profile_must_be_periodic():
    with pytest.raises(ValueError, match="2π-periodic"):
        flame_speed(flow="shear", profile="sin(y/2)", grid=16)


def test_blow_up_is_reported_with_its_parameters():
    # V = A·1e30 sin y overflows float32 for A = 1e10: a genuine non-finite solution
    kw = dict(flow="shear", profile="1e30*sin(y)", A=[1.0, 1e10], grid=16, crossings=0.05, n_frames=2)
    with pytest.raises(BlowUpError, match=r"blow-up: non-finite solution .* A=1e\+10"):
        flame_speed(**kw)
    ds = flame_speed(**kw, on_blowup="record")
    assert ds.error.values[0] == "" and "A=1e+10" in ds.error.values[1]
    assert np.isfinite(ds.s_T.values[0]) and np.isnan(ds.s_T.values[1])


def test_sweep_records_a_failing_point_and_completes():
    ds = sweep("inviscid", "shear", A=[0.5, 1e10, 1.0], profile="1e30*sin(y)", grid=16, crossings=0.05,
               n_frames=2, chunk_size=3)
    assert ds.error.sel(A=1e10).item().startswith("blow-up")
    assert np.isnan(ds.s_T.sel(A=1e10).item())
    assert np.isfinite(ds.s_T.sel(A=[0.5, 1.0]).values).all()
    # a chunk that raises (omega = 0 is refused) is recorded by the runner, the rest completes
    mixed = sweep("inviscid", "oscillating", A=1.0, omega=[0.0, 2.0], grid=16, crossings=0.5, n_frames=2,
                  chunk_size=1)
    assert "omega must be in (0" in mixed.failed.sel(omega=0.0).item()
    assert mixed.failed.sel(omega=2.0).item() == "" and np.isfinite(mixed.s_T.sel(omega=2.0).item())
