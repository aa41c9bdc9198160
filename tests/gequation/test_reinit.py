"""Reinitialisation keeps the front and evens out the level-set spacing."""

import math

import numpy as np
import pytest
import torch

from workbench.gequation import flame_speed
from workbench.gequation.grid import Grid, central_first
from workbench.gequation.reinit import reinitialise


def _front(G: np.ndarray, x: np.ndarray, level: float) -> np.ndarray:
    """x where G(·, y_i) first crosses ``level`` along each row (linear interpolation)."""
    out = []
    for row in G:
        k = np.nonzero((row[:-1] - level) * (row[1:] - level) <= 0)[0][0]
        out.append(x[k] + (level - row[k]) * (x[k + 1] - x[k]) / (row[k + 1] - row[k]))
    return np.array(out)


def test_reinitialisation_keeps_the_front_and_flattens_gradients():
    grid = Grid(64, torch.float64)
    x, y = grid.xy
    u = (0.6 * torch.sin(x) + 1.5 * torch.sin(y))[None]  # |∇G| from 0.4 to 2.2: uneven spacing
    level = torch.tensor([math.pi], dtype=torch.float64)
    G0 = (x + u[0]).numpy()
    v = reinitialise(u, (1.0, 0.0), level, grid, steps=40)
    G1 = (x + v[0]).numpy()
    xs = grid.coords.numpy()
    # the front G = π stays put: observed 0.008 h with the subcell fix (0.03 h without it)
    np.testing.assert_allclose(_front(G1, xs, math.pi), _front(G0, xs, math.pi), atol=0.02 * grid.h)

    band = torch.as_tensor(np.abs(G0 - math.pi) < 0.8)  # pseudo-time 40·h/4 ≈ 1 reaches this far

    def spread(w):
        qx = 1 + central_first(w, grid.h, -1)
        qy = central_first(w, grid.h, -2)
        return float((torch.sqrt(qx**2 + qy**2) - 1).abs()[0][band].mean())
    # near the front |∇G| moves to 1 (the far field needs a longer pseudo-time)
    assert spread(v) < 0.3 * spread(u)


def test_reinit_during_a_run_keeps_the_flame_speed():
    kw = dict(grid=24, crossings=4, dtype="float64", n_frames=2)
    plain = flame_speed("inviscid", "cellular", 3.0, **kw)
    reinit = flame_speed("inviscid", "cellular", 3.0, reinit=4.0, **kw)
    assert int(reinit.reinit_count) > 0
    # each reinitialisation keeps the front to 0.01 h, yet the speed measured from <u> is
    # lower: observed −6%, −2.4%, −3.3% after 4, 8, 16 crossings (10, 20, 39 reinitialisations,
    # 24²). Not the front's displacement, then, but the reshaped level sets' transient
    # between reinitialisations; reinitialisation stays off by default. 10% bounds it.
    assert float(reinit.s_T) == pytest.approx(float(plain.s_T), rel=0.1)
