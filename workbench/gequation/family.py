"""The G-equation flame speeds family's declaration (see :mod:`workbench.family`)."""

from ..family import Dashboard, Family

FAMILY = Family(
    name="gequation",
    title="G-equation flame speeds",
    cli="workbench.gequation.cli:register",
    imports=("workbench.gequation.widget", "workbench.gequation.transport_widget"),
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
        Dashboard(
            slug="transport",
            title="G-equation: transport",
            description=("Effective diffusivity of particles in shear, cellular, oscillating, stochastic and chaotic "
                         "flows (splitting or Euler-Maruyama) against A or D0 with error bars, particle clouds over "
                         "the streamlines, the mean-square displacement, and the front speed in the stochastic flow "
                         "against the periodic flow's locking."),
            explorer="workbench.gequation.transport_widget:TransportExplorer",
            thumbnail=("?flow=chaotic&lo=0.003&hi=0.3&n_points=5&particles=6000&t_final=60",
                       ".wb-tr-run button", "sweep done"),
            quick={"n_points": 2, "particles": 400, "t_final": 4.0, "front_n_A": 2, "realisations": 2,
                   "front_grid": 16, "periods": 2},
        ),
    ),
)
