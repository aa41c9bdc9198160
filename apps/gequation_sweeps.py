"""G-equation flame speeds

Sweep the flow amplitude A for inviscid, viscous, curvature and strain G-equation models in cellular, shear and time-periodic flows: s_T(A) filled point by point, the front over the streamlines, the A/log A law and the strain model's quenching.
"""

import panel as pn

from workbench.gequation.widget import FlameSpeedExplorer
from workbench.ui.app import explorer_app

pn.extension()

# the view's parameters: in the URL, in the parameters JSON and in exported data
NAMES = ["models", "flow", "A_min", "A_max", "n_A", "d", "omega", "B", "grid", "crossings", "batch", "view"]

explorer = FlameSpeedExplorer()
explorer_app("G-equation flame speeds", explorer, NAMES, filename="gequation_sweeps",
             description="Turbulent flame speeds of G-equation models in periodic flows")
