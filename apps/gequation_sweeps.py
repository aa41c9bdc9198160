"""G-equation flame speeds

Sweep the flow amplitude A for inviscid, viscous, curvature and strain G-equation models in cellular, shear and time-periodic flows: s_T(A) filled point by point, the front over the streamlines, the A/log A law and the strain model's quenching.
"""

import panel as pn

from workbench.gequation.widget import FlameSpeedExplorer
from workbench.ui import ShareState, app_template

pn.extension()

# the view's parameters: in the URL, in the parameters JSON and in exported data
NAMES = ["models", "flow", "A_min", "A_max", "n_A", "d", "omega", "B", "grid", "crossings", "batch", "view"]

explorer = FlameSpeedExplorer()
share = ShareState(explorer, NAMES, filename="gequation_sweeps_parameters", status=explorer.status,
                   export=explorer.export)
sidebar = pn.Column(explorer.controls(), share, sizing_mode="stretch_width")

app_template("G-equation flame speeds", explorer, sidebar=sidebar,
             description="Turbulent flame speeds of G-equation models in periodic flows").servable(
    title="G-equation flame speeds")
