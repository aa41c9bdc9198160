"""The G-equation flame speeds family's declaration (see :mod:`workbench.family`)."""

from ..family import Dashboard, Family

FAMILY = Family(
    name="gequation",
    title="G-equation flame speeds",
    cli="workbench.gequation.cli:register",
    imports=("workbench.gequation.widget",),
    dashboards=(
        Dashboard(
            slug="gequation_sweeps",
            title="G-equation flame speeds",
            description=("Sweep the flow amplitude A for inviscid, viscous, curvature and strain G-equation models in "
                         "cellular, shear and time-periodic flows: s_T(A) filled point by point, the front over the "
                         "streamlines, the A/log A law and the strain model's quenching."),
            explorer="workbench.gequation.widget:FlameSpeedExplorer",
            thumbnail=("?grid=32&crossings=2&n_A=6&A_max=6.0", ".wb-gq-run button", "sweep done"),
            quick={"grid": 16, "n_A": 2, "crossings": 1.0, "models": ["inviscid"]},
        ),
    ),
)
