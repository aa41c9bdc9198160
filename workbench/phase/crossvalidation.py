"""Selecting runs by cross-validation: a free-pixel mask and the free log-likelihood.

A random ``fraction`` of the measured pixels is left out of the fit (free in
``P_M``, excluded from ``R_F``), as PyNX's free-pixel mask does; a run that fits the
other pixels well but overfits noise, or sits in a wrong minimum, predicts the
free pixels badly. Its free log-likelihood is the Poisson deviance per free pixel

    L_free = (1 / |K_free|) sum_{k in K_free} [ I_c(k) - I(k) + I(k) log(I(k) / I_c(k)) ],
    I_c = |F u|^2,

about 1/2 for the true object (a chi^2 / 2 with one degree of freedom per pixel).
Runs are ranked by it, lowest first. Free pixels come in Friedel pairs ``(k, -k)``
so that a real object's symmetry does not carry a fitted pixel onto a free one.
"""

from __future__ import annotations

import numpy as np

from .. import validate
from .physics import Measurement, centrosymmetric

MAX_FRACTION = 0.2


def free_pixel_mask(measurement: Measurement, fraction: float = 0.05, seed: int = 0) -> np.ndarray:
    """Free pixels (FFT order, bool): about ``fraction`` of the measured ones, in Friedel pairs.

    ``k = 0`` and the pixels within 2 of it are never free (they carry the total and the
    lowest frequencies, which every run must fit).
    """
    fraction = validate.number("free_pixels", fraction, lo=0, hi=MAX_FRACTION, lo_open=True)
    n = measurement.size
    rng = np.random.default_rng([int(seed), 0xF8EE])  # its own stream, apart from the runs' random starts
    pick = rng.random((n, n)) < fraction / 2  # each pick also frees its twin
    ky = np.fft.fftfreq(n) * n
    near = ky[:, None] ** 2 + ky[None, :] ** 2 <= 4
    free = (pick | centrosymmetric(pick)) & ~measurement.missing & ~centrosymmetric(measurement.missing) & ~near
    if not free.any():
        raise ValueError(f"free_pixels {fraction:g} leaves no free pixel on a {n} x {n} pattern; use a larger one")
    return free


def rank(free_llk: np.ndarray) -> np.ndarray:
    """Run indices by increasing free log-likelihood (best first)."""
    return np.argsort(np.asarray(free_llk), kind="stable")


def select(free_llk: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` runs of lowest free log-likelihood."""
    count = validate.integer("count", count, lo=1, hi=len(free_llk))
    return rank(free_llk)[:count]
