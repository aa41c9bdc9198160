"""Laplacian eigenmaps of the same graph (Belkin, Niyogi, Neural Comput. 15, 2003).

The 2-D picture of the data is given by the eigenvectors of the normalised
graph Laplacian ``I - D^{-1/2} (W + Wᵀ) D^{-1/2}`` for its smallest non-zero
eigenvalues (scikit-learn's ``spectral_embedding``, ARPACK/LOBPCG), so the
points that the harmonic extension treats as close are drawn close.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import xarray as xr

from .. import results, validate
from .weights import symmetrised


def laplacian_eigenmap(W: sp.spmatrix, dim: int = 2, *, seed: int = 0) -> xr.Dataset:
    """Coordinates (point, component) of the ``dim``-D Laplacian eigenmap of the weights ``W``."""
    from sklearn.manifold import spectral_embedding

    n = W.shape[0]
    dim = validate.integer("dim", dim, lo=1, hi=min(10, n - 2))
    with results.timer() as clock:
        coords = spectral_embedding(symmetrised(W), n_components=dim, drop_first=True,
                                    random_state=seed, norm_laplacian=True)
        coords = coords / np.abs(coords).max(axis=0)  # each axis on [-1, 1] (eigenvectors have no scale)
    return results.dataset(
        {"embedding": (("point", "component"), coords, {"long_name": "Laplacian eigenmap coordinate",
                                                      "units": "1 (scaled to [-1, 1])"})},
        {"point": ("point", np.arange(n)), "component": ("component", np.arange(1, dim + 1))},
        params={"dim": dim, "n_points": n}, kind="graph.laplacian_eigenmap", seed=seed, elapsed=clock["elapsed"])
