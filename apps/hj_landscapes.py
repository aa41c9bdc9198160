"""HJ smoothing of landscapes

Drag the Hamilton-Jacobi time t and the inverse temperature beta to watch minima widen and maxima vanish (Moreau envelope, local entropy, prox map), and compare gradient descent, proximal point, Entropy-SGD and HJ-prox descent over many starts.
"""

import panel as pn

from workbench.hj.widget import HJExplorer
from workbench.ui.app import explorer_app

pn.extension()

# the view's parameters: in the URL, in the parameters JSON and in exported data
NAMES = ["landscape", "formula", "dim", "n", "t", "beta", "viscous", "methods", "n_starts", "n_steps", "lr",
         "delta", "seed"]

explorer = HJExplorer()
explorer_app("HJ smoothing of landscapes", explorer, NAMES, filename="hj_landscape",
             description="Moreau envelope, local entropy and HJ optimizers on test landscapes")
