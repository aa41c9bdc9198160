"""The graph-Laplacian / WNLL family's declaration (see :mod:`workbench.family`)."""

from ..family import Dashboard, Family

FAMILY = Family(
    name="graph",
    title="Graph Laplacian / WNLL",
    cli="workbench.graph.cli:register",
    imports=("workbench.graph.widget",),
    dashboards=(
        Dashboard(
            slug="graph_laplacian",
            title="Learning by harmonic extension on graphs",
            description=("Label a few digits and extend the labels over the kNN graph by the graph Laplacian or the "
                         "weighted nonlocal Laplacian: accuracy against labels per class beside kNN, SVM and softmax, "
                         "the Laplacian eigenmap coloured by prediction, GL's spikes beside WNLL."),
            explorer="workbench.graph.widget:GraphExplorer",
            thumbnail=("?labels_per_class=1&draws=5&max_labels=20", ".wb-graph-run button", "study done"),
            quick={"draws": 2, "max_labels": 2, "methods": ["gl", "wnll"]},
        ),
    ),
)
