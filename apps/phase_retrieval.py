"""Phase retrieval

Coherent diffraction imaging: histograms of reconstruction errors of ER, HIO, RAAR, OSS and GPS over many random starts, with galleries, convergence, FRC and the data.
"""

import panel as pn

from workbench.phase.widget import PhaseRetrievalExplorer
from workbench.ui import ShareState, app_template

pn.extension()

# the view's parameters: in the URL, in the parameters JSON and in exported data
NAMES = ["phantom", "size", "log_flux", "support", "beamstop", "algorithms", "runs", "iterations", "chunk",
         "beta", "gps_s", "gps_sigma", "seed", "gallery_algorithm"]

explorer = PhaseRetrievalExplorer()
share = ShareState(explorer, NAMES, filename="phase_retrieval_parameters", status=explorer.status,
                   export=explorer.export)
sidebar = pn.Column(explorer.controls(), share, sizing_mode="stretch_width")

app_template("Phase retrieval", explorer, sidebar=sidebar,
             description="Reconstruction-error histograms of phase-retrieval algorithms over random starts").servable(
    title="Phase retrieval")
