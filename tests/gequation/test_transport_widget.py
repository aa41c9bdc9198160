"""The transport explorer without a browser: the sweep fills, the cloud follows the time slider, fronts, limits."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.gequation.transport_widget import TransportExplorer

SMALL = dict(flow="cellular", n_points=2, lo=0.1, hi=1.0, particles=400, t_final=4.0, front_n_A=2,
             realisations=2, front_grid=16, periods=2)


def title(view) -> str:
    return str(view.opts.get().kwargs.get("title", ""))


def test_sweep_fills_points_and_the_time_slider_redraws_the_cloud(one_torch_thread):
    e = TransportExplorer(**SMALL)
    e.run()
    assert e.status.kind != "danger", e.status.message
    assert len(e.points) == 2 and "sweep done: 2 point(s)" in e.status.message
    ds = e.data()
    assert ds.sizes["point"] == 2 and np.allclose(ds.d0.values, [0.1, 1.0])
    assert np.all(ds.D_eff_error.values > 0)
    assert e.selected == 1 and "D_eff,xx =" in e._summary.object
    assert e.cloud is not None and e.cloud.sizes["frame"] == 41
    assert title(e._cloud.object).startswith("particles at t = 4 ")
    e.time = 0
    assert title(e._cloud.object).startswith("particles at t = 0 ")
    e._on_tap(x=0.12, y=1.0)  # a click near the first point selects it
    assert e.selected == 0


def test_fronts_show_both_flows_with_the_realisations(one_torch_thread):
    e = TransportExplorer(**SMALL)
    e.run_fronts()
    assert "fronts done: 2 amplitudes, 2 realisations" in e.status.message, e.status.message
    sto, per = e.fronts["stochastic"], e.fronts["periodic"]
    assert sto.s_T_realisation.shape == (2, 2) and per.sizes["point"] == 2
    assert np.all(np.isfinite(sto.s_T.values)) and np.all(sto.s_T_spread.values > 0)


@pytest.mark.parametrize("change,match", [
    ({"lo": 2.0, "hi": 1.0}, "hi must be larger than lo"),
    ({"front_A_min": 2.0, "front_A_max": 1.0}, "front_A_max must be larger"),
    ({"particles": 400_000, "t_final": 1000.0, "n_points": 16}, "particles × t_final × n_points"),
    ({"front_grid": 64, "realisations": 32, "front_n_A": 12, "periods": 24}, "front_grid² × realisations"),
])
def test_bad_or_too_large_settings_are_refused_before_work(change, match):
    e = TransportExplorer(**SMALL)
    with pytest.raises(ValueError, match=match):
        e.check_state({**{n: getattr(e, n) for n in e.shared}, **change})
    for name, value in change.items():
        setattr(e, name, value)
    e.run()
    assert e.status.kind == "danger" and not e.points


@settings(max_examples=300, deadline=None)
@given(lo=st.floats(1e-4, 64.0), ratio=st.floats(1.0001, 1e6))
def test_log_axis_ticks_are_few_sorted_and_inside_the_range(lo, ratio):
    """The D_eff curve's log-axis ticks: 2 to 5 distinct round values inside the swept range, at any span."""
    from workbench.gequation.transport_plots import log_ticks
    hi = lo * ratio
    ticks = log_ticks(lo, hi)
    assert 2 <= len(ticks) <= 5
    assert all(a < b for a, b in zip(ticks, ticks[1:]))
    assert lo * (1 - 1e-5) <= ticks[0] and ticks[-1] <= hi * (1 + 1e-5)
