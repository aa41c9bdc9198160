"""G-equation flame speeds

Sweep the flow amplitude A for inviscid, viscous, curvature and strain G-equation models in cellular, shear and time-periodic flows: s_T(A) filled point by point, the front over the streamlines, the A/log A law and the strain model's quenching.
"""

import panel as pn

from workbench.gequation.widget import FlameSpeedExplorer
from workbench.ui import app_template

pn.extension()

explorer = FlameSpeedExplorer()
if pn.state.location:
    pn.state.location.sync(explorer, ["models", "flow", "A_min", "A_max", "n_A", "d", "omega", "B", "grid",
                                      "crossings", "view"])
app_template("G-equation flame speeds", explorer, sidebar=explorer.controls(),
             description="Turbulent flame speeds of G-equation models in periodic flows").servable(
    title="G-equation flame speeds")
