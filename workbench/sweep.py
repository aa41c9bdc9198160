"""One runner for parameter grids, local or on dask.distributed.

A *grid* is the cartesian product of named 1-D coordinates, e.g.
``{"A": [1, 2, 4, 8], "d": [0.1, 0.2]}``. Its points are laid out in C order
and cut into chunks. A *chunk function* computes one chunk at once, batched::

    def fn(params: dict[str, np.ndarray], **fixed) -> xr.Dataset
        # params["A"], params["d"]: 1-D arrays, one entry per point of the chunk
        # returns a Dataset whose variables have leading dim "point"

Results must not depend on how the grid is chunked (derive any randomness
from the parameters, e.g. sweep over a ``seed`` coordinate).

:func:`run_sweep` streams each finished chunk to callbacks (progress bar,
live plot), checkpoints it to ``<checkpoint>/chunk-NNNNN.nc`` and merges all
chunks into one Dataset over the grid's coords. Restarted with the same
checkpoint it loads the finished chunks and computes only the missing ones.
A chunk that raises is recorded as failed (variable ``failed`` holds the
reason per point, values are NaN there) and the rest of the sweep completes.

Scale-out: pass ``client=`` a :class:`distributed.Client`, a scheduler
address, or ``"local"`` for a :class:`distributed.LocalCluster`. Chunks are
submitted as dask futures (with retries) and streamed back with
``as_completed``; a worker lost mid-sweep has its chunks rescheduled by the
dask scheduler, and chunks already received are checkpointed by the client.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from . import results, validate

POINT = "point"
ChunkFn = Callable[..., xr.Dataset]


@dataclass(frozen=True)
class Grid:
    """The cartesian product of named 1-D coordinates (C order)."""

    coords: dict[str, np.ndarray]

    @classmethod
    def from_mapping(cls, grid: Mapping[str, Sequence[Any]]) -> "Grid":
        if not grid:
            raise ValueError("grid must name at least one coordinate")
        coords = {}
        for name, values in grid.items():
            arr = np.atleast_1d(np.asarray(values))
            if arr.ndim != 1:
                raise ValueError(f"sweep axis {name!r} must be 1-D, got shape {arr.shape}")
            validate.non_empty(f"sweep axis {name!r}", arr)
            if len(np.unique(arr)) != len(arr):
                raise ValueError(f"sweep axis {name!r} has repeated values")
            coords[str(name)] = arr
        return cls(coords)

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(self.coords)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.coords.values())

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def points(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Parameter values at the given flat (C-order) indices."""
        idx = np.unravel_index(flat, self.shape)
        return {name: self.coords[name][i] for name, i in zip(self.dims, idx)}

    def to_json(self) -> dict[str, list]:
        return {k: v.tolist() for k, v in self.coords.items()}


@dataclass
class ChunkEvent:
    """What a callback receives when a chunk has finished (or failed)."""

    chunk: int
    n_chunks: int
    done_points: int
    total_points: int
    params: dict[str, np.ndarray]
    result: xr.Dataset | None
    error: str = ""
    from_checkpoint: bool = False
    elapsed: float = 0.0

    @property
    def fraction(self) -> float:
        return self.done_points / max(self.total_points, 1)


@dataclass
class _Plan:
    grid: Grid
    chunk_size: int
    fixed: dict[str, Any] = field(default_factory=dict)

    @property
    def n_chunks(self) -> int:
        return math.ceil(self.grid.size / self.chunk_size)

    def flat(self, chunk: int) -> np.ndarray:
        start = chunk * self.chunk_size
        return np.arange(start, min(start + self.chunk_size, self.grid.size))

    def manifest(self, name: str) -> dict[str, Any]:
        return {"name": name, "grid": self.grid.to_json(), "chunk_size": self.chunk_size,
                "fixed": json.loads(results.dumps(self.fixed))}


class Checkpoint:
    """A folder of finished chunks: ``manifest.json`` plus ``chunk-NNNNN.nc``.

    The manifest pins the grid, chunk size and fixed parameters; a folder
    that holds another sweep is refused rather than mixed in.
    """

    def __init__(self, path: str | os.PathLike, manifest: dict[str, Any]):
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe = self.path / ".write-probe"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise ValueError(f"checkpoint path {str(self.path)!r} is not writable: {exc.strerror}") from None
        mfile = self.path / "manifest.json"
        text = json.dumps(manifest, sort_keys=True)
        if mfile.exists():
            if json.loads(mfile.read_text()) != json.loads(text):
                raise ValueError(
                    f"checkpoint path {str(self.path)!r} holds a different sweep "
                    "(grid, chunk size or fixed parameters differ); use a new path")
        else:
            mfile.write_text(text)
        self.digest = hashlib.sha1(text.encode()).hexdigest()[:12]

    def file(self, chunk: int) -> Path:
        return self.path / f"chunk-{chunk:05d}.nc"

    def finished(self) -> dict[int, xr.Dataset]:
        out = {}
        for f in sorted(self.path.glob("chunk-*.nc")):
            out[int(f.stem.split("-")[1])] = results.load(f)
        return out

    def write(self, chunk: int, ds: xr.Dataset) -> None:
        results.save(ds, self.file(chunk))


def _call_chunk(fn: ChunkFn, params: dict[str, np.ndarray], fixed: dict[str, Any]) -> xr.Dataset:
    """Run one chunk and check its shape (runs on a dask worker too)."""
    n = len(next(iter(params.values())))
    ds = fn(params, **fixed)
    if isinstance(ds, xr.DataArray):
        ds = ds.to_dataset(name=ds.name or "value")
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"the chunk function must return an xarray Dataset, got {type(ds).__name__}")
    if ds.sizes.get(POINT) != n:
        raise ValueError(f"the chunk function must return a leading dim {POINT!r} of length {n}")
    return ds


def _merge(plan: _Plan, done: dict[int, xr.Dataset], failed: dict[int, str]) -> xr.Dataset:
    grid = plan.grid
    if not done:
        reasons = "; ".join(sorted(set(failed.values())))
        raise RuntimeError(f"every chunk of the sweep failed: {reasons}")
    def without_point_coords(ds: xr.Dataset) -> xr.Dataset:
        # per-point coords are replaced by the grid's own coords below
        return ds.drop_vars([v for v in ds.coords if POINT in ds[v].dims])

    template = without_point_coords(next(iter(done.values())))
    parts = []
    for c in range(plan.n_chunks):
        if c in done:
            parts.append(without_point_coords(done[c]))
        else:
            n = len(plan.flat(c))
            parts.append(xr.full_like(template.isel({POINT: [0] * n}), np.nan))
    merged = xr.concat(parts, dim=POINT, coords="minimal", compat="override", join="override")
    out = {}
    for name, var in merged.data_vars.items():
        if POINT in var.dims:
            rest = [d for d in var.dims if d != POINT]
            data = var.transpose(POINT, *rest).values.reshape(grid.shape + tuple(var.sizes[d] for d in rest))
            out[name] = (grid.dims + tuple(rest), data, var.attrs)
        else:
            out[name] = var
    reason = np.full(grid.size, "", dtype=object)
    for c, why in failed.items():
        reason[plan.flat(c)] = why
    out["failed"] = (grid.dims, reason.reshape(grid.shape).astype(str),
                     {"long_name": "reason a point failed ('' when it succeeded)"})
    coords = {k: v for k, v in merged.coords.items() if POINT not in v.dims}
    coords.update(grid.coords)
    ds = xr.Dataset(out, coords=coords)
    ds.attrs = dict(template.attrs)
    return ds


class ProgressBar:
    """A terminal progress bar callback (writes to stderr; in a notebook to stdout, which is not shown as a
    warning)."""

    def __init__(self, label: str = "sweep", stream: Any = None, width: int = 30):
        from .notebook import kernel_shell

        default = sys.stdout if kernel_shell() is not None else sys.stderr
        self.label, self.stream, self.width = label, stream or default, width
        self.start = time.perf_counter()

    def __call__(self, ev: ChunkEvent) -> None:
        filled = int(self.width * ev.fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        tag = " (failed)" if ev.error else " (checkpoint)" if ev.from_checkpoint else ""
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\r{self.label} [{bar}] {ev.done_points}/{ev.total_points} "
                          f"points, {elapsed:.1f} s{tag}")
        if ev.done_points >= ev.total_points:
            self.stream.write("\n")
        self.stream.flush()


def _resolve_client(client: Any) -> tuple[Any, Callable[[], None]]:
    if client is None:
        return None, lambda: None
    from distributed import Client, LocalCluster

    if isinstance(client, Client):
        return client, lambda: None
    if client == "local":
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        c = Client(cluster)

        def close() -> None:
            c.close()
            cluster.close()
        return c, close
    if isinstance(client, str):
        c = Client(client)
        return c, c.close
    raise TypeError("client must be None, 'local', a scheduler address or a distributed.Client")


def run_sweep(fn: ChunkFn, grid: Mapping[str, Sequence[Any]], *, fixed: Mapping[str, Any] | None = None,
              chunk_size: int | None = None, checkpoint: str | os.PathLike | None = None,
              callbacks: Iterable[Callable[[ChunkEvent], None]] = (), client: Any = None,
              name: str = "sweep", progress: bool = False, retries: int = 3,
              should_stop: Callable[[], bool] | None = None) -> xr.Dataset:
    """Run ``fn`` over every point of ``grid`` and return one Dataset over the grid's coords.

    Parameters
    ----------
    fn : chunk function ``fn(params, **fixed) -> Dataset`` with leading dim ``point``.
    grid : mapping of coordinate name to a non-empty 1-D sequence of values.
    fixed : keyword arguments passed unchanged to every chunk (JSON-able).
    chunk_size : points per chunk (default: about a tenth of the grid).
    checkpoint : folder for finished chunks; a restart resumes from it.
    callbacks : called with a :class:`ChunkEvent` as each chunk finishes.
    client : ``None`` (local), ``"local"`` (a 2-worker LocalCluster), a scheduler
        address, or a ``distributed.Client``.
    progress : add a terminal :class:`ProgressBar`.
    retries : dask retries per chunk.
    should_stop : polled between chunks; when it returns True the sweep stops
        and returns what has finished (the rest is marked failed: "cancelled").
    """
    g = Grid.from_mapping(grid)
    fixed = dict(fixed or {})
    if chunk_size is None:
        chunk_size = max(1, math.ceil(g.size / 10))
    chunk_size = validate.integer("chunk_size", chunk_size, lo=1)
    plan = _Plan(g, chunk_size, fixed)
    ckpt = Checkpoint(checkpoint, plan.manifest(name)) if checkpoint is not None else None
    callbacks = list(callbacks)
    if progress:
        callbacks.append(ProgressBar(name))

    done: dict[int, xr.Dataset] = ckpt.finished() if ckpt else {}
    failed: dict[int, str] = {}
    count = 0
    t0 = time.perf_counter()

    def finish(c: int, ds: xr.Dataset | None, error: str = "", from_ckpt: bool = False) -> None:
        nonlocal count
        if ds is not None:
            done[c] = ds
            if ckpt and not from_ckpt:
                ckpt.write(c, ds)
        else:
            failed[c] = error
        count += len(plan.flat(c))
        ev = ChunkEvent(c, plan.n_chunks, count, g.size, g.points(plan.flat(c)), ds, error,
                        from_ckpt, time.perf_counter() - t0)
        for cb in callbacks:
            cb(ev)

    for c in sorted(done):
        finish(c, done[c], from_ckpt=True)
    todo = [c for c in range(plan.n_chunks) if c not in done]

    dask_client, close = _resolve_client(client) if todo else (None, lambda: None)
    try:
        if dask_client is None:
            for c in todo:
                if should_stop is not None and should_stop():
                    failed.update({k: "cancelled" for k in todo if k not in done and k not in failed})
                    break
                try:
                    ds = _call_chunk(fn, g.points(plan.flat(c)), fixed)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except Exception as exc:  # recorded, the sweep goes on
                    finish(c, None, error=f"{type(exc).__name__}: {exc}")
                    continue
                finish(c, ds)
        else:
            from distributed import as_completed

            futures = {dask_client.submit(_call_chunk, fn, g.points(plan.flat(c)), fixed,
                                          retries=retries, pure=False, key=f"{name}-{c}-{time.time_ns()}"): c
                       for c in todo}
            for fut in as_completed(list(futures)):
                c = futures[fut]
                if should_stop is not None and should_stop():
                    for f in futures:
                        f.cancel()
                    failed.update({k: "cancelled" for k in todo if k not in done and k not in failed})
                    break
                try:
                    ds = fut.result()
                except Exception as exc:
                    finish(c, None, error=f"{type(exc).__name__}: {exc}")
                    continue
                finish(c, ds)
    finally:
        close()

    merged = _merge(plan, done, failed)
    merged.attrs["sweep"] = json.dumps(plan.manifest(name), sort_keys=True)
    merged.attrs["sweep_failed_points"] = int((merged["failed"] != "").sum())
    merged.attrs["sweep_elapsed_s"] = time.perf_counter() - t0
    merged.attrs["sweep_engine"] = "dask" if dask_client is not None else "local"
    return merged


def format_failure(exc: BaseException) -> str:
    """One line naming an exception (used by chunk functions that catch per point)."""
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()
