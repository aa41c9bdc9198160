"""The Hamilton-Jacobi / local entropy family's declaration (see :mod:`workbench.family`)."""

from ..family import Dashboard, Family

FAMILY = Family(
    name="hj",
    title="Hamilton-Jacobi / local entropy",
    cli="workbench.hj.cli:register",
    imports=("workbench.hj.widget",),
    dashboards=(
        Dashboard(
            slug="hj_landscapes",
            title="HJ smoothing of landscapes",
            description=("Drag the Hamilton-Jacobi time t and the inverse temperature beta to watch minima widen and "
                         "maxima vanish (Moreau envelope, local entropy, prox map), and compare gradient descent, proximal "
                         "point, Entropy-SGD and HJ-prox descent over many starts."),
            explorer="workbench.hj.widget:HJExplorer",
            thumbnail=("?landscape=rastrigin&dim=2&n=256&t=0.3&beta=10&n_starts=500", ".wb-hj-run button", "optimizers done"),
            quick={"n": 64, "n_starts": 20, "n_steps": 5},
        ),
    ),
)
