"""The explorer's data: a simulated pattern (cached across sessions), an uploaded image as the
object, or an uploaded measured pattern; uploads are bounded in bytes before they are read
(and images in pixels by :func:`~workbench.phase.phantoms.from_image`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..cache import ResultCache
from . import study
from .phantoms import from_image
from .physics import Measurement, load

IMAGE = "image file"
DATA = "data file"
MAX_IMAGE_BYTES = 8 * 2**20
MAX_DATA_BYTES = 256 * 2**20
DATA_SUFFIXES = (".cxi", ".h5", ".hdf5", ".nxs", ".npz", ".npy")


MEASUREMENTS = ResultCache(max_items=16)  # simulated patterns, shared by every session of the server


def cached_measurement(name: str, size: int, log_flux: float, beamstop: float, seed: int, support: str):
    """The simulated pattern for these settings (from :data:`MEASUREMENTS` when a session asked first)."""
    key = (name, size, log_flux, beamstop, seed, support)
    m = MEASUREMENTS.get(key)
    if m is None:
        m = study.simulated(name, size, flux=10.0**log_flux, beamstop=beamstop, data_seed=seed + 1_000_003,
                            support=support)
        MEASUREMENTS.put(key, m)
    return m


def image_object(data: bytes, filename: str, n: int) -> np.ndarray:
    """An uploaded image file as an ``n x n`` object (via :func:`~workbench.phase.phantoms.from_image`)."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError(f"image file must be at most {MAX_IMAGE_BYTES // 2**20} MiB, got {len(data)} bytes")
    suffix = Path(filename or "image.png").suffix.lower() or ".png"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        return from_image(path, n)


def data_measurement(data: bytes, filename: str) -> Measurement:
    """An uploaded measured pattern (CXI or the other formats of :func:`~workbench.phase.physics.load`)."""
    if len(data) > MAX_DATA_BYTES:
        raise ValueError(f"data file must be at most {MAX_DATA_BYTES // 2**20} MiB, got {len(data)} bytes")
    suffix = Path(filename or "").suffix.lower()
    if suffix not in DATA_SUFFIXES:
        raise ValueError(f"data file must end in one of {', '.join(DATA_SUFFIXES)}, got {suffix or 'no suffix'!r}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        m = load(path)
    return Measurement(intensity=m.intensity, missing=m.missing, support=m.support, noise=True)
