"""The Phase retrieval family's declaration (see :mod:`workbench.family`)."""

from ..family import Dashboard, Family

FAMILY = Family(
    name="phase",
    title="Phase retrieval",
    cli="workbench.phase.cli:register",
    imports=("workbench.phase.widget",),
    dashboards=(
        Dashboard(
            slug="phase_retrieval",
            title="Phase retrieval",
            description=("Coherent diffraction imaging: histograms of reconstruction errors of ER, HIO, RAAR, OSS and GPS "
                         "over many random starts, with galleries, convergence, FRC and the data."),
            explorer="workbench.phase.widget:PhaseRetrievalExplorer",
            thumbnail=("?size=64&runs=24&iterations=300&chunk=8", ".wb-phase-run button", "done:"),
            quick={"size": 32, "runs": 2, "iterations": 20, "chunk": 2},
        ),
    ),
)
