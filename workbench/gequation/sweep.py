"""Flame-speed sweeps over A (and d, ω, B) through :func:`workbench.sweep.run_sweep`.

:func:`speed_chunk` is the chunk function: the chunk's points are one batch
of :func:`.solver.flame_speed` (leading dim ``point``), a point that blows
up is recorded in the ``error`` variable with its parameters and NaN
speeds, and the rest of the chunk is kept. :func:`quenching_amplitude`
locates the strain model's quenching amplitude A* on a sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from .. import validate
from ..sweep import ChunkEvent, run_sweep
from .solver import flame_speed

AXES = ("A", "d", "omega", "B")
_ARG = {"A": "amplitude", "d": "d", "omega": "omega", "B": "B"}


def speed_chunk(params: Mapping[str, np.ndarray], **fixed: Any) -> xr.Dataset:
    """Chunk function: ``params`` holds 1-D arrays over the chunk's points (A, d, omega, B)."""
    kwargs = dict(fixed)
    for name, values in params.items():
        validate.choice("sweep axis", name, AXES)
        kwargs[_ARG[name]] = np.asarray(values, dtype=float)
    n = len(next(iter(params.values())))
    for name in AXES:  # fixed scalars become per-point arrays so the dim is kept
        arg = _ARG[name]
        if arg in kwargs and np.ndim(kwargs[arg]) == 0:
            kwargs[arg] = np.full(n, float(kwargs[arg]))
    kwargs.setdefault("amplitude", np.ones(n))
    kwargs["on_blowup"] = "record"
    ds = flame_speed(dim="point", **kwargs)
    # the runner's grid carries the parameters; per-point coords would not merge with failed chunks
    return ds.drop_vars([c for c in ds.coords if ds[c].dims == ("point",)])


def sweep(model: str = "inviscid", flow: str = "cellular", *, A: Sequence[float] = (1.0,),
          d: float | Sequence[float] = 0.1, omega: float | Sequence[float] = 1.0,
          B: float | Sequence[float] = 1.0, chunk_size: int | None = None,
          checkpoint: str | None = None, callbacks: Iterable[Callable[[ChunkEvent], None]] = (),
          client: Any = None, progress: bool = False, should_stop: Callable[[], bool] | None = None,
          **solver: Any) -> xr.Dataset:
    """s_T over the grid of the given sequences (scalars stay fixed); see :func:`flame_speed`.

    ``solver`` takes the other keywords of :func:`flame_speed` (grid, s_l, dtype, ...).
    Returns the merged Dataset of :func:`workbench.sweep.run_sweep` (dims A[, d, omega, B]).
    """
    values = {"A": A, "d": d, "omega": omega, "B": B}
    grid, fixed = {}, dict(model=model, flow=flow, **solver)
    for name, v in values.items():
        if np.ndim(v) == 0:
            fixed[_ARG[name]] = float(v)
        else:
            grid[name] = [float(x) for x in v]
    if not grid:
        grid["A"] = [fixed.pop("amplitude")]
    if fixed.get("device") is not None:
        fixed["device"] = str(fixed["device"])
    return run_sweep(speed_chunk, grid, fixed=fixed, chunk_size=chunk_size, checkpoint=checkpoint,
                     callbacks=callbacks, client=client, name=f"gequation-{model}-{flow}",
                     progress=progress, should_stop=should_stop)


def quenching_amplitude(A: Sequence[float], s_T: Sequence[float], tol: float = 0.02) -> float:
    """First A where s_T ≤ tol after having been positive (linear interpolation); NaN if none.

    The quenched state is s_T = 0; ``tol`` (in units of s_l) absorbs the
    discretisation error of a computed zero.
    """
    a, s = np.asarray(A, dtype=float), np.asarray(s_T, dtype=float)
    order = np.argsort(a)
    a, s = a[order], s[order]
    ok = np.isfinite(s)
    a, s = a[ok], s[ok]
    for i in range(1, len(a)):
        if s[i] <= tol < s[i - 1]:
            return float(a[i - 1] + (s[i - 1] - tol) * (a[i] - a[i - 1]) / (s[i - 1] - s[i]))
    return float("nan")
