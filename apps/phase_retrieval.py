"""Phase retrieval

Coherent diffraction imaging: histograms of reconstruction errors of ER, HIO, RAAR, OSS and GPS over many random starts, with galleries, convergence, FRC and the data.
"""

import panel as pn

from workbench.phase.widget import PhaseRetrievalExplorer
from workbench.ui.app import explorer_app

pn.extension()

# the view's parameters: in the URL, in the parameters JSON and in exported data
NAMES = ["phantom", "size", "log_flux", "support", "beamstop", "algorithms", "runs", "iterations", "chunk",
         "beta", "gps_s", "gps_sigma", "seed", "gallery_algorithm"]

explorer = PhaseRetrievalExplorer()
explorer_app("Phase retrieval", explorer, NAMES, filename="phase_retrieval",
             description="Reconstruction-error histograms of phase-retrieval algorithms over random starts")
