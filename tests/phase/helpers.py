"""Small shared fixtures for the phase-retrieval tests (arrays of 32 x 32)."""

from __future__ import annotations

import numpy as np

from workbench.phase import phantoms, physics


def noiseless(size: int = 32, n: int = 16, margin: int = 0, phantom: str = "vesicle") -> physics.Measurement:
    """A noise-free pattern of a small phantom with a tight support (oversampling 2 per axis)."""
    return physics.simulate(phantoms.phantom(phantom, n), size, 1e9, noise=False, support_margin=margin)


def blobs(size: int = 32) -> np.ndarray:
    """A smooth, non-centrosymmetric object (two Gaussians), band-limited so sub-pixel shifts are exact."""
    c = np.arange(size) - size / 2
    y, x = np.meshgrid(c, c, indexing="ij")
    return np.exp(-((x - 2) ** 2 + (y + 1) ** 2) / 6.0) + 0.5 * np.exp(-((x + 3) ** 2 + (y - 2) ** 2) / 4.0)
