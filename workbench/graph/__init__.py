"""Learning by harmonic extension on graphs: the graph Laplacian (GL) and the weighted nonlocal Laplacian (WNLL).

Shi, Osher, Zhu, "Weighted nonlocal Laplacian on interpolation from sparse data", J. Sci. Comput. 73 (2017);
Wang, Luo, Li, Zhu, Shi, Osher, "Deep neural nets with interpolating function as output activation",
NeurIPS 2018. ``workbench.graph.classify`` is a module (its function: ``classify.classify``). Modules: :mod:`.knn` (graph), :mod:`.weights`, :mod:`.laplace` (the two systems, batched
PCG), :mod:`.classify` and :mod:`.baselines`, :mod:`.study` (accuracy against labels),
:mod:`.embedding` (Laplacian eigenmaps), :mod:`.activation` (WNLL as a network's output activation),
:mod:`.data`, :mod:`.plots`, :mod:`.widget`, :mod:`.cli`.
"""

from .classify import label_draws, one_hot
from .knn import knn_graph
from .laplace import harmonic_extension
from .study import accuracy_vs_labels
from .weights import laplacian, symmetrised, weight_matrix

__all__ = ["accuracy_vs_labels", "harmonic_extension", "knn_graph", "label_draws", "laplacian",
           "one_hot", "symmetrised", "weight_matrix"]
