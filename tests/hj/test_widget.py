"""The explorer in-process (LatestRunner runs synchronously outside a server)."""

import numpy as np
import pytest

from workbench import export
from workbench.hj.widget import HJExplorer


@pytest.fixture
def explorer():
    return HJExplorer(landscape="deep_relaxation", dim=1, n=128, n_starts=100, n_steps=5)


def test_t_slider_recomputes_envelopes_consistently(explorer):
    u_small = explorer.smoothing.u.values.copy()
    explorer.t = 1.0
    ds = explorer.smoothing
    assert ds.t.values.tolist() == [1.0] and "u_beta" in ds  # viscous part follows the inviscid one
    assert np.all(ds.u.values <= u_small[0] + 1e-6)  # u non-increasing in t
    assert np.all(ds.u.values <= ds.f.values + 1e-6)
    shown = explorer._env.sources  # the 1-D curves, updated in place: they hold the new result
    np.testing.assert_array_equal(shown["u"].data["y"], ds.isel(t=0).u.values)
    np.testing.assert_array_equal(shown["u_beta"].data["y"], ds.isel(t=0).u_beta.values)
    assert explorer._env.renderers["u_beta"].visible and "t=1" in explorer._env.figure.title.text
    assert "local entropy" in explorer.status.message


def test_optimizers_and_click_set_the_tracked_start(explorer):
    explorer._on_tap(x=0.4, y=None)
    ds = explorer.optimization
    assert explorer.start_x == 0.4
    np.testing.assert_allclose(ds.trajectory.sel(optimizer="gd").isel(t=0, track=0, step=0).values, [0.4],
                               atol=1e-6)
    assert "in global basin" in explorer._summary.object
    assert len(export.figure_bytes(explorer.figure(), "png")) > 1000  # exports via matplotlib


def test_bad_formula_goes_to_status_and_view_stays_usable(explorer):
    before = explorer.smoothing
    explorer.landscape = "formula"
    explorer.formula = "x**2 + __import__('os')"
    assert explorer.status.message.startswith("ValueError: formula:")
    assert explorer.smoothing is before
    explorer.formula = "x**4 - x**2"
    assert explorer.smoothing is not before and explorer.smoothing.f.shape == (128,)
    explorer.methods = []
    explorer.optimize()
    assert "methods must name at least one" in explorer.status.message


def test_two_dimensional_view():
    w = HJExplorer(landscape="rastrigin", dim=2, n=64, n_starts=50, n_steps=3, methods=["gd", "prox"])
    w.optimize()
    assert w.smoothing.f.shape == (64, 64)
    assert set(w.optimization.optimizer.values) == {"gd", "prox"}


def test_network_landscape_caps_grid_and_starts():
    w = HJExplorer(landscape="rastrigin", dim=1, n=128, n_starts=1000, n_steps=2, methods=["gd"])
    w.landscape = "mlp_digits"
    assert (w.dim, w.n, w.n_starts) == (2, 64, 200)
    assert w.smoothing.f.shape == (64, 64) and float(w.smoothing.f.min()) < float(w.smoothing.f.mean())
    w.optimize()
    assert w.optimization.sizes["run"] == 200
