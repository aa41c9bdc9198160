"""Phase retrieval

Coherent diffraction imaging: histograms of reconstruction errors of ER, HIO, RAAR, OSS and GPS over many random starts, with galleries, convergence, FRC and the data.
"""

import panel as pn

from workbench.phase.widget import PhaseRetrievalExplorer
from workbench.ui import app_template

pn.extension()

explorer = PhaseRetrievalExplorer()
if pn.state.location:
    pn.state.location.sync(explorer, ["phantom", "size", "log_flux", "support", "beamstop", "algorithms", "runs",
                                      "iterations", "chunk", "beta", "gps_s", "gps_sigma", "seed",
                                      "gallery_algorithm"])

app_template("Phase retrieval", explorer, sidebar=explorer.controls(),
             description="Reconstruction-error histograms of phase-retrieval algorithms over random starts").servable(
    title="Phase retrieval")
