"""The explorer, driven as in a notebook (the runner is synchronous outside a server)."""

import numpy as np

from workbench import export
from workbench.gequation.widget import FlameSpeedExplorer


def test_sweep_fills_points_select_and_errors():
    e = FlameSpeedExplorer(grid=16, crossings=2, n_A=3, A_min=0.5, A_max=3.0, models=["inviscid", "strain"],
                           d=1.0)
    e.run()
    assert sorted(e.points) == ["inviscid", "strain"]
    assert all(len(p) == 3 for p in e.points.values())
    s = [e.points["inviscid"][a][0] for a in sorted(e.points["inviscid"])]
    assert np.all(np.diff(s) > 0) and s[0] > 1.0  # inviscid speeds grow with A, above s_l
    assert e.selected is not None and "s_T =" in e._summary.object
    # a click near a point selects it and draws its front and history
    a, (sv, _err, _flag) = sorted(e.points["strain"].items())[0]
    e._on_tap(x=a, y=sv)
    assert e.selected == ("strain", a)
    assert e._front.object is not None and e._history.object is not None
    e.frame = 0
    for view in ("log-log", "s_T vs A/log A"):
        e.view = view
    assert len(export.figure_bytes(e.figure(), "png")) > 1000
    assert set(e.data().model.values) == {"inviscid", "strain"}
    # bad input goes to the status line; the view keeps its results
    e.A_max = e.A_min
    e.run()
    assert "A_max must be larger than A_min" in e.status.message
    assert len(e.points["inviscid"]) == 3
