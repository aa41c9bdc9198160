"""Labelled point sets that ship offline.

* ``digits``: scikit-learn's 1797 handwritten digits, 8x8 pixels scaled to [0, 1]
  (the digits MLP's data, :func:`workbench.hj.network.digits`), 10 classes.
  Not MNIST: the seed's table is on MNIST's 70 000 28x28 images.
* ``synthetic``: scikit-learn's ``make_classification`` (Guyon 2003): 10 classes,
  one Gaussian cluster each on the vertices of a hypercube in 8 informative
  dimensions, padded to 32 with redundant and noise features; any size (the
  benchmark's data up to 10⁵ points).

No labelled text set ships with the installed packages (scikit-learn's 20
newsgroups and every other text corpus are downloaded on first use), so the
MiniLM sentence embeddings are not offered here.
"""

from __future__ import annotations

import numpy as np

from .. import validate

DATASETS = ("digits", "synthetic")
MAX_SYNTHETIC = 1_000_000


def load(name: str = "digits", *, n: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points (n, d) float64 and integer labels (n,) of data set ``name`` (``n``: synthetic size)."""
    validate.choice("data", name, DATASETS)
    if name == "digits":
        from ..hj.network import digits

        x, y = digits()
        return x.double().numpy(), y.numpy().astype(np.int64)
    n = validate.integer("n", 10_000 if n is None else n, lo=100, hi=MAX_SYNTHETIC)
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=n, n_features=32, n_informative=8, n_redundant=8, n_classes=10,
                               n_clusters_per_class=1, class_sep=2.0, random_state=seed)
    return X, y.astype(np.int64)
