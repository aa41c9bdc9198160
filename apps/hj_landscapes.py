"""HJ smoothing of landscapes

Drag the Hamilton-Jacobi time t and the inverse temperature beta to watch minima widen and maxima vanish (Moreau envelope, local entropy, prox map), and compare gradient descent, proximal point, Entropy-SGD and HJ-prox descent over many starts.
"""

import panel as pn

from workbench.hj.widget import HJExplorer
from workbench.ui import app_template

pn.extension()

explorer = HJExplorer()
if pn.state.location:
    pn.state.location.sync(explorer, ["landscape", "formula", "dim", "n", "t", "beta", "viscous", "methods",
                                      "n_starts", "n_steps", "lr", "delta", "seed"])

app_template("HJ smoothing of landscapes", explorer, sidebar=explorer.controls(),
             description="Moreau envelope, local entropy and HJ optimizers on test landscapes").servable(
    title="HJ smoothing of landscapes")
