"""Flame-speed and effective-diffusivity sweeps through :func:`workbench.sweep.run_sweep`.

:func:`speed_chunk` is the chunk function: the chunk's points are one batch
of :func:`.solver.flame_speed` (leading dim ``point``), a point that blows
up is recorded in the ``error`` variable with its parameters and NaN
speeds, and the rest of the chunk is kept. :func:`quenching_amplitude`
locates the strain model's quenching amplitude A* on a sweep. :func:`diffusivity_sweep`
sweeps D_eff over A, D₀, ω, B the same way (:func:`diffusivity_chunk`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from .. import validate
from ..sweep import ChunkEvent, run_sweep
from .diffusivity import effective_diffusivity
from .solver import flame_speed

AXES = ("A", "d", "omega", "B")
_ARG = {"A": "A", "d": "d", "omega": "omega", "B": "B"}
_DIFFUSIVITY_ARG = {"A": "A", "d0": "d0", "omega": "omega", "B": "B"}


def _batched(fn: Callable[..., xr.Dataset], names: Mapping[str, str], params: Mapping[str, np.ndarray],
             fixed: Mapping[str, Any]) -> xr.Dataset:
    """``fn(dim="point", ...)`` on a chunk: sweep axes (``names``: axis -> keyword) and fixed
    scalars become per-point arrays so the dim is kept; per-point coords are dropped."""
    kwargs = dict(fixed)
    for name, values in params.items():
        validate.choice("sweep axis", name, names)
        kwargs[names[name]] = np.asarray(values, dtype=float)
    n = len(next(iter(params.values())))
    for arg in names.values():
        if arg in kwargs and np.ndim(kwargs[arg]) == 0:
            kwargs[arg] = np.full(n, float(kwargs[arg]))
    ds = fn(dim="point", **kwargs)
    # the runner's grid carries the parameters; per-point coords would not merge with failed chunks
    return ds.drop_vars([c for c in ds.coords if ds[c].dims == ("point",)])


def speed_chunk(params: Mapping[str, np.ndarray], **fixed: Any) -> xr.Dataset:
    """Chunk function: ``params`` holds 1-D arrays over the chunk's points (A, d, omega, B)."""
    n = len(next(iter(params.values())))
    fixed = {"A": np.ones(n), **fixed, "on_blowup": "record"}
    return _batched(flame_speed, _ARG, params, fixed)


def diffusivity_chunk(params: Mapping[str, np.ndarray], **fixed: Any) -> xr.Dataset:
    """Chunk function of :func:`diffusivity_sweep` (axes A, d0, omega, B)."""
    return _batched(effective_diffusivity, _DIFFUSIVITY_ARG, params, fixed)


def diffusivity_sweep(flow: str = "cellular", *, A: float | Sequence[float] = 1.0,
                      d0: float | Sequence[float] = 0.1, omega: float | Sequence[float] = 1.0,
                      B: float | Sequence[float] = 1.0, chunk_size: int | None = None,
                      checkpoint: str | None = None, callbacks: Iterable[Callable[[ChunkEvent], None]] = (),
                      client: Any = None, progress: bool = False,
                      should_stop: Callable[[], bool] | None = None, **options: Any) -> xr.Dataset:
    """D_eff over the grid of the given sequences through :func:`workbench.sweep.run_sweep`.

    ``options``: the other keywords of :func:`.diffusivity.effective_diffusivity`. Give ``dt``
    to make every chunk use one time step (otherwise each chunk takes its own default).
    """
    values = {"A": A, "d0": d0, "omega": omega, "B": B}
    fixed = dict(flow=flow, **options)
    grid = _grid(values, _DIFFUSIVITY_ARG, fixed)
    return run_sweep(diffusivity_chunk, grid, fixed=fixed, chunk_size=chunk_size, checkpoint=checkpoint,
                     callbacks=callbacks, client=client, name=f"diffusivity-{flow}",
                     progress=progress, should_stop=should_stop)


def _grid(values: Mapping[str, Any], names: Mapping[str, str], fixed: dict[str, Any]) -> dict[str, list[float]]:
    """Sequences become sweep axes, scalars go to ``fixed`` (at least one axis: A)."""
    grid = {}
    for name, v in values.items():
        if np.ndim(v) == 0:
            fixed[names[name]] = float(v)
        else:
            grid[name] = [float(x) for x in v]
    if not grid:
        grid["A"] = [fixed.pop(names["A"])]
    if fixed.get("device") is not None:
        fixed["device"] = str(fixed["device"])
    return grid


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
    fixed = dict(model=model, flow=flow, **solver)
    grid = _grid(values, _ARG, fixed)
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
