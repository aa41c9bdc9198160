"""The flame-speed and transport plots keep their colours when drawn through matplotlib (notebooks' static
figures): its ErrorBars take their colour from ``edgecolor``, so a plain ``color`` left every bar black."""

import holoviews as hv
import numpy as np
import xarray as xr
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba

from workbench.gequation import plots, transport_plots


def _bars_and_curves(obj):
    ax = hv.render(obj, backend="matplotlib").axes[0]
    bars = [tuple(c.get_edgecolor()[0]) for c in ax.collections if isinstance(c, LineCollection)]
    return bars, {to_rgba(line.get_color()) for line in ax.lines}


def test_flame_speed_error_bars_take_their_models_colour():
    A = np.array([1.0, 2.0, 4.0])
    ds = xr.Dataset({"s_T": (("model", "A"), [[2.0, 3.0, 5.0], [1.5, 2.0, 3.0]]),
                     "s_T_error": (("model", "A"), np.full((2, 3), 0.1)),
                     "flag": (("model", "A"), np.full((2, 3), "", dtype=object))},
                    coords={"model": ["inviscid", "viscous"], "A": A})
    bars, curves = _bars_and_curves(plots.speed_curves(ds))
    assert len(bars) == 2 and len(set(bars)) == 2
    assert all(b != to_rgba("black") and b in curves for b in bars)


def test_transport_error_bars_take_their_directions_colour():
    ds = xr.Dataset({"D_eff": (("d0", "direction"), [[0.5, 0.4], [0.3, 0.25], [0.2, 0.15]]),
                     "D_eff_error": (("d0", "direction"), np.full((3, 2), 0.01))},
                    coords={"d0": [0.01, 0.1, 1.0], "direction": list(transport_plots.DIRECTIONS)})
    bars, curves = _bars_and_curves(transport_plots.diffusivity_curve(ds))
    assert len(bars) == 2 and len(set(bars)) == 2
    assert all(b != to_rgba("black") and b in curves for b in bars)
