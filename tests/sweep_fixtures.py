"""Chunk functions for the sweep tests (module level, so dask can ship them)."""

from __future__ import annotations

import time

import numpy as np
import xarray as xr


def oscillator(params, delay: float = 0.0, fail_above: float | None = None):
    """Energy of a damped harmonic oscillator, E(t) = E0 exp(-gamma t), closed form.

    ``params``: ``gamma`` (damping rate), ``e0`` (initial energy); evaluated at
    t = 0, 0.5, 1, 1.5, 2 (a trailing dim ``time``).
    """
    if delay:
        time.sleep(delay)
    gamma = np.asarray(params["gamma"], dtype=float)
    if fail_above is not None and (gamma > fail_above).any():
        raise FloatingPointError(f"gamma above {fail_above}")
    t = np.linspace(0.0, 2.0, 5)
    energy = params["e0"][:, None] * np.exp(-gamma[:, None] * t)
    return xr.Dataset({"energy": (("point", "time"), energy, {"units": "J"})}, coords={"time": t},
                      attrs={"kind": "test.oscillator"})


CALLS: list[int] = []
"""Points per call of :func:`counted_oscillator` in this process."""


def counted_oscillator(params, **fixed):
    """:func:`oscillator` that records each call's point count in :data:`CALLS`.

    One function for the first run and the resume alike: a checkpoint refuses a resume
    with another function.
    """
    CALLS.append(len(params["gamma"]))
    return oscillator(params, **fixed)
