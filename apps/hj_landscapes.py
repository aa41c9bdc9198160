"""HJ smoothing of landscapes

Drag the Hamilton-Jacobi time t and the inverse temperature beta to watch minima widen and maxima vanish (Moreau envelope, local entropy, prox map), and compare gradient descent, proximal point, Entropy-SGD and HJ-prox descent over many starts.
"""

import panel as pn

from workbench.hj.widget import HJExplorer
from workbench.ui import ShareState, app_template

pn.extension()

# the view's parameters: in the URL, in the parameters JSON and in exported data
NAMES = ["landscape", "formula", "dim", "n", "t", "beta", "viscous", "methods", "n_starts", "n_steps", "lr",
         "delta", "seed"]

explorer = HJExplorer()
share = ShareState(explorer, NAMES, filename="hj_landscape_parameters", status=explorer.status,
                   export=explorer.export)
sidebar = pn.Column(explorer.controls(), share, sizing_mode="stretch_width")

app_template("HJ smoothing of landscapes", explorer, sidebar=sidebar,
             description="Moreau envelope, local entropy and HJ optimizers on test landscapes").servable(
    title="HJ smoothing of landscapes")
