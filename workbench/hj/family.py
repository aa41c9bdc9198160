"""The Hamilton-Jacobi / local entropy family's declaration (see :mod:`workbench.family`)."""

from ..family import Dashboard, Family

FAMILY = Family(
    name="hj",
    title="Hamilton-Jacobi / local entropy",
    cli="workbench.hj.cli:register",
    imports=("workbench.hj.widget", "workbench.hj.quantize.widget"),
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
        Dashboard(
            slug="binary_relax",
            title="BinaryRelax: quantized weights",
            description=("Train a digits MLP or CNN with binary, ternary or k-bit weights by BinaryConnect and by "
                         "BinaryRelax (the Moreau envelope of the quantization set), many seeds at once, and watch "
                         "curves, weight histograms and the relaxation as lambda grows."),
            explorer="workbench.hj.quantize.widget:BinaryRelaxExplorer",
            thumbnail=("?epochs=12&phase_switch=8&seeds=4", ".wb-br-run button", "trained"),
            quick={"epochs": 2, "phase_switch": 1, "seeds": 2},
        ),
    ),
)
